package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	// Retention bounds the journal on disk (rotate.go); zero fields take
	// the defaults.
	Retention Retention
	// FlapWindow and FlapAfter say when a subject is flapping (flap.go):
	// FlapAfter changes within FlapWindow. Zero takes the defaults.
	FlapWindow time.Duration
	FlapAfter  int
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
// changes and appends them to the event journal. One per World; and one
// per journal file across processes: a second cockpit on the same file
// stands by (Err says so) and takes over when the first stops.
type Recorder struct {
	path     string
	ret      Retention
	th       Thresholds
	now      func() time.Time
	log      *slog.Logger
	instance string // this process's recorder, in its start and stop lines
	flaps    *flapper

	mu       sync.Mutex
	j        appender // nil while another process holds the journal
	lock     *journalLock
	busy     error     // why j is nil: another recorder writes the file
	retry    time.Time // when to try for the lock again
	stopping bool      // the stop line is being written: no taking over now
	live     time.Time // the oldest record in the live file, for MaxAge
	pending  []Event
	dropped  int
	err      error
	closed   bool
	cancel   context.CancelFunc
	done     chan struct{}
	// state is what the recorder knows of the world now: every session
	// reads burn starts from it (BurnStart), so they agree with the
	// timeline whenever they joined.
	state State
}

// Open opens (creating as needed) the event journal at path, usually
// EventsPath(audit journal path), and returns a Recorder writing to it.
// When another flightdeck already records to path, the Recorder stands by:
// it follows the world (BurnStart) but writes nothing, Err says who holds
// the journal, and it takes over once that one stops.
func Open(path string, o Options) (*Recorder, error) {
	r := newRecorder(nil, o)
	r.path, r.ret = path, o.Retention.withDefaults()
	lock, holder, err := tryLock(path, r.instance)
	if err != nil {
		return nil, fmt.Errorf("event journal: %w", err)
	}
	if lock == nil {
		r.standBy(holder)
		return r, nil
	}
	if err := r.openLocked(lock); err != nil {
		lock.release()
		return nil, fmt.Errorf("event journal: %w", err)
	}
	return r, nil
}

// openLocked opens the journal once the lock is held, rotating first if
// it is already past retention. r.mu is held or r is not yet shared.
func (r *Recorder) openLocked(lock *journalLock) error {
	r.lock = lock
	if err := r.rotateIfDue(); err != nil {
		r.log.Warn("event journal not rotated", "path", r.path, "err", err)
	}
	j, err := jsonl.OpenWith(r.path, jsonl.Options{Log: r.log})
	if err != nil {
		return err
	}
	r.j, r.busy = j, nil
	r.live = firstRecordTime(r.path)
	return nil
}

// standBy notes that another process writes the journal. r.mu is held or
// r is not yet shared.
func (r *Recorder) standBy(holder string) {
	r.busy = fmt.Errorf("not recording: %s is written by another flightdeck (%s); this one takes over when it stops", r.path, holder)
	r.retry = r.now().Add(lockRetry)
	r.log.Warn("flight recorder standing by", "path", r.path, "holder", holder)
}

// lockRetry is how often a standing-by recorder tries for the journal.
const lockRetry = 5 * time.Second

func newRecorder(j appender, o Options) *Recorder {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{j: j, th: o.Thresholds.withDefaults(), now: o.Now, log: o.Log,
		instance: newInstanceID(), flaps: newFlapper(o.FlapWindow, o.FlapAfter)}
}

// BurnStart is when the SLO slo of source began its current burn, as this
// recorder saw it (StartsBurn): the same start the timeline shows, for
// every session whenever it joined. known is false while the SLO is not
// burning, or was already burning when the recorder first saw it. Safe for
// concurrent use, and on a nil Recorder (nothing known).
func (r *Recorder) BurnStart(source, slo string) (since time.Time, known bool) {
	if r == nil {
		return time.Time{}, false
	}
	r.mu.Lock()
	f := r.state.Sources[source].SLOs[slo]
	r.mu.Unlock()
	return f.BurnSince, !f.BurnSince.IsZero()
}

// Instance names this recorder in its start and stop lines: two cockpits
// that recorded one after the other to one file are told apart.
func (r *Recorder) Instance() string { return r.instance }

// Path is the event journal's file.
func (r *Recorder) Path() string {
	if r.path != "" {
		return r.path
	}
	return r.j.Path()
}

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
	r.mu.Lock()
	if r.j != nil {
		r.pending = append(r.pending, r.startEvent(""))
	}
	r.mu.Unlock()
	r.write(nil)
	var state State
	for {
		snaps, err := updates.Next(ctx)
		if err != nil {
			now := r.now()
			r.mu.Lock()
			r.stopping = true
			r.mu.Unlock()
			stop := append(r.flaps.flush(now), Event{Time: now, Kind: RecorderStopped, Instance: r.instance,
				Summary: fmt.Sprintf("flight recorder stopped (pid %d, instance %s)", os.Getpid(), r.instance)})
			r.write(stop)
			if ctx.Err() != nil || errors.Is(err, sources.ErrClosed) {
				return nil
			}
			return err
		}
		next := Advance(state, snaps, r.th)
		r.mu.Lock()
		r.state = next
		r.mu.Unlock()
		r.write(r.flaps.filter(Detect(state, next), r.now()))
		state = next
	}
}

func (r *Recorder) startEvent(tookOver string) Event {
	e := Event{Time: r.now(), Kind: RecorderStarted, Instance: r.instance,
		Summary: fmt.Sprintf("flight recorder started (pid %d, instance %s): nothing before this was recorded", os.Getpid(), r.instance)}
	if tookOver != "" {
		e.Summary = fmt.Sprintf("flight recorder started (pid %d, instance %s), taking over from %s: nothing between its stop and this was recorded", os.Getpid(), r.instance, tookOver)
	}
	return e
}

// write appends events, first any held back by an earlier failure. While
// the journal fails, events wait in a bounded queue; if it overflows, the
// oldest go and their number is written once the journal works again.
// While another process holds the journal, events are that process's to
// write: they are let go.
func (r *Recorder) write(events []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	switch {
	case r.j == nil && r.lock == nil:
		if !r.takeOver() {
			return
		}
	case r.j == nil:
		// Ours, but a rotation could not reopen it: hold the events and
		// try again.
		r.pending = append(r.pending, events...)
		j, err := jsonl.OpenWith(r.path, jsonl.Options{Log: r.log})
		if err != nil {
			r.fail(err)
			r.trimPending()
			return
		}
		r.j, events = j, nil
	}
	r.pending = append(r.pending, events...)
	r.trimPending()
	if err := r.rotateIfDue(); err != nil {
		r.log.Warn("event journal not rotated", "path", r.path, "err", err)
		if r.j == nil {
			r.fail(err) // the events wait in pending
			return
		}
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
		if r.live.IsZero() {
			r.live = r.pending[0].Time
		}
		r.pending = r.pending[1:]
	}
	r.err = nil
}

// trimPending drops the oldest held events past maxPending, counting them.
func (r *Recorder) trimPending() {
	if over := len(r.pending) - maxPending; over > 0 {
		r.pending = append(r.pending[:0], r.pending[over:]...)
		r.dropped += over
	}
}

// takeOver tries, at most every lockRetry, for a journal another process
// held; it reports whether this recorder now writes it. r.mu is held.
func (r *Recorder) takeOver() bool {
	if r.path == "" || r.stopping || r.now().Before(r.retry) {
		return false
	}
	lock, holder, err := tryLock(r.path, r.instance)
	if err != nil || lock == nil {
		if err != nil {
			holder = err.Error()
		}
		r.standBy(holder)
		return false
	}
	prev := r.busy
	if err := r.openLocked(lock); err != nil {
		lock.release()
		r.lock = nil
		r.fail(err)
		r.retry = r.now().Add(lockRetry)
		return false
	}
	r.log.Info("flight recorder took over the event journal", "path", r.path, "was", prev)
	r.pending = append(r.pending, r.startEvent("the flightdeck that held it"))
	return true
}

// rotateIfDue rotates the live file once it is past MaxSize, or its
// oldest record past MaxAge, and prunes rotated files past retention.
// r.mu is held (or r not yet shared) and r.lock is ours.
func (r *Recorder) rotateIfDue() error {
	if r.path == "" || r.lock == nil {
		return nil
	}
	st, err := os.Stat(r.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	now := r.now()
	if st.Size() == 0 || (st.Size() < r.ret.MaxSize && (r.live.IsZero() || now.Sub(r.live) < r.ret.MaxAge)) {
		return nil
	}
	if r.j != nil {
		if err := r.j.Close(); err != nil {
			r.log.Warn("closing the event journal to rotate it", "err", err)
		}
		r.j = nil
	}
	to := rotatedName(r.path, now)
	rerr := os.Rename(r.path, to)
	j, err := jsonl.OpenWith(r.path, jsonl.Options{Log: r.log})
	if err != nil {
		return errors.Join(rerr, err) // r.j stays nil: write reopens it
	}
	r.j = j
	if rerr != nil {
		return rerr // still writing, to the same file
	}
	r.live = time.Time{}
	r.log.Info("event journal rotated", "to", to)
	gone, err := prune(r.path, r.ret, now)
	for _, g := range gone {
		r.log.Info("rotated event journal past retention removed", "path", g)
	}
	return err
}

func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.log.Error("event journal write failed; holding events", "path", r.j.Path(), "err", err)
	}
	r.err = err
}

// Err is the latest journal write error, nil once writes succeed again,
// or why this recorder stands by (another flightdeck writes the journal):
// for the status bar to say the recorder is not recording.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil && r.j == nil && r.busy != nil {
		return r.busy
	}
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
	var err error
	if r.j != nil {
		err = r.j.Close()
	}
	if r.lock != nil {
		r.lock.release()
	}
	return err
}
