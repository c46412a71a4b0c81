package runbook

import (
	"errors"
	"fmt"
	"strings"

	"flightdeck/ops"
	"flightdeck/sources"
)

// Recorder is where run records go: *ops.Journal satisfies it.
type Recorder interface {
	Append(ops.Record) error
}

// Write appends recs in order, stopping at the first error. Call it from a
// tea.Cmd: it does I/O.
func Write(j Recorder, recs []ops.Record) error {
	for _, r := range recs {
		if err := j.Append(r); err != nil {
			return err
		}
	}
	return nil
}

// Resume rebuilds the runs that were started and not ended from journal
// records (ops.ReadJournal), in the order they started, with their steps as
// recorded: results, values, skip reasons, plan ids, and verify countdowns
// from the time they were armed (a countdown that ran out while flightdeck
// was down fails on the first Observe unless its condition holds by then).
// An action sent but never reported back is pending again: the audit
// journal holds what the Executor did with it. A run whose runbook is gone,
// or whose steps no longer match the records, is not resumed and is named
// in the error.
func Resume(records []ops.Record, books *Set, pol ops.Policy) ([]*Run, error) {
	var order []string
	runs := map[string]*Run{}
	broken := map[string]bool{}
	var errs []error
	for _, rec := range records {
		rr := rec.Run
		if rr == nil || rr.ID == "" {
			continue
		}
		switch rec.Phase {
		case ops.PhaseRunStart:
			b := books.Get(rr.Runbook)
			if b == nil {
				broken[rr.ID] = true
				errs = append(errs, fmt.Errorf("run %s: runbook %q is no longer loaded", rr.ID, rr.Runbook))
				continue
			}
			var alert *sources.Alert
			if rr.Alert != "" {
				alert = &sources.Alert{Name: rr.Alert, Labels: parseLabels(rr.Values)}
			}
			runs[rr.ID] = newRun(b, rr.ID, alert, rec.Operator, pol, rec.Time)
			order = append(order, rr.ID)
		case ops.PhaseRunStep:
			r := runs[rr.ID]
			if r == nil || broken[rr.ID] {
				continue
			}
			if err := r.replay(rec); err != nil {
				broken[rr.ID] = true
				errs = append(errs, fmt.Errorf("run %s: %w", rr.ID, err))
			}
		case ops.PhaseRunEnd:
			if r := runs[rr.ID]; r != nil {
				r.ended = true
			}
		}
	}
	var out []*Run
	for _, id := range order {
		if r := runs[id]; r != nil && !r.ended && !broken[id] {
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

// parseLabels reads run_start's name=value lines back into labels.
func parseLabels(lines []string) []sources.Label {
	var out []sources.Label
	for _, l := range lines {
		if n, v, ok := strings.Cut(l, "="); ok {
			out = append(out, sources.Label{Name: n, Value: v})
		}
	}
	return out
}

// replay applies one run_step record.
func (r *Run) replay(rec ops.Record) error {
	rr := rec.Run
	i := rr.StepIndex
	if i < 0 || i >= len(r.steps) {
		return fmt.Errorf("step %d: the runbook has %d steps now", i+1, len(r.steps))
	}
	st := &r.book.Steps[i]
	if st.Title != rr.Step || string(st.Kind) != rr.Kind {
		return fmt.Errorf("step %d was %s %q, the runbook now has %s %q", i+1, rr.Kind, rr.Step, st.Kind, st.Title)
	}
	s := &r.steps[i]
	vals := linesAsValues(rr.Values)
	s.planID = rr.PlanID
	switch rr.Result {
	case OutcomeOK, OutcomePartial, OutcomeFailed, OutcomeRefused, OutcomeCancelled:
		if st.Kind == Action {
			// An action's outcome record carries the targets it was sent with.
			s.outcome, s.targets = rr.Result, rr.Values
		}
	}
	set := func(state StepState) {
		s.state, s.reason, s.at, s.values = state, rr.Reason, rec.Time, vals
		if s.outcome != "" {
			s.values = nil // an action's show: values are not journaled, only its targets
		}
	}
	switch rr.Result {
	case "ok", resultViewed:
		set(OK)
	case "failed", resultTimeout, OutcomePartial, OutcomeRefused:
		set(Failed)
	case "skipped":
		set(Skipped)
	case "acknowledged":
		set(Acknowledged)
	case "waiting":
		s.state, s.reason = Waiting, ""
		s.armedAt, s.deadline = rec.Time, rec.Time.Add(st.Within)
	case resultCancelled:
		s.state, s.reason = Pending, rr.Reason
	default:
		return fmt.Errorf("step %d: unknown result %q", i+1, rr.Result)
	}
	return nil
}
