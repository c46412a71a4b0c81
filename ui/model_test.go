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
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

func TestFocusKeys(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	for k, want := range map[string]string{"1": "SLOs", "2": "Alerts", "3": "Postgres", "4": "Rollouts", "5": "AWS"} {
		m2, _ := press(m, k)
		if got := m2.panes[m2.focus].Title(); got != want {
			t.Errorf("key %s: focus %s, want %s", k, got, want)
		}
	}
	m, _ = press(m, "4", "tab")
	if m.focus != 4 {
		t.Errorf("tab from rollouts: focus %d", m.focus)
	}
	m, _ = press(m, "tab")
	if m.focus != 0 {
		t.Errorf("tab from AWS: focus %d", m.focus)
	}
	mm, _ := m.Update(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	if mm.(Model).focus != 4 {
		t.Errorf("shift+tab from SLOs: focus %d", mm.(Model).focus)
	}
}

func TestSnapshotsRoutedToOwningPane(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	// The focused SLOs pane and the other panes' summaries show their data.
	out := plain(m)
	for _, want := range []string{"api-availability  99.620%", "firing 3", "conns 84/97", "3 deployments"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q: a snapshot was not routed\n%s", want, out)
		}
	}
	// A second postgres source is kept, and [ ] switch to it.
	other := snap("pg replica", sources.KindPostgres, pgFixture(), time.Second)
	mm, cmd := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{other}})
	m = mm.(Model)
	if cmd != nil {
		t.Error("no Updates configured, yet a wait Cmd was returned")
	}
	m, _ = press(m, "3", "]")
	if out := plain(m); !strings.Contains(out, "3 Postgres · pg replica 1s [2/2 ] to switch]") {
		t.Errorf("] did not switch database:\n%s", out)
	}
}

func TestUpdatesRearmed(t *testing.T) {
	e := newEnv(t, true)
	e.opts.Data.Updates = &fakeSub{batch: allSnaps()}
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

func TestReadOnlyRefusesWithoutCmd(t *testing.T) {
	e := newEnv(t, true)
	m := e.model(80, 24)
	for _, seq := range [][]string{{"3", "K"}, {"3", "C"}, {"4", "u"}, {"4", "R"}, {"4", "S"}, {"2", "x"}} {
		m2, cmd := press(m, seq...)
		if cmd != nil {
			t.Errorf("%v: read-only returned a Cmd", seq)
		}
		if m2.status != kit.ReadOnlyRefusal || confirmOf(m2) != nil || formOf(m2) != nil {
			t.Errorf("%v: status %q", seq, m2.status)
		}
	}
	// The menu still opens and shows why every entry is disabled.
	m, _ = press(m, "3", "a")
	if menuOf(m) == nil {
		t.Fatal("menu did not open")
	}
	for _, e := range menuOf(m).entries {
		if !strings.Contains(e.reason, "read-only") {
			t.Errorf("entry %q enabled in read-only", e.Label)
		}
	}
	e.clk.Add(kit.KeyGuard)
	if m2, cmd := press(m, "enter"); cmd != nil || menuOf(m2) == nil {
		t.Error("choosing a disabled entry did something")
	}
}

func TestMenuShowsPolicyReasons(t *testing.T) {
	m := newEnv(t, false).model(80, 24)
	// Move to pid 4803 (role postgres, protected) : rows by duration.
	m, _ = press(m, "3", "/")
	m = typeText(m, "user:postgres")
	m, _ = press(m, "enter", "a")
	if menuOf(m) == nil {
		t.Fatal("no menu")
	}
	found := false
	for _, e := range menuOf(m).entries {
		if e.Kind == ops.Terminate && strings.Contains(e.reason, `role "postgres" is protected`) {
			found = true
		}
	}
	if !found {
		t.Errorf("protected role not shown as reason: %+v", menuOf(m).entries)
	}
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
	if confirmOf(m) == nil || confirmOf(m).Plan().Risk != ops.Low || confirmOf(m).YesFocused() {
		t.Fatalf("confirm dialog: %+v", confirmOf(m))
	}
	// Keys in the first 400 ms are ignored, even y.
	m, cmd = press(m, "y")
	if cmd != nil || confirmOf(m) == nil {
		t.Fatal("key inside the 400ms guard was acted on")
	}
	e.clk.Add(401 * time.Millisecond)
	// enter with No focused cancels: the dialog closes and says so.
	m, cmd = press(m, "enter")
	if _, ok := cmd().(CancelledMsg); !ok || confirmOf(m) != nil {
		t.Fatalf("enter on No: cmd=%v confirm=%v", cmd != nil, confirmOf(m) != nil)
	}
	if m = runCmd(t, m, cmd); !strings.Contains(m.status, "cancelled") {
		t.Fatalf("enter on No: status %q", m.status)
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
	e.opts.Data.Refresh = func(s string) { refreshed = s }
	m := e.model(80, 24)
	m, cmd := press(m, "3", "K")
	m = runCmd(t, m, cmd)
	if confirmOf(m) == nil || confirmOf(m).Plan().Risk != ops.High || confirmOf(m).Plan().Phrase != "4711" {
		t.Fatalf("confirm: %+v", confirmOf(m))
	}
	if !strings.Contains(plain(m), "type 4711 to confirm") {
		t.Error("phrase prompt not shown")
	}
	e.clk.Add(time.Second)
	m = typeText(m, "4712")
	m, cmd = press(m, "enter")
	if cmd != nil || confirmOf(m) == nil || !strings.Contains(confirmOf(m).Err(), "does not match") {
		t.Fatalf("mismatch: cmd=%v confirm=%+v", cmd != nil, confirmOf(m))
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
	if _, ok := cmd().(CancelledMsg); !ok || confirmOf(m) != nil {
		t.Fatal("esc did not cancel the confirm dialog")
	}
	m, _ = press(m, "a")
	m, _ = press(m, "esc")
	if menuOf(m) != nil {
		t.Fatal("esc did not close the menu")
	}
	m, _ = press(m, "4", "S")
	if formOf(m) == nil {
		t.Fatal("scale form did not open")
	}
	if formOf(m).Fields()[0].Value != "6" {
		t.Errorf("replicas prefilled %q", formOf(m).Fields()[0].Value)
	}
	m, _ = press(m, "esc")
	if formOf(m) != nil {
		t.Fatal("esc did not close the form")
	}
}

func TestSilenceForm(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, _ = press(m, "2", "j", "x") // first HighErrorRate alert
	if formOf(m) == nil {
		t.Fatal("no silence form")
	}
	if got := formOf(m).Fields()[0].Value; got != `{alertname="HighErrorRate", service="nudge-api", severity="critical"}` {
		t.Errorf("prefilled matchers %s", got)
	}
	// A burst typed for the pane must not submit the form under it.
	m, cmd := press(m, "enter")
	if cmd != nil || formOf(m) == nil || formOf(m).Err() != "" {
		t.Fatalf("enter inside the 400ms guard was acted on: %v", formOf(m))
	}
	e.clk.Add(kit.KeyGuard)
	m, cmd = press(m, "enter")
	if cmd != nil || !strings.Contains(formOf(m).Err(), "comment") {
		t.Fatalf("empty comment accepted: %q", formOf(m).Err())
	}
	m = typeText(m, "deploy rollback in progress")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	if confirmOf(m) == nil || confirmOf(m).Plan().Action != ops.Silence {
		t.Fatalf("no silence plan: %q", m.status)
	}
}

func TestUndoUsesChosenRevision(t *testing.T) {
	e := newEnv(t, false)
	// choose revision 40 in the history view, then undo from there
	m2, cmd := press(e.model(80, 24), "4", "enter", "j", "j", "enter", "u")
	m2 = runCmd(t, m2, cmd)
	if confirmOf(m2) == nil || confirmOf(m2).Plan().Params.ToRevision != 40 {
		t.Fatalf("undo plan %+v status %q", confirmOf(m2), m2.status)
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

// TestGridLayout: at 200×60 the top row is as tall as its content needs, as
// is the AWS row at the bottom (full width); the focused pane gets ~65% of
// its row, and Postgres focused has ≥120 columns.
func TestGridLayout(t *testing.T) {
	e := newEnv(t, true)
	m := e.model(200, 60)
	const slo, alerts, pg, ro, aws = 0, 1, 2, 3, 4
	if want := 2 + 1 + 9; m.sizes[alerts].h != want || m.sizes[slo].h != want {
		t.Errorf("top row %d/%d, want %d (alerts: header + 9 rows + border)", m.sizes[slo].h, m.sizes[alerts].h, want)
	}
	if want := 2 + 2 + 7; m.sizes[aws].h != want || m.sizes[aws].w != 200 {
		t.Errorf("AWS row %dx%d, want 200x%d (border, two column title lines, 4 instances, 3 services)", m.sizes[aws].w, m.sizes[aws].h, want)
	}
	if m.sizes[pg].h != 57-m.sizes[slo].h-m.sizes[aws].h || m.sizes[pg].h < 30 {
		t.Errorf("middle row %d", m.sizes[pg].h)
	}
	// 160×48: still a grid with room for the long tables.
	m160 := e.model(160, 48)
	if m160.sizes[pg].h != 45-m160.sizes[slo].h-m160.sizes[aws].h || m160.sizes[pg].h < 20 || m160.sizes[aws].w != 160 {
		t.Errorf("160x48: middle row %d, AWS %+v", m160.sizes[pg].h, m160.sizes[aws])
	}
	m, _ = press(m, "3")
	if m.sizes[pg].w != 130 || m.sizes[ro].w != 70 || m.sizes[pg].w-2 < 120 {
		t.Errorf("postgres focused: %d | %d", m.sizes[pg].w, m.sizes[ro].w)
	}
	m, _ = press(m, "4")
	if m.sizes[ro].w != 130 || m.sizes[pg].w != 70 {
		t.Errorf("rollouts focused: %d | %d", m.sizes[pg].w, m.sizes[ro].w)
	}
	// Many alerts: the top row stops at 40% of the body.
	mm, _ := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{snap("am", sources.KindAlerts, uitest.ManyAlerts(500), 0)}})
	m = mm.(Model)
	if m.sizes[alerts].h != 57*40/100 {
		t.Errorf("top row with 500 alerts: %d", m.sizes[alerts].h)
	}
	// 80×24 is not a grid: the focused pane has the body.
	m = e.model(80, 24)
	m, _ = press(m, "3")
	if m.sizes[pg].w != 80 || m.sizes[pg].h != 24-3-4 {
		t.Errorf("80x24 postgres %dx%d", m.sizes[pg].w, m.sizes[pg].h)
	}
}

// TestMenuChecksTargetsNotStandIns: scale and silence are judged on the
// selection alone (ops.Policy.CheckTarget); the menu invents no replica
// count, duration or comment, and a form submission is checked in full.
func TestMenuChecksTargetsNotStandIns(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, _ = press(m, "4", "a")
	var scale *entry
	for i, en := range menuOf(m).entries {
		if en.Kind == ops.Scale {
			scale = &menuOf(m).entries[i]
		}
	}
	if scale == nil || scale.reason != "" || !(scale.Form != nil) {
		t.Fatalf("scale entry %+v", scale)
	}
	if scale.req.Params.Replicas != 0 {
		t.Errorf("menu invented a replica count: %d", scale.req.Params.Replicas)
	}
	// The form's own check still refuses an unchanged count.
	m, _ = press(m, "esc", "S")
	if formOf(m) == nil {
		t.Fatal("no scale form")
	}
	e.clk.Add(kit.KeyGuard)
	m, cmd := press(m, "enter")
	if cmd != nil || !strings.Contains(formOf(m).Err(), "already at 6 replicas") {
		t.Errorf("unchanged replicas: cmd=%v err=%q", cmd != nil, formOf(m).Err())
	}

	m = e.model(80, 24)
	m, _ = press(m, "2", "j", "a")
	var sil *entry
	for i, en := range menuOf(m).entries {
		if en.Kind == ops.Silence {
			sil = &menuOf(m).entries[i]
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
	for _, en := range menuOf(ro).entries {
		if en.Kind == ops.Scale && en.reason != "read-only mode" {
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
