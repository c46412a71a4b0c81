package ops

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"flightdeck/sources"
)

// fakePG is an in-memory BackendSignaler.
type fakePG struct {
	mu       sync.Mutex
	backends map[int32]sources.Backend
	signals  []string
	onSignal func()
}

func newFakePG(bs ...sources.Backend) *fakePG {
	f := &fakePG{backends: map[int32]sources.Backend{}}
	for _, b := range bs {
		f.backends[b.PID] = b
	}
	return f
}

func (f *fakePG) LookupBackends(_ context.Context, pids []int32) ([]sources.Backend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sources.Backend
	for _, p := range pids {
		if b, ok := f.backends[p]; ok {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakePG) SignalBackend(_ context.Context, pid int32, start time.Time, terminate bool) (bool, error) {
	if f.onSignal != nil {
		f.onSignal()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.backends[pid]
	if !ok || !b.BackendStart.Equal(start) {
		return false, nil
	}
	f.signals = append(f.signals, fmt.Sprintf("%v:%d", terminate, pid))
	if terminate {
		delete(f.backends, pid)
	}
	return true, nil
}

// fakeKube is an in-memory RolloutController.
type fakeKube struct {
	mu    sync.Mutex
	deps  map[string]sources.Deployment
	calls []string
	err   error
}

func (f *fakeKube) GetDeployment(_ context.Context, ns, name string) (sources.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.deps[ns+"/"+name]
	if !ok {
		return d, errors.New("not found")
	}
	return d, nil
}
func (f *fakeKube) PreviewUndo(_ context.Context, ns, name string, to int64) ([]string, []string, error) {
	return []string{fmt.Sprintf("image: v5.1.0 → v5.0.0 (rev %d)", to)}, []string{"server dry run: ok"}, nil
}
func (f *fakeKube) record(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return f.err
}
func (f *fakeKube) Undo(_ context.Context, ns, name string, to int64) error {
	return f.record(fmt.Sprintf("undo %s/%s %d", ns, name, to))
}
func (f *fakeKube) Restart(_ context.Context, ns, name string, at time.Time) error {
	return f.record("restart " + ns + "/" + name)
}
func (f *fakeKube) Scale(_ context.Context, ns, name string, n int32) error {
	return f.record(fmt.Sprintf("scale %s/%s %d", ns, name, n))
}
func (f *fakeKube) SetPaused(_ context.Context, ns, name string, p bool) error {
	return f.record(fmt.Sprintf("paused %s/%s %v", ns, name, p))
}

// fakeAM is an in-memory Silencer with Alertmanager's matcher semantics.
type fakeAM struct {
	mu       sync.Mutex
	alerts   []sources.Alert
	silences map[string]sources.Silence
}

func (f *fakeAM) MatchingAlerts(_ context.Context, ms []sources.Matcher) ([]sources.Alert, error) {
	var out []sources.Alert
	for _, a := range f.alerts {
		ok := true
		for _, m := range ms {
			v := a.Label(m.Name)
			var hit bool
			if m.IsRegex {
				hit = regexp.MustCompile("^(?:" + m.Value + ")$").MatchString(v)
			} else {
				hit = v == m.Value
			}
			if hit != m.IsEqual {
				ok = false
			}
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}
func (f *fakeAM) CreateSilence(_ context.Context, s sources.Silence) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.ID = fmt.Sprintf("sil-%d", len(f.silences)+1)
	s.State = "active"
	f.silences[s.ID] = s
	return s.ID, nil
}
func (f *fakeAM) GetSilence(_ context.Context, id string) (sources.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.silences[id]
	if !ok {
		return s, errors.New("silence not found")
	}
	return s, nil
}
func (f *fakeAM) ExpireSilence(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.silences[id]
	s.State = "expired"
	f.silences[id] = s
	return nil
}
