package runbook_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/runbook"
	"flightdeck/sources"
)

// driver plays the UI's part: it polls the sources, feeds the run, sends
// action requests through a real Executor (plan, confirm with the plan's
// phrase, execute) and writes the run's records to the same audit journal.
type driver struct {
	t       *testing.T
	now     func() time.Time
	tick    func() // lets time pass between polls
	srcs    []sources.Source
	exec    *ops.Executor
	journal *ops.Journal
	path    string
	run     *runbook.Run
	snaps   []sources.Snapshot
	results map[int]ops.Result // per action step
}

func newDriver(t *testing.T, now func() time.Time, tick func(), srcs []sources.Source, caps ops.Capabilities, pol ops.Policy) *driver {
	t.Helper()
	j, path := opstest.Journal(t)
	ex := ops.NewExecutor(ops.Config{Environment: "test", Policy: pol, Caps: caps, Journal: j,
		Operator: "oncall@test", Now: now})
	return &driver{t: t, now: now, tick: tick, srcs: srcs, exec: ex, journal: j, path: path, results: map[int]ops.Result{}}
}

// poll reads every source once, as the Hub would.
func (d *driver) poll() []sources.Snapshot {
	d.t.Helper()
	d.tick()
	out := make([]sources.Snapshot, 0, len(d.srcs))
	for _, s := range d.srcs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p, err := s.Fetch(ctx)
		cancel()
		if err != nil {
			d.t.Fatalf("fetch %s: %v", s.Name(), err)
		}
		out = append(out, sources.Snapshot{Source: s.Name(), Kind: s.Kind(), Data: p, FetchedAt: d.now()})
	}
	d.snaps = out
	return out
}

func (d *driver) write(recs []ops.Record) {
	d.t.Helper()
	if err := runbook.Write(d.journal, recs); err != nil {
		d.t.Fatal(err)
	}
}

func (d *driver) start(rb *runbook.Runbook, alert *sources.Alert) {
	run, recs := runbook.Start(rb, alert, "oncall@test", d.exec.Policy(), d.now())
	d.run = run
	d.write(recs)
	d.observe()
}

func (d *driver) observe() {
	d.poll()
	d.write(d.run.Observe(d.snaps, d.now()))
}

func (d *driver) view(i int) runbook.StepView { return d.run.Steps(d.now())[i] }

// pollUntil polls (up to n times) until cond holds on the snapshots.
func (d *driver) pollUntil(what string, n int, cond func([]sources.Snapshot) bool) {
	d.t.Helper()
	for range n {
		if cond(d.poll()) {
			return
		}
	}
	d.t.Fatalf("%s: not after %d polls", what, n)
}

// do does step i like the UI: an action goes through plan → confirm →
// execute, a note is acknowledged.
func (d *driver) do(i int) runbook.Directive {
	d.t.Helper()
	dir, recs := d.run.Do(i, d.now())
	d.write(recs)
	switch dir.Kind {
	case runbook.DoRequest:
		plan, err := d.exec.Plan(context.Background(), dir.Request)
		if err != nil {
			d.write(d.run.ActionResult(i, "", runbook.OutcomeRefused, err, d.now()))
			return dir
		}
		res := d.exec.Execute(context.Background(), plan, plan.Phrase)
		d.results[i] = res
		outcome, err := runbook.ResultOutcome(res)
		d.write(d.run.ActionResult(i, plan.ID, outcome, err, d.now()))
	case runbook.DoNote:
		d.write(d.run.Ack(i, d.now()))
	}
	return dir
}

// walk does every step in order; verifies are polled until they finish.
func (d *driver) walk(maxPolls int) {
	d.t.Helper()
	for guard := 0; guard < 100; guard++ {
		i := d.run.Next()
		if i < 0 {
			return
		}
		v := d.view(i)
		switch v.State {
		case runbook.Pending:
			dir := d.do(i)
			d.t.Logf("step %d %s %q: %s %s", i+1, v.Kind, v.Title, d.view(i).State, dir.Message)
			if d.view(i).State == runbook.Pending {
				d.t.Fatalf("step %d %q stays pending: %s (%+v)", i+1, v.Title, dir.Message, d.view(i))
			}
		case runbook.Waiting:
			for n := 0; d.view(i).State == runbook.Waiting; n++ {
				if n == maxPolls {
					d.t.Fatalf("verify %d %q still waiting after %d polls: %+v", i+1, v.Title, n, d.view(i))
				}
				d.observe()
			}
			d.t.Logf("step %d verify %q: %s %v", i+1, v.Title, d.view(i).State, d.view(i).Values)
		default:
			d.t.Fatalf("step %d %q is %s", i+1, v.Title, v.State)
		}
		d.observe()
	}
	d.t.Fatal("walk did not end")
}

func (d *driver) records() []ops.Record {
	d.t.Helper()
	recs, err := ops.ReadJournal(d.path)
	if err != nil {
		d.t.Fatal(err)
	}
	return recs
}

// phases summarises the journal: run records as phase:step-result, the
// Executor's as phase:action:outcome.
func phases(recs []ops.Record) []string {
	var out []string
	for _, r := range recs {
		if r.Run != nil {
			s := r.Phase
			if r.Phase == ops.PhaseRunStep {
				s += ":" + r.Run.Kind + ":" + r.Run.Result
			} else if r.Run.Result != "" {
				s += ":" + r.Run.Result
			}
			out = append(out, s)
			continue
		}
		out = append(out, r.Phase+":"+string(r.Action)+":"+r.Outcome)
	}
	return out
}

func findAlert(snaps []sources.Snapshot, name string, state sources.AlertState) *sources.Alert {
	for _, s := range snaps {
		if set, ok := s.Data.(*sources.AlertSet); ok {
			for i := range set.Alerts {
				if set.Alerts[i].Name == name && set.Alerts[i].State == state {
					a := set.Alerts[i]
					return &a
				}
			}
		}
	}
	return nil
}

func stepIndex(t *testing.T, rb *runbook.Runbook, title string) int {
	t.Helper()
	for i, s := range rb.Steps {
		if strings.HasPrefix(s.Title, title) {
			return i
		}
	}
	t.Fatalf("%s has no step %q", rb.Name, title)
	return -1
}
