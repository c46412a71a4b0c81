package world

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flightdeck/config"
	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// demoWorld builds the built-in demo incident with its journal in a temp
// dir, living as long as the test.
func demoWorld(t *testing.T, readOnly bool, mut func(*config.Config)) (*World, string) {
	t.Helper()
	return demoWorldIn(t.Context(), t, readOnly, mut)
}

// demoWorldIn is demoWorld living until ctx ends.
func demoWorldIn(ctx context.Context, t *testing.T, readOnly bool, mut func(*config.Config)) (*World, string) {
	t.Helper()
	cfg := config.Default()
	cfg.Environment = "demo"
	cfg.Audit.Path = filepath.Join(t.TempDir(), "audit.jsonl")
	if mut != nil {
		mut(cfg)
	}
	w, err := Build(ctx, cfg, Options{Demo: true, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w, filepath.Join(filepath.Dir(cfg.Audit.Path), "audit-demo.jsonl")
}

// deployments reads the demo's deployments through the world's own
// capability, as a pane would have seen them.
func deployments(t *testing.T, w *World) (string, []sources.Deployment) {
	t.Helper()
	for name, c := range w.caps {
		src, ok := c.(sources.Source)
		if !ok || src.Kind() != sources.KindRollouts {
			continue
		}
		data, err := src.Fetch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return name, data.(*sources.RolloutSet).Deployments
	}
	t.Fatal("no rollouts source in the demo world")
	return "", nil
}

// TestTwoSessionsOnOneWorld: an observer and two operators share one world;
// each operator acts under its own identity through its own Executor, the
// observer has nothing to act with, and plan IDs stay unique while both
// operators plan at once.
func TestTwoSessionsOnOneWorld(t *testing.T) {
	w, journal := demoWorld(t, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	observer, err := w.NewSession(SessionInfo{Context: ctx, User: "bob", Fingerprint: "SHA256:bobkey", Addr: "10.0.0.7:40022", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if observer.Actions.Executor != nil || !observer.Identity.ReadOnly || observer.Identity.Actor != "bob (SHA256:bobkey) from 10.0.0.7:40022" {
		t.Fatalf("observer session: executor %v read-only %v actor %q", observer.Actions.Executor, observer.Identity.ReadOnly, observer.Identity.Actor)
	}
	if o := observer.Options(); o.Actions.Executor != nil || !o.Identity.ReadOnly || o.Identity.Operator != observer.Identity.Actor {
		t.Fatalf("observer options: executor %v read-only %v operator %q", o.Actions.Executor, o.Identity.ReadOnly, o.Identity.Operator)
	}
	alice, err := w.NewSession(SessionInfo{Context: ctx, User: "alice", Fingerprint: "SHA256:alicekey", Addr: "10.0.0.5:53122"})
	if err != nil {
		t.Fatal(err)
	}
	local, err := w.NewSession(w.LocalSession(ctx, []string{"TERM=xterm-256color"}))
	if err != nil {
		t.Fatal(err)
	}
	aliceEx, localEx := alice.Actions.Executor, local.Actions.Executor
	if aliceEx == nil || localEx == nil || aliceEx == localEx {
		t.Fatal("each operator session needs an Executor of its own")
	}
	if aliceEx.Operator() != alice.Identity.Actor || localEx.Operator() != ops.LocalOperator() {
		t.Fatalf("executor operators %q %q", aliceEx.Operator(), localEx.Operator())
	}

	src, deps := deployments(t, w)
	if len(deps) < 2 {
		t.Fatalf("demo has %d deployments", len(deps))
	}
	// Both operators plan at once: every plan ID differs.
	restart := func(i int) ops.Request {
		d := deps[i%len(deps)]
		return ops.Request{Action: ops.Restart, Source: src, Deployment: &d}
	}
	if n := opstest.UniquePlanIDs(t, []*ops.Executor{aliceEx, localEx}, 40, restart); n != 80 {
		t.Fatalf("%d distinct plan ids, want 80", n)
	}

	// Each operator acts; the journal says who did what.
	act := func(ex *ops.Executor, d sources.Deployment) {
		t.Helper()
		p, err := ex.Plan(ctx, ops.Request{Action: ops.Restart, Source: src, Deployment: &d})
		if err != nil {
			t.Fatal(err)
		}
		if res := ex.Execute(ctx, p, p.Phrase); !res.OK {
			t.Fatalf("restart %s: %+v", d.Key(), res)
		}
	}
	act(aliceEx, deps[0])
	act(localEx, deps[1])
	recs, err := ops.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	byOperator := map[string][]string{}
	for _, r := range recs {
		byOperator[r.Operator] = append(byOperator[r.Operator], r.Phase+" "+strings.Join(r.Targets, ","))
	}
	want := map[string][]string{
		alice.Identity.Actor: {"intent " + deps[0].Key(), "outcome " + deps[0].Key()},
		ops.LocalOperator():  {"intent " + deps[1].Key(), "outcome " + deps[1].Key()},
	}
	if fmt.Sprint(byOperator) != fmt.Sprint(want) {
		t.Fatalf("journal by operator = %v\nwant %v", byOperator, want)
	}
}

// TestReadOnlyWorldGivesNoExecutor: --read-only holds for every session,
// whatever the session asked for, and opens no journal.
func TestReadOnlyWorldGivesNoExecutor(t *testing.T) {
	w, _ := demoWorld(t, true, nil)
	s, err := w.NewSession(SessionInfo{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Actions.Executor != nil || !s.Identity.ReadOnly || w.journal != nil || s.Actions.RunJournal != nil {
		t.Fatalf("read-only world: executor %v read-only %v journal %v run journal %v", s.Actions.Executor, s.Identity.ReadOnly, w.journal, s.Actions.RunJournal)
	}
}

func TestLocalSessionIdentity(t *testing.T) {
	w, _ := demoWorld(t, false, nil)
	me := ops.LocalOperator()
	cases := []struct {
		environ []string
		want    string
	}{
		{nil, me},
		{[]string{"SSH_CLIENT=10.1.2.3 51000 22"}, me + " from 10.1.2.3"},
		{[]string{"SSH_CLIENT="}, me},
	}
	for _, c := range cases {
		if got := w.LocalSession(context.Background(), c.environ).identity(); got != c.want {
			t.Errorf("environ %q: identity %q, want %q", c.environ, got, c.want)
		}
	}
	// The process's own SSH_CLIENT is not the session's.
	t.Setenv("SSH_CLIENT", "192.0.2.1 1 22")
	if got := w.LocalSession(context.Background(), nil).identity(); got != me {
		t.Errorf("identity read the process environment: %q", got)
	}
	// config's operator names the local session.
	named, _ := demoWorld(t, false, func(c *config.Config) { c.Operator = "oncall-db" })
	s, err := named.NewSession(named.LocalSession(context.Background(), []string{"SSH_CLIENT=10.1.2.3 51000 22"}))
	if err != nil || s.Identity.Actor != "oncall-db" || s.Actions.Executor.Operator() != "oncall-db" {
		t.Fatalf("configured operator: %+v %v", s.Identity, err)
	}
}

// TestSessionColoursFromItsOwnEnvironment: NO_COLOR and the terminal type
// come from the session, not from the process serving it.
func TestSessionColoursFromItsOwnEnvironment(t *testing.T) {
	w, _ := demoWorld(t, false, nil)
	t.Setenv("NO_COLOR", "1")
	colour, err := w.NewSession(SessionInfo{User: "a", Environ: []string{"TERM=xterm-256color"}})
	if err != nil {
		t.Fatal(err)
	}
	if colour.Screen.Theme.NoColor {
		t.Error("a colour terminal got NO_COLOR from the process")
	}
	t.Setenv("NO_COLOR", "")
	for _, env := range [][]string{{"TERM=xterm-256color", "NO_COLOR=1"}, {"TERM=dumb"}, {"TERM=vt100"}, nil} {
		s, err := w.NewSession(SessionInfo{User: "a", Environ: env})
		if err != nil {
			t.Fatal(err)
		}
		if !s.Screen.Theme.NoColor {
			t.Errorf("environ %q: colours on", env)
		}
	}
}

// TestSessionEndsItsSubscription: when a session's context ends, its hub
// subscription is released (a departed SSH viewer costs nothing).
func TestSessionEndsItsSubscription(t *testing.T) {
	w, _ := demoWorld(t, false, func(c *config.Config) { c.Environment = "production" })
	ctx, cancel := context.WithCancel(context.Background())
	s, err := w.NewSession(SessionInfo{Context: ctx, User: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Screen.Production || s.Context != ctx {
		t.Fatalf("production %v, context passed %v", s.Screen.Production, s.Context == ctx)
	}
	// The subscription starts primed with every source's state; drain it.
	if _, err := s.Data.Updates.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	// Next waits on its own (never-ending) context: only the session's end
	// can release it.
	if _, err := s.Data.Updates.Next(context.Background()); !errors.Is(err, sources.ErrClosed) {
		t.Fatalf("Next after the session ended: %v", err)
	}
}

// TestServedSessionsShareTogether: once flightdeck serve shares the
// world's sessions, each served session's cockpit gets the same Presence,
// Announcer and Follow under its own ID and name; the local terminal's
// does not, and neither does any session before sharing.
func TestServedSessionsShareTogether(t *testing.T) {
	w, _ := demoWorld(t, false, nil)
	alone, err := w.NewSession(SessionInfo{ID: "s1", User: "alice"})
	if err != nil || alone.Together != nil {
		t.Fatalf("a session before sharing: %+v %v", alone.Together, err)
	}
	p, a, f := w.ShareSessions()
	if p2, a2, f2 := w.ShareSessions(); p2 != p || a2 != a || f2 != f {
		t.Fatal("ShareSessions made a second set of registries")
	}
	alice, err := w.NewSession(SessionInfo{ID: "s1", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := w.NewSession(SessionInfo{ID: "s2", User: "bob", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s        *Session
		id, name string
	}{{alice, "s1", "alice"}, {bob, "s2", "bob"}} {
		tg := c.s.Together
		if tg == nil || tg.Presence != p || tg.Announcer != a || tg.Views != f || tg.SessionID != c.id || tg.Name != c.name {
			t.Errorf("%s: Together = %+v", c.name, tg)
		}
	}
	local, err := w.NewSession(w.LocalSession(context.Background(), nil))
	if err != nil || local.Together != nil {
		t.Fatalf("the local terminal's session is shared: %+v %v", local.Together, err)
	}
}

// TestBuildUsesItsContext: a world asked for after its context ended (a
// SIGTERM during startup) is not built and opens no journal; a session
// given no context of its own ends with the world's.
func TestBuildUsesItsContext(t *testing.T) {
	cfg := config.Default()
	cfg.Audit.Path = filepath.Join(t.TempDir(), "audit.jsonl")
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if w, err := Build(ended, cfg, Options{Demo: true}); !errors.Is(err, context.Canceled) || w != nil {
		t.Fatalf("Build on an ended context: %v, %v", w, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg.Audit.Path), "audit-demo.jsonl")); !os.IsNotExist(err) {
		t.Errorf("a build that was not wanted opened the journal: %v", err)
	}

	ctx, stop := context.WithCancel(context.Background())
	w, _ := demoWorldIn(ctx, t, false, nil)
	s, err := w.NewSession(SessionInfo{User: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Data.Updates.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop()
	if s.Context.Err() == nil {
		t.Fatal("a session without a context did not end with the world")
	}
	if _, err := s.Data.Updates.Next(context.Background()); !errors.Is(err, sources.ErrClosed) {
		t.Fatalf("Next after the world ended: %v", err)
	}
}
