package ui_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/ops"
	"flightdeck/themes"
	"flightdeck/ui"
	"flightdeck/ui/internal/probeview"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// A view written in its own package, knowing the root only through kit,
// is pushed, gets its data, its ticks, its own messages, its keys and the
// flow's answer to its request, says things in the status bar, and is
// popped, kept and closed: no edit to the root needed.
func TestViewFromItsOwnPackage(t *testing.T) {
	m := ui.New(ui.Options{Now: func() time.Time { return uitest.T0 }, Identity: ui.Identity{Environment: "staging", ReadOnly: true},
		Look: ui.Look{Theme: themes.MustGet("dark").WithNoColor()}})
	update := func(msg tea.Msg) tea.Cmd {
		t.Helper()
		mm, cmd := m.Update(msg)
		m = mm.(ui.Model)
		return cmd
	}
	// run feeds a Cmd's message back, and the one that leads to, as the
	// program would.
	run := func(cmd tea.Cmd) {
		t.Helper()
		for n := 0; cmd != nil; n++ {
			if n > 10 {
				t.Fatal("the Cmds never settle")
			}
			msg := cmd()
			if msg == nil {
				return
			}
			cmd = update(msg)
		}
	}
	screen := func() string { return ansi.Strip(m.Render()) }
	update(tea.WindowSizeMsg{Width: 120, Height: 30})
	update(ui.SnapshotsMsg{Snapshots: uitest.AllSnaps()})

	v := probeview.New(uitest.Env(), "p1")
	update(kit.PushViewMsg{View: v})
	if v.Snapshots != len(uitest.AllSnaps()) || !strings.Contains(screen(), "Probe p1") {
		t.Fatalf("pushed: %d snapshots, screen:\n%s", v.Snapshots, screen())
	}
	update(ui.SnapshotsMsg{Snapshots: uitest.AllSnaps()[:1]})
	update(ui.TickMsg{})
	update(probeview.PingMsg{N: 3})
	if v.Snapshots != len(uitest.AllSnaps())+1 || v.Batches != 1 || v.Ticks != 1 || v.Pings != 3 {
		t.Fatalf("delivered: %+v", *v)
	}
	run(update(uitest.Key("x")))
	if v.Keys != 1 || !strings.Contains(screen(), "probe p1 got x") {
		t.Fatalf("key: %d keys, screen:\n%s", v.Keys, screen())
	}
	// Its request, refused in a read-only session, comes back to it.
	run(update(uitest.Key("enter")))
	pm, ok := v.Answer.(kit.PlanMsg)
	var r *ops.Refusal
	if !ok || !errors.As(pm.Err, &r) || !errors.Is(r.Kind, ops.ErrReadOnly) {
		t.Fatalf("answer: %#v", v.Answer)
	}

	// Back returns to the panes; the view is kept, with its state.
	update(uitest.Key("esc"))
	if strings.Contains(screen(), "Probe p1") {
		t.Fatalf("popped, still shown:\n%s", screen())
	}
	update(kit.PushViewMsg{View: probeview.New(uitest.Env(), "p1")})
	if !strings.Contains(screen(), "probe p1: ") || !strings.Contains(screen(), "3 pings, 2 keys") {
		t.Fatalf("the kept view did not come back:\n%s", screen())
	}
	update(kit.CloseViewMsg{ID: "p1"})
	update(probeview.PingMsg{N: 1})
	if strings.Contains(screen(), "Probe p1") || v.Pings != 3 {
		t.Fatalf("closed, yet shown or fed: %d pings\n%s", v.Pings, screen())
	}
}
