package ui

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/ui/kit"
)

// step runs one Cmd and feeds its message back, returning the next Cmd.
func step(t *testing.T, m Model, cmd tea.Cmd) (Model, tea.Cmd, tea.Msg) {
	t.Helper()
	if cmd == nil {
		t.Fatal("expected a Cmd")
	}
	msg := cmd()
	mm, next := m.Update(msg)
	return mm.(Model), next, msg
}

// refreshes records the sources the UI asked the hub to poll.
type refreshes struct {
	mu  sync.Mutex
	got []string
}

func (r *refreshes) refresh(src string) { r.mu.Lock(); r.got = append(r.got, src); r.mu.Unlock() }
func (r *refreshes) list() []string     { r.mu.Lock(); defer r.mu.Unlock(); return slices.Clone(r.got) }

// The DR api to 4 through the AWS pane: S opens the form, the service name
// is typed to confirm, and after the result the status line says what is
// awaited until the source's waiter answers, the source refreshed
// meanwhile.
func TestAWSDesiredCountAndItsEffect(t *testing.T) {
	e := newEnv(t, false)
	var rf refreshes
	e.opts.Data.Refresh = rf.refresh
	m := e.model(200, 60)
	m, _ = press(m, "5", "G") // the DR api is the last row
	m, _ = press(m, "S")
	f := formOf(m)
	if f == nil || f.Fields()[0].Value != "0" {
		t.Fatalf("no desired-count form prefilled with 0: %v %q", f, m.status)
	}
	e.clk.Add(kit.KeyGuard)
	m, _ = press(m, "backspace")
	m = typeText(m, "4")
	m, cmd := press(m, "enter")
	m = runCmd(t, m, cmd) // RequestMsg → plan → confirm dialog
	c := confirmOf(m)
	if c == nil || c.Plan().Action != ops.SetDesiredCount || c.Plan().Phrase != "api" || c.Plan().Params.Desired != 4 {
		t.Fatalf("no desired-count plan: %+v %q", c, m.status)
	}
	e.clk.Add(kit.KeyGuard)
	m = typeText(m, "api")
	m, cmd = press(m, "enter")
	m, cmd, _ = step(t, m, cmd) // ConfirmedMsg → execute Cmd
	m, cmd, msg := step(t, m, cmd)
	if r, ok := msg.(ResultMsg); !ok || !r.Result.OK {
		t.Fatalf("result %+v", msg)
	}
	if !strings.HasPrefix(m.status, "waiting for services stable: api in nudgecampaign-dr… · ") || m.statusBad {
		t.Errorf("status while waiting: %q", m.status)
	}
	if !strings.Contains(plain(m), "waiting for services stable: api in nudgecampaign-dr…") {
		t.Error("the status line does not say what is awaited")
	}
	m, cmd, msg = step(t, m, cmd)
	if _, ok := msg.(EffectWaitDoneMsg); !ok || cmd != nil {
		t.Fatalf("follow ended with %T", msg)
	}
	if !strings.Contains(m.status, "0 → 4: services stable: api in nudgecampaign-dr after ") || m.statusBad {
		t.Errorf("status after the wait: %q", m.status)
	}
	if got := rf.list(); len(got) < 2 || got[0] != "aws" {
		t.Errorf("refreshes %v: the source is polled when the wait starts and ends", got)
	}
	if got, _ := e.aws.Service("us-west-2/nudgecampaign-dr/api"); got.Desired != 4 {
		t.Errorf("desired %d", got.Desired)
	}
	if w := e.aws.Waits(); len(w) != 1 || !strings.HasPrefix(w[0], "stable us-west-2/nudgecampaign-dr [api] ") {
		t.Errorf("waits %q", w)
	}
}

// A wait that does not see the effect in time is said as such, as bad
// news: the action was done, the effect not (yet) seen.
func TestAWSEffectNotSeenInTime(t *testing.T) {
	e := newEnv(t, false)
	e.aws.FailWaits(errors.New("wait for services stable in us-east-1: not stable within 10m0s: api: 3 of 4 running, 2 deployment(s)"))
	m := e.model(200, 60)
	m, _ = press(m, "5", "j", "j", "j", "j") // the production api
	m, cmd := press(m, "R")
	m = runCmd(t, m, cmd)
	c := confirmOf(m)
	if c == nil || c.Plan().Action != ops.ForceDeployment || !strings.Contains(c.Plan().Title, "Force a new deployment of api (nudgecampaign-production, us-east-1)") {
		t.Fatalf("no forced-deployment plan: %+v %q", c, m.status)
	}
	e.clk.Add(kit.KeyGuard)
	m = typeText(m, "api")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	if !m.statusBad || !strings.Contains(m.status, ": done, but wait for services stable in us-east-1: not stable within 10m0s: api: 3 of 4 running") {
		t.Errorf("status %q", m.status)
	}
	if got, _ := e.aws.Service("us-east-1/nudgecampaign-production/api"); len(got.Deployments) != 2 {
		t.Errorf("deployments %d", len(got.Deployments))
	}
}

// u on a service rolls its task definition back (previewed); the RDS
// actions come from the menu, confirmed by typing the identifier, and each
// lands in the journal.
func TestAWSRollbackAndPromoteFromTheCockpit(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(200, 60)
	m, _ = press(m, "5", "j", "j", "j", "j")
	m, cmd := press(m, "u")
	m = runCmd(t, m, cmd)
	c := confirmOf(m)
	if c == nil || c.Plan().Params.TaskDefinition != "nudgecampaign-api:56" {
		t.Fatalf("no rollback plan: %+v %q", c, m.status)
	}
	if !strings.Contains(plain(m), "task definition nudgecampaign-api:57 → nudgecampaign-api:56") {
		t.Errorf("the confirm dialog lacks the preview:\n%s", plain(m))
	}
	e.clk.Add(kit.KeyGuard)
	m = typeText(m, "api")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)

	m, _ = press(m, "k") // the DR replica
	m, _ = press(m, "a")
	d := menuOf(m)
	if d == nil || len(d.entries) != 4 || d.entries[2].Kind != ops.PromoteReplica || d.entries[2].reason != "" ||
		!strings.Contains(d.entries[1].reason, "nudgecampaign-dr-db is not Multi-AZ") {
		t.Fatalf("menu %+v", d)
	}
	e.clk.Add(kit.KeyGuard)
	m, _ = press(m, "j", "j")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	c = confirmOf(m)
	if c == nil || c.Plan().Action != ops.PromoteReplica || c.Plan().Risk != ops.High || c.Plan().Phrase != "nudgecampaign-dr-db" {
		t.Fatalf("no promote plan: %+v %q", c, m.status)
	}
	e.clk.Add(kit.KeyGuard)
	m = typeText(m, "nudgecampaign-dr-db")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	if !strings.Contains(m.status, "Promote read replica nudgecampaign-dr-db (us-west-2): nudgecampaign-dr-db available after") {
		t.Errorf("status %q", m.status)
	}
	want := []string{"rollback us-east-1/nudgecampaign-production/api nudgecampaign-api:56", "promote us-west-2/nudgecampaign-dr-db"}
	if got := e.aws.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %q", got)
	}
	var got []string
	recs, err := ops.ReadJournal(e.journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		got = append(got, string(r.Action)+":"+r.Phase+":"+r.Outcome)
	}
	if strings.Join(got, " ") != "rollback_task_definition:intent: rollback_task_definition:outcome:ok promote_read_replica:intent: promote_read_replica:outcome:ok" {
		t.Errorf("journal %v", got)
	}
}

// A read-only session refuses every AWS action: the service keys say so
// and start nothing, and the menu shows every entry disabled with the
// reason.
func TestAWSReadOnlyRefusesEverything(t *testing.T) {
	e := newEnv(t, true)
	m := e.model(80, 24)
	m, _ = press(m, "5", "j", "j", "j", "j")
	for _, k := range []string{"S", "R", "u"} {
		m2, cmd := press(m, k)
		if cmd != nil || m2.status != kit.ReadOnlyRefusal || formOf(m2) != nil || confirmOf(m2) != nil {
			t.Errorf("%s: cmd %v status %q", k, cmd != nil, m2.status)
		}
	}
	for _, rowKeys := range [][]string{{}, {"k"}} {
		m2, _ := press(m, rowKeys...)
		m2, _ = press(m2, "a")
		d := menuOf(m2)
		if d == nil || len(d.entries) == 0 {
			t.Fatal("menu did not open")
		}
		for _, en := range d.entries {
			if !strings.HasPrefix(en.reason, "read-only mode") {
				t.Errorf("%s enabled in read-only: %q", en.Label, en.reason)
			}
		}
	}
	m, cmd := m.request(ops.Request{Action: ops.PromoteReplica, Source: "aws"}, nil)
	if cmd != nil || m.status != kit.ReadOnlyRefusal {
		t.Errorf("a request from outside (a runbook step): %q", m.status)
	}
}
