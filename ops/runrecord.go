package ops

// Phases of the journal records a runbook run writes, next to the
// Executor's intent, outcome and refused.
const (
	PhaseRunStart = "run_start" // an operator opened a runbook (on an alert)
	PhaseRunStep  = "run_step"  // one step's result
	PhaseRunEnd   = "run_end"   // the run finished or was abandoned
)

// RunRecord is the runbook part of a journal record (Record.Run), written by
// the runbook package and read back to resume open runs after a restart and
// to build the incident timeline. The action a step took is journaled by the
// Executor under its own plan id; PlanID ties the two together.
type RunRecord struct {
	// ID identifies the run: every record of one run carries it.
	ID string `json:"run_id"`
	// Runbook is the runbook's name (its file's `name:`).
	Runbook string `json:"runbook"`
	// Title is the runbook's title.
	Title string `json:"title,omitempty"`
	// Step is the step's title (run_step only).
	Step string `json:"step,omitempty"`
	// StepIndex is the step's position, from 0 (run_step only; 0 elsewhere).
	StepIndex int `json:"step_index"`
	// Kind is the step kind: check, view, action, verify, note (run_step only).
	Kind string `json:"kind,omitempty"`
	// Result is the step's result — check: ok, failed; view: viewed;
	// action: ok, partial, failed, refused (the Executor's outcome),
	// cancelled (confirmation dismissed), skipped; verify: waiting (its
	// countdown started), ok, timeout, skipped; note: acknowledged — or, for
	// run_end, how the run ended: completed, abandoned.
	Result string `json:"result,omitempty"`
	// Reason says why: the skip reason, the failure, the timeout.
	Reason string `json:"reason,omitempty"`
	// Values are the lines shown with the result ("connections 92/97 (95%)",
	// an action's targets); for run_start, the opening alert's labels as
	// name=value.
	Values []string `json:"values,omitempty"`
	// Alert is the name of the alert that opened the run, "" when the
	// operator opened it from the list.
	Alert string `json:"alert,omitempty"`
	// PlanID is the Executor plan an action step sent (run_step only).
	PlanID string `json:"plan_id,omitempty"`
}
