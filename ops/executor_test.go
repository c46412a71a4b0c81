package ops_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

var t0 = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

func backend(pid int32, user, state string) sources.Backend {
	return sources.Backend{PID: pid, BackendStart: t0.Add(-time.Hour).Add(time.Duration(pid) * time.Microsecond),
		BackendType: "client backend", User: user, Application: "nudgecampaign-api", State: state,
		XactStart: t0.Add(-12 * time.Minute), Query: "UPDATE campaigns SET status='sending' WHERE id=4711"}
}

type rig struct {
	ex      *Executor
	pg      *opstest.FakeBackends
	kube    *opstest.FakeRollouts
	am      *opstest.FakeSilences
	clock   *opstest.Clock
	j       *Journal
	journal string
}

func newRig(t *testing.T, mut func(*Config)) *rig {
	t.Helper()
	r := &rig{clock: opstest.NewClock(t0)}
	r.j, r.journal = opstest.Journal(t)
	r.pg = opstest.NewFakeBackends(backend(4711, "app", "idle in transaction"), backend(4712, "app", "active"),
		backend(10, "postgres", "active"))
	dep := sources.Deployment{Namespace: "production", Name: "nudgecampaign-api", UID: "u1", Replicas: 4, Revision: 42,
		History: []sources.Revision{{Number: 42}, {Number: 41, ChangeCause: "deploy v5.0.0"}}}
	r.kube = opstest.NewFakeRollouts(dep)
	r.am = opstest.NewFakeSilences([]sources.Alert{
		{Name: "HighErrorRate", Labels: []sources.Label{{Name: "alertname", Value: "HighErrorRate"}, {Name: "severity", Value: "critical"}}},
		{Name: "DatabaseConnectionPoolExhausted", Labels: []sources.Label{{Name: "alertname", Value: "DatabaseConnectionPoolExhausted"}, {Name: "severity", Value: "warning"}}},
	})
	cfg := Config{Environment: "staging", Policy: DefaultPolicy(), Journal: r.j, Operator: "oncall@bastion", Now: r.clock.Now,
		Caps: Capabilities{"pg main": r.pg, "kube": r.kube, "am": r.am}}
	cfg.Policy.ProtectedNamespaces = []string{"production"}
	if mut != nil {
		mut(&cfg)
	}
	r.ex = NewExecutor(cfg)
	return r
}

func (r *rig) records(t *testing.T) []Record {
	t.Helper()
	return opstest.Records(t, r.journal)
}

// live is the fake's current row for pid.
func (r *rig) live(t *testing.T, pid int32) sources.Backend {
	t.Helper()
	b, ok := r.pg.Backend(pid)
	if !ok {
		t.Fatalf("pid %d not live", pid)
	}
	return b
}

// writes counts what the fakes changed: signals and rollout writes.
func (r *rig) writes() int { return len(r.pg.Signals()) + len(r.kube.Calls()) }

func (r *rig) deployment(t *testing.T) sources.Deployment {
	t.Helper()
	d, ok := r.kube.Deployment("production/nudgecampaign-api")
	if !ok {
		t.Fatal("no deployment")
	}
	return d
}

func (r *rig) terminatePlan(t *testing.T, pids ...int32) Plan {
	t.Helper()
	var bs []sources.Backend
	for _, p := range pids {
		bs = append(bs, r.live(t, p))
	}
	p, err := r.ex.Plan(context.Background(), Request{Action: Terminate, Source: "pg main", Backends: bs})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTerminateHappyPathJournalsIntentAndOutcome(t *testing.T) {
	r := newRig(t, nil)
	p := r.terminatePlan(t, 4711)
	if p.Risk != High || p.Phrase != "4711" {
		t.Fatalf("terminate risk/phrase = %v %q", p.Risk, p.Phrase)
	}
	r.clock.Advance(5 * time.Second)
	res := r.ex.Execute(context.Background(), p, "4711")
	if !res.OK || res.Refused {
		t.Fatalf("result = %+v", res)
	}
	if _, alive := r.pg.Backend(4711); alive {
		t.Fatal("backend not terminated")
	}
	recs := r.records(t)
	if len(recs) != 2 || recs[0].Phase != "intent" || recs[1].Phase != "outcome" || recs[1].Outcome != "ok" {
		t.Fatalf("journal = %+v", recs)
	}
	if recs[0].Operator != "oncall@bastion" || recs[0].PlanHash != p.Hash || recs[0].Targets[0] != "pid 4711" {
		t.Errorf("intent record = %+v", recs[0])
	}
}

func TestCancelNeedsARunningQuery(t *testing.T) {
	r := newRig(t, nil)
	_, err := r.ex.Plan(context.Background(), Request{Action: Cancel, Source: "pg main", Backends: []sources.Backend{r.live(t, 4711)}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "idle in transaction: no running query to cancel") {
		t.Fatalf("cancel on idle in transaction: %v", err)
	}
}

func TestCancelSingleIsLowRiskUnlessProduction(t *testing.T) {
	r := newRig(t, nil)
	p, err := r.ex.Plan(context.Background(), Request{Action: Cancel, Source: "pg main", Backends: []sources.Backend{r.live(t, 4712)}})
	if err != nil || p.Risk != Low || p.Phrase != "y" {
		t.Fatalf("cancel plan = %+v, %v", p, err)
	}
	if res := r.ex.Execute(context.Background(), p, "y"); !res.OK {
		t.Fatalf("cancel = %+v", res)
	}
	prod := newRig(t, func(c *Config) { c.Production = true; c.Environment = "production" })
	p, _ = prod.ex.Plan(context.Background(), Request{Action: Cancel, Source: "pg main", Backends: []sources.Backend{prod.live(t, 4712)}})
	if p.Risk != High || p.Phrase != "4712" {
		t.Fatalf("production cancel = %v %q", p.Risk, p.Phrase)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, r *rig) Result
		want error
	}{
		{"wrong phrase", func(t *testing.T, r *rig) Result {
			return r.ex.Execute(ctx, r.terminatePlan(t, 4711), "4712")
		}, ErrConfirmation},
		{"low risk not confirmed", func(t *testing.T, r *rig) Result {
			p, _ := r.ex.Plan(ctx, Request{Action: Cancel, Source: "pg main", Backends: []sources.Backend{r.live(t, 4712)}})
			return r.ex.Execute(ctx, p, "")
		}, ErrConfirmation},
		{"stale plan", func(t *testing.T, r *rig) Result {
			p := r.terminatePlan(t, 4711)
			r.clock.Advance(31 * time.Second)
			return r.ex.Execute(ctx, p, "4711")
		}, ErrStalePlan},
		{"tampered plan", func(t *testing.T, r *rig) Result {
			p := r.terminatePlan(t, 4711)
			p.Phrase = "x"
			return r.ex.Execute(ctx, p, "x")
		}, ErrTampered},
		{"tampered target", func(t *testing.T, r *rig) Result {
			p := r.terminatePlan(t, 4711)
			other := r.live(t, 10)
			p.Targets[0].Subject = other
			return r.ex.Execute(ctx, p, "4711")
		}, ErrTampered},
		{"pid reused", func(t *testing.T, r *rig) Result {
			p := r.terminatePlan(t, 4711)
			b := r.live(t, 4711)
			b.BackendStart = b.BackendStart.Add(time.Second) // same pid, new backend
			r.pg.Put(b)
			return r.ex.Execute(ctx, p, "4711")
		}, ErrTargetChanged},
		{"target gone", func(t *testing.T, r *rig) Result {
			p := r.terminatePlan(t, 4711)
			r.pg.Remove(4711)
			return r.ex.Execute(ctx, p, "4711")
		}, ErrTargetChanged},
		{"deployment changed", func(t *testing.T, r *rig) Result {
			d := r.deployment(t)
			p, err := r.ex.Plan(ctx, Request{Action: Restart, Source: "kube", Deployment: &d})
			if err != nil {
				t.Fatal(err)
			}
			d.Revision = 43
			r.kube.Put(d)
			return r.ex.Execute(ctx, p, "nudgecampaign-api")
		}, ErrTargetChanged},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			before := r.writes()
			res := tc.run(t, r)
			if !res.Refused || !errors.Is(res.Err, tc.want) {
				t.Fatalf("result = %+v, want refusal %v", res, tc.want)
			}
			if after := r.writes(); after != before {
				t.Fatal("a refused plan changed something")
			}
			recs := r.records(t)
			if len(recs) != 1 || recs[0].Phase != "refused" || recs[0].Outcome != "refused" {
				t.Fatalf("journal = %+v", recs)
			}
		})
	}
}

func TestPolicyRefusalsAtPlanAndExecute(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	// Protected role.
	_, err := r.ex.Plan(ctx, Request{Action: Terminate, Source: "pg main", Backends: []sources.Backend{r.live(t, 10)}})
	if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), `role "postgres" is protected`) {
		t.Fatalf("protected role: %v", err)
	}
	// Own connection and non-client backends.
	self := backend(99, "flightdeck", "active")
	self.Self = true
	wal := backend(98, "replicator", "streaming")
	wal.BackendType = "walsender"
	for _, b := range []sources.Backend{self, wal} {
		if _, err := r.ex.Plan(ctx, Request{Action: Cancel, Source: "pg main", Backends: []sources.Backend{b}}); !errors.Is(err, ErrPolicy) {
			t.Errorf("pid %d: %v", b.PID, err)
		}
	}
	// A row the role cannot see has no backend_start to pin it by.
	hidden := backend(97, "app", "")
	hidden.Hidden, hidden.BackendStart = true, time.Time{}
	if _, err := r.ex.Plan(ctx, Request{Action: Terminate, Source: "pg main", Backends: []sources.Backend{hidden}}); !errors.Is(err, ErrPolicy) ||
		!strings.Contains(err.Error(), "needs pg_monitor") {
		t.Errorf("hidden backend: %v", err)
	}
	// max_targets.
	var many []sources.Backend
	for i := int32(0); i < 7; i++ {
		many = append(many, backend(5000+i, "app", "idle in transaction"))
	}
	if _, err := r.ex.Plan(ctx, Request{Action: Terminate, Source: "pg main", Backends: many}); !errors.Is(err, ErrPolicy) ||
		!strings.Contains(err.Error(), "7 targets exceed max_targets 5") {
		t.Fatalf("max_targets: %v", err)
	}
	// A role that became protected between plan and execute (policy re-checked).
	p := r.terminatePlan(t, 4711)
	r2 := newRig(t, func(c *Config) { c.Policy.ProtectedRoles = []string{"app"} })
	r2.clock.Set(r.clock.Now())
	res := r2.ex.Execute(ctx, p, "4711")
	if !errors.Is(res.Err, ErrPolicy) {
		t.Fatalf("policy not re-checked at execution: %+v", res)
	}
}

func TestBulkTerminatePhraseAndPartialOutcome(t *testing.T) {
	r := newRig(t, nil)
	p := r.terminatePlan(t, 4711, 4712)
	if p.Phrase != "terminate 2" || p.Risk != High || !p.IsBulk() {
		t.Fatalf("bulk plan = %q %v", p.Phrase, p.Risk)
	}
	// One target is reused after the pre-check but before its signal: the
	// atomic backend_start check inside SignalBackend catches it.
	r.pg.OnSignal(func() {
		if b, ok := r.pg.Backend(4712); ok {
			b.BackendStart = b.BackendStart.Add(time.Second)
			r.pg.Put(b)
		}
	})
	res := r.ex.Execute(context.Background(), p, "terminate 2")
	if res.OK || res.Refused || !strings.Contains(res.Err.Error(), "pid 4712 gone or reused") {
		t.Fatalf("result = %+v", res)
	}
	recs := r.records(t)
	if recs[1].Outcome != "partial" || len(recs[1].Details) != 2 {
		t.Fatalf("outcome = %+v", recs[1])
	}
}

func TestReadOnlyExecutorRefusesEverything(t *testing.T) {
	r := newRig(t, func(c *Config) { c.ReadOnly = true })
	if _, err := r.ex.Plan(context.Background(), Request{Action: Terminate, Source: "pg main",
		Backends: []sources.Backend{r.live(t, 4711)}}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("plan: %v", err)
	}
	// Even a plan made elsewhere is refused.
	p := newRig(t, nil).terminatePlan(t, 4711)
	res := r.ex.Execute(context.Background(), p, "4711")
	if !errors.Is(res.Err, ErrReadOnly) || r.writes() != 0 {
		t.Fatalf("execute: %+v", res)
	}
}

func TestRolloutPlans(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	d := r.deployment(t)
	p, err := r.ex.Plan(ctx, Request{Action: Undo, Source: "kube", Deployment: &d})
	if err != nil {
		t.Fatal(err)
	}
	if p.Params.ToRevision != 41 || p.Phrase != "nudgecampaign-api" || len(p.DryRun) == 0 ||
		!strings.Contains(strings.Join(p.Preview, "\n"), "deploy v5.0.0") {
		t.Fatalf("undo plan = %+v", p)
	}
	if res := r.ex.Execute(ctx, p, "nudgecampaign-api"); !res.OK || r.kube.Calls()[0] != "undo production/nudgecampaign-api 41" {
		t.Fatalf("undo = %+v %v", res, r.kube.Calls())
	}
	// Scale beyond ±50% needs override; never to zero in a protected namespace.
	for _, n := range []int32{7, 1} {
		if _, err := r.ex.Plan(ctx, Request{Action: Scale, Source: "kube", Deployment: &d, Params: Params{Replicas: n}}); !errors.Is(err, ErrPolicy) {
			t.Errorf("scale to %d: %v", n, err)
		}
	}
	if _, err := r.ex.Plan(ctx, Request{Action: Scale, Source: "kube", Deployment: &d, Params: Params{Replicas: 0, Override: true}}); !errors.Is(err, ErrPolicy) {
		t.Errorf("scale to zero in protected namespace: %v", err)
	}
	p, err = r.ex.Plan(ctx, Request{Action: Scale, Source: "kube", Deployment: &d, Params: Params{Replicas: 6}})
	if err != nil || p.Risk != High {
		t.Fatalf("scale 4→6: %v", err)
	}
	// Backend errors (a 403) are reported as failures, not retried.
	r.kube.FailWrites(errors.New(`deployments.apps "nudgecampaign-api" is forbidden`))
	res := r.ex.Execute(ctx, p, "nudgecampaign-api")
	if res.OK || res.Refused || !strings.Contains(res.Summary, "forbidden") || len(r.kube.Calls()) != 2 {
		t.Fatalf("403 = %+v calls=%v", res, r.kube.Calls())
	}
}

func TestSilencePlans(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	eq := []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}}
	req := Request{Action: Silence, Source: "am", Params: Params{Matchers: eq, Duration: time.Hour, Comment: "rolling back"}}
	p, err := r.ex.Plan(ctx, req)
	if err != nil || p.Risk != Low || p.Phrase != "y" || !strings.Contains(p.Preview[0], "hit 1 active alert") {
		t.Fatalf("silence plan = %+v %v", p, err)
	}
	res := r.ex.Execute(ctx, p, "y")
	if s, _ := r.am.Silence("sil-1"); !res.OK || s.CreatedBy != "oncall@bastion" {
		t.Fatalf("silence = %+v", res)
	}
	// Longer than an hour is high risk; past silence_max is refused; a comment is required.
	req.Params.Duration = 2 * time.Hour
	if p, _ := r.ex.Plan(ctx, req); p.Risk != High || p.Phrase != "HighErrorRate" {
		t.Errorf("2h silence = %v %q", p.Risk, p.Phrase)
	}
	req.Params.Duration = 5 * time.Hour
	if _, err := r.ex.Plan(ctx, req); !errors.Is(err, ErrPolicy) {
		t.Errorf("5h silence: %v", err)
	}
	req.Params.Duration, req.Params.Comment = time.Hour, ""
	if _, err := r.ex.Plan(ctx, req); !errors.Is(err, ErrInvalid) {
		t.Errorf("no comment: %v", err)
	}
	// Regex matchers that hit nothing, or too much, are refused.
	req.Params.Comment = "x"
	req.Params.Matchers = []sources.Matcher{{Name: "alertname", Value: "Nothing.*", IsRegex: true, IsEqual: true}}
	if _, err := r.ex.Plan(ctx, req); !errors.Is(err, ErrPolicy) {
		t.Errorf("regex hitting none: %v", err)
	}
	r2 := newRig(t, func(c *Config) { c.Policy.SilenceMaxAlerts = 1 })
	req.Params.Matchers = []sources.Matcher{{Name: "alertname", Value: ".+", IsRegex: true, IsEqual: true}}
	if _, err := r2.ex.Plan(ctx, req); !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "hit 2 alerts") {
		t.Errorf("regex hitting too many: %v", err)
	}
	// Expire.
	p, err = r.ex.Plan(ctx, Request{Action: Expire, Source: "am", SilenceID: "sil-1"})
	if err != nil || p.Risk != Low {
		t.Fatal(err)
	}
	if res := r.ex.Execute(ctx, p, "y"); !res.OK {
		t.Fatalf("expire = %+v", res)
	}
	if s, _ := r.am.Silence("sil-1"); s.State != "expired" {
		t.Fatalf("expire = %+v", res)
	}
	if _, err := r.ex.Plan(ctx, Request{Action: Expire, Source: "am", SilenceID: "sil-1"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("expire twice: %v", err)
	}
}

func TestUnknownSourceUnsupported(t *testing.T) {
	r := newRig(t, nil)
	_, err := r.ex.Plan(context.Background(), Request{Action: Terminate, Source: "pg replica", Backends: []sources.Backend{r.live(t, 4711)}})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
}

func TestAuditFailureRefusesAction(t *testing.T) {
	r := newRig(t, nil)
	p := r.terminatePlan(t, 4711)
	r.j.Close()
	res := r.ex.Execute(context.Background(), p, "4711")
	if !errors.Is(res.Err, ErrAudit) || r.writes() != 0 {
		t.Fatalf("no audit, no action: %+v", res)
	}
}

// TestIntentSurvivesCrash kills a real process between the intent and the
// outcome records: the intent must be on disk.
func TestIntentSurvivesCrash(t *testing.T) {
	if path := os.Getenv("FD_CRASH_JOURNAL"); path != "" {
		j, err := OpenJournal(path)
		if err != nil {
			os.Exit(3)
		}
		b := backend(4711, "app", "idle in transaction")
		pg := opstest.NewFakeBackends(b)
		pg.OnSignal(func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) })
		ex := NewExecutor(Config{Journal: j, Operator: "crash@test", Caps: Capabilities{"pg main": pg}})
		p, err := ex.Plan(context.Background(), Request{Action: Terminate, Source: "pg main", Backends: []sources.Backend{b}})
		if err != nil {
			os.Exit(4)
		}
		ex.Execute(context.Background(), p, "4711")
		os.Exit(5) // not reached: SIGKILL during the action
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntentSurvivesCrash$")
	cmd.Env = append(os.Environ(), "FD_CRASH_JOURNAL="+path)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	recs, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Phase != "intent" || recs[0].Targets[0] != "pid 4711" || recs[0].Operator != "crash@test" {
		t.Fatalf("journal after crash = %+v", recs)
	}
}

func TestCheckTargetIgnoresMissingParams(t *testing.T) {
	p := DefaultPolicy()
	d := sources.Deployment{Namespace: "production", Name: "api", Replicas: 3}
	if err := p.CheckTarget(Request{Action: Scale, Deployment: &d}); err != nil {
		t.Errorf("scale target: %v", err)
	}
	if err := p.CheckTarget(Request{Action: Silence, Alert: &sources.Alert{Name: "X"}}); err != nil {
		t.Errorf("silence target: %v", err)
	}
	if err := p.CheckTarget(Request{Action: Terminate, Backends: []sources.Backend{{PID: 1, User: "postgres"}}}); !errors.Is(err, ErrPolicy) {
		t.Errorf("protected role still refused: %v", err)
	}
	if err := p.CheckTarget(Request{Action: Scale}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no deployment: %v", err)
	}
}
