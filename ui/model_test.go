package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
)

func TestFocusKeys(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	for k, want := range map[string]focus{"1": focusSLO, "2": focusAlerts, "3": focusPostgres, "4": focusRollouts} {
		m2, _ := press(m, k)
		if m2.focus != want {
			t.Errorf("key %s: focus %d, want %d", k, m2.focus, want)
		}
	}
	m, _ = press(m, "4", "tab")
	if m.focus != focusSLO {
		t.Errorf("tab from rollouts: focus %d", m.focus)
	}
	mm, _ := m.Update(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	if mm.(Model).focus != focusRollouts {
		t.Errorf("shift+tab from SLOs: focus %d", mm.(Model).focus)
	}
}

func TestSnapshotsRoutedToOwningPane(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	if m.pg.view() == nil || m.pg.view().act == nil {
		t.Fatal("postgres snapshot not routed")
	}
	if m.slo.set() == nil || m.alerts.set() == nil || m.ro.set() == nil {
		t.Fatal("a snapshot was not routed")
	}
	// A second postgres source is kept, and [ ] switch to it.
	other := snap("pg replica", sources.KindPostgres, pgFixture(), time.Second)
	mm, cmd := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{other}})
	m = mm.(Model)
	if cmd != nil {
		t.Error("no Updates configured, yet a wait Cmd was returned")
	}
	m, _ = press(m, "3", "]")
	if m.pg.feeds.name() != "pg replica" || !strings.Contains(m.pg.title(), "[2/2") {
		t.Errorf("] did not switch database: %q", m.pg.title())
	}
}

func TestUpdatesRearmed(t *testing.T) {
	e := newEnv(t, true)
	e.opts.Updates = &fakeSub{batch: allSnaps()}
	m := New(e.opts)
	mm, cmd := m.Update(SnapshotsMsg{Snapshots: allSnaps()})
	if cmd == nil {
		t.Fatal("wait Cmd not re-armed after snapshots")
	}
	mm, cmd = mm.Update(SnapshotsMsg{Err: errors.New("subscription closed")})
	if cmd != nil || !strings.Contains(mm.(Model).status, "updates stopped") {
		t.Errorf("error: cmd=%v status=%q", cmd != nil, mm.(Model).status)
	}
}

func pids(m Model) []int32 {
	v := m.pg.view()
	out := []int32{}
	for _, i := range v.index {
		out = append(out, v.act.Backends[i].PID)
	}
	return out
}

func TestPostgresFilter(t *testing.T) {
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
		m := newEnv(t, true).model(80, 24)
		m, _ = press(m, "3", "/")
		m = typeText(m, f)
		m, _ = press(m, "enter")
		got := pids(m)
		if len(got) != len(want) {
			t.Errorf("filter %q: %v, want %v", f, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("filter %q: %v, want %v", f, got, want)
				break
			}
		}
		m, _ = press(m, "esc")
		if m.pg.filterStr != "" || len(pids(m)) != 8 {
			t.Errorf("esc did not clear filter %q", f)
		}
	}
}

func TestPostgresNonClientToggle(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	m, _ = press(m, "3")
	if len(pids(m)) != 8 {
		t.Fatalf("non-client backend shown by default: %v", pids(m))
	}
	m, _ = press(m, "b")
	if len(pids(m)) != 9 {
		t.Fatalf("b did not show the autovacuum worker: %v", pids(m))
	}
}

func TestPostgresSortCycles(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	m, _ = press(m, "3")
	if pids(m)[0] != 4711 {
		t.Fatalf("duration sort: %v", pids(m))
	}
	want := []string{"state", "user", "app", "wait", "duration"}
	for _, w := range want {
		m, _ = press(m, "s")
		if pgSortKeys[m.pg.sortKey] != w {
			t.Fatalf("sort key %s, want %s", pgSortKeys[m.pg.sortKey], w)
		}
	}
	m, _ = press(m, "s", "s") // user
	if got := pids(m); m.pg.view().act.Backends[m.pg.view().index[0]].User != "analyst" {
		t.Errorf("user sort: %v", got)
	}
}

func TestTagsSurviveRefreshByIdentity(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	m, _ = press(m, "3", "space", "space") // tag 4711 and 4801
	if n := len(m.pg.tagged()); n != 2 {
		t.Fatalf("tagged %d", n)
	}
	// Refresh: 4801 is gone, 4711 is the same backend.
	next := pgFixture()
	next.Backends = append(next.Backends[:3:3], next.Backends[4:]...)
	mm, _ := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{snap("pg main", sources.KindPostgres, next, 0)}})
	m = mm.(Model)
	tg := m.pg.tagged()
	if len(tg) != 1 || tg[0].PID != 4711 {
		t.Fatalf("after refresh tagged %v", tg)
	}
	// pid 4711 reused by a new backend: the tag does not carry over.
	reused := pgFixture()
	reused.Backends[0].BackendStart = t0
	mm, _ = m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{snap("pg main", sources.KindPostgres, reused, 0)}})
	if tg := mm.(Model).pg.tagged(); len(tg) != 0 {
		t.Fatalf("tag followed a reused pid: %v", tg)
	}
}

func TestReadOnlyRefusesWithoutCmd(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	for _, seq := range [][]string{{"3", "K"}, {"3", "C"}, {"4", "u"}, {"4", "R"}, {"4", "S"}, {"2", "x"}} {
		m2, cmd := press(m, seq...)
		if cmd != nil {
			t.Errorf("%v: read-only returned a Cmd", seq)
		}
		if m2.status != readOnlyRefusal || m2.confirm != nil || m2.form != nil {
			t.Errorf("%v: status %q", seq, m2.status)
		}
	}
	// The menu still opens and shows why every entry is disabled.
	m, _ = press(m, "3", "a")
	if m.menu == nil {
		t.Fatal("menu did not open")
	}
	for _, e := range m.menu.entries {
		if !strings.Contains(e.reason, "read-only") {
			t.Errorf("entry %q enabled in read-only", e.label)
		}
	}
	if m2, cmd := press(m, "enter"); cmd != nil || m2.menu == nil {
		t.Error("choosing a disabled entry did something")
	}
}

func TestMenuShowsPolicyReasons(t *testing.T) {
	m := newEnv(t, false).model(80, 24)
	// Move to pid 4803 (role postgres, protected) : rows by duration.
	m, _ = press(m, "3", "/")
	m = typeText(m, "user:postgres")
	m, _ = press(m, "enter", "a")
	if m.menu == nil {
		t.Fatal("no menu")
	}
	found := false
	for _, e := range m.menu.entries {
		if e.kind == ops.Terminate && strings.Contains(e.reason, `role "postgres" is protected`) {
			found = true
		}
	}
	if !found {
		t.Errorf("protected role not shown as reason: %+v", m.menu.entries)
	}
}

// runCmd executes a Cmd (a Plan or Execute) and feeds its message back.
func runCmd(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		t.Fatal("expected a Cmd")
	}
	mm, _ := m.Update(cmd())
	return mm.(Model)
}

func TestLowRiskConfirmFlow(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	// The second row is an active query: cancel needs something running.
	m, cmd := press(m, "3", "j", "C")
	if m.pending == "" {
		t.Error("no pending notice while planning")
	}
	m = runCmd(t, m, cmd)
	if m.confirm == nil || m.confirm.plan.Risk != ops.Low || m.confirm.yes {
		t.Fatalf("confirm dialog: %+v", m.confirm)
	}
	// Keys in the first 400 ms are ignored, even y.
	m, cmd = press(m, "y")
	if cmd != nil || m.confirm == nil {
		t.Fatal("key inside the 400ms guard was acted on")
	}
	e.clk.Add(401 * time.Millisecond)
	// enter with No focused cancels.
	m, cmd = press(m, "enter")
	if cmd != nil || m.confirm != nil || !strings.Contains(m.status, "cancelled") {
		t.Fatalf("enter on No: cmd=%v confirm=%v status=%q", cmd != nil, m.confirm != nil, m.status)
	}
	if len(e.pg.calls()) != 0 {
		t.Fatal("cancelled dialog signalled a backend")
	}
	// Again, confirm with y.
	m, cmd = press(m, "C")
	m = runCmd(t, m, cmd)
	e.clk.Add(time.Second)
	m, cmd = press(m, "y")
	m = runCmd(t, m, cmd)
	if got := e.pg.calls(); len(got) != 1 || got[0] != 4801 {
		t.Fatalf("signals %v", got)
	}
	if !strings.Contains(m.status, "done") || m.statusBad {
		t.Errorf("status %q", m.status)
	}
}

func TestHighRiskPhrase(t *testing.T) {
	e := newEnv(t, false)
	refreshed := ""
	e.opts.Refresh = func(s string) { refreshed = s }
	m := e.model(80, 24)
	m, cmd := press(m, "3", "K")
	m = runCmd(t, m, cmd)
	if m.confirm == nil || m.confirm.plan.Risk != ops.High || m.confirm.plan.Phrase != "4711" {
		t.Fatalf("confirm: %+v", m.confirm)
	}
	if !strings.Contains(plain(m), "type 4711 to confirm") {
		t.Error("phrase prompt not shown")
	}
	e.clk.Add(time.Second)
	m = typeText(m, "4712")
	m, cmd = press(m, "enter")
	if cmd != nil || m.confirm == nil || !strings.Contains(m.confirm.err, "does not match") {
		t.Fatalf("mismatch: cmd=%v confirm=%+v", cmd != nil, m.confirm)
	}
	m, _ = press(m, "backspace")
	m = typeText(m, "1")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	if got := e.pg.calls(); len(got) != 1 {
		t.Fatalf("signals %v", got)
	}
	// The Refresh Cmd refreshes the plan's source.
	_, cmd = m.Update(ResultMsg{Result: ops.Result{OK: true, Summary: "x", Plan: ops.Plan{Source: "pg main"}}})
	if cmd == nil {
		t.Fatal("no refresh Cmd")
	}
	cmd()
	if refreshed != "pg main" {
		t.Errorf("refreshed %q", refreshed)
	}
}

func TestEscCancelsDialogs(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, cmd := press(m, "3", "K")
	m = runCmd(t, m, cmd)
	e.clk.Add(time.Second)
	m, cmd = press(m, "esc")
	if cmd != nil || m.confirm != nil {
		t.Fatal("esc did not cancel the confirm dialog")
	}
	m, _ = press(m, "a")
	m, _ = press(m, "esc")
	if m.menu != nil {
		t.Fatal("esc did not close the menu")
	}
	m, _ = press(m, "4", "S")
	if m.form == nil {
		t.Fatal("scale form did not open")
	}
	if m.form.fields[0].edit.value != "6" {
		t.Errorf("replicas prefilled %q", m.form.fields[0].edit.value)
	}
	m, _ = press(m, "esc")
	if m.form != nil {
		t.Fatal("esc did not close the form")
	}
}

func TestSilenceForm(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, _ = press(m, "2", "j", "x") // first HighErrorRate alert
	if m.form == nil {
		t.Fatal("no silence form")
	}
	if got := m.form.fields[0].edit.value; got != `{alertname="HighErrorRate", service="nudge-api", severity="critical"}` {
		t.Errorf("prefilled matchers %s", got)
	}
	m, cmd := press(m, "enter")
	if cmd != nil || !strings.Contains(m.form.err, "comment") {
		t.Fatalf("empty comment accepted: %q", m.form.err)
	}
	m = typeText(m, "deploy rollback in progress")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	if m.confirm == nil || m.confirm.plan.Action != ops.Silence {
		t.Fatalf("no silence plan: %q", m.status)
	}
}

func TestUndoUsesChosenRevision(t *testing.T) {
	e := newEnv(t, false)
	// choose revision 40 in the history view, then undo from there
	m2, cmd := press(e.model(80, 24), "4", "enter", "j", "j", "enter", "u")
	m2 = runCmd(t, m2, cmd)
	if m2.confirm == nil || m2.confirm.plan.Params.ToRevision != 40 {
		t.Fatalf("undo plan %+v status %q", m2.confirm, m2.status)
	}
}

func TestParseMatchers(t *testing.T) {
	ms, err := parseMatchers(`{alertname="A, B", severity=~"crit.*", team!="x"}`)
	if err != nil || len(ms) != 3 || ms[0].Value != "A, B" || !ms[1].IsRegex || ms[2].IsEqual {
		t.Fatalf("%+v %v", ms, err)
	}
	if _, err := parseMatchers(`{alertname="A}`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestStaleAndWaiting(t *testing.T) {
	e := newEnv(t, true)
	m := New(e.opts)
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m = mm.(Model)
	if !strings.Contains(plain(m), "waiting for SLOs") {
		t.Error("no waiting notice")
	}
	s := snap("pg main", sources.KindPostgres, pgFixture(), 31*time.Second)
	s.Err, s.Stale = errors.New("dial tcp 10.0.0.5:5432: i/o timeout"), true
	mm, _ = m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{s}})
	m, _ = press(mm.(Model), "3")
	out := plain(m)
	for _, want := range []string{"ERR dial tcp", "31s ago", "pg main ERR 31s", "4711"} {
		if !strings.Contains(out, want) {
			t.Errorf("stale screen lacks %q", want)
		}
	}
}

// TestConfirmPromptAlwaysVisible: whatever the terminal size and however
// long the plan, the high-risk dialog shows the phrase prompt, the input and
// the validity countdown.
func TestConfirmPromptAlwaysVisible(t *testing.T) {
	e := newEnv(t, false)
	d := rolloutsFixture().Deployments[0]
	req := ops.Request{Action: ops.Undo, Source: "kube", Deployment: &d}
	p, err := e.exec.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []int{0, 10, 100} {
		pl := p
		pl.Preview = append(append([]string(nil), p.Preview...), longDiff(extra)...)
		for _, sz := range [][2]int{{60, 12}, {80, 24}, {100, 30}, {150, 40}, {200, 60}, {240, 80}} {
			m := e.model(sz[0], sz[1])
			m, _ = press(m, "4")
			mm, _ := m.Update(PlanMsg{Request: req, Plan: pl})
			out := plain(mm.(Model))
			for _, want := range []string{"to confirm", "> _", "plan valid for"} {
				if !strings.Contains(out, want) {
					t.Errorf("%dx%d +%d preview lines: %q not on screen:\n%s", sz[0], sz[1], extra, want, out)
				}
			}
			if lines := strings.Split(out, "\n"); len(lines) != sz[1] {
				t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
			}
			if extra == 100 && !strings.Contains(out, "more") {
				t.Errorf("%dx%d: long preview not marked as cut", sz[0], sz[1])
			}
		}
	}
}

// TestPGLayoutColumns: every column from 120 cells, then client, wait, app,
// user and blocked-by go in that order, and the query takes the rest.
func TestPGLayoutColumns(t *testing.T) {
	has := func(cols []pgColumn, id pgCol) bool {
		for _, c := range cols {
			if c.id == id {
				return true
			}
		}
		return false
	}
	for w := 120; w <= 200; w += 5 {
		cols := pgLayout(w, nil)
		if len(cols) != 10 {
			t.Fatalf("width %d: %d columns, want all 10", w, len(cols))
		}
		sum := 0
		for _, c := range cols {
			sum += c.w + 1
		}
		if sum-1 != w {
			t.Errorf("width %d: columns sum to %d", w, sum-1)
		}
	}
	order := []pgCol{colClient, colWait, colApp, colUser, colBlk}
	dropped := 0
	for w := 119; w >= 30; w-- {
		cols := pgLayout(w, nil)
		n := 0
		for n < len(order) && !has(cols, order[n]) {
			n++
		}
		for _, id := range order[n:] {
			if !has(cols, id) {
				t.Fatalf("width %d: %v dropped before %v", w, id, order[n])
			}
		}
		if n < dropped {
			t.Fatalf("width %d: a column came back", w)
		}
		dropped = n
		if q := cols[len(cols)-1]; q.id != colQuery || (n < len(order) && q.w < pgMinQuery) {
			t.Fatalf("width %d: query %+v", w, q)
		}
	}
	if dropped != len(order) {
		t.Errorf("at 30 cells only %d columns dropped", dropped)
	}
}

// TestGridLayout: at 200×60 the top row is as tall as its content needs, the
// focused pane gets ~65% of its row, and Postgres focused has ≥120 columns.
func TestGridLayout(t *testing.T) {
	e := newEnv(t, true)
	m := e.model(200, 60)
	if want := 2 + 1 + 9; m.alerts.h != want || m.slo.h != want {
		t.Errorf("top row %d/%d, want %d (alerts: header + 9 rows + border)", m.slo.h, m.alerts.h, want)
	}
	if m.pg.h != 57-m.slo.h {
		t.Errorf("bottom row %d", m.pg.h)
	}
	m, _ = press(m, "3")
	if m.pg.w != 130 || m.ro.w != 70 || m.pg.w-2 < 120 {
		t.Errorf("postgres focused: %d | %d", m.pg.w, m.ro.w)
	}
	m, _ = press(m, "4")
	if m.ro.w != 130 || m.pg.w != 70 {
		t.Errorf("rollouts focused: %d | %d", m.pg.w, m.ro.w)
	}
	// Many alerts: the top row stops at 40% of the body.
	mm, _ := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{snap("am", sources.KindAlerts, benchAlerts(500), 0)}})
	m = mm.(Model)
	if m.alerts.h != 57*40/100 {
		t.Errorf("top row with 500 alerts: %d", m.alerts.h)
	}
	// 80×24 is not a grid: the focused pane has the body.
	m = e.model(80, 24)
	m, _ = press(m, "3")
	if m.pg.w != 80 || m.pg.h != 24-3-3 {
		t.Errorf("80x24 postgres %dx%d", m.pg.w, m.pg.h)
	}
}

// TestMenuChecksTargetsNotStandIns: scale and silence are judged on the
// selection alone (ops.Policy.CheckTarget); the menu invents no replica
// count, duration or comment, and a form submission is checked in full.
func TestMenuChecksTargetsNotStandIns(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, _ = press(m, "4", "a")
	var scale *actionEntry
	for i, en := range m.menu.entries {
		if en.kind == ops.Scale {
			scale = &m.menu.entries[i]
		}
	}
	if scale == nil || scale.reason != "" || !scale.params {
		t.Fatalf("scale entry %+v", scale)
	}
	if scale.req.Params.Replicas != 0 {
		t.Errorf("menu invented a replica count: %d", scale.req.Params.Replicas)
	}
	// The form's own check still refuses an unchanged count.
	m, _ = press(m, "esc", "S")
	if m.form == nil {
		t.Fatal("no scale form")
	}
	m, cmd := press(m, "enter")
	if cmd != nil || !strings.Contains(m.form.err, "already at 6 replicas") {
		t.Errorf("unchanged replicas: cmd=%v err=%q", cmd != nil, m.form.err)
	}

	m = e.model(80, 24)
	m, _ = press(m, "2", "j", "a")
	var sil *actionEntry
	for i, en := range m.menu.entries {
		if en.kind == ops.Silence {
			sil = &m.menu.entries[i]
		}
	}
	if sil == nil || sil.reason != "" {
		t.Fatalf("silence entry %+v", sil)
	}
	if p := sil.req.Params; p.Duration != 0 || p.Comment != "" || len(p.Matchers) == 0 {
		t.Errorf("silence request carries stand-ins or lacks the prefill: %+v", p)
	}
	// Read-only: still disabled with the reason, no policy noise.
	ro := newEnv(t, true).model(80, 24)
	ro, _ = press(ro, "4", "a")
	for _, en := range ro.menu.entries {
		if en.kind == ops.Scale && en.reason != "read-only mode" {
			t.Errorf("read-only scale reason %q", en.reason)
		}
	}
}

// TestRolloutHistoryAgesAndCurrent: the detail view gives every revision its
// age and marks the running one and the one undo would go to.
func TestRolloutHistoryAgesAndCurrent(t *testing.T) {
	m := newEnv(t, false).model(120, 30)
	m, _ = press(m, "4", "enter")
	out := plain(m)
	for _, want := range []string{"●   42 4m ago   current", "←   41 38h ago  undo target", "40 4d ago"} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	m, _ = press(m, "j", "j", "enter") // choose revision 40
	if out := plain(m); !strings.Contains(out, "←   40 4d ago   undo target") || strings.Contains(out, "41 38h ago  undo target") {
		t.Errorf("chosen undo target not marked:\n%s", out)
	}
}
