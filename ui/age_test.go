package ui

import (
	"strings"
	"testing"
	"time"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
)

// TestAgesShownOnlyWhenLate: a source polled on time shows its name alone
// in the status bar and the pane title, so neither changes every second
// between polls; once its data is later than an interval and the grace,
// the age is back.
func TestAgesShownOnlyWhenLate(t *testing.T) {
	e := newEnv(t, true)
	m := e.model(200, 60)
	s := uitest.Snap("pg main", sources.KindPostgres, uitest.PG(), time.Second)
	s.Interval = 2 * time.Second
	m, _ = feed(m, SnapshotsMsg{Snapshots: []sources.Snapshot{s}})
	lines := strings.Split(plain(m), "\n")
	bar := lines[len(lines)-2]
	if !strings.Contains(bar, "pg main ") || strings.Contains(bar, "pg main 1s") || !strings.Contains(plain(m), "3 Postgres · pg main ─") {
		t.Fatalf("on time, yet an age is shown:\n%s", plain(m))
	}
	before := m.Render()
	e.clk.Add(time.Second) // 2s old: still on time
	m, _ = feed(m, TickMsg{})
	if got := m.Render(); strings.Count(got, "pg main") != strings.Count(before, "pg main") || !strings.Contains(plain(m), "3 Postgres · pg main ─") {
		t.Fatal("the source's labels changed between polls")
	}
	e.clk.Add(5 * time.Second) // 7s old: late
	m, _ = feed(m, TickMsg{})
	if out := plain(m); !strings.Contains(out, "3 Postgres · pg main 7s") || !strings.Contains(strings.Split(out, "\n")[58], "pg main 7s") {
		t.Fatalf("late data without its age:\n%s", out)
	}
}
