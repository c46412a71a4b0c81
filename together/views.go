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

// Bounds on a published View's Dialog.
const (
	MaxDialogLines = 64
	MaxDialogLine  = 512
)

// Equal reports whether v and o show the same thing.
func (v View) Equal(o View) bool {
	return v.Focus == o.Focus && v.Place == o.Place && v.Runbook == o.Runbook && slices.Equal(v.Dialog, o.Dialog)
}

func (v View) clone() View {
	v.Dialog = slices.Clone(v.Dialog)
	return v
}

// bounded is a copy of v whose Dialog keeps the bounds.
func (v View) bounded() View {
	if v.Dialog == nil {
		return v
	}
	d := make([]string, 0, min(len(v.Dialog), MaxDialogLines))
	for _, l := range v.Dialog[:min(len(v.Dialog), MaxDialogLines)] {
		d = append(d, truncate(l, MaxDialogLine))
	}
	v.Dialog = d
	return v
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
		l = &leader{fanout: pubsub.New(pubsub.Latest[View]())}
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
func (f *Views) Subscribe(sessionID string) (*Watching, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leaders[sessionID]
	if l == nil {
		return nil, ErrNoLeader
	}
	return &Watching{leaderID: sessionID, sub: l.fanout.Subscribe(l.view)}, nil
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

// Watching is one session watching another's View, latest value only.
type Watching struct {
	leaderID string
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
func (s *Watching) Close() { s.sub.Close() }
