package runbook

import (
	"context"
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

// Observe re-evaluates every step against the latest snapshot of every
// source (pass them all, not just the one that changed): checks and
// verifies, an action's when: and its targets. A waiting verify passes when
// its condition holds on data fetched after it was armed, and fails when its
// time is up. A step whose expression goes over its budget fails with the
// reason. Observe evaluates on the caller's goroutine: a UI calls Prepare,
// Evaluate (in a tea.Cmd) and Apply instead, and never waits.
func (r *Run) Observe(snaps []sources.Snapshot, now time.Time) []ops.Record {
	return r.Apply(r.Prepare(snaps, now).Evaluate(context.Background()), now)
}

// Tick is Observe on the snapshots of the latest Observe: call it on a
// timer (every second while Waiting) so a countdown runs out, visibly, even
// when no snapshot arrives.
func (r *Run) Tick(now time.Time) []ops.Record { return r.Observe(r.world.snaps, now) }

// Snapshots are the snapshots the latest Observe (or Apply) saw, for a
// Prepare on a timer.
func (r *Run) Snapshots() []sources.Snapshot { return r.world.snaps }

// Evaluation is one evaluation of a run's expressions on a set of
// snapshots, prepared in Update (Prepare copies what it needs of the run)
// and evaluated by Evaluate on any goroutine, while the run goes on: Apply
// then takes the result back into the run. It is used once.
type Evaluation struct {
	run    *Run // only to check Apply gets its own run's; Evaluate never reads it
	seq    uint64
	book   *Runbook
	alert  *sources.Alert
	policy ops.Policy
	world  *world
	steps  []stepInput
}

// stepInput is what a step's evaluation depends on, as of Prepare.
type stepInput struct {
	ver     int
	state   StepState
	armedAt time.Time
	gone    map[string]bool
	// skip: an expression of the step went over budget before; it is not
	// evaluated again.
	skip bool
}

// Observation is what Evaluate found, for Apply.
type Observation struct {
	run   *Run
	seq   uint64
	world *world
	steps []stepResult
}

type stepResult struct {
	ver int
	// done: the step was evaluated (not skipped, not cut short).
	done bool

	live     Verdict
	liveWhy  string
	values   []Value
	whenV    Verdict
	whenWhy  string
	res      resolution
	overWhy  string // an expression of the step over budget: why
	isAction bool
}

// maxEvalTime bounds one Evaluate of every step when the caller's context
// has no earlier deadline: the steps not reached keep their last verdicts.
const maxEvalTime = 5 * time.Second

// Prepare makes the evaluation of every step on snaps at now (pass every
// source's latest snapshot). It does no evaluation: call it from Update,
// and Evaluate wherever the work may take its time.
func (r *Run) Prepare(snaps []sources.Snapshot, now time.Time) *Evaluation {
	r.prepared++
	e := &Evaluation{run: r, seq: r.prepared, book: r.book, alert: r.alert, policy: r.policy, world: newWorld(snaps, now),
		steps: make([]stepInput, len(r.steps))}
	for i := range r.steps {
		s := &r.steps[i]
		in := stepInput{ver: s.ver, state: s.state, armedAt: s.armedAt, skip: s.overWhy != ""}
		if len(s.gone) > 0 {
			in.gone = make(map[string]bool, len(s.gone))
			for k, v := range s.gone {
				in.gone[k] = v
			}
		}
		e.steps[i] = in
	}
	return e
}

// Evaluate evaluates every step's expressions within their budgets, and
// stops at ctx's end (or after maxEvalTime). It reads only what Prepare
// copied: call it on any goroutine, once.
func (e *Evaluation) Evaluate(ctx context.Context) *Observation {
	o := &Observation{run: e.run, seq: e.seq, world: e.world, steps: make([]stepResult, len(e.steps))}
	env := e.world.env(e.alert)
	b := env.budget
	b.until = time.Now().Add(maxEvalTime)
	if dl, ok := ctx.Deadline(); ok && dl.Before(b.until) {
		b.until = dl
	}
	for i := range e.book.Steps {
		st, in, res := &e.book.Steps[i], &e.steps[i], &o.steps[i]
		res.ver = in.ver
		if in.skip || ctx.Err() != nil || !time.Now().Before(b.until) {
			continue
		}
		b.startStep()
		switch st.Kind {
		case Check:
			res.live, res.liveWhy, res.values = evalCond(st.cond, st.Show, e.world, e.alert, &env, time.Time{})
		case Verify:
			after := time.Time{}
			if in.state == Waiting {
				after = in.armedAt
			}
			res.live, res.liveWhy, res.values = evalCond(st.cond, st.Show, e.world, e.alert, &env, after)
		case Action:
			res.isAction = true
			res.whenV, res.whenWhy = True, ""
			var whenVals []Value
			if st.when != nil {
				var shows []Shown // nil: the when:'s own values, unless the step lists its own
				if st.Show != nil {
					shows = []Shown{}
				}
				res.whenV, res.whenWhy, whenVals = evalCond(st.when, shows, e.world, e.alert, &env, time.Time{})
			}
			res.values = append(evalShows(st.Show, e.world, e.alert, &env), whenVals...)
			res.res = resolve(st.Act, e.world, e.alert, e.policy, e.book.Name, in.gone)
		default:
			continue
		}
		res.done, res.overWhy = !b.cut, b.over
	}
	return o
}

// Apply takes an Observation of this run back into it (from Update): the
// steps' live verdicts and values, a verify passing or running out of
// time, a step over budget failing. A step that changed since Prepare (it
// was done, armed, answered) keeps its state: the next evaluation covers
// it. Evaluations may overlap: one prepared before the latest applied is
// dropped.
func (r *Run) Apply(o *Observation, now time.Time) []ops.Record {
	if o == nil || o.run != r || o.seq <= r.applied {
		return nil
	}
	r.applied = o.seq
	r.world = o.world
	var recs []ops.Record
	for i := range r.book.Steps {
		st, s, res := &r.book.Steps[i], &r.steps[i], &o.steps[i]
		if res.ver != s.ver {
			continue
		}
		if res.done {
			if res.isAction {
				s.whenV, s.whenWhy, s.liveValues, s.res = res.whenV, res.whenWhy, res.values, res.res
			} else {
				s.live, s.liveWhy, s.liveValues = res.live, res.liveWhy, res.values
			}
		}
		if res.overWhy != "" {
			s.overWhy = res.overWhy
			if (s.state == Pending || s.state == Waiting) && !r.ended {
				recs = append(recs, r.finish(i, Failed, "failed", res.overWhy, s.liveValues, now))
			}
			continue
		}
		if st.Kind != Verify || s.state != Waiting || r.ended {
			continue
		}
		switch {
		case s.live == True && res.done:
			recs = append(recs, r.finish(i, OK, "ok", "", s.liveValues, now))
		case !now.Before(s.deadline):
			why := "did not hold within " + duration.Format(st.Within)
			if s.live == Unknown && s.liveWhy != "" {
				why += ": " + s.liveWhy
			}
			recs = append(recs, r.finish(i, Failed, resultTimeout, why, s.liveValues, now))
		}
	}
	return append(recs, r.maybeEnd(now)...)
}

// Waiting reports whether a verify is counting down.
func (r *Run) Waiting() bool {
	for _, s := range r.steps {
		if s.state == Waiting {
			return true
		}
	}
	return false
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
	Target  string
	Request ops.Request
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
		d.Kind, d.Pane, d.Filter, d.Target = DoFocus, st.Pane, st.Filter, st.Target
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

// ---------------------------------------------------------------- view model

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
