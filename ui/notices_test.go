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

// unconfiguredRollouts is a session whose config has no kubernetes: and
// no aws: section: every snapshot but those two, and the Options saying so.
func unconfiguredRollouts(t *testing.T) (*env, []sources.Snapshot) {
	e := newEnv(t, true)
	e.opts.Data.Panes = PaneSetup{Unconfigured: map[sources.Kind]string{
		sources.KindRollouts: "add kubernetes: to the config", sources.KindAWS: "add aws: to the config"}}
	return e, allSnaps()[:3]
}

// TestUnconfiguredPane: a pane no source feeds says it is not configured
// and what turns it on, instead of "waiting for rollouts…" forever, and
// takes one line of the grid, focused or not, instead of squeezing
// Postgres to 68 columns (issue 11, item 10).
func TestUnconfiguredPane(t *testing.T) {
	e, snaps := unconfiguredRollouts(t)
	const slo, pg, ro = 0, 2, 3
	for _, sz := range [][2]int{{160, 48}, {200, 60}} {
		m := New(e.opts)
		mm, _ := m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		mm, _ = mm.Update(SnapshotsMsg{Snapshots: snaps})
		for _, k := range []string{"1", "3", "4"} {
			m, _ = press(mm.(Model), k)
			out := plain(m)
			if !strings.Contains(out, "4 Rollouts") || !strings.Contains(out, "not configured: add kubernetes: to the config") {
				t.Errorf("%dx%d focus %s: no not-configured notice:\n%s", sz[0], sz[1], k, out)
			}
			if strings.Contains(out, "waiting for rollouts") {
				t.Errorf("%dx%d: still waiting for rollouts", sz[0], sz[1])
			}
			// Rollouts and AWS, both unconfigured, share the one 3-line row.
			if s := m.sizes[ro]; s.h != 3 || s.w != sz[0]/2 {
				t.Errorf("%dx%d focus %s: rollouts block %dx%d, want %dx3", sz[0], sz[1], k, s.w, s.h, sz[0]/2)
			}
			if s := m.sizes[pg]; s.w != sz[0] || s.h != sz[1]-3-m.sizes[slo].h-3 {
				t.Errorf("%dx%d focus %s: postgres block %dx%d, want the full width and the rest of the height", sz[0], sz[1], k, s.w, s.h)
			}
			if n := len(strings.Split(out, "\n")); n != sz[1] {
				t.Errorf("%dx%d: %d lines", sz[0], sz[1], n)
			}
		}
	}
	// Too small for the grid: its summary line says the same.
	m := New(e.opts)
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: snaps})
	if out := plain(mm.(Model)); !strings.Contains(out, " 4 Rollouts  not configured: add kubernetes: to the config") {
		t.Errorf("summary line:\n%s", out)
	}
}

// TestHiddenPanesKeepTheirKeys: a hidden pane is not drawn, tab skips it,
// and the others keep the focus keys the docs give them; hiding every
// pane hides none.
func TestHiddenPanesKeepTheirKeys(t *testing.T) {
	e := newEnv(t, true)
	e.opts.Data.Panes = PaneSetup{Hidden: []sources.Kind{sources.KindAlerts}}
	m := e.model(200, 60)
	if len(m.panes) != 4 || strings.Contains(plain(m), "Alerts") {
		t.Fatalf("%d panes:\n%s", len(m.panes), plain(m))
	}
	for k, want := range map[string]string{"1": "SLOs", "3": "Postgres", "4": "Rollouts"} {
		m2, _ := press(m, k)
		if got := m2.panes[m2.focus].Title(); got != want {
			t.Errorf("key %s: focus %s, want %s", k, got, want)
		}
	}
	if m2, _ := press(m, "3", "2"); m2.panes[m2.focus].Title() != "Postgres" {
		t.Errorf("the hidden pane's key moved focus to %s", m2.panes[m2.focus].Title())
	}
	if m2, _ := press(m, "tab"); m2.panes[m2.focus].Title() != "Postgres" {
		t.Errorf("tab from SLOs went to %s", m2.panes[m2.focus].Title())
	}
	if out := plain(m); !strings.Contains(out, "3 Postgres") {
		t.Errorf("postgres lost its key:\n%s", out)
	}
	if m2, _ := press(m, "?"); !strings.Contains(plain(m2), "1 SLOs  3 Postgres  4 Rollouts  5 AWS") {
		t.Errorf("help's focus keys:\n%s", plain(m2))
	}
	e.opts.Data.Panes.Hidden = []sources.Kind{sources.KindSLO, sources.KindAlerts, sources.KindPostgres, sources.KindRollouts, sources.KindAWS}
	if m := e.model(80, 24); len(m.panes) != 5 {
		t.Errorf("hiding every pane left %d", len(m.panes))
	}
}
