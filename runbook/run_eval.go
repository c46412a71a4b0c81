package runbook

import (
	"context"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/ops"
	"flightdeck/sources"
)

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
