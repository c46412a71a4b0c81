package sources

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSource returns scripted results and counts concurrent fetches.
type fakeSource struct {
	name     string
	mu       sync.Mutex
	results  []error // nil = success
	calls    atomic.Int32
	inFlight atomic.Int32
	maxIn    atomic.Int32
	block    chan struct{} // when set, Fetch waits on it (or ctx)
}

func (f *fakeSource) Name() string { return f.name }
func (f *fakeSource) Kind() Kind   { return KindPostgres }
func (f *fakeSource) Fetch(ctx context.Context) (Payload, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxIn.Load()
		if n <= m || f.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	i := int(f.calls.Add(1)) - 1
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if i < len(f.results) && f.results[i] != nil {
		return nil, f.results[i]
	}
	return &PGActivity{Connections: i}, nil
}

// next waits for a snapshot of source name satisfying ok.
func next(t *testing.T, sub *Subscription, name string, ok func(Snapshot) bool) Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		snaps, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", name, err)
		}
		for _, s := range snaps {
			if s.Source == name && ok(s) {
				return s
			}
		}
	}
}

func TestHubKeepsLastGoodDataOnError(t *testing.T) {
	boom := errors.New("connection refused")
	src := &fakeSource{name: "pg", results: []error{nil, boom, boom, nil}}
	h := NewHub(nil)
	h.Add(src, PollOptions{Interval: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	sub := h.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); h.Wait() }()
	h.Start(ctx)

	first := next(t, sub, "pg", func(s Snapshot) bool { return s.Data != nil })
	if first.Err != nil || first.Stale || first.FetchedAt.IsZero() {
		t.Fatalf("first = %+v", first)
	}
	failed := next(t, sub, "pg", func(s Snapshot) bool { return s.Err != nil })
	if !failed.Stale || failed.Data == nil || !failed.FetchedAt.Equal(first.FetchedAt) || failed.ErrAt.IsZero() {
		t.Fatalf("failed snapshot should keep last good data: %+v", failed)
	}
	if failed.Data.(*PGActivity).Connections != 0 {
		t.Fatalf("data replaced on error")
	}
	rec := next(t, sub, "pg", func(s Snapshot) bool { return s.Err == nil && s.Seq > failed.Seq })
	if rec.Stale || rec.Data.(*PGActivity).Connections != 3 {
		t.Fatalf("recovered = %+v", rec)
	}
}

func TestHubOneFetchInFlightAndTimeout(t *testing.T) {
	src := &fakeSource{name: "slow", block: make(chan struct{})} // never released: every fetch times out
	h := NewHub(nil)
	h.Add(src, PollOptions{Interval: time.Millisecond, Timeout: 5 * time.Millisecond, MaxBackoff: time.Millisecond})
	sub := h.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	h.Start(ctx)
	for i := 0; i < 3; i++ {
		h.Refresh("slow") // refreshes never stack fetches
	}
	s := next(t, sub, "slow", func(s Snapshot) bool { return s.Err != nil })
	if !errors.Is(s.Err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", s.Err)
	}
	next(t, sub, "slow", func(s Snapshot) bool { return s.Seq >= 3 })
	cancel()
	h.Wait()
	if m := src.maxIn.Load(); m != 1 {
		t.Fatalf("max concurrent fetches = %d, want 1 (skip-if-busy)", m)
	}
}

func TestSlowSubscriberNeverBlocksPoller(t *testing.T) {
	src := &fakeSource{name: "pg"}
	h := NewHub(nil)
	h.Add(src, PollOptions{Interval: time.Microsecond})
	slow := h.Subscribe() // never read until the end
	fast := h.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	h.Start(ctx)
	// The poller keeps going although slow never reads.
	next(t, fast, "pg", func(s Snapshot) bool { return s.Seq > 50 })
	cancel()
	h.Wait()
	// The slow subscriber gets just the latest value, not a backlog.
	snaps, err := slow.Next(context.Background())
	if err != nil || len(snaps) != 1 || snaps[0].Seq < 50 {
		t.Fatalf("slow subscriber got %d snapshots, %v", len(snaps), err)
	}
}

func TestSubscriptionCloseUnblocksNext(t *testing.T) {
	h := NewHub(nil)
	sub := h.Subscribe()
	done := make(chan error)
	go func() { _, err := sub.Next(context.Background()); done <- err }()
	sub.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v", err)
	}
}

type pushSource struct{ fakeSource }

func (p *pushSource) Run(ctx context.Context, publish func(Payload, error)) {
	publish(&RolloutSet{Context: "a"}, nil)
	publish(nil, errors.New("watch expired"))
	<-ctx.Done()
}

func TestHubRunsPushers(t *testing.T) {
	h := NewHub(nil)
	h.Add(&pushSource{fakeSource{name: "kube"}}, PollOptions{})
	sub := h.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); h.Wait() }()
	h.Start(ctx)
	s := next(t, sub, "kube", func(s Snapshot) bool { return s.Err != nil })
	if !s.Stale || s.Data.(*RolloutSet).Context != "a" {
		t.Fatalf("push snapshot = %+v", s)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	o := PollOptions{Interval: time.Second, MaxBackoff: 8 * time.Second}.withDefaults()
	prev := time.Duration(0)
	for f := 1; f <= 6; f++ {
		d := backoff(o, f)
		if d < prev*8/10 || d > o.MaxBackoff*11/10 {
			t.Fatalf("failure %d: backoff %v (prev %v)", f, d, prev)
		}
		prev = d
	}
	if d := backoff(o, 10); d < 7*time.Second {
		t.Fatalf("not capped near max: %v", d)
	}
}

// TestHubSaysHowLongItHasWaited: before a slow source's first answer its
// snapshot says when polling began and the fetch's timeout, to subscribers
// from before Start and from after, so a pane can show "waiting for prom…
// 23s (timeout 1m)"; a pushed source has no timeout.
func TestHubSaysHowLongItHasWaited(t *testing.T) {
	slow := &fakeSource{name: "prom", block: make(chan struct{})}
	push := &pushSource{fakeSource{name: "kube"}}
	h := NewHub(nil)
	t0 := time.Date(2025, 3, 14, 3, 12, 0, 0, time.UTC)
	h.now = func() time.Time { return t0 }
	h.Add(slow, PollOptions{Interval: 15 * time.Second, Timeout: time.Minute})
	h.Add(push, PollOptions{})
	early := h.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); close(slow.block); h.Wait() }()
	h.Start(ctx)
	late := h.Subscribe()
	for _, sub := range []*Subscription{early, late} {
		s := next(t, sub, "prom", func(s Snapshot) bool { return !s.PollingSince.IsZero() })
		if !s.PollingSince.Equal(t0) || s.Timeout != time.Minute || s.Data != nil || s.Err != nil {
			t.Errorf("waiting snapshot %+v", s)
		}
	}
	for _, s := range h.Latest() {
		if s.Source == "kube" && (s.Timeout != 0 || !s.PollingSince.Equal(t0)) {
			t.Errorf("pushed source %+v", s)
		}
	}
}
