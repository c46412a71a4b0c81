package opstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"flightdeck/sources"
)

// FakeRollouts is an in-memory ops.RolloutController over a set of
// deployments. Writes are recorded as strings ("undo production/api 41") and
// change nothing else, unless a test sets an error for them.
type FakeRollouts struct {
	mu       sync.Mutex
	deps     map[string]sources.Deployment
	calls    []string
	writeErr error
	readErr  error
}

// NewFakeRollouts returns a fake holding ds.
func NewFakeRollouts(ds ...sources.Deployment) *FakeRollouts {
	f := &FakeRollouts{deps: map[string]sources.Deployment{}}
	for _, d := range ds {
		f.deps[d.Key()] = d
	}
	return f
}

// Deployment is the deployment namespace/name as the fake has it now.
func (f *FakeRollouts) Deployment(key string) (sources.Deployment, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.deps[key]
	return d, ok
}

// Put adds or replaces d (someone else acted: a new revision, a scale).
func (f *FakeRollouts) Put(d sources.Deployment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deps[d.Key()] = d
}

// FailWrites makes every write return err (a 403 from RBAC); nil restores.
func (f *FakeRollouts) FailWrites(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writeErr = err
}

// FailReads makes GetDeployment return err (an API timeout); nil restores.
func (f *FakeRollouts) FailReads(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readErr = err
}

// Calls are the writes attempted, in order.
func (f *FakeRollouts) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// GetDeployment reads a deployment.
func (f *FakeRollouts) GetDeployment(_ context.Context, ns, name string) (sources.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return sources.Deployment{}, f.readErr
	}
	d, ok := f.deps[ns+"/"+name]
	if !ok {
		return d, errors.New(`deployments.apps "` + name + `" not found`)
	}
	return d, nil
}

// PreviewUndo names the current image and the revision rolled back to, and
// reports a successful server dry run.
func (f *FakeRollouts) PreviewUndo(_ context.Context, ns, name string, to int64) ([]string, []string, error) {
	f.mu.Lock()
	d := f.deps[ns+"/"+name]
	f.mu.Unlock()
	return []string{fmt.Sprintf("image %s → revision %d image", strings.Join(d.Images, ","), to)}, []string{"server dry run: ok"}, nil
}

func (f *FakeRollouts) write(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.writeErr
}

// Undo records "undo ns/name to".
func (f *FakeRollouts) Undo(_ context.Context, ns, name string, to int64) error {
	return f.write(fmt.Sprintf("undo %s/%s %d", ns, name, to))
}

// Restart records "restart ns/name".
func (f *FakeRollouts) Restart(_ context.Context, ns, name string, _ time.Time) error {
	return f.write("restart " + ns + "/" + name)
}

// Scale records "scale ns/name n".
func (f *FakeRollouts) Scale(_ context.Context, ns, name string, n int32) error {
	return f.write(fmt.Sprintf("scale %s/%s %d", ns, name, n))
}

// SetPaused records "paused ns/name true|false".
func (f *FakeRollouts) SetPaused(_ context.Context, ns, name string, paused bool) error {
	return f.write(fmt.Sprintf("paused %s/%s %v", ns, name, paused))
}
