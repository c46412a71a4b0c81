package opstest

import (
	"context"
	"slices"
	"sync"

	"flightdeck/ops"
)

var _ ops.Notifier = (*FakeNotifier)(nil)

// FakeNotifier is a set of notify sinks that records what it is sent.
type FakeNotifier struct {
	sinks []string
	mu    sync.Mutex
	sent  []Sent
	fail  error
}

// Sent is one notification a FakeNotifier was given.
type Sent struct {
	Sink, Who string
	Note      ops.Notification
}

// NewFakeNotifier has the sinks named.
func NewFakeNotifier(sinks ...string) *FakeNotifier { return &FakeNotifier{sinks: sinks} }

// Sinks are the sink names.
func (f *FakeNotifier) Sinks() []string { return slices.Clone(f.sinks) }

// Fail makes every later send fail with err (nil: succeed again).
func (f *FakeNotifier) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// SendNote records n, or fails as told.
func (f *FakeNotifier) SendNote(_ context.Context, sink, who string, n ops.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.sent = append(f.sent, Sent{Sink: sink, Who: who, Note: n})
	return nil
}

// Sent is every notification sent so far.
func (f *FakeNotifier) Sent() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}
