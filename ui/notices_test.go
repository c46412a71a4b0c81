package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
)

// waitingProm is Prometheus before its first answer: the Hub began polling
// it 23 s ago with a 60 s timeout.
func waitingProm() sources.Snapshot {
	return sources.Snapshot{Source: "prom", Kind: sources.KindSLO, Seq: 1, PollingSince: t0.Add(-23 * time.Second), Timeout: time.Minute}
}

// TestWaitingSaysForHowLong: between the start of polling and the first
// answer (or the timeout) the pane says how long it has waited, and the
// count goes on with the clock (issue 11, item 11).
func TestWaitingSaysForHowLong(t *testing.T) {
	e := newEnv(t, true)
	m := New(e.opts)
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{waitingProm()}})
	if out := plain(mm.(Model)); !strings.Contains(out, "waiting for prom… 23s (timeout 1m)") {
		t.Errorf("no age on the waiting notice:\n%s", out)
	}
	e.clk.Add(20 * time.Second)
	mm, _ = mm.Update(TickMsg{})
	if out := plain(mm.(Model)); !strings.Contains(out, "waiting for prom… 43s (timeout 1m)") {
		t.Errorf("the wait did not count on:\n%s", out)
	}
}
