package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"flightdeck/internal/jsonl"
	"flightdeck/sources"
)

// Updates is where the recorder reads snapshots from: a *sources.Subscription
// (Hub.Subscribe), with its latest-value semantics. A change that comes and
// goes between two reads is not seen; state changes that last at least one
// poll are.
type Updates interface {
	Next(ctx context.Context) ([]sources.Snapshot, error)
}

// Options configure a Recorder.
type Options struct {
	Thresholds Thresholds
	// Now stamps the recorder's own start and stop events; default
	// time.Now. Every other event carries its snapshot's time.
	Now func() time.Time
	Log *slog.Logger
}

// appender is the journal as the recorder uses it (jsonl.Writer).
type appender interface {
	Append(v any) error
	Path() string
	Close() error
}

// maxPending bounds the events held while the journal cannot be written;
// beyond it the oldest are dropped and counted (an EventsDropped event).
const maxPending = 1000

// Recorder is the flight recorder: it reads Hub snapshots, detects state
// changes and appends them to the event journal. One per World.
type Recorder struct {
	j   appender
	th  Thresholds
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	pending []Event
	dropped int
	err     error
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Open opens (creating as needed) the event journal at path, usually
// EventsPath(audit journal path), and returns a Recorder writing to it.
func Open(path string, o Options) (*Recorder, error) {
	j, err := jsonl.OpenWith(path, jsonl.Options{Log: o.Log})
	if err != nil {
		return nil, fmt.Errorf("event journal: %w", err)
	}
	return newRecorder(j, o), nil
}

func newRecorder(j appender, o Options) *Recorder {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{j: j, th: o.Thresholds.withDefaults(), now: o.Now, log: o.Log}
}

// Path is the event journal's file.
func (r *Recorder) Path() string { return r.j.Path() }

// Repairs are the repairs made to the event journal's tail when it opened
// (see jsonl.Repair), for the caller to show.
func (r *Recorder) Repairs() []jsonl.Repair {
	if w, ok := r.j.(interface{ Repairs() []jsonl.Repair }); ok {
		return w.Repairs()
	}
	return nil
}

// Start runs the recorder in its own goroutine until ctx ends or Close.
// Call it at most once, and not together with Run.
func (r *Recorder) Start(ctx context.Context, updates Updates) {
	ctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.cancel, r.done = cancel, make(chan struct{})
	r.mu.Unlock()
	go func() {
		defer close(r.done)
		if err := r.Run(ctx, updates); err != nil {
			r.log.Error("flight recorder stopped", "err", err)
		}
	}()
}

// Run records until ctx ends or updates is closed (both a normal stop,
// returning nil), then writes a RecorderStopped event. It blocks; see Start.
func (r *Recorder) Run(ctx context.Context, updates Updates) error {
	r.write([]Event{{Time: r.now(), Kind: RecorderStarted, Summary: "flight recorder started: nothing before this was recorded"}})
	var state State
	for {
		snaps, err := updates.Next(ctx)
		if err != nil {
			r.write([]Event{{Time: r.now(), Kind: RecorderStopped, Summary: "flight recorder stopped"}})
			if ctx.Err() != nil || errors.Is(err, sources.ErrClosed) {
				return nil
			}
			return err
		}
		next := Advance(state, snaps, r.th)
		r.write(Detect(state, next))
		state = next
	}
}

// write appends events, first any held back by an earlier failure. While
// the journal fails, events wait in a bounded queue; if it overflows, the
// oldest go and their number is written once the journal works again.
func (r *Recorder) write(events []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, events...)
	if over := len(r.pending) - maxPending; over > 0 {
		r.pending = append(r.pending[:0], r.pending[over:]...)
		r.dropped += over
	}
	if r.closed {
		return
	}
	if r.dropped > 0 {
		e := Event{Time: r.now(), Kind: EventsDropped, Count: r.dropped,
			Summary: fmt.Sprintf("%d events lost: the event journal could not be written", r.dropped)}
		if err := r.j.Append(e); err != nil {
			r.fail(err)
			return
		}
		r.dropped = 0
	}
	for len(r.pending) > 0 {
		if err := r.j.Append(r.pending[0]); err != nil {
			r.fail(err)
			return
		}
		r.pending = r.pending[1:]
	}
	r.err = nil
}

func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.log.Error("event journal write failed; holding events", "path", r.j.Path(), "err", err)
	}
	r.err = err
}

// Err is the latest journal write error, nil once writes succeed again: for
// the status bar to say the recorder is not recording.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops a recorder started with Start (waiting for its stop event to
// be written) and closes the journal. With Run, cancel its ctx and let it
// return first.
func (r *Recorder) Close() error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if len(r.pending) > 0 || r.dropped > 0 {
		r.log.Error("event journal closed with events unwritten", "pending", len(r.pending), "dropped", r.dropped)
	}
	return r.j.Close()
}
