package postgres

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
)

// refreshed is the fixture a poll later: 4711, the oldest (the top of the
// duration order), began a new transaction and is now the newest.
func refreshed() sources.Snapshot {
	act := uitest.PG()
	act.Backends[0].XactStart = uitest.T0
	act.Backends[0].QueryStart, act.Backends[0].StateChange = uitest.T0, uitest.T0
	act.Backends[0].State = "active"
	act.Backends[1].BlockedBy, act.Backends[2].BlockedBy = nil, nil
	return uitest.Snap("pg main", sources.KindPostgres, act, 0)
}

// TestOpensAtTheTopOfTheSortOrder is issue 17's first item: until a row is
// picked, a refresh that re-sorts the list leaves the selection on the top
// row, not on whichever backend was there (which drifted to the bottom).
func TestOpensAtTheTopOfTheSortOrder(t *testing.T) {
	p := newPane(t)
	if b := p.selected(); b == nil || b.PID != 4711 {
		t.Fatalf("opens on %v", b)
	}
	p.SetSnapshot(refreshed())
	if p.Cursor.Pos != 0 || p.Cursor.Offset != 0 || p.selected().PID == 4711 {
		t.Fatalf("the unpicked selection followed 4711 to row %d", p.Cursor.Pos)
	}
}

// TestPickedRowIsFollowed: once a row is picked, a re-sort keeps it
// selected wherever it goes; g gives the selection back to the top.
func TestPickedRowIsFollowed(t *testing.T) {
	p := newPane(t)
	press(p, "j", "k") // picked: 4711
	p.SetSnapshot(refreshed())
	if b := p.selected(); b == nil || b.PID != 4711 || p.Cursor.Pos == 0 {
		t.Fatalf("the picked 4711 was not followed: %v at %d", b, p.Cursor.Pos)
	}
	press(p, "g")
	p.SetSnapshot(uitest.AllSnaps()[2])
	p.SetSnapshot(refreshed())
	if p.Cursor.Pos != 0 {
		t.Fatalf("after g the selection followed a backend to row %d", p.Cursor.Pos)
	}
}

// TestPauseFreezesTheBackends: z keeps the rows as they are, however many
// polls arrive, and says so with their age; z again brings the latest.
func TestPauseFreezesTheBackends(t *testing.T) {
	p := newPane(t)
	before := pids(p)
	press(p, "z")
	p.SetSnapshot(refreshed())
	p.SetSnapshot(uitest.Snap("pg main", sources.KindPostgres, uitest.ManyBackends(40), 0))
	if got := pids(p); !slices.Equal(got, before) {
		t.Fatalf("paused rows changed: %v, were %v", got, before)
	}
	p.Env.SetClock(uitest.T0.Add(20 * time.Second))
	p.Touch()
	top := ansi.Strip(p.View(true)[0])
	if !strings.Contains(top, "3 Postgres · pg main 20s · paused 21s") {
		t.Fatalf("paused title: %q", top)
	}
	press(p, "z")
	if got := len(pids(p)); got != 40 {
		t.Fatalf("resumed with %d rows, want the latest 40", got)
	}
	scr := ansi.Strip(strings.Join(p.View(true), "\n"))
	if strings.Contains(scr, "paused") || !strings.Contains(scr, "more") {
		t.Fatalf("resumed screen:\n%s", scr)
	}
}
