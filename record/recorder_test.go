package record

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"flightdeck/sources"
)

// flaky is a journal that fails while broken is set.
type flaky struct {
	mu     sync.Mutex
	broken bool
	got    []Event
	closed bool
}

func (f *flaky) Append(v any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return errors.New("no space left on device")
	}
	f.got = append(f.got, v.(Event))
	return nil
}
func (f *flaky) Path() string { return "/flaky" }
func (f *flaky) Close() error { f.closed = true; return nil }

func TestWriteFailureHoldsEventsThenCountsTheLoss(t *testing.T) {
	j := &flaky{broken: true}
	r := newRecorder(j, Options{Now: func() time.Time { return t0 }})
	r.write([]Event{{Kind: AlertFiring, Subject: "a"}})
	if r.Err() == nil || len(j.got) != 0 {
		t.Fatalf("err %v, written %d", r.Err(), len(j.got))
	}
	j.broken = false
	r.write([]Event{{Kind: AlertResolved, Subject: "a"}})
	if r.Err() != nil || len(j.got) != 2 || j.got[0].Kind != AlertFiring || j.got[1].Kind != AlertResolved {
		t.Fatalf("after repair: err %v, %+v", r.Err(), j.got)
	}

	// Beyond maxPending the oldest go, and the loss is written first.
	j.broken, j.got = true, nil
	for i := range maxPending + 7 {
		r.write([]Event{{Kind: SLOLevelChanged, Count: i}})
	}
	j.broken = false
	r.write(nil)
	if len(j.got) != maxPending+1 {
		t.Fatalf("%d written", len(j.got))
	}
	if d := j.got[0]; d.Kind != EventsDropped || d.Count != 7 || d.Summary != "7 events lost: the event journal could not be written" {
		t.Errorf("loss event %+v", d)
	}
	if j.got[1].Count != 7 || j.got[maxPending].Count != maxPending+6 {
		t.Errorf("kept the wrong events: first %d last %d", j.got[1].Count, j.got[maxPending].Count)
	}
}

// blocking is a subscription with nothing new: Next waits for ctx.
type blocking struct{ batches chan []sources.Snapshot }

func (b blocking) Next(ctx context.Context) ([]sources.Snapshot, error) {
	select {
	case s := <-b.batches:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestStartAndCloseWriteStartAndStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != path {
		t.Errorf("Path %q", r.Path())
	}
	up := blocking{batches: make(chan []sources.Snapshot)}
	r.Start(context.Background(), up)
	up.batches <- []sources.Snapshot{alerts(0)}
	up.batches <- []sources.Snapshot{alerts(1, alert("HighErrorRate", sources.AlertFiring, 1))}
	// Run takes a batch, records it, then waits in Next: so after the last
	// send, Close (which cancels that wait) loses nothing.
	up.batches <- []sources.Snapshot{alerts(2)}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	evs, damage, err := ReadEvents(path)
	if err != nil || len(damage) > 0 {
		t.Fatal(err, damage)
	}
	var kinds []EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []EventKind{RecorderStarted, AlertFiring, AlertResolved, RecorderStopped}
	if len(kinds) != len(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds %v, want %v", kinds, want)
		}
	}
}

type broken struct{}

func (broken) Next(context.Context) ([]sources.Snapshot, error) {
	return nil, errors.New("hub exploded")
}

func TestRunReportsAnUnexpectedError(t *testing.T) {
	j := &flaky{}
	r := newRecorder(j, Options{})
	if err := r.Run(context.Background(), broken{}); err == nil || err.Error() != "hub exploded" {
		t.Errorf("Run = %v", err)
	}
	if len(j.got) != 2 || j.got[1].Kind != RecorderStopped {
		t.Errorf("events %+v", j.got)
	}
}

// The real Hub: a closed subscription ends Run cleanly.
func TestRunOnHubSubscription(t *testing.T) {
	hub := sources.NewHub(nil)
	sub := hub.Subscribe()
	j := &flaky{}
	r := newRecorder(j, Options{})
	done := make(chan error)
	go func() { done <- r.Run(context.Background(), sub) }()
	sub.Close()
	if err := <-done; err != nil {
		t.Errorf("Run after Close = %v", err)
	}
}
