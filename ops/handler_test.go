package ops_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// A handler defined only here, registered from outside the package, acting
// through a capability the test declares: the proof that an area (say AWS
// RDS reboots) is one handler and its registration.

const reboot ops.Kind = "test-reboot"

// instance is what the test area's pane would select.
type instance struct {
	ID     string
	Status string
}

// rebooter is the test area's capability interface.
type rebooter interface {
	Status(ctx context.Context, id string) (string, error)
	Reboot(ctx context.Context, id string) error
}

type fakeRebooter struct {
	mu       sync.Mutex
	status   map[string]string
	rebooted []string
}

func (f *fakeRebooter) Status(_ context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.status[id]
	if !ok {
		return "", errors.New("no such instance")
	}
	return s, nil
}

func (f *fakeRebooter) Reboot(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rebooted = append(f.rebooted, id)
	f.status[id] = "rebooting"
	return nil
}

type rebootHandler struct{}

func (rebootHandler) Area() sources.Kind { return "test-rds" }
func (rebootHandler) Kinds() []ops.KindSpec {
	return []ops.KindSpec{{Kind: reboot, Title: "Reboot instance"}}
}

func (rebootHandler) Check(_ ops.Policy, req ops.Request, _ ops.CheckScope) error {
	in, ok := req.Subject.(instance)
	if !ok {
		return &ops.Refusal{Kind: ops.ErrInvalid, Reason: "no instance selected"}
	}
	if in.Status != "available" {
		return &ops.Refusal{Kind: ops.ErrInvalid, Reason: in.ID + " is " + in.Status}
	}
	return nil
}

func (rebootHandler) Plan(_ context.Context, env ops.Env, req ops.Request, p *ops.Plan) error {
	if _, err := ops.Capability[rebooter](env, "reboot instances"); err != nil {
		return err
	}
	in := req.Subject.(instance)
	p.Targets = []ops.Target{{ID: in.ID, Identity: "status=" + in.Status, Seen: in.ID + " status=" + in.Status, Subject: in}}
	p.Phrase = in.ID
	p.Preview = []string{"reboots " + in.ID}
	return nil
}

func (rebootHandler) Recheck(ctx context.Context, env ops.Env, p ops.Plan) error {
	r, err := ops.Capability[rebooter](env, "reboot instances")
	if err != nil {
		return err
	}
	in := p.Targets[0].Subject.(instance)
	st, err := r.Status(ctx, in.ID)
	if err != nil {
		return &ops.Refusal{Kind: ops.ErrRecheck, Reason: err.Error()}
	}
	if "status="+st != p.Targets[0].Identity {
		return &ops.Refusal{Kind: ops.ErrTargetChanged, Reason: in.ID + " is now " + st}
	}
	return nil
}

func (rebootHandler) Act(ctx context.Context, env ops.Env, p ops.Plan) ([]string, error) {
	r, err := ops.Capability[rebooter](env, "reboot instances")
	if err != nil {
		return nil, err
	}
	id := p.Targets[0].Subject.(instance).ID
	if err := r.Reboot(ctx, id); err != nil {
		return nil, err
	}
	return []string{id + " rebooting"}, nil
}

var registerReboot sync.Once

func TestRegisteredHandlerRunsThroughTheExecutor(t *testing.T) {
	registerReboot.Do(func() { ops.Register(rebootHandler{}) })

	if reboot.Title() != "Reboot instance" || reboot.Area() != "test-rds" {
		t.Fatalf("registry: title %q area %q", reboot.Title(), reboot.Area())
	}
	if !slices.Contains(ops.AllKinds, reboot) || ops.AllKinds[0] != ops.Cancel {
		t.Fatalf("AllKinds = %v", ops.AllKinds)
	}
	// Policy.Check reaches the handler without an Executor (the read-only UI).
	if err := ops.DefaultPolicy().Check(ops.Request{Action: reboot, Subject: instance{"db-2", "modifying"}}); !errors.Is(err, ops.ErrInvalid) {
		t.Fatalf("check: %v", err)
	}

	fake := &fakeRebooter{status: map[string]string{"db-1": "available"}}
	j, path := opstest.Journal(t)
	ex := ops.NewExecutor(ops.Config{Environment: "staging", Journal: j, Operator: "alice@bastion",
		Caps: ops.Capabilities{"rds": fake, "pg main": opstest.NewFakeBackends()}})
	ctx := context.Background()

	// A source without the capability is refused by name.
	if _, err := ex.Plan(ctx, ops.Request{Action: reboot, Source: "pg main", Subject: instance{"db-1", "available"}}); !errors.Is(err, ops.ErrUnsupported) ||
		!strings.Contains(err.Error(), `source "pg main" cannot reboot instances`) {
		t.Fatalf("wrong source: %v", err)
	}
	p, err := ex.Plan(ctx, ops.Request{Action: reboot, Source: "rds", Subject: instance{"db-1", "available"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Risk != ops.High || p.Phrase != "db-1" || p.Title != "Reboot instance db-1" {
		t.Fatalf("plan = %+v", p)
	}
	// The shared walls hold for a handler they never saw: the phrase…
	if res := ex.Execute(ctx, p, "db-2"); !errors.Is(res.Err, ops.ErrConfirmation) {
		t.Fatalf("wrong phrase: %+v", res)
	}
	// …and the hash over the subject.
	swapped := p
	swapped.Targets = []ops.Target{p.Targets[0]}
	swapped.Targets[0].Subject = instance{"db-9", "available"}
	if res := ex.Execute(ctx, swapped, "db-1"); !errors.Is(res.Err, ops.ErrTampered) {
		t.Fatalf("swapped subject: %+v", res)
	}
	res := ex.Execute(ctx, p, "db-1")
	if !res.OK || len(fake.rebooted) != 1 || fake.rebooted[0] != "db-1" {
		t.Fatalf("execute = %+v, rebooted %v", res, fake.rebooted)
	}
	recs := opstest.Records(t, path)
	last := recs[len(recs)-2:]
	if last[0].Phase != "intent" || last[0].Action != reboot || last[0].Operator != "alice@bastion" ||
		len(last[0].Details) != 1 || last[0].Details[0] != "db-1 status=available" {
		t.Fatalf("intent = %+v", last[0])
	}
	if last[1].Phase != "outcome" || last[1].Outcome != "ok" || last[1].Details[0] != "db-1 rebooting" {
		t.Fatalf("outcome = %+v", last[1])
	}
	// Now the target changed: the handler's re-check refuses a second plan.
	p2, err := ex.Plan(ctx, ops.Request{Action: reboot, Source: "rds", Subject: instance{"db-1", "available"}})
	if err != nil {
		t.Fatal(err)
	}
	if res := ex.Execute(ctx, p2, "db-1"); !errors.Is(res.Err, ops.ErrTargetChanged) || len(fake.rebooted) != 1 {
		t.Fatalf("changed target: %+v", res)
	}
}

func TestRegisterRefusesDuplicatesAndBlanks(t *testing.T) {
	for name, h := range map[string]ops.Handler{
		"duplicate kind": dupHandler{kind: ops.Terminate, area: sources.KindPostgres},
		"empty kind":     dupHandler{kind: "", area: "x"},
		"no area":        dupHandler{kind: "test-unique", area: ""},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			ops.Register(h)
		})
	}
	if ops.Terminate.Title() != "Terminate backend" {
		t.Fatal("a refused registration changed the registry")
	}
}

type dupHandler struct {
	rebootHandler
	kind ops.Kind
	area sources.Kind
}

func (d dupHandler) Area() sources.Kind    { return d.area }
func (d dupHandler) Kinds() []ops.KindSpec { return []ops.KindSpec{{Kind: d.kind, Title: "dup"}} }

func TestBuiltinKindsAnsweredFromTheRegistry(t *testing.T) {
	want := map[ops.Kind]sources.Kind{
		ops.Cancel: sources.KindPostgres, ops.Terminate: sources.KindPostgres,
		ops.Undo: sources.KindRollouts, ops.Restart: sources.KindRollouts, ops.Scale: sources.KindRollouts,
		ops.Pause: sources.KindRollouts, ops.Resume: sources.KindRollouts,
		ops.Silence: sources.KindAlerts, ops.Expire: sources.KindAlerts,
	}
	builtin := ops.AllKinds[:len(want)]
	if fmt.Sprint(builtin) != "[cancel terminate undo restart scale pause resume silence expire]" {
		t.Fatalf("menu order = %v", builtin)
	}
	for k, area := range want {
		if k.Area() != area || k.Title() == string(k) {
			t.Errorf("%s: area %q title %q", k, k.Area(), k.Title())
		}
	}
	if ops.Kind("nuke").Area() != "" || ops.Kind("nuke").Title() != "nuke" {
		t.Error("an unknown kind has an area or title")
	}
	if err := ops.DefaultPolicy().Check(ops.Request{Action: "nuke"}); !errors.Is(err, ops.ErrInvalid) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestPlanIDsUniqueAcrossExecutors plans concurrently on several Executors
// sharing one stopped clock (as sessions of one world do): every ID differs.
func TestPlanIDsUniqueAcrossExecutors(t *testing.T) {
	clock := opstest.NewClock(t0)
	b := backend(4711, "app", "active")
	caps := ops.Capabilities{"pg main": opstest.NewFakeBackends(b)}
	j, _ := opstest.Journal(t)
	const executors, each = 4, 50
	var exs []*ops.Executor
	for i := range executors {
		exs = append(exs, ops.NewExecutor(ops.Config{Journal: j, Caps: caps, Now: clock.Now, Operator: fmt.Sprintf("op%d", i)}))
	}
	cancel := func(int) ops.Request {
		return ops.Request{Action: ops.Cancel, Source: "pg main", Backends: []sources.Backend{b}}
	}
	if n := opstest.UniquePlanIDs(t, exs, each, cancel); n != executors*each {
		t.Fatalf("%d distinct ids, want %d", n, executors*each)
	}
	p, err := exs[0].Plan(context.Background(), cancel(0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "20261123T030000-") {
		t.Fatalf("id %q does not start with the plan time", p.ID)
	}
}

// TestRecheckFailureIsNotTargetChanged: a database that hangs during the
// re-check is said to be unreadable, not to have changed (issue 11 item 7).
func TestRecheckFailureIsNotTargetChanged(t *testing.T) {
	r := newRig(t, nil)
	p := r.terminatePlan(t, 4711)
	r.pg.FailLookups(fmt.Errorf("lookup backends: timeout: %w", context.DeadlineExceeded))
	res := r.ex.Execute(context.Background(), p, "4711")
	if !res.Refused || !errors.Is(res.Err, ops.ErrRecheck) || errors.Is(res.Err, ops.ErrTargetChanged) {
		t.Fatalf("result = %+v", res)
	}
	msg := res.Err.Error()
	if !strings.HasPrefix(msg, "cannot re-check targets: ") || !strings.Contains(msg, "timeout") ||
		strings.Contains(msg, "changed") || r.writes() != 0 {
		t.Fatalf("message %q", msg)
	}
	// The same for a Kubernetes API that cannot be read.
	d := r.deployment(t)
	p, err := r.ex.Plan(context.Background(), ops.Request{Action: ops.Restart, Source: "kube", Deployment: &d})
	if err != nil {
		t.Fatal(err)
	}
	r.kube.FailReads(errors.New("the server was unable to return a response in the time allotted"))
	res = r.ex.Execute(context.Background(), p, "nudgecampaign-api")
	if !errors.Is(res.Err, ops.ErrRecheck) || !strings.Contains(res.Err.Error(), "unable to return a response") || r.writes() != 0 {
		t.Fatalf("kube result = %+v", res)
	}
}

// TestIntentRecordsWhatThePlanSaw: the journal alone tells a postmortem what
// was killed and what was rolled back (issue 11 item 13).
func TestIntentRecordsWhatThePlanSaw(t *testing.T) {
	r := newRig(t, nil)
	long := backend(4712, "app", "active")
	long.Query = "SELECT *\n  FROM campaigns   WHERE " + strings.Repeat("id = 1 OR ", 100) + "false"
	long.QueryStart = t0.Add(-90 * time.Second)
	long.Database, long.ClientAddr = "nudge", "10.0.4.17"
	r.pg.Put(long)
	p := r.terminatePlan(t, 4711, 4712)
	if res := r.ex.Execute(context.Background(), p, "terminate 2"); !res.OK {
		t.Fatalf("terminate = %+v", res)
	}
	d := r.deployment(t)
	d.Images = []string{"registry/nudgecampaign-api:v5.1.0"}
	d.History[1].Images = []string{"registry/nudgecampaign-api:v5.0.0"}
	r.kube.Put(d)
	up, err := r.ex.Plan(context.Background(), ops.Request{Action: ops.Undo, Source: "kube", Deployment: &d})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.ex.Execute(context.Background(), up, "nudgecampaign-api"); !res.OK {
		t.Fatalf("undo = %+v", res)
	}
	var intents []ops.Record
	for _, rec := range r.records(t) {
		if rec.Phase == "intent" {
			intents = append(intents, rec)
		}
	}
	if len(intents) != 2 || len(intents[0].Details) != 2 || len(intents[1].Details) != 1 {
		t.Fatalf("intents = %+v", intents)
	}
	first, second := intents[0].Details[0], intents[0].Details[1]
	for _, want := range []string{"pid 4711 ", "user=app", "application=nudgecampaign-api", `state="idle in transaction"`,
		"xact_start=2026-11-23T02:48:00Z", `query="UPDATE campaigns SET status='sending' WHERE id=4711"`} {
		if !strings.Contains(first, want) {
			t.Errorf("first target lacks %q: %s", want, first)
		}
	}
	for _, want := range []string{"pid 4712 ", "database=nudge", "client=10.0.4.17", "state=active",
		"query_start=2026-11-23T02:58:30Z", `query="SELECT * FROM campaigns WHERE id = 1 OR`} {
		if !strings.Contains(second, want) {
			t.Errorf("second target lacks %q: %s", want, second)
		}
	}
	if len(second) > 600 || !strings.Contains(second, `…"`) {
		t.Errorf("query excerpt not bounded (%d bytes): %s", len(second), second)
	}
	undo := intents[1].Details[0]
	for _, want := range []string{"production/nudgecampaign-api ", "uid=u1", "revision=42", "images=registry/nudgecampaign-api:v5.1.0",
		"to_revision=41", "to_images=registry/nudgecampaign-api:v5.0.0", `to_change_cause="deploy v5.0.0"`} {
		if !strings.Contains(undo, want) {
			t.Errorf("undo target lacks %q: %s", want, undo)
		}
	}
}

func TestSilenceIntentNamesMatchersAndHits(t *testing.T) {
	r := newRig(t, nil)
	ms := []sources.Matcher{{Name: "alertname", Value: ".+", IsRegex: true, IsEqual: true}}
	p, err := r.ex.Plan(context.Background(), ops.Request{Action: ops.Silence, Source: "am",
		Params: ops.Params{Matchers: ms, Duration: time.Hour, Comment: "maintenance"}})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.ex.Execute(context.Background(), p, "y"); !res.OK {
		t.Fatalf("silence = %+v", res)
	}
	intent := r.records(t)[0]
	if len(intent.Details) != 1 || !strings.Contains(intent.Details[0], `{alertname=~".+"} hits=2 alerts="HighErrorRate; DatabaseConnectionPoolExhausted"`) {
		t.Fatalf("intent = %+v", intent)
	}
}

func TestPolicyWithDefaults(t *testing.T) {
	got := ops.Policy{MaxTargets: 2, ProtectedApps: []string{"billing"}}.WithDefaults()
	def := ops.DefaultPolicy()
	if got.MaxTargets != 2 || got.ProtectedApps[0] != "billing" || got.SilenceMax != def.SilenceMax ||
		got.SilenceMaxAlerts != def.SilenceMaxAlerts || got.ScaleMaxChange != def.ScaleMaxChange ||
		got.MaxPlanAge != def.MaxPlanAge || got.LowRiskSilence != def.LowRiskSilence || !slices.Equal(got.ProtectedRoles, def.ProtectedRoles) {
		t.Fatalf("WithDefaults = %+v", got)
	}
	// An explicitly empty list is a choice, not a zero.
	if none := (ops.Policy{ProtectedRoles: []string{}}).WithDefaults(); len(none.ProtectedRoles) != 0 {
		t.Fatalf("empty protected_roles became %v", none.ProtectedRoles)
	}
	// NewExecutor enforces the defaulted policy.
	if ex := ops.NewExecutor(ops.Config{}); ex.Policy().MaxPlanAge != def.MaxPlanAge || ex.Policy().MaxTargets != def.MaxTargets {
		t.Fatalf("executor policy = %+v", ex.Policy())
	}
}

func TestScaleBoundsIsTheRuleScaleEnforces(t *testing.T) {
	cases := []struct {
		change       float64
		current      int32
		wantLo, want int32
	}{
		{0.5, 4, 2, 6},
		{0.5, 3, 2, 4},   // 1.5 rounds in to 2, 4.5 to 4
		{0.3, 10, 7, 13}, // 10*0.7 is 7.000000000000001 in floating point
		{0.3, 3, 3, 3},
		{0.5, 1, 1, 1},
		{2, 3, 0, 9},
		{0.5, 0, 0, 1<<31 - 1}, // from zero there is no relative change
		{0, 4, 0, 1<<31 - 1},   // no limit
	}
	for _, c := range cases {
		pol := ops.Policy{ScaleMaxChange: c.change}
		lo, hi := pol.ScaleBounds(c.current)
		if lo != c.wantLo || hi != c.want {
			t.Errorf("ScaleBounds(%d) at ±%v = %d–%d, want %d–%d", c.current, c.change, lo, hi, c.wantLo, c.want)
		}
		if c.current == 0 || c.change == 0 {
			continue
		}
		// Policy.Check allows exactly the bounds and refuses one past them.
		d := sources.Deployment{Namespace: "staging", Name: "api", Replicas: c.current}
		check := func(n int32) error {
			return pol.Check(ops.Request{Action: ops.Scale, Deployment: &d, Params: ops.Params{Replicas: n}})
		}
		for _, n := range []int32{lo, hi} {
			if err := check(n); err != nil && n != c.current {
				t.Errorf("±%v %d→%d refused: %v", c.change, c.current, n, err)
			}
		}
		for _, n := range []int32{lo - 1, hi + 1} {
			if err := check(n); n >= 0 && !errors.Is(err, ops.ErrPolicy) {
				t.Errorf("±%v %d→%d: %v", c.change, c.current, n, err)
			}
		}
	}
}
