package runbook

import (
	"time"

	"flightdeck/ops"
	"flightdeck/sources"
)

// StepView is one step as the runbook view shows it.
type StepView struct {
	Index int
	Title string
	Kind  StepKind
	State StepState
	// Next marks the step to do next.
	Next bool
	// Live is the step's condition on the latest snapshots: a check's or
	// verify's expr, an action's when: (True when it has none). Why says
	// why it is Unknown ("no postgres data").
	Live Verdict
	Why  string
	// Expr is the condition as written (an action's when:).
	Expr string
	// Values are the lines behind the condition ("connections 92/97
	// (95%)"), live until the step finishes, then as they were then.
	Values []Value
	// Targets are an action's targets: previewed on the latest snapshots
	// while pending, as sent once sent (targets, backends left out and why,
	// how many more match). Preview is always the latest snapshots' — what
	// doing the step (again) would send — and Empty why that is nothing.
	Targets []string
	Preview []string
	Empty   string
	// Reason says why the step was skipped or failed.
	Reason string
	// Within, Deadline and Remaining are a verify's countdown (Remaining
	// at the now given to Steps; 0 once passed).
	Within    time.Duration
	Deadline  time.Time
	Remaining time.Duration
	// Pane and Filter are a view's; Target the logs view's.
	Pane   sources.Kind
	Filter string
	Target string
	// Action, PlanID and Outcome are an action's.
	Action  ops.Kind
	PlanID  string
	Outcome string
	// Note and Command are a note's.
	Note    string
	Command string
	// At is when the step finished.
	At time.Time
}

// Steps returns every step for display at now (for the countdowns).
func (r *Run) Steps(now time.Time) []StepView {
	next := r.Next()
	out := make([]StepView, len(r.steps))
	for i := range r.steps {
		st, s := &r.book.Steps[i], &r.steps[i]
		v := StepView{Index: i, Title: st.Title, Kind: st.Kind, State: s.state, Next: i == next,
			Live: s.live, Why: s.liveWhy, Expr: st.Expr, Reason: s.reason, At: s.at,
			Within: st.Within, Pane: st.Pane, Filter: st.Filter, Target: st.Target, Note: st.Text, Command: st.Command,
			PlanID: s.planID, Outcome: s.outcome}
		v.Values = s.liveValues
		if s.state.Finished() {
			v.Values = s.values
		}
		if st.Kind == Action {
			v.Action, v.Expr, v.Live, v.Why = st.Act.Kind, st.When, s.whenV, s.whenWhy
			v.Targets, v.Preview, v.Empty = s.res.lines, s.res.lines, s.res.empty
			if s.res.unknown != "" {
				v.Why = s.res.unknown
			}
			if s.state == Running || s.state.Finished() {
				v.Targets = s.targets
			}
		}
		if s.state == Waiting {
			v.Deadline = s.deadline
			v.Remaining = max(s.deadline.Sub(now), 0)
		}
		out[i] = v
	}
	return out
}

// ResultOutcome is the outcome ActionResult takes for an Executor result,
// the one the audit journal's outcome record carries.
func ResultOutcome(res ops.Result) (string, error) {
	switch {
	case res.OK:
		return OutcomeOK, nil
	case res.Refused:
		return OutcomeRefused, res.Err
	case len(res.Details) > 0 && res.Plan.IsBulk():
		return OutcomePartial, res.Err
	}
	return OutcomeFailed, res.Err
}
