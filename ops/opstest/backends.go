package opstest

import (
	"context"
	"sync"
	"time"

	"flightdeck/sources"
)

// Signal is one signal a FakeBackends accepted.
type Signal struct {
	PID       int32
	Terminate bool
}

// FakeBackends is an in-memory ops.BackendSignaler over a set of live
// backends. A signal only lands when the pid still has the backend_start it
// was sent with, as the real source checks in the same statement; a
// terminated backend is gone.
type FakeBackends struct {
	mu        sync.Mutex
	backends  map[int32]sources.Backend
	signals   []Signal
	lookupErr error
	onSignal  func()
}

// NewFakeBackends returns a fake whose live backends are bs.
func NewFakeBackends(bs ...sources.Backend) *FakeBackends {
	f := &FakeBackends{backends: map[int32]sources.Backend{}}
	for _, b := range bs {
		f.backends[b.PID] = b
	}
	return f
}

// Backend is the live backend with pid, as the fake has it now.
func (f *FakeBackends) Backend(pid int32) (sources.Backend, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.backends[pid]
	return b, ok
}

// Put adds b, or replaces the backend with its pid (a pid reused by a new
// backend when b.BackendStart differs).
func (f *FakeBackends) Put(b sources.Backend) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backends[b.PID] = b
}

// Remove ends the backend with pid, as if its client disconnected.
func (f *FakeBackends) Remove(pid int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.backends, pid)
}

// FailLookups makes LookupBackends return err (a hung or unreachable
// database); nil restores it.
func (f *FakeBackends) FailLookups(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookupErr = err
}

// OnSignal runs fn at the start of every SignalBackend, outside the fake's
// lock: a test changes the world between the re-check and the signal.
func (f *FakeBackends) OnSignal(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onSignal = fn
}

// Signals are the signals that landed, in order.
func (f *FakeBackends) Signals() []Signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Signal(nil), f.signals...)
}

// SignalledPIDs are the pids of the signals that landed, in order.
func (f *FakeBackends) SignalledPIDs() []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int32, len(f.signals))
	for i, s := range f.signals {
		out[i] = s.PID
	}
	return out
}

// LookupBackends returns the live backends among pids.
func (f *FakeBackends) LookupBackends(_ context.Context, pids []int32) ([]sources.Backend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lookupErr != nil {
		return nil, f.lookupErr
	}
	var out []sources.Backend
	for _, p := range pids {
		if b, ok := f.backends[p]; ok {
			out = append(out, b)
		}
	}
	return out, nil
}

// SignalBackend signals pid if it still started at start.
func (f *FakeBackends) SignalBackend(_ context.Context, pid int32, start time.Time, terminate bool) (bool, error) {
	f.mu.Lock()
	hook := f.onSignal
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.backends[pid]
	if !ok || !b.BackendStart.Equal(start) {
		return false, nil
	}
	f.signals = append(f.signals, Signal{PID: pid, Terminate: terminate})
	if terminate {
		delete(f.backends, pid)
	}
	return true, nil
}
