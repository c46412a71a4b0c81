package record

import (
	"context"
	"sync"
	"time"
)

// Timelines shares loaded timelines between the sessions of one world:
// four observers pressing `t` within a moment of each other load the
// journals once, and a request for a range being loaded waits for that
// load instead of starting another. A loaded timeline is reused for MaxAge
// (so it may be that much behind the journal); at most MaxRanges are held,
// the least recently used going first, each bounded by its MaxEntries: the
// cache's memory is bounded too. Safe for concurrent use.
type Timelines struct {
	maxRanges int
	maxAge    time.Duration
	now       func() time.Time
	build     func(TimelineOptions) (*Timeline, error)

	mu      sync.Mutex
	entries []*loadedTimeline // least recently used first
}

// loadedTimeline is one range, loaded or loading.
type loadedTimeline struct {
	key    timelineKey
	loaded time.Time     // set when done closes
	done   chan struct{} // closed once tl and err are set
	tl     *Timeline
	err    error
}

// timelineKey is TimelineOptions as a comparable value: times as instants.
type timelineKey struct {
	events, audit string
	since, until  int64
	window        time.Duration
	max           int
}

func keyOf(o TimelineOptions) timelineKey {
	k := timelineKey{events: o.EventsPath, audit: o.AuditPath, window: o.CorrelationWindow, max: o.MaxEntries}
	if !o.Since.IsZero() {
		k.since = o.Since.UnixNano()
	}
	if !o.Until.IsZero() {
		k.until = o.Until.UnixNano()
	}
	return k
}

// Cache defaults: a few seconds behind the journal at most, and room for
// the ranges a handful of sessions ask at once.
const (
	DefaultCacheAge    = 5 * time.Second
	DefaultCacheRanges = 4
)

// NewTimelines returns an empty cache; zero arguments take the defaults.
func NewTimelines(maxRanges int, maxAge time.Duration) *Timelines {
	if maxRanges <= 0 {
		maxRanges = DefaultCacheRanges
	}
	if maxAge <= 0 {
		maxAge = DefaultCacheAge
	}
	return &Timelines{maxRanges: maxRanges, maxAge: maxAge, now: time.Now, build: Build}
}

// Recent is the timeline of the last span, as the cockpit shows it: its
// start is rounded down to the cache's age, so sessions asking within the
// same few seconds ask for the same range and share it.
func (c *Timelines) Recent(ctx context.Context, eventsPath, auditPath string, span time.Duration) (*Timeline, error) {
	since := c.now().Add(-span).Truncate(c.maxAge)
	return c.Build(ctx, TimelineOptions{EventsPath: eventsPath, AuditPath: auditPath, Since: since})
}

// Build is the package's Build through the cache. The timeline returned is
// shared: read it, never change it.
func (c *Timelines) Build(ctx context.Context, o TimelineOptions) (*Timeline, error) {
	key := keyOf(o)
	c.mu.Lock()
	e := c.lookup(key)
	if e == nil {
		e = &loadedTimeline{key: key, done: make(chan struct{})}
		c.entries = append(c.entries, e)
		if len(c.entries) > c.maxRanges {
			c.evict()
		}
		c.mu.Unlock()
		// The load runs on its own: a caller giving up does not waste it
		// for the others waiting on it.
		go func() {
			tl, err := c.build(o)
			c.mu.Lock()
			e.tl, e.err, e.loaded = tl, err, c.now()
			if err != nil {
				c.remove(e) // the next ask tries again
			}
			c.mu.Unlock()
			close(e.done)
		}()
	} else {
		c.mu.Unlock()
	}
	select {
	case <-e.done:
		return e.tl, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lookup finds a fresh or loading entry for key and marks it recently
// used; a stale one is dropped. c.mu is held.
func (c *Timelines) lookup(key timelineKey) *loadedTimeline {
	for i, e := range c.entries {
		if e.key != key {
			continue
		}
		select {
		case <-e.done:
			if c.now().Sub(e.loaded) > c.maxAge {
				c.entries = append(c.entries[:i], c.entries[i+1:]...)
				return nil
			}
		default: // loading: wait for it
		}
		c.entries = append(append(c.entries[:i], c.entries[i+1:]...), e)
		return e
	}
	return nil
}

// evict drops the least recently used loaded entry (a loading one has
// callers waiting). c.mu is held.
func (c *Timelines) evict() {
	for i, e := range c.entries {
		select {
		case <-e.done:
			c.entries = append(c.entries[:i], c.entries[i+1:]...)
			return
		default:
		}
	}
}

func (c *Timelines) remove(e *loadedTimeline) {
	for i, x := range c.entries {
		if x == e {
			c.entries = append(c.entries[:i], c.entries[i+1:]...)
			return
		}
	}
}
