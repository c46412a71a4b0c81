package together

import (
	"context"
	"errors"
	"slices"
	"sync"

	"flightdeck/internal/pubsub"
)

// View is what a watcher mirrors of a leader's screen. The UI fills it;
// Views only stores and forwards it.
type View struct {
	// Focus names the focused pane by its title ("Postgres").
	Focus string
	// Place is where that pane is: what it shows and which row is
	// selected.
	Place Place
	// Dialog is the open confirm dialog's plan preview, plain text, the
	// plan's title first; nil when none is open. A watcher shows it and
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

// Errors from Views.
var (
	// ErrNoLeader: nobody with that session ID has published a View.
	ErrNoLeader = errors.New("together: no such session to watch")
	// ErrLeaderGone ends a Watching when the watched session ends.
	ErrLeaderGone = errors.New("together: the watched session ended")
)

// Views holds each session's latest View so other sessions can watch it:
// an observer mirrors what an operator sees. (The UI calls this
// "following" a session; ops' wait for an action's effect is another
// thing, ops.EffectWait.)
type Views struct {
	mu      sync.Mutex
	leaders map[string]*leader
}

// leader is one watchable session: its latest View and the watchers it
// fans out to (latest value only).
type leader struct {
	view   View
	fanout *pubsub.Broker[View]
	// watchers are the open Watchings, for WatcherNames.
	watchers map[*Watching]struct{}
}

// NewViews returns an empty Views.
func NewViews() *Views { return &Views{leaders: map[string]*leader{}} }

// Publish records sessionID's current View and wakes its watchers (only
// when it changed). It never blocks: a watcher that reads slowly gets the
// newest View, not every one in between. The first Publish makes the
// session watchable.
func (f *Views) Publish(sessionID string, v View) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		l = &leader{fanout: pubsub.New(pubsub.Latest[View]()), watchers: map[*Watching]struct{}{}}
		f.leaders[sessionID] = l
	}
	v = v.bounded()
	if l.view.Equal(v) {
		return
	}
	l.view = v
	l.fanout.Publish(v)
}

// Leave ends sessionID as a leader: its watchers' Next returns
// ErrLeaderGone. serve calls it when the session ends.
func (f *Views) Leave(sessionID string) {
	f.mu.Lock()
	l := f.leaders[sessionID]
	delete(f.leaders, sessionID)
	f.mu.Unlock()
	if l != nil {
		l.fanout.Close(ErrLeaderGone)
	}
}

// Subscribe starts watching sessionID. The first Next returns its current
// View at once. It fails with ErrNoLeader when that session has published
// nothing (or has left).
func (f *Views) Subscribe(sessionID string) (*Watching, error) { return f.SubscribeAs(sessionID, "") }

// SubscribeAs is Subscribe by a watcher named name, whom the watched
// session can then see watching it (WatcherNames).
func (f *Views) SubscribeAs(sessionID, name string) (*Watching, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		return nil, ErrNoLeader
	}
	w := &Watching{f: f, leaderID: sessionID, name: name, sub: l.fanout.Subscribe(l.view)}
	l.watchers[w] = struct{}{}
	return w, nil
}

// Watchers is how many sessions watch sessionID now.
func (f *Views) Watchers(sessionID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.leaders[sessionID]; l != nil {
		return l.fanout.Subscribers()
	}
	return 0
}

// WatcherNames are the names of the sessions watching sessionID now
// (SubscribeAs), sorted, one per session.
func (f *Views) WatcherNames(sessionID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		return nil
	}
	var out []string
	for w := range l.watchers {
		if w.name != "" {
			out = append(out, w.name)
		}
	}
	slices.Sort(out)
	return out
}

// Peek is sessionID's latest View without watching it (an observer's
// runbook list reads the operators' open runs); ok is false when that
// session has published nothing.
func (f *Views) Peek(sessionID string) (View, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		return View{}, false
	}
	return l.view.clone(), true
}

// Watching is one session watching another's View, latest value only.
type Watching struct {
	f        *Views
	leaderID string
	name     string // the watcher's, for WatcherNames
	sub      *pubsub.Subscription[View]
}

// Leader is the session ID being watched.
func (s *Watching) Leader() string { return s.leaderID }

// Next blocks until the leader's View changed since the last Next (the
// first call returns at once) and returns the newest. It returns
// ErrLeaderGone once the leader left, ErrClosed after Close, and ctx's error
// when ctx ends. The View's Dialog slice is the watcher's own copy.
func (s *Watching) Next(ctx context.Context) (View, error) {
	views, err := s.sub.Next(ctx)
	if err != nil {
		return View{}, closedAs(err)
	}
	return views[len(views)-1].clone(), nil
}

// Close stops watching; a blocked Next returns ErrClosed.
func (s *Watching) Close() {
	s.f.mu.Lock()
	if l := s.f.leaders[s.leaderID]; l != nil {
		delete(l.watchers, s)
	}
	s.f.mu.Unlock()
	s.sub.Close()
}
