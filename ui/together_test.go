package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/together"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/crew"
)

// room is a world's shared registries with sessions joined to it, as
// flightdeck serve makes them.
type room struct {
	p *together.Presence
	a *together.Announcer
	f *together.Views
}

func newRoom() *room {
	return &room{p: together.NewPresence(), a: together.NewAnnouncer(), f: together.NewViews()}
}

// join adds a session (an operator when e has an Executor) and returns its
// sized model with every fixture routed and the roster read.
func (r *room) join(t *testing.T, e *env, id, name string, since time.Duration) Model {
	t.Helper()
	role := together.Observer
	if e.exec != nil {
		role = together.Operator
	}
	t.Cleanup(r.p.Join(together.Member{ID: id, Name: name, Role: role, Since: uitest.T0.Add(since), Addr: "10.0.0.5:5" + id}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.opts.Context = ctx
	e.opts.Together = &crew.Together{Presence: r.p, Announcer: r.a, Views: r.f, SessionID: id, Name: name}
	return e.model(200, 60)
}

// next runs a Cmd that waits on a registry, failing instead of hanging.
func next(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no Cmd to wait on")
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(5 * time.Second):
		t.Fatal("the Cmd did not return")
		return nil
	}
}

func feed(m Model, msg tea.Msg) (Model, tea.Cmd) {
	mm, cmd := m.Update(msg)
	return mm.(Model), cmd
}

// crewOf is m's part in Together, nil for a cockpit on its own.
func crewOf(m Model) *crew.Feature {
	for _, f := range m.features {
		if c, ok := f.(*crew.Feature); ok {
			return c
		}
	}
	return nil
}

// roster gives m the current members, as its roster Cmd would.
func roster(t *testing.T, m Model) Model {
	t.Helper()
	m, _ = feed(m, next(t, crewOf(m).RosterCmd()))
	return m
}

func TestHeaderShowsWhoIsConnected(t *testing.T) {
	r := newRoom()
	alice := r.join(t, newEnv(t, false), "a1", "alice", 0)
	r.join(t, newEnv(t, true), "b1", "bob", time.Minute)
	bob2 := r.join(t, newEnv(t, true), "b2", "bob", 2*time.Minute)
	for _, m := range []Model{alice, bob2} {
		m = roster(t, m)
		head := strings.SplitN(plain(m), "\n", 2)[0]
		if !strings.Contains(head, "alice (operator) · bob (observer) ×2") {
			t.Errorf("header %q", head)
		}
	}
	// The roster Cmd is re-armed: a change arrives as the next message.
	cmd := crewOf(alice).RosterCmd()
	leave := r.p.Join(together.Member{ID: "c1", Name: "carol", Role: together.Operator, Since: uitest.T0.Add(time.Hour)})
	defer leave()
	alice, _ = feed(alice, next(t, cmd))
	if head := strings.SplitN(plain(alice), "\n", 2)[0]; !strings.Contains(head, "carol (operator)") {
		t.Errorf("after carol joined: %q", head)
	}
}

func TestSingleUserHasNoTogether(t *testing.T) {
	m := newEnv(t, true).model(200, 60)
	if crewOf(m) != nil {
		t.Fatal("a cockpit on its own waits on shared registries")
	}
	// f is no key alone: it says so, as any unbound key does (issue 17
	// item 11), and does nothing else.
	m2, cmd := press(m, "f")
	if cmd != nil || m2.status != "f: not a key here · ? lists the keys" || len(m2.dialogs) != 0 {
		t.Fatalf("f did something alone: status %q", m2.status)
	}
	m2, _ = press(m, "?")
	if strings.Contains(plain(m2), "follow") {
		t.Error("help lists follow in a cockpit on its own")
	}
}

func TestActionOutcomeAnnouncedToOthers(t *testing.T) {
	r := newRoom()
	ae := newEnv(t, false)
	alice := r.join(t, ae, "a1", "alice", 0)
	bob := r.join(t, newEnv(t, true), "b1", "bob", time.Minute)
	aliceNews, bobNews := crewOf(alice).NewsCmd(), crewOf(bob).NewsCmd()

	alice, cmd := press(alice, "3", "K")
	alice = runCmd(t, alice, cmd) // plan → confirm dialog
	ae.clk.Add(time.Second)
	alice = typeText(alice, "4711")
	alice, cmd = press(alice, "enter")
	res, _ := cmd().(ConfirmedMsg)
	alice, cmd = feed(alice, res)
	result := cmd().(ResultMsg)
	alice, cmd = feed(alice, result)
	if alice.status != "Terminate backend 4711: done" {
		t.Fatalf("alice's status %q", alice.status)
	}
	cmd() // the announcement (no refresh is configured)

	bob, _ = feed(bob, next(t, bobNews))
	if !strings.Contains(plain(bob), "alice: Terminate backend 4711: done") || bob.statusBad {
		t.Fatalf("bob's status %q (bad %v)", bob.status, bob.statusBad)
	}
	// Alice gets her own announcement too and skips it.
	alice, _ = feed(alice, next(t, aliceNews))
	if alice.status != "Terminate backend 4711: done" {
		t.Errorf("alice's status after her own announcement: %q", alice.status)
	}
	// A failure is announced as one.
	_, cmd = feed(alice, ResultMsg{Result: ops.Result{OK: false, Summary: "Terminate backend 4712: failed: gone"}})
	cmd()
	bob, _ = feed(bob, next(t, crewOf(bob).NewsCmd()))
	if bob.status != "alice: Terminate backend 4712: failed: gone" || !bob.statusBad {
		t.Errorf("failure: %q bad=%v", bob.status, bob.statusBad)
	}
}

func TestObserverFollowsOperatorIntoTheConfirmDialog(t *testing.T) {
	r := newRoom()
	ae := newEnv(t, false)
	alice := r.join(t, ae, "a1", "alice", 0)
	bob := roster(t, r.join(t, newEnv(t, true), "b1", "bob", time.Minute))

	// Alice goes to Postgres, filters, sorts by state, moves down a row:
	// the second row of the new order (no row was picked before the sort).
	alice, _ = press(alice, "3", "/")
	alice = typeText(alice, "state:!idle")
	alice, _ = press(alice, "enter", "s", "j")
	want := alice.panes[alice.focus].(crew.Placed).Place()
	if want.Filter != "state:!idle" || !strings.HasPrefix(want.Extra, "1 false 4713 ") {
		t.Fatalf("alice's place %+v", want)
	}

	bob, cmd := press(bob, "f") // one operator: followed at once
	if !crewOf(bob).Watching() || !strings.Contains(plain(bob), "FOLLOWING alice") {
		t.Fatalf("not following: status %q", bob.status)
	}
	bob, cmd = feed(bob, next(t, cmd))
	if got := bob.panes[bob.focus]; got.Title() != "Postgres" || got.(crew.Placed).Place() != want {
		t.Fatalf("bob is on %s at %+v, want Postgres at %+v", got.Title(), got.(crew.Placed).Place(), want)
	}
	if !strings.Contains(plain(bob), `filter:"state:!idle" 7 match`) {
		t.Errorf("bob's screen does not show alice's filter:\n%s", plain(bob))
	}

	// Alice opens the confirm dialog on the selected backend: bob sees its
	// plan, read-only.
	alice, pc := press(alice, "K")
	alice = runCmd(t, alice, pc)
	plan := confirmOf(alice).Plan()
	bob, cmd = feed(bob, next(t, cmd))
	scr := plain(bob)
	if top[*crew.MirrorDialog](bob) == nil || !strings.Contains(scr, plan.Title) || !strings.Contains(scr, "alice's confirm dialog (read-only)") ||
		!strings.Contains(scr, "you cannot") {
		t.Fatalf("bob does not see alice's dialog:\n%s", scr)
	}
	if strings.Contains(scr, "type "+plan.Phrase+" to confirm") {
		t.Error("the follower is shown the confirmation prompt")
	}

	// Bob tries to confirm: the first key stops following and does
	// nothing else; the next finds no dialog to confirm.
	ae.clk.Add(time.Second)
	bob, c := press(bob, "y")
	if c != nil || crewOf(bob).Watching() || len(bob.dialogs) != 0 || bob.status != "stopped following alice" {
		t.Fatalf("after y: cmd %v following %v dialogs %d", c != nil, crewOf(bob).Watching(), len(bob.dialogs))
	}
	bob, c = press(bob, "enter")
	if c != nil || len(bob.dialogs) != 0 {
		t.Fatalf("after keys: cmd %v following %v dialogs %d", c != nil, crewOf(bob).Watching(), len(bob.dialogs))
	}
	if got := ae.pg.calls(); len(got) != 0 {
		t.Fatalf("a backend was signalled: %v", got)
	}
	if bob.panes[bob.focus].Title() != "Postgres" {
		t.Error("stopping left the pane alice had shown")
	}
	// The old subscription's pending Next ends and is ignored.
	if msg := next(t, cmd); msg.(crew.LeaderMsg).Err == nil {
		t.Errorf("the closed following still delivered: %+v", msg)
	}
}

func TestFollowPicksAmongOperatorsAndStopsWhenLeaderLeaves(t *testing.T) {
	r := newRoom()
	alice := r.join(t, newEnv(t, false), "a1", "alice", 0)
	carol := r.join(t, newEnv(t, false), "c1", "carol", time.Minute)
	bob := roster(t, r.join(t, newEnv(t, true), "b1", "bob", 2*time.Minute))
	_, _ = press(alice, "2")
	_, _ = press(carol, "4")

	bob, _ = press(bob, "f")
	pick := top[*kit.Pick](bob)
	if pick == nil || len(pick.Items) != 2 || !strings.Contains(plain(bob), "Follow an operator") {
		t.Fatalf("no picker: %q", bob.status)
	}
	bob, cmd := press(bob, "j", "enter")
	bob, cmd = feed(bob, cmd()) // followMsg
	bob, cmd = feed(bob, next(t, cmd))
	if bob.panes[bob.focus].Title() != "Rollouts" || !strings.Contains(plain(bob), "FOLLOWING carol") {
		t.Fatalf("following carol: focus %s", bob.panes[bob.focus].Title())
	}
	r.f.Leave("c1")
	bob, _ = feed(bob, next(t, cmd))
	if crewOf(bob).Watching() || bob.status != "carol left: stopped following" {
		t.Fatalf("after carol left: %q", bob.status)
	}

	// Alone with nobody to follow.
	solo := newRoom()
	ob := roster(t, solo.join(t, newEnv(t, true), "b1", "bob", 0))
	ob, _ = press(ob, "f")
	if crewOf(ob).Watching() || !strings.Contains(ob.status, "nobody to follow") {
		t.Fatalf("status %q", ob.status)
	}
}

func TestObserversPublishNothing(t *testing.T) {
	r := newRoom()
	bob := r.join(t, newEnv(t, true), "b1", "bob", 0)
	_, _ = press(bob, "3", "j")
	if _, err := r.f.Subscribe("b1"); err == nil {
		t.Fatal("an observer's view was published")
	}
}

// TestFollowingEndsWithTheSession: a session that ends while following
// leaves no follower behind on its leader.
func TestFollowingEndsWithTheSession(t *testing.T) {
	r := newRoom()
	r.join(t, newEnv(t, false), "a1", "alice", 0)
	ctx, cancel := context.WithCancel(context.Background())
	be := newEnv(t, true)
	bob := r.join(t, be, "b1", "bob", time.Minute)
	be.opts.Context = ctx
	bob = roster(t, New(be.opts))
	bob, _ = press(bob, "f")
	if !crewOf(bob).Watching() || r.f.Watchers("a1") != 1 {
		t.Fatalf("not following: %q", bob.status)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for r.f.Watchers("a1") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the ended session still follows")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
