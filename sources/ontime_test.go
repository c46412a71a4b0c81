package sources

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestOnTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	s := Snapshot{Source: "pg", Data: &PGActivity{}, FetchedAt: t0, Interval: 2 * time.Second}
	for _, c := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {2 * time.Second, true}, {3 * time.Second, true}, {3*time.Second + time.Millisecond, false}, {time.Minute, false}} {
		if got := s.OnTime(t0.Add(c.after)); got != c.want {
			t.Errorf("2s interval, %v after the fetch: OnTime %v", c.after, got)
		}
	}
	slow := s
	slow.Interval = 15 * time.Second
	if !slow.OnTime(t0.Add(22*time.Second)) || slow.OnTime(t0.Add(23*time.Second)) {
		t.Error("a 15s interval's grace is half an interval")
	}
	for name, s := range map[string]Snapshot{
		"no interval": {Source: "x", Data: &PGActivity{}, FetchedAt: t0},
		"no data":     {Source: "x", Interval: time.Second},
		"error":       {Source: "x", Data: &PGActivity{}, FetchedAt: t0, Interval: time.Second, Err: errors.New("down")},
		"stale":       {Source: "x", Data: &PGActivity{}, FetchedAt: t0, Interval: time.Second, Stale: true},
	} {
		if s.OnTime(t0) {
			t.Errorf("%s: on time", name)
		}
	}
}

func TestHubSnapshotsCarryTheirInterval(t *testing.T) {
	h := NewHub(nil)
	h.Add(&fakeSource{name: "pg"}, PollOptions{Interval: 7 * time.Millisecond})
	sub := h.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); h.Wait() }()
	h.Start(ctx)
	if s := next(t, sub, "pg", func(s Snapshot) bool { return s.Data != nil }); s.Interval != 7*time.Millisecond {
		t.Fatalf("Interval = %v", s.Interval)
	}
}
