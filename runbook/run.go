package runbook

import (
	"fmt"
	"strings"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/internal/sanitize"
	"flightdeck/ops"
	"flightdeck/sources"
)

// StepState is where a step stands in a run.
type StepState string

// Step states. A step is finished when OK, Failed, Skipped or Acknowledged.
const (
	Pending StepState = "pending"
	// Running: an action's request was handed to the caller; its outcome
	// comes back through ActionResult.
	Running StepState = "running"
	// Waiting: a verify counts down until its condition holds.
	Waiting      StepState = "waiting"
	OK           StepState = "ok"
	Failed       StepState = "failed"
	Skipped      StepState = "skipped"
	Acknowledged StepState = "acknowledged"
)

// Finished reports whether the step needs nothing more.
func (s StepState) Finished() bool {
	return s == OK || s == Failed || s == Skipped || s == Acknowledged
}

// Results written to the journal (RunRecord.Result) besides ok, failed,
// skipped, acknowledged and waiting.
const (
	resultViewed    = "viewed"
	resultCancelled = "cancelled"
	resultTimeout   = "timeout"
	endCompleted    = "completed"
	endAbandoned    = "abandoned"
)

// stepRun is one step's progress.
type stepRun struct {
	state  StepState
	reason string
	// values are frozen when the step finishes (a timeout shows the last
	// values); live ones come from the latest Observe.
	values  []Value
	targets []string
	// sent are an action's values when its request was handed over, req
	// the request; gone the backends it terminated (pidIdentity).
	sent []Value
	req  *ops.Request
	gone map[string]bool
	at   time.Time

	live       Verdict
	liveWhy    string
	liveValues []Value
	// an action's resolution and when: as of the latest Observe.
	res     resolution
	whenV   Verdict
	whenWhy string

	armedAt, deadline time.Time
	planID, outcome   string

	// ver counts the step's changes of state, so that an evaluation
	// prepared before one is not applied to it.
	ver int
	// overWhy: an expression of the step went over its budget; the step
	// failed with it and is not evaluated again.
	overWhy string
}

// Run is one operator's way through one runbook. It is a pure state
// machine: no I/O, no goroutines, the clock is passed in. Methods that change
// it return the journal records the caller must write (ops.Journal.Append,
// from a tea.Cmd, so that Update stays free of I/O). It is not safe for
// concurrent use: the UI calls it from Update only.
type Run struct {
	id       string
	book     *Runbook
	alert    *sources.Alert
	operator string
	// actor is who does the steps now, when someone other than operator
	// continues the run (ContinueAs); "" means operator.
	actor   string
	policy  ops.Policy
	started time.Time

	ended     bool
	endResult string
	endedAt   time.Time

	steps []stepRun
	world *world // the latest Observe's snapshots

	// prepared numbers the evaluations Prepare made; applied is the latest
	// Apply took: an older one coming back later is not applied over it.
	prepared, applied uint64
}

// Start opens a run of rb. alert is the alert that opened it, nil when the
// operator picked the runbook from the list; pol is the policy the Executor
// enforces, used to preview which backends an action would leave out.
func Start(rb *Runbook, alert *sources.Alert, operator string, pol ops.Policy, now time.Time) (*Run, []ops.Record) {
	r := newRun(rb, rb.Name+"@"+now.UTC().Format("2006-01-02T15:04:05.000Z"), alert, operator, pol, now)
	rec := r.record(now, ops.PhaseRunStart, ops.RunRecord{})
	if alert != nil {
		for _, l := range alert.Labels {
			rec.Run.Values = append(rec.Run.Values, l.Name+"="+l.Value)
		}
	}
	return r, []ops.Record{rec}
}

func newRun(rb *Runbook, id string, alert *sources.Alert, operator string, pol ops.Policy, now time.Time) *Run {
	r := &Run{id: id, book: rb, operator: operator, policy: pol, started: now,
		steps: make([]stepRun, len(rb.Steps)), world: newWorld(nil, now)}
	if alert != nil {
		a := *alert
		r.alert = &a
	}
	for i := range r.steps {
		r.steps[i].state = Pending
	}
	return r
}

// ID identifies the run in the journal.
func (r *Run) ID() string { return r.id }

// Runbook is the runbook being run.
func (r *Run) Runbook() *Runbook { return r.book }

// Alert is the alert that opened the run, nil if none.
func (r *Run) Alert() *sources.Alert { return r.alert }

// Operator is who started it.
func (r *Run) Operator() string { return r.operator }

// ContinueAs makes operator the one the run's next records name: a run
// resumed in another session (after a restart, or over SSH by someone
// else) is continued, and journaled, by whoever continues it. Operator
// still says who started it.
func (r *Run) ContinueAs(operator string) {
	r.actor = operator
	if operator == r.operator {
		r.actor = ""
	}
}

// by is who does the steps now.
func (r *Run) by() string {
	if r.actor != "" {
		return r.actor
	}
	return r.operator
}

// StartedAt is when the run began.
func (r *Run) StartedAt() time.Time { return r.started }

// Ended reports whether the run is over (every step finished, or abandoned).
func (r *Run) Ended() bool { return r.ended }

// Next is the first step not finished, -1 when all are.
func (r *Run) Next() int {
	for i, s := range r.steps {
		if !s.state.Finished() {
			return i
		}
	}
	return -1
}

// DirectiveKind says what the caller must do after Do.
type DirectiveKind int

// What Do asks of the caller.
const (
	// DoNothing: nothing to do; Message says why (recorded, unknown, …).
	DoNothing DirectiveKind = iota
	// DoFocus: focus Pane with Filter.
	DoFocus
	// DoRequest: send Request into plan → confirm → execute, then report
	// back with ActionResult.
	DoRequest
	// DoNote: show the note (and offer Command to copy); Ack when read.
	DoNote
)

// Directive is what the caller must do for a step.
type Directive struct {
	Kind DirectiveKind
	Step int
	// Message is one line for the status bar.
	Message string
	Pane    sources.Kind
	Filter  string
	// Target is the logs view's deployment or service (Pane LogsPane).
	Target string
	// PaneView is the pane's view to show (Step.PaneView).
	PaneView string
	Request  ops.Request
	// Targets previews the request: targets, backends left out and why.
	Targets []string
	Note    string
	Command string
}

// Do carries out step i on the snapshots of the latest Observe: a check
// records its verdict and values; a view asks to focus its pane; an action
// resolves its template into a request (or is skipped when its when: is
// false or nothing matches); a verify starts its countdown; a note asks to
// be shown. Doing a step again is allowed (a check re-records, an action
// re-resolves), except while it is running or waiting.
func (r *Run) Do(i int, now time.Time) (Directive, []ops.Record) {
	d := Directive{Step: i}
	if i < 0 || i >= len(r.steps) {
		d.Message = fmt.Sprintf("no step %d", i+1)
		return d, nil
	}
	if r.ended {
		d.Message = "the run has ended"
		return d, nil
	}
	st, s := &r.book.Steps[i], &r.steps[i]
	if s.state == Running || s.state == Waiting {
		d.Message = fmt.Sprintf("step %d is %s", i+1, s.state)
		return d, nil
	}
	var recs []ops.Record
	switch st.Kind {
	case Check:
		switch s.live {
		case Unknown:
			d.Message = "unknown: " + orDefault(s.liveWhy, "no data yet")
			return d, nil
		case True:
			recs = append(recs, r.finish(i, OK, "ok", "", s.liveValues, now))
			d.Message = st.Title + ": ✓"
		default:
			recs = append(recs, r.finish(i, Failed, "failed", "condition is false: "+st.Expr, s.liveValues, now))
			d.Message = st.Title + ": ✗"
		}
	case View:
		d.Kind, d.Pane, d.Filter, d.Target, d.PaneView = DoFocus, st.Pane, st.Filter, st.Target, st.PaneView
		recs = append(recs, r.finish(i, OK, resultViewed, "", nil, now))
	case Action:
		switch {
		case s.whenV == Unknown:
			d.Message = "cannot tell whether it applies: " + orDefault(s.whenWhy, "no data yet")
			return d, nil
		case s.whenV == False:
			recs = append(recs, r.skip(i, "does not apply: "+st.When+" is false", s.liveValues, now)...)
			d.Message = st.Title + ": skipped, does not apply"
		case s.res.unknown != "":
			d.Message = "cannot resolve: " + s.res.unknown
			return d, nil
		case s.res.req == nil:
			recs = append(recs, r.skip(i, "nothing to do: "+s.res.empty, append(s.liveValues, linesAsValues(s.res.lines)...), now)...)
			d.Message = st.Title + ": nothing to do, " + s.res.empty
		default:
			s.state, s.reason, s.targets, s.sent, s.req = Running, "", s.res.lines, s.liveValues, s.res.req
			s.planID, s.outcome = "", ""
			s.ver++
			d.Kind, d.Request, d.Targets = DoRequest, *s.res.req, s.res.lines
		}
	case Verify:
		recs = append(recs, r.arm(i, now))
		d.Message = fmt.Sprintf("%s: waiting up to %s", st.Title, duration.Format(st.Within))
	case Note:
		d.Kind, d.Note, d.Command = DoNote, st.Text, st.Command
	}
	return d, append(recs, r.maybeEnd(now)...)
}

// Skip skips step i for reason (the operator's, asked for by the UI). A
// verify whose actions are all skipped is skipped with them.
func (r *Run) Skip(i int, reason string, now time.Time) []ops.Record {
	if i < 0 || i >= len(r.steps) || r.ended {
		return nil
	}
	reason = strings.TrimSpace(sanitize.Text(reason))
	if reason == "" {
		reason = "skipped by " + r.by()
	}
	s := &r.steps[i]
	return append(r.skip(i, reason, s.liveValues, now), r.maybeEnd(now)...)
}

func (r *Run) skip(i int, reason string, vals []Value, now time.Time) []ops.Record {
	recs := []ops.Record{r.finish(i, Skipped, "skipped", reason, vals, now)}
	if r.book.Steps[i].Kind != Action {
		return recs
	}
	for _, v := range r.verifiesOf(i) {
		if r.steps[v].state.Finished() {
			continue
		}
		allSkipped := true
		for _, a := range r.actionsOf(v) {
			allSkipped = allSkipped && r.steps[a].state == Skipped
		}
		if allSkipped {
			recs = append(recs, r.finish(v, Skipped, "skipped", fmt.Sprintf("nothing to verify: step %d was skipped", i+1), r.steps[v].liveValues, now))
		}
	}
	return recs
}

// Ack acknowledges note i.
func (r *Run) Ack(i int, now time.Time) []ops.Record {
	if i < 0 || i >= len(r.steps) || r.ended || r.book.Steps[i].Kind != Note {
		return nil
	}
	return append([]ops.Record{r.finish(i, Acknowledged, "acknowledged", "", nil, now)}, r.maybeEnd(now)...)
}

// Action outcomes ActionResult takes: ops.Record's outcomes, and cancelled
// for a confirmation the operator dismissed.
const (
	OutcomeOK        = "ok"
	OutcomePartial   = "partial"
	OutcomeFailed    = "failed"
	OutcomeRefused   = "refused"
	OutcomeCancelled = "cancelled"
)

// ActionResult records what became of action step i's request: the plan id
// (empty when planning itself was refused) and the outcome (OutcomeOK, …,
// OutcomeCancelled) with its error. Success, even partial, starts the
// countdown of the verifies that follow; a cancelled confirmation puts the
// step back to pending.
func (r *Run) ActionResult(i int, planID, outcome string, err error, now time.Time) []ops.Record {
	if i < 0 || i >= len(r.steps) || r.book.Steps[i].Kind != Action || r.ended {
		return nil
	}
	s := &r.steps[i]
	s.planID, s.outcome = planID, outcome
	why := ""
	if err != nil {
		why = sanitize.Text(err.Error())
	}
	vals := linesAsValues(s.targets)
	var recs []ops.Record
	switch outcome {
	case OutcomeOK:
		recs = append(recs, r.finish(i, OK, outcome, why, vals, now))
		s.values = s.sent
	case OutcomeCancelled:
		s.state, s.reason = Pending, "confirmation cancelled"
		s.ver++
		recs = append(recs, r.stepRecord(i, now, outcome, s.reason, vals))
		return recs
	case OutcomePartial, OutcomeFailed, OutcomeRefused:
		recs = append(recs, r.finish(i, Failed, outcome, why, vals, now))
		s.values = s.sent
	default:
		recs = append(recs, r.finish(i, Failed, OutcomeFailed, fmt.Sprintf("outcome %q: %s", outcome, why), vals, now))
		s.values = s.sent
	}
	if outcome == OutcomeOK || outcome == OutcomePartial {
		if s.req != nil && s.req.Action == ops.Terminate {
			if s.gone == nil {
				s.gone = map[string]bool{}
			}
			for _, b := range s.req.Backends {
				s.gone[pidIdentity(b)] = true
			}
		}
		for _, v := range r.verifiesOf(i) {
			if st := r.steps[v].state; st == Pending || st == Waiting {
				recs = append(recs, r.arm(v, now))
			}
		}
	}
	return append(recs, r.maybeEnd(now)...)
}

// Abandon ends the run before its steps are done.
func (r *Run) Abandon(reason string, now time.Time) []ops.Record {
	if r.ended {
		return nil
	}
	return []ops.Record{r.end(endAbandoned, strings.TrimSpace(sanitize.Text(reason)), now)}
}

// arm starts verify i's countdown.
func (r *Run) arm(i int, now time.Time) ops.Record {
	s := &r.steps[i]
	s.state, s.reason = Waiting, ""
	s.armedAt, s.deadline = now, now.Add(r.book.Steps[i].Within)
	s.ver++
	return r.stepRecord(i, now, "waiting", "within "+duration.Format(r.book.Steps[i].Within), s.liveValues)
}

// verifiesOf lists the verify steps that check action i: the verifies after
// it up to the next action that follows a verify.
func (r *Run) verifiesOf(i int) []int {
	var out []int
	for j := i + 1; j < len(r.book.Steps); j++ {
		switch r.book.Steps[j].Kind {
		case Verify:
			out = append(out, j)
		case Action:
			if len(out) > 0 {
				return out
			}
		}
	}
	return out
}

// actionsOf lists the actions verify v checks: those since the previous
// verify.
func (r *Run) actionsOf(v int) []int {
	var out []int
	for j := v - 1; j >= 0; j-- {
		switch r.book.Steps[j].Kind {
		case Action:
			out = append(out, j)
		case Verify:
			if len(out) > 0 {
				return out
			}
		}
	}
	return out
}

func (r *Run) finish(i int, state StepState, result, reason string, vals []Value, now time.Time) ops.Record {
	s := &r.steps[i]
	s.state, s.reason, s.at = state, reason, now
	s.values = append([]Value(nil), vals...)
	s.ver++
	return r.stepRecord(i, now, result, reason, s.values)
}

// maybeEnd ends the run once every step is finished.
func (r *Run) maybeEnd(now time.Time) []ops.Record {
	if r.ended || r.Next() >= 0 {
		return nil
	}
	counts := map[StepState]int{}
	for _, s := range r.steps {
		counts[s.state]++
	}
	rec := r.end(endCompleted, "", now)
	for _, st := range []StepState{OK, Failed, Skipped, Acknowledged} {
		if counts[st] > 0 {
			rec.Run.Values = append(rec.Run.Values, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	return []ops.Record{rec}
}

func (r *Run) end(result, reason string, now time.Time) ops.Record {
	r.ended, r.endResult, r.endedAt = true, result, now
	return r.record(now, ops.PhaseRunEnd, ops.RunRecord{Result: result, Reason: reason})
}

func (r *Run) record(now time.Time, phase string, rr ops.RunRecord) ops.Record {
	rr.ID, rr.Runbook, rr.Title = r.id, r.book.Name, r.book.Title
	if r.alert != nil {
		rr.Alert = r.alert.Name
	}
	return ops.Record{Time: now, Phase: phase, Operator: r.by(), Run: &rr}
}

func (r *Run) stepRecord(i int, now time.Time, result, reason string, vals []Value) ops.Record {
	st, s := &r.book.Steps[i], &r.steps[i]
	rr := ops.RunRecord{Step: st.Title, StepIndex: i, Kind: string(st.Kind), Result: result, Reason: reason}
	for _, v := range vals {
		rr.Values = append(rr.Values, v.String())
	}
	rec := r.record(now, ops.PhaseRunStep, rr)
	if st.Kind == Action {
		rec.Action = st.Act.Kind
		rec.PlanID, rec.Run.PlanID = s.planID, s.planID
	}
	return rec
}

func linesAsValues(lines []string) []Value {
	out := make([]Value, len(lines))
	for i, l := range lines {
		out[i] = Value{Text: l}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
