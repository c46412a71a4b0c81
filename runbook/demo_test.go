package runbook_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/sources/demo"
)

// The demo world at speed 20 on a fake clock moved 100 ms (2 simulated
// seconds) per poll: deterministic, and the whole incident fits in a few
// hundred polls.
func demoDriver(t *testing.T) (*driver, *demo.World) {
	t.Helper()
	c := opstest.NewClock(time.Date(2026, 3, 14, 3, 7, 0, 0, time.UTC))
	w := demo.NewWorld(demo.Options{Now: c.Now, Seed: 7, Speed: 20})
	caps := ops.Capabilities{w.Postgres().Name(): w.Postgres(), w.Rollouts().Name(): w.Rollouts(), w.Alerts().Name(): w.Alerts(),
		w.AWS().Name(): w.AWS(), ops.NotifySource: opstest.NewFakeNotifier("critical-alerts", "incidents")}
	d := newDriver(t, c.Now, func() { c.Advance(100 * time.Millisecond) }, w.Sources(), caps, ops.DefaultPolicy())
	return d, w
}

func builtinSet(t *testing.T) *runbook.Set {
	t.Helper()
	set, err := runbook.LoadAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func pgOf(snaps []sources.Snapshot) *sources.PGActivity {
	for _, s := range snaps {
		if p, ok := s.Data.(*sources.PGActivity); ok {
			return p
		}
	}
	return nil
}

func TestDemoConnectionExhaustion(t *testing.T) {
	d, _ := demoDriver(t)
	set := builtinSet(t)
	var alert *sources.Alert
	d.pollUntil("DatabaseConnectionPoolExhausted firing", 400, func(s []sources.Snapshot) bool {
		alert = findAlert(s, "DatabaseConnectionPoolExhausted", sources.AlertFiring)
		return alert != nil
	})
	books := set.Match(*alert)
	if len(books) == 0 || books[0].Name != "database-connection-exhaustion" {
		t.Fatalf("the alert opens %v", books)
	}
	rb := books[0]
	d.start(rb, alert)
	before := pgOf(d.snaps)
	roots := map[int32]bool{}
	for _, n := range sources.BlockingTree(before.Backends) {
		if n.Root {
			roots[n.PID] = true
		}
	}
	if len(roots) != 1 {
		t.Fatalf("demo pile-up has root blockers %v", roots)
	}

	check := d.view(0)
	if check.Live != runbook.True || !strings.HasPrefix(check.Values[0].String(), "connections ") {
		t.Fatalf("connections check: %+v", check)
	}
	d.walk(300)

	kill := stepIndex(t, rb, "Kill long-running queries")
	rootStep := stepIndex(t, rb, "Terminate the root blocker")
	restart := stepIndex(t, rb, "Restart application pods")
	steps := d.run.Steps(d.now())
	for _, s := range steps {
		t.Logf("%d %-8s %-12s %q %s %v %v", s.Index+1, s.Kind, s.State, s.Title, s.Reason, s.Values, s.Targets)
	}
	// Nothing in the demo has run for 10 minutes: the manual's kill step
	// has nothing to do and says so; the pile-up's root blocker is young.
	if s := steps[kill]; s.State != runbook.Skipped || !strings.Contains(s.Reason, `no backend matches "state:!idle >10m"`) {
		t.Errorf("kill step: %+v", s)
	}
	res := d.results[rootStep]
	var pid int32
	if len(res.Plan.Targets) == 1 {
		if b, ok := res.Plan.Targets[0].Subject.(sources.Backend); ok {
			pid = b.PID
		}
	}
	if !res.OK || len(res.Plan.Targets) != 1 || !roots[pid] || res.Plan.Phrase != fmt.Sprint(pid) {
		t.Errorf("root blocker step: %+v", res)
	}
	for i, s := range steps {
		want := map[runbook.StepKind]runbook.StepState{runbook.Check: runbook.OK, runbook.View: runbook.OK,
			runbook.Action: runbook.OK, runbook.Verify: runbook.OK, runbook.Note: runbook.Acknowledged}[s.Kind]
		if i != kill && s.State != want {
			t.Errorf("step %d %q: %s (%s), want %s", i+1, s.Title, s.State, s.Reason, want)
		}
	}
	if after := pgOf(d.snaps); float64(after.Connections) >= 0.8*float64(after.Usable()) {
		t.Errorf("connections %d/%d after the run", after.Connections, after.Usable())
	}
	if !d.run.Ended() {
		t.Error("run not ended")
	}
	if !d.results[restart].OK {
		t.Errorf("restart: %+v", d.results[restart])
	}

	recs := d.records()
	got := strings.Join(phases(recs), " ")
	want := "run_start run_step:check:ok run_step:view:viewed run_step:action:skipped " +
		"intent:terminate: outcome:terminate:ok run_step:action:ok run_step:verify:waiting run_step:verify:ok " +
		"intent:restart: outcome:restart:ok run_step:action:ok run_step:verify:waiting run_step:verify:ok " +
		"run_step:note:acknowledged run_step:note:acknowledged run_end:completed"
	if got != want {
		t.Errorf("journal:\n got %s\nwant %s", got, want)
	}
	for _, r := range recs {
		if r.Run != nil && r.Run.Kind == "action" && r.Run.Result == "ok" {
			if r.PlanID == "" || !slices.ContainsFunc(recs, func(x ops.Record) bool { return x.Phase == "outcome" && x.PlanID == r.PlanID }) {
				t.Errorf("action step record without its plan's outcome: %+v", r.Run)
			}
		}
		if r.Phase == ops.PhaseRunStart && (r.Run.Alert != "DatabaseConnectionPoolExhausted" || r.Operator != "oncall@test") {
			t.Errorf("run_start: %+v %+v", r, r.Run)
		}
	}
}

func TestDemoHighErrorRate(t *testing.T) {
	d, _ := demoDriver(t)
	set := builtinSet(t)
	var alert *sources.Alert
	d.pollUntil("HighErrorRate firing", 200, func(s []sources.Snapshot) bool {
		alert = findAlert(s, "HighErrorRate", sources.AlertFiring)
		return alert != nil
	})
	// Opened by its runbook_url as well as by name.
	byURL := *alert
	byURL.Name = "SomethingElse"
	if books := set.Match(byURL); len(books) != 1 || books[0].Name != "high-error-rate" {
		t.Fatalf("runbook_url %s opens %v", alert.RunbookURL, books)
	}
	rb := set.Match(*alert)[0]
	d.start(rb, alert)
	d.walk(300)

	steps := d.run.Steps(d.now())
	for _, s := range steps {
		t.Logf("%d %-8s %-12s %q %s %v %v", s.Index+1, s.Kind, s.State, s.Title, s.Reason, s.Values, s.Targets)
	}
	for i, s := range steps {
		want := map[runbook.StepKind]runbook.StepState{runbook.Check: runbook.OK, runbook.View: runbook.OK,
			runbook.Action: runbook.OK, runbook.Verify: runbook.OK, runbook.Note: runbook.Acknowledged}[s.Kind]
		if s.State != want {
			t.Errorf("step %d %q: %s (%s), want %s", i+1, s.Title, s.State, s.Reason, want)
		}
	}
	undo := d.results[stepIndex(t, rb, "Roll back")]
	if !undo.OK || undo.Plan.Action != ops.Undo || undo.Plan.Params.ToRevision != 41 || undo.Plan.Phrase != "nudgecampaign-api" {
		t.Errorf("rollback: %+v", undo)
	}
	scale := d.results[stepIndex(t, rb, "Scale up")]
	if !scale.OK || scale.Plan.Params.Replicas != 6 || !scale.Plan.Params.Override {
		t.Errorf("scale: %+v", scale)
	}
	for _, s := range d.snaps {
		if set, ok := s.Data.(*sources.SLOSet); ok {
			for _, o := range set.SLOs {
				if o.Name == "availability" && !(o.BurnRate(5*time.Minute) < 1) {
					t.Errorf("availability 5m burn %v after the run", o.BurnRate(5*time.Minute))
				}
			}
		}
	}
	got := strings.Join(phases(d.records()), " ")
	want := "run_start run_step:check:ok run_step:view:viewed run_step:check:ok run_step:view:viewed run_step:check:ok " +
		"intent:undo: outcome:undo:ok run_step:action:ok run_step:verify:waiting run_step:verify:ok " +
		"intent:scale: outcome:scale:ok run_step:action:ok run_step:verify:waiting run_step:verify:ok " +
		"run_step:note:acknowledged intent:notify: outcome:notify:ok run_step:action:ok run_step:note:acknowledged run_end:completed"
	if got != want {
		t.Errorf("journal:\n got %s\nwant %s", got, want)
	}
}

// A read-only session follows a runbook live, but every action is refused
// by the Executor, as everywhere else, and the run records the refusal.
func TestDemoReadOnly(t *testing.T) {
	d, w := demoDriver(t)
	d.exec = ops.NewExecutor(ops.Config{Environment: "test", ReadOnly: true, Operator: "observer@test", Now: d.now,
		Caps: ops.Capabilities{w.Rollouts().Name(): w.Rollouts()}})
	var alert *sources.Alert
	d.pollUntil("HighErrorRate firing", 200, func(s []sources.Snapshot) bool {
		alert = findAlert(s, "HighErrorRate", sources.AlertFiring)
		return alert != nil
	})
	rb := builtinSet(t).Get("high-error-rate")
	d.start(rb, alert)
	if v := d.view(0); v.Live != runbook.True {
		t.Errorf("check not live: %+v", v)
	}
	undo := stepIndex(t, rb, "Roll back")
	dir := d.do(undo)
	v := d.view(undo)
	if dir.Kind != runbook.DoRequest || v.State != runbook.Failed || v.Outcome != runbook.OutcomeRefused ||
		v.Reason != "read-only mode: actions are disabled" {
		t.Errorf("read-only undo: %+v", v)
	}
	if verify := d.view(undo + 1); verify.State != runbook.Pending {
		t.Errorf("verify armed by a refused action: %+v", verify)
	}
	if k, _ := w.Rollouts().GetDeployment(context.Background(), "production", "nudgecampaign-api"); k.Revision != 42 {
		t.Errorf("revision %d after a refused undo", k.Revision)
	}
}

// The manual's failover.sh against the demo's AWS estate: the DR replica is
// promoted and the DR api service scaled to 4 through the real Executor,
// each confirmed by typing the identifier, and the verifies see both
// effects in the AWS source's later snapshots.
func TestDemoFailoverToDR(t *testing.T) {
	d, w := demoDriver(t)
	set := builtinSet(t)
	rb := set.Get("failover-to-dr")
	if rb == nil {
		t.Fatal("no failover-to-dr runbook")
	}
	// Opened by the outage alerts it names (none fires in the demo: it is
	// started from the runbook list).
	if books := set.Match(sources.Alert{Name: "RDSPrimaryUnavailable"}); len(books) != 1 || books[0] != rb {
		t.Errorf("RDSPrimaryUnavailable opens %v", books)
	}
	d.start(rb, nil)
	d.walk(300)

	steps := d.run.Steps(d.now())
	for _, s := range steps {
		t.Logf("%d %-8s %-12s %q %s %v %v", s.Index+1, s.Kind, s.State, s.Title, s.Reason, s.Values, s.Targets)
	}
	for i, s := range steps {
		want := map[runbook.StepKind]runbook.StepState{runbook.Check: runbook.OK, runbook.Action: runbook.OK,
			runbook.Verify: runbook.OK, runbook.Note: runbook.Acknowledged}[s.Kind]
		if s.State != want {
			t.Errorf("step %d %q: %s (%s), want %s", i+1, s.Title, s.State, s.Reason, want)
		}
	}
	promote := d.results[stepIndex(t, rb, "Promote")]
	if !promote.OK || promote.Plan.Action != ops.PromoteReplica || promote.Plan.Phrase != "nudgecampaign-dr-db" || promote.Plan.Source != "aws" {
		t.Errorf("promote: %+v", promote)
	}
	scale := d.results[stepIndex(t, rb, "Scale up")]
	if !scale.OK || scale.Plan.Action != ops.SetDesiredCount || scale.Plan.Params.Desired != 4 || scale.Plan.Phrase != "api" {
		t.Errorf("desired count: %+v", scale)
	}
	// The effect in the demo's AWS state, read back through its API.
	ctx := context.Background()
	dr, err := w.AWS().DescribeDBInstance(ctx, "us-west-2", "nudgecampaign-dr-db")
	if err != nil || dr.Role() != sources.RolePrimary || dr.Status != "available" {
		t.Errorf("DR database after the run: %+v %v", dr, err)
	}
	prod, err := w.AWS().DescribeDBInstance(ctx, "us-east-1", "nudgecampaign-prod")
	if err != nil || len(prod.Replicas) != 0 {
		t.Errorf("old primary still lists replicas: %+v %v", prod.Replicas, err)
	}
	api, err := w.AWS().DescribeService(ctx, "us-west-2", "nudgecampaign-dr", "api")
	if err != nil || api.Desired != 4 || api.Running != 4 {
		t.Errorf("DR api after the run: desired %d running %d %v", api.Desired, api.Running, err)
	}
	got := strings.Join(phases(d.records()), " ")
	want := "run_start run_step:check:ok run_step:check:ok run_step:check:ok " +
		"intent:promote_read_replica: outcome:promote_read_replica:ok run_step:action:ok run_step:verify:waiting run_step:verify:ok " +
		"run_step:note:acknowledged " +
		"intent:set_desired_count: outcome:set_desired_count:ok run_step:action:ok run_step:verify:waiting run_step:verify:ok " +
		"run_step:note:acknowledged run_step:note:acknowledged intent:notify: outcome:notify:ok run_step:action:ok run_step:note:acknowledged run_end:completed"
	if got != want {
		t.Errorf("journal:\n got %s\nwant %s", got, want)
	}
}
