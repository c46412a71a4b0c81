package postgres

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// newPane is the pane at 80×18 (the focused pane of an 80×24 screen) with
// the fixture's snapshot.
func newPane(t *testing.T) *Pane {
	t.Helper()
	p := New(kit.Slot{Env: uitest.Env(), Key: "3"})
	p.SetSize(80, 18)
	p.SetSnapshot(uitest.AllSnaps()[2])
	return p
}

func press(p *Pane, keys ...string) {
	for _, k := range keys {
		p.HandleKey(uitest.Key(k))
	}
}

func typeText(p *Pane, s string) {
	for _, k := range uitest.Typed(s) {
		p.HandleKey(k)
	}
}

// pids are the backends shown, in order.
func pids(p *Pane) []int32 {
	v := p.view()
	out := []int32{}
	for _, i := range v.index {
		out = append(out, v.act.Backends[i].PID)
	}
	return out
}

func TestFilter(t *testing.T) {
	cases := map[string][]int32{
		"user:app":         {4711, 4712, 4713, 4802},
		"state:idle-in-tx": {4711},
		">5m":              {4711, 4801},
		"dur>5m user:rep":  {4801},
		"blocked":          {4712, 4713},
		"blocking":         {4711, 4712},
		"wait:lock":        {4712, 4713},
		"campaigns":        {4711, 4712, 4713},
		"4805":             {4805},
	}
	for f, want := range cases {
		p := newPane(t)
		press(p, "/")
		if !p.CapturesKeys() {
			t.Fatal("the prompt does not have the keyboard")
		}
		typeText(p, f)
		press(p, "enter")
		if got := pids(p); !slices.Equal(got, want) {
			t.Errorf("filter %q: %v, want %v", f, got, want)
		}
		press(p, "esc")
		if p.Filter != "" || len(pids(p)) != 8 {
			t.Errorf("esc did not clear filter %q", f)
		}
	}
}

func TestNonClientToggle(t *testing.T) {
	p := newPane(t)
	if len(pids(p)) != 8 {
		t.Fatalf("non-client backend shown by default: %v", pids(p))
	}
	press(p, "b")
	if len(pids(p)) != 9 {
		t.Fatalf("b did not show the autovacuum worker: %v", pids(p))
	}
}

func TestSortCycles(t *testing.T) {
	p := newPane(t)
	if pids(p)[0] != 4711 {
		t.Fatalf("duration sort: %v", pids(p))
	}
	for _, w := range []string{"state", "user", "app", "wait", "duration"} {
		press(p, "s")
		if SortKeys[p.sortKey] != w {
			t.Fatalf("sort key %s, want %s", SortKeys[p.sortKey], w)
		}
	}
	press(p, "s", "s") // user
	if b := p.view().act.Backends[p.view().index[0]]; b.User != "analyst" {
		t.Errorf("user sort: %v", pids(p))
	}
}

// TestFilterSort: a filter's sort: token picks the order — a runbook step
// showing "state:!idle sort:user" gets the rows it names in that order —
// and an unknown key says so instead of sorting silently another way.
func TestFilterSort(t *testing.T) {
	p := newPane(t)
	p.SetFilter("state:!idle sort:user")
	want := []int32{4805, 4711, 4712, 4713, 4804, 4803, 4801} // analyst, app…, flightdeck, postgres, reporting
	if got := pids(p); !slices.Equal(got, want) {
		t.Errorf("state:!idle sort:user: %v, want %v", got, want)
	}
	if out := ansi.Strip(strings.Join(p.View(true), "\n")); !strings.Contains(out, "sort:user") {
		t.Errorf("sort not shown:\n%s", out)
	}
	p.SetFilter("sort:speed")
	if out := ansi.Strip(strings.Join(p.View(true), "\n")); !strings.Contains(out, `no sort "speed"`) {
		t.Errorf("unknown sort not reported:\n%s", out)
	}
}

func TestTagsSurviveRefreshByIdentity(t *testing.T) {
	p := newPane(t)
	press(p, "space", "space") // tag 4711 and 4801
	if n := len(p.tagged()); n != 2 {
		t.Fatalf("tagged %d", n)
	}
	// Refresh: 4801 is gone, 4711 is the same backend.
	next := uitest.PG()
	next.Backends = append(next.Backends[:3:3], next.Backends[4:]...)
	p.SetSnapshot(uitest.Snap("pg main", sources.KindPostgres, next, 0))
	if tg := p.tagged(); len(tg) != 1 || tg[0].PID != 4711 {
		t.Fatalf("after refresh tagged %v", tg)
	}
	// pid 4711 reused by a new backend: the tag does not carry over.
	reused := uitest.PG()
	reused.Backends[0].BackendStart = uitest.T0
	p.SetSnapshot(uitest.Snap("pg main", sources.KindPostgres, reused, 0))
	if tg := p.tagged(); len(tg) != 0 {
		t.Fatalf("tag followed a reused pid: %v", tg)
	}
}

// TestSourcesKeepTheirSelection: ] shows the next database, and each keeps
// its own selected backend.
func TestSourcesKeepTheirSelection(t *testing.T) {
	p := newPane(t)
	p.SetSnapshot(uitest.Snap("pg replica", sources.KindPostgres, uitest.PG(), 0))
	press(p, "j", "j") // 4712 on pg main
	press(p, "]")
	if p.Feeds.Name() != "pg replica" || !strings.Contains(p.title(), "[2/2 ] to switch]") {
		t.Fatalf("] did not switch: %q", p.title())
	}
	if b := p.selected(); b == nil || b.PID != 4711 {
		t.Errorf("replica starts at %v", b)
	}
	press(p, "[")
	if b := p.selected(); b == nil || b.PID != 4712 {
		t.Errorf("back on main the selection is %v, want 4712", b)
	}
}

// TestActionsOfTheSelection: tags win over the cursor, and a filter adds
// the bulk entry — built only when asked for.
func TestActionsOfTheSelection(t *testing.T) {
	p := newPane(t)
	as := p.Actions()
	if len(as) != 2 || as[1].Label != "Terminate backend (pid 4711)" || as[1].Request().Backends[0].PID != 4711 {
		t.Fatalf("actions %+v", as)
	}
	press(p, "space", "space")
	if r := p.Actions()[0].Request(); len(r.Backends) != 2 || p.Actions()[0].Label != "Cancel query (2 tagged)" {
		t.Errorf("tagged request %+v", r)
	}
	p.SetFilter("user:app")
	as = p.Actions()
	if len(as) != 3 || as[2].Label != "Terminate all 4 matching filter" || len(as[2].Request().Backends) != 4 {
		t.Errorf("bulk entry %+v", as)
	}
}

// The first time a view is asked for there is no reading of any view
// (the source reads them only once someone looks): the statements view
// says it is reading instead of failing on the missing readings.
func TestStatementsViewBeforeAnyReading(t *testing.T) {
	p := newPane(t)
	if v := p.view(); v == nil || v.act == nil || v.act.Views != nil {
		t.Fatal("the fixture should have no view readings")
	}
	press(p, "v")
	out := ansi.Strip(strings.Join(p.View(true), "\n"))
	if !strings.Contains(out, "[statements]") || !strings.Contains(out, "reading statements…") {
		t.Errorf("statements view before a reading:\n%s", out)
	}
	// Every other view, with its keys, before a reading.
	for range len(sources.PGViewOrder) {
		press(p, "v")
		for _, k := range []string{"j", "enter", "s", "Q", "a", "esc"} {
			press(p, k)
			p.View(true)
			p.Actions()
		}
	}
}
