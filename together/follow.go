package together

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// View is what a follower mirrors of a leader's screen. The UI fills it;
// Follow only stores and forwards it.
type View struct {
	// Focus names the focused pane by its title ("Postgres").
	Focus string
	// Place is where that pane is: what it shows and which row is
	// selected.
	Place Place
	// Dialog is the open confirm dialog's plan preview, plain text, the
	// plan's title first; nil when none is open. A follower shows it and
	// can never confirm it. Publish keeps at most MaxDialogLines lines of
	// at most MaxDialogLine bytes.
	Dialog []string
	// Runbook names the runbook (or other full-screen view) the leader has
	// open, "" for none.
	Runbook string
	// Screen is that full-screen view as the leader sees it, plain text
	// (a follower shows it read-only); nil over the panes. Runs are the
	// leader's open runbook runs, a line each (an observer's runbook list
	// shows them). Publish keeps at most MaxScreenLines and MaxRuns lines
	// of at most MaxDialogLine bytes.
	Screen []string
	Runs   []string
}

// Place is where a pane is: the shown source, the filter in force, the
// selected row and the first row on screen, the detail view, and the
// pane's own part (its sort order, the selected row's identity) encoded by
// the pane. The UI fills it and reads it back.
type Place struct {
	Feed, Filter string
	Row, Top     int
	Detail       bool
	DetailOff    int
	Extra        string
}

// Bounds on a published View's Dialog, Screen and Runs.
const (
	MaxDialogLines = 64
	MaxDialogLine  = 512
	MaxScreenLines = 200
	MaxRuns        = 16
)

// Equal reports whether v and o show the same thing.
func (v View) Equal(o View) bool {
	return v.Focus == o.Focus && v.Place == o.Place && v.Runbook == o.Runbook && slices.Equal(v.Dialog, o.Dialog) &&
		slices.Equal(v.Screen, o.Screen) && slices.Equal(v.Runs, o.Runs)
}

func (v View) clone() View {
	v.Dialog, v.Screen, v.Runs = slices.Clone(v.Dialog), slices.Clone(v.Screen), slices.Clone(v.Runs)
	return v
}

// bounded is a copy of v whose Dialog, Screen and Runs keep the bounds.
func (v View) bounded() View {
	v.Dialog = boundLines(v.Dialog, MaxDialogLines)
	v.Screen = boundLines(v.Screen, MaxScreenLines)
	v.Runs = boundLines(v.Runs, MaxRuns)
	return v
}

// boundLines is at most n of ls, each cut to MaxDialogLine bytes (nil
// stays nil).
func boundLines(ls []string, n int) []string {
	if ls == nil {
		return nil
	}
	d := make([]string, 0, min(len(ls), n))
	for _, l := range ls[:min(len(ls), n)] {
		d = append(d, truncate(l, MaxDialogLine))
	}
	return d
}

// Errors from Follow.
var (
	// ErrNoLeader: nobody with that session ID has published a View.
	ErrNoLeader = errors.New("together: no such session to follow")
	// ErrLeaderGone ends a Following when its leader's session ends.
	ErrLeaderGone = errors.New("together: the followed session ended")
)

// Follow holds each leader's latest View and hands it to followers.
type Follow struct {
	mu      sync.Mutex
	leaders map[string]*leader
}

type leader struct {
	view View
	subs map[*Following]struct{}
}

// NewFollow returns an empty Follow.
func NewFollow() *Follow { return &Follow{leaders: map[string]*leader{}} }

// Publish records sessionID's current View and wakes its followers (only
// when it changed). It never blocks: a follower that reads slowly gets the
// newest View, not every one in between. The first Publish makes the
// session followable.
func (f *Follow) Publish(sessionID string, v View) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		l = &leader{subs: map[*Following]struct{}{}}
		f.leaders[sessionID] = l
	}
	v = v.bounded()
	if l.view.Equal(v) {
		return
	}
	l.view = v
	for s := range l.subs {
		s.offer(l.view)
	}
}

// Leave ends sessionID as a leader: its followers' Next returns
// ErrLeaderGone. serve calls it when the session ends.
func (f *Follow) Leave(sessionID string) {
	f.mu.Lock()
	l := f.leaders[sessionID]
	delete(f.leaders, sessionID)
	f.mu.Unlock()
	if l == nil {
		return
	}
	for s := range l.subs {
		s.end(ErrLeaderGone)
	}
}

// Subscribe starts following sessionID. The first Next returns its current
// View at once. It fails with ErrNoLeader when that session has published
// nothing (or has left).
func (f *Follow) Subscribe(sessionID string) (*Following, error) { return f.SubscribeAs(sessionID, "") }

// SubscribeAs is Subscribe by a follower named name, whom the leader can
// then see following it (FollowerNames).
func (f *Follow) SubscribeAs(sessionID, name string) (*Following, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		return nil, ErrNoLeader
	}
	s := &Following{f: f, leaderID: sessionID, name: name, notify: make(chan struct{}, 1)}
	s.offer(l.view)
	l.subs[s] = struct{}{}
	return s, nil
}

// Followers is how many sessions follow sessionID now.
func (f *Follow) Followers(sessionID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.leaders[sessionID]; l != nil {
		return len(l.subs)
	}
	return 0
}

// FollowerNames are the names of the sessions following sessionID now
// (SubscribeAs), sorted, one per session.
func (f *Follow) FollowerNames(sessionID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		return nil
	}
	var out []string
	for s := range l.subs {
		if s.name != "" {
			out = append(out, s.name)
		}
	}
	slices.Sort(out)
	return out
}

// Peek is sessionID's latest View without following it (an observer's
// runbook list reads the operators' open runs); ok is false when that
// session has published nothing.
func (f *Follow) Peek(sessionID string) (View, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		return View{}, false
	}
	return l.view.clone(), true
}

// Following is one follower's view of one leader, latest value only.
type Following struct {
	f        *Follow
	leaderID string
	name     string // the follower's, for FollowerNames
	notify   chan struct{}

	mu      sync.Mutex
	view    View
	pending bool
	err     error
}

// Leader is the session ID being followed.
func (s *Following) Leader() string { return s.leaderID }

func (s *Following) offer(v View) {
	s.mu.Lock()
	s.view, s.pending = v, true
	s.mu.Unlock()
	signal(s.notify)
}

func (s *Following) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	signal(s.notify)
}

// Next blocks until the leader's View changed since the last Next (the
// first call returns at once) and returns the newest. It returns
// ErrLeaderGone once the leader left, ErrClosed after Close, and ctx's error
// when ctx ends. The View's Dialog slice is the follower's own copy.
func (s *Following) Next(ctx context.Context) (View, error) {
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return View{}, err
		}
		if s.pending {
			v := s.view.clone()
			s.pending = false
			s.mu.Unlock()
			return v, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return View{}, ctx.Err()
		case <-s.notify:
		}
	}
}

// Close stops following; a blocked Next returns ErrClosed.
func (s *Following) Close() {
	s.f.mu.Lock()
	if l := s.f.leaders[s.leaderID]; l != nil {
		delete(l.subs, s)
	}
	s.f.mu.Unlock()
	s.end(ErrClosed)
}
