package together

import (
	"context"
	"sync"
	"time"
	"unicode/utf8"
)

// Announcement is one line every session shows in its status bar:
// "alice: Terminate backend 11595: done".
type Announcement struct {
	At time.Time
	// SessionID is the announcing session, so a UI can skip its own
	// announcements (it already shows its own results).
	SessionID string
	// From is the announcing user's name.
	From string
	Text string
	// Failed marks an outcome that did not succeed (shown as an error).
	Failed bool
}

// String is the status-bar line: "From: Text".
func (a Announcement) String() string { return a.From + ": " + a.Text }

// Bounds on what an Announcer keeps.
const (
	// AnnouncementBuffer is how many unread announcements a subscriber
	// keeps; older ones are dropped (and counted) when it falls behind.
	AnnouncementBuffer = 32
	// MaxAnnouncementText is the longest Text kept, in bytes; longer text is
	// cut at a rune boundary and ends with "…".
	MaxAnnouncementText = 512
)

// Announcer broadcasts announcements to every subscribed session.
type Announcer struct {
	now func() time.Time

	mu   sync.Mutex
	subs map[*Announcements]struct{}
}

// NewAnnouncer returns an Announcer with no subscribers.
func NewAnnouncer() *Announcer {
	return &Announcer{now: time.Now, subs: map[*Announcements]struct{}{}}
}

// Announce hands a to every current subscriber. It never blocks: a
// subscriber that has AnnouncementBuffer unread loses its oldest one. At
// defaults to now; Text is cut to MaxAnnouncementText.
func (a *Announcer) Announce(an Announcement) {
	if an.At.IsZero() {
		an.At = a.now()
	}
	an.Text = truncate(an.Text, MaxAnnouncementText)
	a.mu.Lock()
	defer a.mu.Unlock()
	for s := range a.subs {
		s.offer(an)
	}
}

// Subscribe returns a subscription that receives every announcement made
// after this call.
func (a *Announcer) Subscribe() *Announcements {
	s := &Announcements{a: a, notify: make(chan struct{}, 1), done: make(chan struct{})}
	a.mu.Lock()
	a.subs[s] = struct{}{}
	a.mu.Unlock()
	return s
}

// Announcements is one session's queue of unread announcements.
type Announcements struct {
	a      *Announcer
	notify chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	queue   []Announcement
	dropped uint64
}

func (s *Announcements) offer(an Announcement) {
	s.mu.Lock()
	if len(s.queue) == AnnouncementBuffer {
		copy(s.queue, s.queue[1:])
		s.queue = s.queue[:len(s.queue)-1]
		s.dropped++
	}
	s.queue = append(s.queue, an)
	s.mu.Unlock()
	signal(s.notify)
}

// Next blocks until there is at least one unread announcement and returns
// all of them, oldest first. It returns ctx's error when ctx ends and
// ErrClosed after Close.
func (s *Announcements) Next(ctx context.Context) ([]Announcement, error) {
	for {
		select {
		case <-s.done:
			return nil, ErrClosed
		default:
		}
		s.mu.Lock()
		if len(s.queue) > 0 {
			out := s.queue
			s.queue = nil
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, ErrClosed
		case <-s.notify:
		}
	}
}

// Dropped is how many announcements this subscriber lost by falling
// AnnouncementBuffer behind.
func (s *Announcements) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close detaches the subscription; a blocked Next returns ErrClosed.
func (s *Announcements) Close() {
	s.once.Do(func() {
		s.a.mu.Lock()
		delete(s.a.subs, s)
		s.a.mu.Unlock()
		close(s.done)
	})
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
