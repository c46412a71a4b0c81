package together

import (
	"context"
	"sort"
	"sync"
	"time"

	"flightdeck/internal/pubsub"
)

// Member is one connected session.
type Member struct {
	// ID identifies the session (serve's SessionInfo.ID); unique while
	// connected.
	ID string
	// Name is the configured user name ("alice"), the same for all of that
	// user's sessions.
	Name  string
	Role  Role
	Since time.Time
	// Addr is the client's address, host:port.
	Addr string
}

// Presence is who is connected right now.
type Presence struct {
	now func() time.Time

	// mu orders each change of members with its publication, so a new
	// Roster is primed with exactly the list published before it.
	mu      sync.Mutex
	members map[string]Member
	fanout  *pubsub.Broker[[]Member]
}

// NewPresence returns an empty Presence.
func NewPresence() *Presence {
	return &Presence{now: time.Now, members: map[string]Member{}, fanout: pubsub.New(pubsub.Latest[[]Member]())}
}

// Join adds m (Since defaults to now) and tells every subscriber. The
// returned leave removes it again; calling leave more than once is harmless.
// A second Join with the same ID replaces the first.
func (p *Presence) Join(m Member) (leave func()) {
	if m.Since.IsZero() {
		m.Since = p.now()
	}
	p.mu.Lock()
	p.members[m.ID] = m
	p.fanout.Publish(p.listLocked())
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			if cur, ok := p.members[m.ID]; ok && cur == m {
				delete(p.members, m.ID)
				p.fanout.Publish(p.listLocked())
			}
			p.mu.Unlock()
		})
	}
}

// Members lists who is connected, longest-connected first (ties by ID).
func (p *Presence) Members() []Member {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listLocked()
}

// listLocked is a fresh sorted list of the members: each publication is
// its own slice, never changed afterwards, so subscribers may share it.
func (p *Presence) listLocked() []Member {
	out := make([]Member, 0, len(p.members))
	for _, m := range p.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Subscribe returns a Roster whose first Next returns the current members
// at once and whose later Nexts return them again after each change.
func (p *Presence) Subscribe() *Roster {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &Roster{sub: p.fanout.Subscribe(p.listLocked())}
}

// Roster follows Presence with latest-value semantics: changes that happen
// while nobody reads coalesce into one Next with the newest list.
type Roster struct {
	sub *pubsub.Subscription[[]Member]
}

// Next blocks until the members changed since the last Next (the first call
// returns at once) and returns them all. It returns ctx's error when ctx
// ends and ErrClosed after Close.
func (r *Roster) Next(ctx context.Context) ([]Member, error) {
	lists, err := r.sub.Next(ctx)
	if err != nil {
		return nil, closedAs(err)
	}
	return append([]Member(nil), lists[len(lists)-1]...), nil
}

// Close detaches the Roster; a blocked Next returns ErrClosed.
func (r *Roster) Close() { r.sub.Close() }
