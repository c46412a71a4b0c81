package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// demoSnap is the demo primary 75 s into the lock pile-up, with an
// autovacuum worker running, at uitest.T0.
func demoSnap(t *testing.T) sources.Snapshot {
	t.Helper()
	clock := uitest.T0.Add(-185 * time.Second)
	w := demo.NewWorld(demo.Options{Now: func() time.Time { return clock }, Seed: 7})
	clock = uitest.T0
	p, err := w.Postgres().Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return uitest.Snap("pg main", sources.KindPostgres, p, 0)
}

func demoPane(t *testing.T, w, h int) *Pane {
	t.Helper()
	p := New(kit.Slot{Env: uitest.Env(), Key: "3"})
	p.SetSize(w, h)
	p.SetSnapshot(demoSnap(t))
	return p
}

// showView presses the view key until view is shown.
func showView(t *testing.T, p *Pane, view sources.PGView) {
	t.Helper()
	for i := 0; p.mode() != view; i++ {
		if i > len(sources.PGViewOrder) {
			t.Fatalf("view key never shows %s", view)
		}
		press(p, "v")
	}
}

// The views at the focused pane of an 80×24 and a 200×60 screen.
func TestViewGoldens(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 18}, {"200x60", 200, 54}} {
		for _, view := range sources.PGViewOrder[1:] {
			t.Run(string(view)+"_"+size.name, func(t *testing.T) {
				p := demoPane(t, size.w, size.h)
				showView(t, p, view)
				out := strings.Join(p.Draw(true), "\n")
				golden.RequireEqual(t, []byte(ansi.Strip(out)+"\n"))
			})
		}
	}
}

// The shown view is wanted from the source while it is shown; activity
// wants nothing. (A source name of its own: ViewWants is the process's.)
func TestViewWanted(t *testing.T) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "3"})
	p.SetSize(80, 18)
	snap := demoSnap(t)
	snap.Source = "pg want-test"
	p.SetSnapshot(snap)
	if sources.ViewWants.Wanted("pg want-test", sources.PGViewStatements, time.Now()) {
		t.Fatal("statements wanted while activity is shown")
	}
	showView(t, p, sources.PGViewStatements)
	if !sources.ViewWants.Wanted("pg want-test", sources.PGViewStatements, time.Now()) {
		t.Fatal("statements shown but not wanted")
	}
	if sources.ViewWants.Wanted("pg want-test", sources.PGViewStatements, time.Now().Add(wantFor+time.Second)) {
		t.Fatal("a want outlives wantFor")
	}
	if sources.ViewWants.Wanted("pg want-test", sources.PGViewTables, time.Now()) {
		t.Fatal("tables wanted while statements are shown")
	}
}

// Statements sort by mean (the pile-up's on top, marked slow) and total.
func TestStatementsOrder(t *testing.T) {
	p := demoPane(t, 200, 54)
	showView(t, p, sources.PGViewStatements)
	top := p.selStatement()
	if top == nil || !top.Slow() || !strings.Contains(top.Query, "campaigns") {
		t.Fatalf("top by mean: %+v", top)
	}
	press(p, "s")
	if stmtSorts[p.stmtSort] != "total" {
		t.Fatalf("sort key: %s", stmtSorts[p.stmtSort])
	}
	v := p.view()
	st := v.views().Statements.Statements
	for i := 1; i < len(v.rows.stmt); i++ {
		if st[v.rows.stmt[i-1]].TotalMs < st[v.rows.stmt[i]].TotalMs {
			t.Fatalf("not by total at %d", i)
		}
	}
}

// From a waiting backend to its statement, from the statement to the
// backends running it, and the bulk cancel of exactly those.
func TestStatementJumpAndBulk(t *testing.T) {
	p := demoPane(t, 200, 54)
	typeText(p, "/")
	typeText(p, "blocked")
	press(p, "enter")
	b := p.selected()
	if b == nil || b.QueryID == 0 {
		t.Fatalf("no blocked backend with a queryid: %+v", b)
	}
	press(p, "Q")
	s := p.selStatement()
	if p.mode() != sources.PGViewStatements || s == nil || s.QueryID != b.QueryID {
		t.Fatalf("jump to statement: view %s, statement %+v", p.mode(), s)
	}
	want := p.running(s.QueryID)
	var cancel *kit.Action
	for _, a := range p.Actions() {
		if a.Kind == ops.Cancel {
			cancel = &a
		}
	}
	if cancel == nil || cancel.Denied != "" {
		t.Fatalf("no cancel by statement: %+v", cancel)
	}
	req := cancel.Request()
	if len(req.Backends) != len(want) || len(want) == 0 {
		t.Fatalf("bulk cancel targets %d, running %d", len(req.Backends), len(want))
	}
	for _, x := range req.Backends {
		if x.QueryID != s.QueryID {
			t.Errorf("pid %d runs another statement", x.PID)
		}
	}
	press(p, "enter")
	detail := ansi.Strip(strings.Join(p.Draw(true), "\n"))
	if !strings.Contains(detail, fmt.Sprintf("queryid %d", s.QueryID)) || !strings.Contains(detail, fmt.Sprintf("pid %d", b.PID)) {
		t.Errorf("statement detail lacks its figures or its backends:\n%s", detail)
	}
	press(p, "esc")
	press(p, "Q")
	if p.mode() != sources.PGViewActivity || p.Filter != fmt.Sprintf("qid:%d", s.QueryID) || len(pids(p)) < len(want) {
		t.Fatalf("back to activity: view %s filter %q rows %v", p.mode(), p.Filter, pids(p))
	}
}

// A view's error replaces its rows with the reason, on one or two lines.
func TestViewError(t *testing.T) {
	p := demoPane(t, 80, 18)
	snap := demoSnap(t)
	act := *snap.Data.(*sources.PGActivity)
	views := *act.Views
	views.Statements = &sources.PGStatements{PGViewMeta: sources.PGViewMeta{At: uitest.T0,
		Err: "pg_stat_statements is not loaded: set shared_preload_libraries = 'pg_stat_statements'"}}
	act.Views = &views
	snap.Data = &act
	p.SetSnapshot(snap)
	showView(t, p, sources.PGViewStatements)
	out := ansi.Strip(strings.Join(p.Draw(true), "\n"))
	if !strings.Contains(out, "shared_preload_libraries") {
		t.Fatalf("error not shown:\n%s", out)
	}
}

// A follower sees the leader's view and order.
func TestFollowView(t *testing.T) {
	leader, follower := demoPane(t, 80, 18), demoPane(t, 80, 18)
	showView(t, leader, sources.PGViewStatements)
	press(leader, "s")
	follower.SetPlaceExtra(leader.PlaceExtra())
	if follower.mode() != sources.PGViewStatements || follower.stmtSort != leader.stmtSort {
		t.Fatalf("follower shows %s sorted by %s", follower.mode(), stmtSorts[follower.stmtSort])
	}
	follower.SetPlaceExtra("0 false") // a leader of an older build
	if follower.mode() != sources.PGViewStatements {
		t.Fatal("an extra without views changed the view")
	}
}

// A view's row offers its maintenance: the stale slot can be dropped, an
// active one cannot; a table offers ANALYZE and VACUUM (ANALYZE).
func TestViewRowActions(t *testing.T) {
	p := demoPane(t, 200, 54)
	showView(t, p, sources.PGViewReplication)
	byLabel := func() map[string]kit.Action {
		m := map[string]kit.Action{}
		for _, a := range p.Actions() {
			m[a.Label] = a
		}
		return m
	}
	found := map[bool]bool{}
	for i := 0; i < p.Len(); i++ {
		p.Cursor.Pos = i
		for label, a := range byLabel() {
			if a.Kind != ops.DropSlot {
				continue
			}
			slot := a.Request().Subject.(sources.ReplicationSlot)
			if !strings.HasSuffix(label, slot.Name) || (a.Denied == "") != !slot.Active {
				t.Errorf("%s: denied %q for %+v", label, a.Denied, slot)
			}
			found[slot.Active] = true
		}
	}
	if !found[true] || !found[false] {
		t.Fatalf("slots offered: %v", found)
	}
	showView(t, p, sources.PGViewTables)
	p.Cursor.Pos = 0
	acts := byLabel()
	tab := p.view().views().Tables.Tables[p.view().rows.tabs[0]]
	for _, kind := range []ops.Kind{ops.AnalyzeTable, ops.VacuumTable, ops.ReindexTable} {
		ok := false
		for _, a := range acts {
			if a.Kind == kind && a.Denied == "" && a.Request().Subject.(sources.TableStat).RelID == tab.RelID {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s of %s not offered: %v", kind, tab.QualifiedName(), acts)
		}
	}
}

// A standby's replication view: its receiver with the replay paused and
// behind, and a subscription on it.
func TestStandbyGolden(t *testing.T) {
	snap := demoSnap(t)
	act := *snap.Data.(*sources.PGActivity)
	views := *act.Views
	views.Replication = &sources.PGReplication{PGViewMeta: sources.PGViewMeta{At: uitest.T0}, InRecovery: true,
		CurrentLSN: "1A/9C000000",
		Receiver: &sources.WalReceiver{Status: "streaming", SenderHost: "10.0.1.5", SenderPort: 5432, ReceivedLSN: "1A/9C000000",
			ReplayLSN: "1A/80000000", ReplayLagBytes: 448 << 20, ReplayDelay: 95 * time.Second, ReplayPaused: true,
			LastMsg: uitest.T0.Add(-time.Second)},
		Subscriptions: []sources.PGSubscription{{Name: "analytics_sub", PID: 0, ReceivedLSN: "1A/7F000000", LatestEnd: "1A/7F000000",
			Delay: 12 * time.Minute}}}
	act.Views = &views
	snap.Data = &act
	p := New(kit.Slot{Env: uitest.Env(), Key: "3"})
	p.SetSize(80, 18)
	p.SetSnapshot(snap)
	showView(t, p, sources.PGViewReplication)
	golden.RequireEqual(t, []byte(ansi.Strip(strings.Join(p.Draw(true), "\n"))+"\n"))
}
