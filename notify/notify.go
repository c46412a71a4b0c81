// Package notify tells the world outside the cockpit what happens on the
// incident: action outcomes, co-sign requests, runbook runs, commander
// changes, announced notes, pages, and what a runbook's notify step says.
// A Sink delivers (a Slack-compatible incoming webhook, a generic JSON
// webhook, an AWS SNS topic); a Notifier routes each Event to the sinks
// whose rules choose its kind.
//
// Delivery never blocks whoever notifies: each sink has its own bounded
// queue (internal/pubsub, the oldest dropped and counted when it is full)
// and its own goroutine; an attempt costs at most its timeout, a failed one
// is retried with backoff, and a delivery that failed for good is handed to
// OnFailure (the status bar, the journal). A hung sink costs its own
// timeouts and nothing else. Webhook URLs are secrets: an error never
// quotes one (internal/redact).
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"flightdeck/internal/pubsub"
	"flightdeck/internal/redact"
)

// Kind is what an Event is about; a sink's rules choose kinds.
type Kind string

// The kinds of Event (config's notify.sinks[].events).
const (
	Action    Kind = "action"    // an action's outcome
	CoSign    Kind = "cosign"    // a co-sign request opened
	Runbook   Kind = "runbook"   // a runbook run started or ended
	Commander Kind = "commander" // who commands changed
	Note      Kind = "note"      // a note marked to announce
	Page      Kind = "page"      // a page fired or resolved
	Step      Kind = "step"      // a runbook notify step (addressed to one sink)
)

// Kinds are every Kind, in config's order.
var Kinds = []Kind{Action, CoSign, Runbook, Commander, Note, Page, Step}

// Event is one notification.
type Event struct {
	Kind Kind      `json:"kind"`
	At   time.Time `json:"at"`
	// Environment is where it happened ("production").
	Environment string `json:"environment,omitempty"`
	// Who did it: a user name, "" for the system (a page).
	Who string `json:"who,omitempty"`
	// Subject is one short line (an SNS subject, a chat message's first
	// line): "Failover to DR completed successfully".
	Subject string `json:"subject"`
	// Text is the body; "" sends Subject alone.
	Text string `json:"text,omitempty"`
	// Failed marks a bad outcome (a failed action, a page firing).
	Failed bool `json:"failed,omitempty"`
}

// Line is the event as one chat line: "[production] alice: subject".
func (e Event) Line() string {
	s := e.Subject
	if e.Who != "" {
		s = e.Who + ": " + s
	}
	if e.Environment != "" {
		s = "[" + e.Environment + "] " + s
	}
	return s
}

// body is the event's text for sinks that carry one message.
func (e Event) body() string {
	if e.Text == "" {
		return e.Line()
	}
	return e.Line() + "\n" + e.Text
}

// Bounds on what an Event carries out: a subject fits SNS's 100
// characters, a body stays far below every service's limit.
const (
	MaxSubject = 100
	MaxText    = 4000
)

// bounded is e with Subject and Text cut to their bounds.
func (e Event) bounded() Event {
	e.Subject = cut(e.Subject, MaxSubject)
	e.Text = cut(e.Text, MaxText)
	return e
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Sink delivers one event, within ctx.
type Sink interface {
	// Name tells the sink apart (config's name).
	Name() string
	// Send delivers e. Its error must not quote a secret (a webhook URL).
	Send(ctx context.Context, e Event) error
}

// Route is a sink with the kinds it takes; no kinds takes every kind but
// Step, which only reaches the sink it names.
type Route struct {
	Sink  Sink
	Kinds []Kind
}

// takes reports whether the route's rules choose e, addressed to sink
// ("" for every sink).
func (r Route) takes(e Event, sink string) bool {
	if sink != "" {
		return sink == r.Sink.Name()
	}
	if e.Kind == Step {
		return false
	}
	return len(r.Kinds) == 0 || slices.Contains(r.Kinds, e.Kind)
}

// Failure is a delivery that failed for good.
type Failure struct {
	Sink     string
	Event    Event
	Attempts int
	Took     time.Duration
	Err      error
	// Dropped says the event never got a try: the sink's queue was full.
	Dropped bool
}

// String is the status-bar line.
func (f Failure) String() string {
	if f.Dropped {
		return fmt.Sprintf("notify %s: queue full, %q dropped", f.Sink, f.Event.Subject)
	}
	return fmt.Sprintf("notify %s: %q not delivered after %d attempt(s) in %s: %v", f.Sink, f.Event.Subject, f.Attempts, f.Took.Round(time.Millisecond), f.Err)
}

// Options tune delivery; zero fields take the defaults.
type Options struct {
	// Timeout bounds one attempt (default 5s).
	Timeout time.Duration
	// Retries is how many more attempts a failed delivery gets (default
	// 2; negative means none).
	Retries int
	// Backoff is the wait before the first retry, doubled after each
	// (default 500ms, at most 30s).
	Backoff time.Duration
	// Queue is how many events may wait per sink (default 64).
	Queue int
	// OnFailure is told of every delivery that failed for good, from the
	// sink's goroutine; it must not block for long.
	OnFailure func(Failure)
	Log       *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Queue <= 0 {
		o.Queue = 64
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// maxBackoff caps the wait between retries.
const maxBackoff = 30 * time.Second

// Notifier routes events to sinks. Notify never blocks; Send waits for
// one sink's delivery (a runbook step reports how it went).
type Notifier struct {
	o      Options
	routes []Route
	queues []*pubsub.Broker[Event]
	subs   []*pubsub.Subscription[Event]
	wg     sync.WaitGroup
	once   sync.Once
}

// ErrNoSink is Send to a sink no route has.
var ErrNoSink = errors.New("no such notify sink")

// New returns a Notifier over routes; Start begins delivering.
func New(routes []Route, o Options) *Notifier {
	n := &Notifier{o: o.withDefaults(), routes: routes}
	for range routes {
		b := pubsub.New(pubsub.Queue[Event](n.o.Queue))
		n.queues = append(n.queues, b)
		n.subs = append(n.subs, b.Subscribe())
	}
	return n
}

// Sinks are the names of the sinks, in config order.
func (n *Notifier) Sinks() []string {
	if n == nil {
		return nil
	}
	out := make([]string, len(n.routes))
	for i, r := range n.routes {
		out[i] = r.Sink.Name()
	}
	return out
}

// Start runs one delivery goroutine per sink until ctx ends; Wait waits for
// them.
func (n *Notifier) Start(ctx context.Context) {
	n.once.Do(func() {
		for i := range n.routes {
			n.wg.Add(1)
			go n.deliver(ctx, i)
		}
		context.AfterFunc(ctx, func() {
			for _, b := range n.queues {
				b.Close(nil)
			}
		})
	})
}

// Wait blocks until every delivery goroutine has stopped.
func (n *Notifier) Wait() { n.wg.Wait() }

// Notify queues e for every sink whose rules choose it and returns at
// once. A nil Notifier does nothing.
func (n *Notifier) Notify(e Event) {
	if n == nil {
		return
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e = e.bounded()
	for i, r := range n.routes {
		if r.takes(e, "") {
			n.queues[i].Publish(e)
		}
	}
}

// Send delivers e to the sink called sink now, with the same timeout and
// retries as a queued delivery, and returns how it went. Call it off the
// UI goroutine (a runbook notify step runs in a tea.Cmd).
func (n *Notifier) Send(ctx context.Context, sink string, e Event) error {
	if n == nil {
		return ErrNoSink
	}
	for _, r := range n.routes {
		if r.Sink.Name() == sink {
			if e.At.IsZero() {
				e.At = time.Now()
			}
			f, ok := n.attempt(ctx, r.Sink, e.bounded())
			if !ok {
				return f.Err
			}
			return nil
		}
	}
	return fmt.Errorf("%w %q", ErrNoSink, sink)
}

// deliver is sink i's goroutine: each queued event is attempted, retried,
// and reported when it fails for good.
func (n *Notifier) deliver(ctx context.Context, i int) {
	defer n.wg.Done()
	sub, sink := n.subs[i], n.routes[i].Sink
	var reported uint64
	for {
		evs, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if d := sub.Dropped(); d > reported {
			reported = d
			n.fail(Failure{Sink: sink.Name(), Event: evs[0], Dropped: true, Err: errors.New("queue full")})
		}
		for _, e := range evs {
			if f, ok := n.attempt(ctx, sink, e); !ok && ctx.Err() == nil {
				n.fail(f)
			}
		}
	}
}

// attempt tries e on sink up to 1+Retries times, each bounded by Timeout,
// backing off between them.
func (n *Notifier) attempt(ctx context.Context, sink Sink, e Event) (Failure, bool) {
	start := time.Now()
	wait := n.o.Backoff
	var err error
	tries := 0
	for tries <= n.o.Retries {
		tries++
		actx, cancel := context.WithTimeout(ctx, n.o.Timeout)
		err = sink.Send(actx, e)
		if err == nil && actx.Err() != nil {
			err = actx.Err() // a sink that ignored its deadline
		}
		if errors.Is(err, context.DeadlineExceeded) || err != nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", n.o.Timeout)
		}
		cancel()
		if err == nil {
			n.o.Log.Debug("notified", "sink", sink.Name(), "kind", e.Kind, "attempts", tries)
			return Failure{}, true
		}
		n.o.Log.Warn("notify attempt failed", "sink", sink.Name(), "attempt", tries, "err", err)
		if tries > n.o.Retries || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait = min(wait*2, maxBackoff)
	}
	return Failure{Sink: sink.Name(), Event: e, Attempts: tries, Took: time.Since(start), Err: err}, false
}

func (n *Notifier) fail(f Failure) {
	n.o.Log.Error("notification not delivered", "failure", f.String())
	if n.o.OnFailure != nil {
		n.o.OnFailure(f)
	}
}

// scrubbed is err's message with the secrets masked, as an error.
func scrubbed(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	return errors.New(redact.Scrub(redact.Error(err).Error(), secrets...))
}
