package together

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// nextTimesOut asserts that a Next call blocks: nothing was delivered.
func nextTimesOut[T any](t *testing.T, next func(context.Context) (T, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if v, err := next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next returned %v, %v; want it to block", v, err)
	}
}

func TestRoleParseAndDefault(t *testing.T) {
	var zero Role
	if zero != Observer || zero.CanAct() {
		t.Fatal("the zero Role must be an observer that cannot act")
	}
	for _, r := range []Role{Operator, Observer} {
		got, err := ParseRole(r.String())
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, got, err)
		}
	}
	if r, err := ParseRole("admin"); err == nil || r.CanAct() {
		t.Errorf("ParseRole(admin) = %v, %v", r, err)
	}
}

func TestPresenceJoinLeaveNotifies(t *testing.T) {
	ctx := ctxT(t)
	p := NewPresence()
	base := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	leaveA := p.Join(Member{ID: "a1", Name: "alice", Role: Operator, Since: base, Addr: "10.0.0.5:1"})
	r := p.Subscribe()
	defer r.Close()
	got, err := r.Next(ctx)
	if err != nil || len(got) != 1 || got[0].Name != "alice" || got[0].Role != Operator {
		t.Fatalf("first Next = %+v, %v", got, err)
	}
	nextTimesOut(t, r.Next)

	leaveB := p.Join(Member{ID: "b1", Name: "bob", Role: Observer, Since: base.Add(time.Minute)})
	got, _ = r.Next(ctx)
	if len(got) != 2 || got[0].Name != "alice" || got[1].Name != "bob" {
		t.Fatalf("after bob joined: %+v", got)
	}
	leaveA()
	leaveA() // harmless
	got, _ = r.Next(ctx)
	if len(got) != 1 || got[0].Name != "bob" {
		t.Fatalf("after alice left: %+v", got)
	}
	nextTimesOut(t, r.Next) // the second leaveA changed nothing and said nothing
	leaveB()
	if got, _ = r.Next(ctx); len(got) != 0 {
		t.Fatalf("after everyone left: %+v", got)
	}
}

func TestPresenceCoalescesForSlowReader(t *testing.T) {
	ctx := ctxT(t)
	p := NewPresence()
	r := p.Subscribe()
	defer r.Close()
	for i := range 1000 {
		p.Join(Member{ID: fmt.Sprint(i), Name: "u"})
	}
	got, _ := r.Next(ctx)
	if len(got) != 1000 {
		t.Fatalf("got %d members", len(got))
	}
	nextTimesOut(t, r.Next) // 1000 changes, one wake-up
}

func TestRosterClose(t *testing.T) {
	p := NewPresence()
	r := p.Subscribe()
	errc := make(chan error)
	_, _ = r.Next(ctxT(t))
	go func() { _, err := r.Next(context.Background()); errc <- err }()
	r.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Next after Close = %v", err)
	}
	p.Join(Member{ID: "x"}) // no subscriber left to signal; must not panic
	r.Close()
}

func TestAnnouncerBroadcastsInOrder(t *testing.T) {
	ctx := ctxT(t)
	a := NewAnnouncer()
	s1, s2 := a.Subscribe(), a.Subscribe()
	defer s1.Close()
	defer s2.Close()
	a.Announce(Announcement{SessionID: "a1", From: "alice", Text: "Terminate backend 11595: done"})
	a.Announce(Announcement{SessionID: "a1", From: "alice", Text: "Silence HighErrorRate 1h: done"})
	for _, s := range []*Announcements{s1, s2} {
		got, err := s.Next(ctx)
		if err != nil || len(got) != 2 || got[0].String() != "alice: Terminate backend 11595: done" ||
			got[1].Text != "Silence HighErrorRate 1h: done" || got[0].At.IsZero() {
			t.Fatalf("Next = %+v, %v", got, err)
		}
		nextTimesOut(t, s.Next)
	}
}

func TestAnnouncerSubscriberSeesOnlyLaterAnnouncements(t *testing.T) {
	a := NewAnnouncer()
	a.Announce(Announcement{From: "alice", Text: "before"})
	s := a.Subscribe()
	defer s.Close()
	nextTimesOut(t, s.Next)
}

func TestAnnouncerSlowSubscriberDropsOldest(t *testing.T) {
	ctx := ctxT(t)
	a := NewAnnouncer()
	slow := a.Subscribe()
	defer slow.Close()
	done := make(chan struct{})
	go func() {
		for i := range AnnouncementBuffer + 10 {
			a.Announce(Announcement{From: "alice", Text: fmt.Sprint(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Announce blocked on a subscriber that does not read")
	}
	got, _ := slow.Next(ctx)
	if len(got) != AnnouncementBuffer || got[0].Text != "10" || got[len(got)-1].Text != fmt.Sprint(AnnouncementBuffer+9) {
		t.Fatalf("kept %d: first %q last %q", len(got), got[0].Text, got[len(got)-1].Text)
	}
	if slow.Dropped() != 10 {
		t.Fatalf("Dropped = %d", slow.Dropped())
	}
}

func TestAnnouncementTextBounded(t *testing.T) {
	ctx := ctxT(t)
	a := NewAnnouncer()
	s := a.Subscribe()
	defer s.Close()
	a.Announce(Announcement{From: "alice", Text: strings.Repeat("é", 1000)})
	got, _ := s.Next(ctx)
	txt := got[0].Text
	if len(txt) > MaxAnnouncementText || !strings.HasSuffix(txt, "…") || !strings.HasPrefix(txt, "éé") {
		t.Fatalf("len %d: %q…", len(txt), txt[:10])
	}
	for _, r := range txt {
		if r == '\uFFFD' {
			t.Fatal("cut inside a rune")
		}
	}
}

func TestAnnouncementsClose(t *testing.T) {
	a := NewAnnouncer()
	s := a.Subscribe()
	errc := make(chan error)
	go func() { _, err := s.Next(context.Background()); errc <- err }()
	s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close = %v", err)
	}
	a.Announce(Announcement{Text: "nobody listens"})
}

func TestViewsMirrorLatestView(t *testing.T) {
	ctx := ctxT(t)
	f := NewViews()
	if _, err := f.Subscribe("op1"); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("following a session that published nothing: %v", err)
	}
	dialog := []string{"Terminate backend 11595", "pg_terminate_backend(11595)"}
	f.Publish("op1", View{Focus: "Postgres", Place: Place{Filter: "blocking", Row: 2, Extra: "11595"}, Dialog: dialog})
	dialog[0] = "mutated by the leader after publishing"

	s, err := f.Subscribe("op1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Leader() != "op1" || f.Watchers("op1") != 1 {
		t.Fatalf("leader %q followers %d", s.Leader(), f.Watchers("op1"))
	}
	v, err := s.Next(ctx)
	if err != nil || v.Focus != "Postgres" || v.Place.Row != 2 || v.Place.Extra != "11595" || v.Dialog[0] != "Terminate backend 11595" {
		t.Fatalf("first Next = %+v, %v", v, err)
	}
	v.Dialog[1] = "mutated by the watcher"
	nextTimesOut(t, s.Next)

	// An unchanged View wakes nobody.
	f.Publish("op1", View{Focus: "Postgres", Place: Place{Filter: "blocking", Row: 2, Extra: "11595"}, Dialog: []string{"Terminate backend 11595", "pg_terminate_backend(11595)"}})
	nextTimesOut(t, s.Next)

	// A slow watcher gets only the newest of many changes.
	for i := range 100 {
		f.Publish("op1", View{Focus: "Postgres", Place: Place{Row: i}})
	}
	v, _ = s.Next(ctx)
	if v.Place.Row != 99 || v.Dialog != nil {
		t.Fatalf("after 100 changes: %+v", v)
	}
	nextTimesOut(t, s.Next)
}

func TestViewsBoundTheDialog(t *testing.T) {
	f := NewViews()
	long := make([]string, MaxDialogLines+10)
	for i := range long {
		long[i] = strings.Repeat("x", MaxDialogLine+100)
	}
	f.Publish("op1", View{Focus: "Postgres", Dialog: long})
	s, _ := f.Subscribe("op1")
	defer s.Close()
	v, _ := s.Next(ctxT(t))
	if len(v.Dialog) != MaxDialogLines {
		t.Fatalf("kept %d dialog lines", len(v.Dialog))
	}
	for _, l := range v.Dialog {
		if len(l) > MaxDialogLine {
			t.Fatalf("kept a line of %d bytes", len(l))
		}
	}
}

func TestWatchingStopsWhenLeaderLeaves(t *testing.T) {
	ctx := ctxT(t)
	f := NewViews()
	f.Publish("op1", View{Focus: "alerts"})
	s, _ := f.Subscribe("op1")
	_, _ = s.Next(ctx)
	errc := make(chan error)
	go func() { _, err := s.Next(context.Background()); errc <- err }()
	f.Leave("op1")
	if err := <-errc; !errors.Is(err, ErrLeaderGone) {
		t.Fatalf("Next after the leader left = %v", err)
	}
	if _, err := f.Subscribe("op1"); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("subscribe to a leader who left: %v", err)
	}
	s.Close() // after the leader left: harmless
	f.Leave("op1")
}

func TestWatchingCloseDetaches(t *testing.T) {
	f := NewViews()
	f.Publish("op1", View{Focus: "alerts"})
	s, _ := f.Subscribe("op1")
	s.Close()
	if f.Watchers("op1") != 0 {
		t.Fatal("closed watcher still counted")
	}
	if _, err := s.Next(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close = %v", err)
	}
}

// TestConcurrentUse runs every registry from many goroutines at once; with
// -race it proves the locking, and the deadline proves nobody blocks.
func TestConcurrentUse(t *testing.T) {
	p, a, f := NewPresence(), NewAnnouncer(), NewViews()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 8 {
		id := fmt.Sprint("s", i)
		f.Publish(id, View{Focus: "slos"})
		wg.Add(2)
		go func() { // a session: joins, announces, publishes, then leaves
			defer wg.Done()
			leave := p.Join(Member{ID: id, Name: id})
			for j := range 200 {
				a.Announce(Announcement{SessionID: id, From: id, Text: fmt.Sprint(j)})
				f.Publish(id, View{Focus: "Postgres", Place: Place{Row: j}, Dialog: []string{id}})
			}
			leave()
		}()
		go func() { // its reader: reads everything it can until cancelled
			defer wg.Done()
			r, s := p.Subscribe(), a.Subscribe()
			defer r.Close()
			defer s.Close()
			fl, err := f.Subscribe(fmt.Sprint("s", (i+1)%8))
			if err == nil {
				defer fl.Close()
				go func() {
					for {
						if _, err := fl.Next(ctx); err != nil {
							return
						}
					}
				}()
			}
			go func() {
				for {
					if _, err := r.Next(ctx); err != nil {
						return
					}
				}
			}()
			for {
				if _, err := s.Next(ctx); err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a registry blocked")
	}
	for i := range 8 {
		f.Leave(fmt.Sprint("s", i))
	}
	if len(p.Members()) != 0 {
		t.Fatalf("members left behind: %+v", p.Members())
	}
}
