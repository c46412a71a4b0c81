package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
)

// demoRun is the rollouts snapshot of the demo's run loop.
func demoRun(loop uint64) sources.Snapshot {
	set := rolloutsFixture()
	set.Script = &sources.Script{Loop: loop, Since: t0, Reset: "earlier actions undone, silences kept"}
	return snap("kube", sources.KindRollouts, set, 0)
}

// TestDemoRestartSaid: when the demo starts its incident over by itself,
// the status bar says so and what it undid, at 80×24, for a while; the
// first run seen, a later batch of the same run and a real backend say
// nothing (issue 17 item 5).
func TestDemoRestartSaid(t *testing.T) {
	const said = "demo incident restarted (loop 2): earlier actions undone, silences kept"
	e := newEnv(t, false)
	m := New(e.opts)
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: append(allSnaps(), demoRun(1))})
	if out := plain(mm.(Model)); strings.Contains(out, "restarted") {
		t.Fatalf("the first run said as a restart:\n%s", out)
	}
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{demoRun(2)}})
	if out := plain(mm.(Model)); !strings.Contains(out, said) {
		t.Fatalf("the restart not said:\n%s", out)
	}
	e.clk.Add(10 * time.Second)
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{demoRun(2)}})
	if out := plain(mm.(Model)); !strings.Contains(out, said) {
		t.Errorf("the restart notice gone after 10 s:\n%s", out)
	}
	e.clk.Add(15 * time.Second)
	mm, _ = mm.Update(TickMsg{})
	if out := plain(mm.(Model)); strings.Contains(out, "restarted") {
		t.Errorf("the restart notice still there after 25 s:\n%s", out)
	}
}
