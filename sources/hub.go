package sources

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"flightdeck/internal/pubsub"
)

// PollOptions say how the Hub polls one source.
type PollOptions struct {
	Interval time.Duration // between the ends of successful fetches; default 2s
	Timeout  time.Duration // per fetch; default min(Interval, 5s)
	// MaxBackoff caps the wait after consecutive errors; default 30s (never
	// below Interval).
	MaxBackoff time.Duration
}

func (o PollOptions) withDefaults() PollOptions {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = min(o.Interval, 5*time.Second)
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Interval)
	return o
}

// Hub polls each source in its own goroutine and keeps its latest snapshot.
// Subscribers get latest-value semantics per source (a pubsub.Broker with
// LatestPerKey): a subscriber that is slow to read misses intermediate
// snapshots but never blocks a poller, and any number of subscribers cost
// the upstreams the same as one.
type Hub struct {
	log *slog.Logger
	now func() time.Time

	// mu orders every change of latest with its publication, so a new
	// subscriber is primed with exactly the snapshots published before it.
	mu      sync.Mutex
	entries []*hubEntry
	latest  map[string]Snapshot
	fanout  *pubsub.Broker[Snapshot]
	started bool
	wg      sync.WaitGroup
}

type hubEntry struct {
	src  Source
	opt  PollOptions
	kick chan struct{} // Refresh requests; capacity 1 so they coalesce
}

// NewHub returns an empty Hub. log may be nil.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{log: log, now: time.Now, latest: map[string]Snapshot{},
		fanout: pubsub.New(pubsub.LatestPerKey(func(s Snapshot) string { return s.Source }))}
}

// Add registers a source. It must be called before Start.
func (h *Hub) Add(src Source, opt PollOptions) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		panic("sources: Hub.Add after Start")
	}
	e := &hubEntry{src: src, opt: opt.withDefaults(), kick: make(chan struct{}, 1)}
	h.entries = append(h.entries, e)
	s := Snapshot{Source: src.Name(), Kind: src.Kind()}
	if _, push := src.(Pusher); !push {
		s.Timeout = e.opt.Timeout
	}
	h.latest[src.Name()] = s
}

// Sources lists the registered sources' names in the order added.
func (h *Hub) Sources() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, len(h.entries))
	for i, e := range h.entries {
		names[i] = e.src.Name()
	}
	return names
}

// Start launches one goroutine per source. They stop when ctx ends; Wait
// waits for them. Every source's snapshot is stamped with the start
// (PollingSince) and published, so a pane with no answer yet can say how
// long it has waited — also to a session that subscribes later.
func (h *Hub) Start(ctx context.Context) {
	h.mu.Lock()
	h.started = true
	entries := append([]*hubEntry(nil), h.entries...)
	now := h.now()
	for _, e := range entries {
		s := h.latest[e.src.Name()]
		s.PollingSince = now
		s.Seq++
		h.latest[e.src.Name()] = s
		h.fanout.Publish(s)
	}
	h.mu.Unlock()
	for _, e := range entries {
		h.wg.Add(1)
		if p, ok := e.src.(Pusher); ok {
			go func() {
				defer h.wg.Done()
				p.Run(ctx, func(data Payload, err error) { h.record(e.src, 0, data, err) })
			}()
			continue
		}
		go func() {
			defer h.wg.Done()
			h.poll(ctx, e)
		}()
	}
}

// Wait blocks until every poller has returned after its context ended.
func (h *Hub) Wait() { h.wg.Wait() }

// Refresh asks for an immediate fetch of the named source (after an action,
// say). It never blocks; a fetch already in flight absorbs the request.
func (h *Hub) Refresh(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.entries {
		if e.src.Name() == name {
			select {
			case e.kick <- struct{}{}:
			default:
			}
		}
	}
}

// poll runs fetches back to back at the source's interval. Only one fetch is
// ever in flight per source (skip-if-busy): ticks are not queued behind a slow
// upstream, the next fetch starts a full interval after the last one ended.
func (h *Hub) poll(ctx context.Context, e *hubEntry) {
	failures := 0
	for {
		fctx, cancel := context.WithTimeout(ctx, e.opt.Timeout)
		data, err := e.src.Fetch(fctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil && data == nil {
			err = errNoData
		}
		h.record(e.src, e.opt.Interval, data, err)
		wait := e.opt.Interval
		if err != nil {
			failures++
			h.log.Warn("fetch failed", "source", e.src.Name(), "err", err, "failures", failures)
			wait = backoff(e.opt, failures)
		} else {
			failures = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

type hubError string

func (e hubError) Error() string { return string(e) }

const errNoData = hubError("source returned no data")

// backoff doubles the interval per consecutive failure up to MaxBackoff, with
// ±10% jitter so many cockpits do not retry in lockstep.
func backoff(o PollOptions, failures int) time.Duration {
	d := o.Interval
	for i := 1; i < failures && d < o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.MaxBackoff)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

func (h *Hub) record(src Source, interval time.Duration, data Payload, err error) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.latest[src.Name()]
	s.Source, s.Kind, s.Interval = src.Name(), src.Kind(), interval
	s.Seq++
	if err != nil {
		s.Err, s.ErrAt = err, now
		s.Stale = s.Data != nil
	} else {
		s.Data, s.FetchedAt = data, now
		s.Err, s.ErrAt, s.Stale = nil, time.Time{}, false
	}
	h.latest[src.Name()] = s
	h.fanout.Publish(s)
}

// Latest returns the current snapshot of every source, sorted by name.
func (h *Hub) Latest() []Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Snapshot, 0, len(h.latest))
	for _, s := range h.latest {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// Subscribe returns a subscription primed with every source's current
// snapshot. Close it when done.
func (h *Hub) Subscribe() *Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	prime := make([]Snapshot, 0, len(h.latest))
	for _, s := range h.latest {
		prime = append(prime, s)
	}
	return &Subscription{sub: h.fanout.Subscribe(prime...)}
}

// Subscription receives the latest snapshot of each source. Only the newest
// snapshot per source is kept until read.
type Subscription struct {
	sub *pubsub.Subscription[Snapshot]
}

// Next blocks until at least one source has a snapshot the subscriber has not
// read, and returns all of them (sorted by source name). It returns ctx's
// error when ctx ends, and ErrClosed after Close.
func (s *Subscription) Next(ctx context.Context) ([]Snapshot, error) {
	out, err := s.sub.Next(ctx)
	if errors.Is(err, pubsub.ErrClosed) {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, nil
}

// Close detaches the subscription from the Hub; a blocked Next returns ErrClosed.
func (s *Subscription) Close() { s.sub.Close() }

// ErrClosed is returned by Next after Close.
const ErrClosed = hubError("subscription closed")
