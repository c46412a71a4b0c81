package together

import (
	"context"
	"time"
	"unicode/utf8"

	"flightdeck/internal/pubsub"
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
	now    func() time.Time
	fanout *pubsub.Broker[Announcement]
}

// NewAnnouncer returns an Announcer with no subscribers.
func NewAnnouncer() *Announcer {
	return &Announcer{now: time.Now, fanout: pubsub.New(pubsub.Queue[Announcement](AnnouncementBuffer))}
}

// Announce hands a to every current subscriber. It never blocks: a
// subscriber that has AnnouncementBuffer unread loses its oldest one. At
// defaults to now; Text is cut to MaxAnnouncementText.
func (a *Announcer) Announce(an Announcement) {
	if an.At.IsZero() {
		an.At = a.now()
	}
	an.Text = truncate(an.Text, MaxAnnouncementText)
	a.fanout.Publish(an)
}

// Subscribe returns a subscription that receives every announcement made
// after this call.
func (a *Announcer) Subscribe() *Announcements {
	return &Announcements{sub: a.fanout.Subscribe()}
}

// Announcements is one session's queue of unread announcements.
type Announcements struct {
	sub *pubsub.Subscription[Announcement]
}

// Next blocks until there is at least one unread announcement and returns
// all of them, oldest first. It returns ctx's error when ctx ends and
// ErrClosed after Close.
func (s *Announcements) Next(ctx context.Context) ([]Announcement, error) {
	out, err := s.sub.Next(ctx)
	return out, closedAs(err)
}

// Dropped is how many announcements this subscriber lost by falling
// AnnouncementBuffer behind.
func (s *Announcements) Dropped() uint64 { return s.sub.Dropped() }

// Close detaches the subscription; a blocked Next returns ErrClosed.
func (s *Announcements) Close() { s.sub.Close() }

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
