package runbook

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// stable is what a resumed run must have kept of each step.
func stable(vs []StepView) []StepView {
	out := make([]StepView, len(vs))
	for i, v := range vs {
		out[i] = StepView{Index: v.Index, State: v.State, Reason: v.Reason, PlanID: v.PlanID, Outcome: v.Outcome,
			Deadline: v.Deadline.UTC(), Remaining: v.Remaining, At: v.At.UTC()}
		// The journal keeps each value as its line: labels are not split out.
		if v.State.Finished() && v.Kind != Action {
			for _, x := range v.Values {
				out[i].Values = append(out[i].Values, Value{Text: x.String()})
			}
		}
		if (v.State.Finished() || v.State == Running) && len(v.Targets) > 0 {
			out[i].Targets = v.Targets
		}
	}
	return out
}

func TestResume(t *testing.T) {
	j, path := opstest.Journal(t)
	write := func(recs []ops.Record) {
		t.Helper()
		if err := Write(j, recs); err != nil {
			t.Fatal(err)
		}
	}
	now := t0
	// An ended run: not resumed.
	done, recs := Start(book(t), nil, "someone@test", ops.DefaultPolicy(), now)
	write(recs)
	write(done.Abandon("opened by mistake", now))

	r, recs := Start(book(t), &opener, "oncall@test", ops.DefaultPolicy(), now.Add(time.Millisecond))
	write(recs)
	snaps := []sources.Snapshot{pgSnap(now, 95, backend(13, "app", "active", time.Hour, now)), kubeSnap(now, 42, 3*time.Hour, true), amSnap(now, opener)}
	write(r.Observe(snaps, now))
	_, recs = r.Do(0, now) // check: ok with values
	write(recs)
	write(r.Skip(1, "already looking at it", now))
	r.Do(2, now) // terminate: handed over
	write(r.ActionResult(2, "20260314T030000-1", OutcomeOK, nil, now.Add(2*time.Second)))
	// verify 3 is now waiting; action 4 does not apply (deployed 3h ago).
	_, recs = r.Do(4, now.Add(3*time.Second))
	write(recs)
	r.Do(6, now.Add(4*time.Second)) // silence: handed over, no outcome before the "crash"
	write(r.Ack(7, now.Add(5*time.Second)))

	// A third run whose runbook has since changed.
	other, recs := Start(book(t), nil, "x@test", ops.DefaultPolicy(), now.Add(2*time.Millisecond))
	write(recs)
	other.Observe(snaps, now)
	_, recs = other.Do(0, now)
	write(recs)

	records, err := ops.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := Load("test.yaml", []byte(strings.Replace(testBook, "title: Connections high", "title: Connections are high", 1)))
	if err != nil {
		t.Fatal(err)
	}
	// The changed book breaks both open runs' step 1 — use the original
	// for r and check the error on a set with the changed one.
	if _, err := Resume(records, NewSet(changed), ops.DefaultPolicy()); err == nil ||
		!strings.Contains(err.Error(), `step 1 was check "Connections high", the runbook now has check "Connections are high"`) {
		t.Errorf("changed runbook: %v", err)
	}
	if _, err := Resume(records, NewSet(), ops.DefaultPolicy()); err == nil || !strings.Contains(err.Error(), `runbook "test-book" is no longer loaded`) {
		t.Errorf("missing runbook: %v", err)
	}

	runs, err := Resume(records, NewSet(book(t)), ops.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID() != r.ID() || runs[1].ID() != other.ID() {
		t.Fatalf("resumed %d runs", len(runs))
	}
	got := runs[0]
	if got.Operator() != "oncall@test" || got.Alert() == nil || got.Alert().Name != "HighErrorRate" ||
		!reflect.DeepEqual(got.Alert().Labels, opener.Labels) || !got.StartedAt().Equal(r.StartedAt()) {
		t.Errorf("run: %s %+v", got.Operator(), got.Alert())
	}
	at := now.Add(time.Minute)
	// The silence that was handed over but never reported is pending again.
	want := stable(r.Steps(at))
	want[6] = StepView{Index: 6, State: Pending}
	if g := stable(got.Steps(at)); !reflect.DeepEqual(g, want) {
		for i := range g {
			if !reflect.DeepEqual(g[i], want[i]) {
				t.Errorf("step %d:\n got %+v\nwant %+v", i+1, g[i], want[i])
			}
		}
	}
	v := got.Steps(at)[3]
	if v.State != Waiting || v.Remaining != 62*time.Second {
		t.Errorf("countdown after resume: %+v", v)
	}
	// The countdown ran out while flightdeck was down: the first Observe
	// fails the verify, visibly.
	recs = got.Observe([]sources.Snapshot{pgSnap(now.Add(5*time.Minute), 95)}, now.Add(5*time.Minute))
	if len(recs) != 1 || recs[0].Run.Result != "timeout" || got.Steps(at)[3].State != Failed {
		t.Errorf("after resume: %+v", recs)
	}
}

// A run continued by someone else (resumed in their session) journals
// their steps under their name; who started it stays known.
func TestContinueAs(t *testing.T) {
	r, recs := Start(book(t), nil, "alice@test", ops.DefaultPolicy(), t0)
	if recs[0].Operator != "alice@test" {
		t.Fatalf("start by %q", recs[0].Operator)
	}
	r.ContinueAs("bob@test")
	recs = r.Skip(0, "", t0)
	if r.Operator() != "alice@test" || recs[0].Operator != "bob@test" || recs[0].Run.Reason != "skipped by bob@test" {
		t.Errorf("continued: started by %q, step record by %q (%q)", r.Operator(), recs[0].Operator, recs[0].Run.Reason)
	}
	r.ContinueAs("alice@test")
	if recs = r.Skip(1, "later", t0); recs[0].Operator != "alice@test" {
		t.Errorf("back to the starter: %q", recs[0].Operator)
	}
}
