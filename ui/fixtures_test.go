package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/dialogs"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// Shorthands for the shared fixtures.
var (
	t0              = uitest.T0
	pgFixture       = uitest.PG
	rolloutsFixture = uitest.Rollouts
	snap            = uitest.Snap
	allSnaps        = uitest.AllSnaps
	keyMsg          = uitest.Key
)

// clock is a settable fixed clock shared by the UI and the Executor.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeSub hands out one batch, then blocks until ctx ends, like a quiet Hub.
type fakeSub struct {
	mu    sync.Mutex
	batch []sources.Snapshot
}

func (f *fakeSub) Next(ctx context.Context) ([]sources.Snapshot, error) {
	f.mu.Lock()
	b := f.batch
	f.batch = nil
	f.mu.Unlock()
	if b != nil {
		return b, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// fakePG is a BackendSignaler over the fixture, recording signals.
type fakePG struct {
	mu       sync.Mutex
	backends []sources.Backend
	signaled []int32
}

func (f *fakePG) LookupBackends(_ context.Context, pids []int32) ([]sources.Backend, error) {
	var out []sources.Backend
	for _, b := range f.backends {
		for _, p := range pids {
			if b.PID == p {
				out = append(out, b)
			}
		}
	}
	return out, nil
}

func (f *fakePG) SignalBackend(_ context.Context, pid int32, start time.Time, terminate bool) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signaled = append(f.signaled, pid)
	return true, nil
}

func (f *fakePG) calls() []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int32(nil), f.signaled...)
}

// fakeKube is a RolloutController over the fixture, recording restarts.
type fakeKube struct {
	mu       sync.Mutex
	deps     []sources.Deployment
	restarts []string
}

func (f *fakeKube) GetDeployment(_ context.Context, ns, name string) (sources.Deployment, error) {
	for _, d := range f.deps {
		if d.Namespace == ns && d.Name == name {
			return d, nil
		}
	}
	return sources.Deployment{}, errors.New("not found")
}
func (f *fakeKube) PreviewUndo(_ context.Context, ns, name string, to int64) ([]string, []string, error) {
	return []string{fmt.Sprintf("image registry/%s:2025.03.14-1 → revision %d image", name, to)}, []string{"server dry run: ok"}, nil
}
func (f *fakeKube) Undo(context.Context, string, string, int64) error { return nil }
func (f *fakeKube) Restart(_ context.Context, ns, name string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restarts = append(f.restarts, ns+"/"+name)
	return nil
}

func (f *fakeKube) restarted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.restarts...)
}
func (f *fakeKube) Scale(context.Context, string, string, int32) error    { return nil }
func (f *fakeKube) SetPaused(context.Context, string, string, bool) error { return nil }

type fakeAM struct{}

func (fakeAM) MatchingAlerts(context.Context, []sources.Matcher) ([]sources.Alert, error) {
	return uitest.Alerts().Alerts[1:3], nil
}
func (fakeAM) CreateSilence(context.Context, sources.Silence) (string, error) { return "new-1", nil }
func (fakeAM) GetSilence(_ context.Context, id string) (sources.Silence, error) {
	return uitest.Alerts().Silences[0], nil
}
func (fakeAM) ExpireSilence(context.Context, string) error { return nil }

type env struct {
	clk     *clock
	pg      *fakePG
	kube    *fakeKube
	aws     *opstest.FakeAWS
	exec    *ops.Executor
	journal string // the audit journal's path
	opts    Options
}

// newEnv builds options with an Executor over fakes and a temp journal
// (production=false so cancel stays low risk), or read-only when ro.
func newEnv(t testing.TB, ro bool) *env {
	t.Helper()
	clk := &clock{t: uitest.T0}
	e := &env{clk: clk, pg: &fakePG{backends: uitest.PG().Backends}, kube: &fakeKube{deps: uitest.Rollouts().Deployments},
		aws: opstest.NewFakeAWS(uitest.AWS())}
	th := themes.MustGet("dark").WithNoColor()
	e.opts = Options{Identity: Identity{Environment: "staging", ReadOnly: ro}, Actions: Actions{Policy: ops.DefaultPolicy()},
		Look: Look{KeyMap: keymap.DefaultKeyMap(), Theme: th}, Now: clk.Now, Journals: Journals{AuditPath: "/var/lib/flightdeck/audit.jsonl"}}
	if !ro {
		e.journal = filepath.Join(t.TempDir(), "audit.jsonl")
		j, err := ops.OpenJournal(e.journal)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		e.exec = ops.NewExecutor(ops.Config{Environment: "staging", Journal: j, Policy: ops.DefaultPolicy(), Operator: "test@host", Now: clk.Now,
			Caps: ops.Capabilities{"pg main": e.pg, "kube": e.kube, "am": fakeAM{}, "aws": e.aws}})
		e.opts.Actions.Executor = e.exec
	}
	return e
}

// model returns a sized model with every fixture routed.
func (e *env) model(w, h int) Model {
	m := New(e.opts)
	mm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: uitest.AllSnaps()})
	return mm.(Model)
}

// press sends keys one by one and returns the model and the last Cmd.
func press(m Model, keys ...string) (Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, k := range keys {
		var mm tea.Model
		mm, cmd = m.Update(keyMsg(k))
		m = mm.(Model)
	}
	return m, cmd
}

func typeText(m Model, s string) Model {
	for _, r := range s {
		mm, _ := m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		m = mm.(Model)
	}
	return m
}

func plain(m Model) string { return ansi.Strip(m.Render()) }

// runCmd runs a Cmd and feeds its message back, and so on down the chain a
// dialog's answer starts (RequestMsg → plan, ConfirmedMsg → execute,
// ResultMsg → refresh), until a Cmd returns nothing.
func runCmd(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		t.Fatal("expected a Cmd")
	}
	for cmd != nil {
		msg := cmd()
		if msg == nil {
			break
		}
		var mm tea.Model
		mm, cmd = m.Update(msg)
		m = mm.(Model)
	}
	return m
}

// top is the open dialog of type D, or nil.
func top[D kit.Dialog](m Model) D {
	var zero D
	if len(m.dialogs) == 0 {
		return zero
	}
	d, _ := m.dialogs[len(m.dialogs)-1].(D)
	return d
}

func menuOf(m Model) *menuDialog         { return top[*menuDialog](m) }
func formOf(m Model) *dialogs.Form       { return top[*dialogs.Form](m) }
func confirmOf(m Model) *dialogs.Confirm { return top[*dialogs.Confirm](m) }
