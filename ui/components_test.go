package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// deploysPane is a sixth pane defined only in this file: the newest
// deployment of the rollouts data and a restart of it on its own key. It
// implements Pane by hand, without kit.List, to show the interface is all
// the root needs.
type deploysPane struct {
	env     *kit.Env
	key     string
	set     *sources.RolloutSet
	src     string
	w, h    int
	restart key.Binding
}

func newDeploysPane(s kit.Slot) Pane {
	return &deploysPane{env: s.Env, key: s.Key, restart: key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "restart newest"))}
}

func (p *deploysPane) Title() string         { return "Deploys" }
func (p *deploysPane) Kinds() []sources.Kind { return []sources.Kind{sources.KindRollouts} }
func (p *deploysPane) SetSnapshot(s sources.Snapshot) {
	p.set, _ = s.Data.(*sources.RolloutSet)
	p.src = s.Source
}
func (p *deploysPane) HandleKey(tea.KeyPressMsg) tea.Cmd { return nil }
func (p *deploysPane) SetSize(w, h int)                  { p.w, p.h = w, h }
func (p *deploysPane) CapturesKeys() bool                { return false }
func (p *deploysPane) ShortHelp() []key.Binding          { return []key.Binding{p.restart} }
func (p *deploysPane) FullHelp() [][]key.Binding         { return [][]key.Binding{{p.restart}} }

func (p *deploysPane) newest() *sources.Deployment {
	if p.set == nil || len(p.set.Deployments) == 0 {
		return nil
	}
	n := &p.set.Deployments[0]
	for i := range p.set.Deployments {
		if d := &p.set.Deployments[i]; d.RolledOutAt.After(n.RolledOutAt) {
			n = d
		}
	}
	return n
}

func (p *deploysPane) line() string {
	d := p.newest()
	if d == nil {
		return "nothing deployed"
	}
	return "newest: " + d.Name + " " + kit.Age(p.env.Now().Sub(d.RolledOutAt)) + " ago"
}

func (p *deploysPane) Summary() string { return p.key + " Deploys  " + p.line() }

func (p *deploysPane) View(focused bool) []string {
	return kit.Frame(p.env.Theme, p.key+" Deploys", "", focused, p.w, p.h, []string{p.line()})
}

func (p *deploysPane) Actions() []kit.Action {
	d := p.newest()
	if d == nil {
		return []kit.Action{{Kind: ops.Restart, Label: "Restart newest", Key: p.restart, Disabled: "nothing deployed"}}
	}
	src := p.src
	return []kit.Action{{Kind: ops.Restart, Label: "Restart newest " + d.Key(), Key: p.restart,
		Request: func() ops.Request { dd := *d; return ops.Request{Action: ops.Restart, Source: src, Deployment: &dd} }}}
}

// TestExtraPane registers a sixth pane from outside the root and drives it:
// its focus key, its summary line, its help, its action in the menu and on
// its own key through plan → typed confirm → execute on a fake rollout
// controller. Nothing in the root names it.
func TestExtraPane(t *testing.T) {
	e := newEnv(t, false)
	e.opts.Data.ExtraPanes = []PaneFunc{newDeploysPane}
	m := e.model(80, 24)
	if out := plain(m); !strings.Contains(out, " 6 Deploys  newest: nudge-api 4m ago") {
		t.Fatalf("no summary line for pane 6:\n%s", out)
	}
	m, _ = press(m, "6")
	if out := plain(m); m.panes[m.focus].Title() != "Deploys" || !strings.Contains(out, "╭─ 6 Deploys ─") || !strings.Contains(out, "z restart newest") {
		t.Fatalf("6 did not focus the pane:\n%s", out)
	}
	m, _ = press(m, "?")
	help := plain(m)
	for _, want := range []string{"6 Deploys", "Deploys (focused)", "z restart newest"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	m, _ = press(m, "?", "a")
	if d := menuOf(m); d == nil || len(d.entries) != 1 || d.entries[0].Label != "Restart newest production/nudge-api" || d.entries[0].reason != "" {
		t.Fatalf("menu %+v", menuOf(m))
	}
	m, _ = press(m, "esc")
	m, cmd := press(m, "z")
	m = runCmd(t, m, cmd)
	c := confirmOf(m)
	if c == nil || c.Plan().Action != ops.Restart {
		t.Fatalf("no restart plan: %q", m.status)
	}
	e.clk.Add(kit.KeyGuard)
	m = typeText(m, c.Plan().Phrase)
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	if got := e.kube.restarted(); !slices.Equal(got, []string{"production/nudge-api"}) {
		t.Fatalf("restarts %v, status %q", got, m.status)
	}
	// tab cycles through it; the grid gives it half a row, next to AWS.
	m, _ = press(m, "tab")
	if m.focus != 0 {
		t.Errorf("tab from pane 6: focus %d", m.focus)
	}
	g := e.model(200, 60)
	if s := g.sizes[5]; s.w < 60 || s.h < 10 {
		t.Errorf("pane 6 in the grid: %+v", s)
	}
	if lines := strings.Split(plain(g), "\n"); len(lines) != 60 || !strings.Contains(plain(g), "6 Deploys") {
		t.Errorf("grid of 6 panes: %d lines", len(lines))
	}
}

// TestRequestFromOutsideAnyPane: a RequestMsg that no pane sent (a runbook
// step, another session) goes through plan → typed confirm → execute →
// journal, with the Executor's own checks.
func TestRequestFromOutsideAnyPane(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24) // SLOs has focus: no pane offers this
	req := ops.Request{Action: ops.Terminate, Source: "pg main", Backends: uitest.PG().Backends[:1]}
	mm, cmd := m.Update(RequestMsg{Request: req})
	m = mm.(Model)
	if m.pending == "" {
		t.Error("no pending notice while planning")
	}
	m = runCmd(t, m, cmd)
	c := confirmOf(m)
	if c == nil || c.Plan().Risk != ops.High || c.Plan().Phrase != "4711" {
		t.Fatalf("confirm %+v, status %q", c, m.status)
	}
	e.clk.Add(kit.KeyGuard)
	m = typeText(m, "4711")
	m, cmd = press(m, "enter")
	m = runCmd(t, m, cmd)
	if got := e.pg.calls(); !slices.Equal(got, []int32{4711}) {
		t.Fatalf("signals %v", got)
	}
	if !strings.Contains(m.status, "done") || m.statusBad {
		t.Errorf("status %q", m.status)
	}
	recs, err := ops.ReadJournal(e.journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Phase != "intent" || recs[1].Phase != "outcome" || recs[1].Outcome != "ok" ||
		recs[0].PlanID != c.Plan().ID || recs[1].PlanID != c.Plan().ID || recs[0].Action != ops.Terminate || recs[0].Operator != "test@host" {
		t.Errorf("journal %+v", recs)
	}
	// A read-only session refuses it without a Cmd.
	ro := newEnv(t, true).model(80, 24)
	mm, cmd = ro.Update(RequestMsg{Request: req})
	if cmd != nil || mm.(Model).status != kit.ReadOnlyRefusal {
		t.Errorf("read-only: cmd=%v status %q", cmd != nil, mm.(Model).status)
	}
}

func ctrl(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Mod: tea.ModCtrl} }

func send1(m Model, msg tea.Msg) (Model, tea.Cmd) {
	mm, cmd := m.Update(msg)
	return mm.(Model), cmd
}

// TestRemappedDialogKeys: submit, next_field and close remapped in config
// work in the filter prompt, the menu, the forms and the typed
// confirmation, and the keys they replaced no longer do.
func TestRemappedDialogKeys(t *testing.T) {
	e := newEnv(t, false)
	if err := keymap.ApplyOverrides(&e.opts.Look.KeyMap, map[string][]string{
		"submit": {"ctrl+s"}, "next_field": {"ctrl+n"}, "close": {"ctrl+g"},
	}); err != nil {
		t.Fatal(err)
	}
	m := e.model(80, 24)

	// Filter prompt: enter no longer keeps the filter, ctrl+s does; ctrl+g
	// clears it.
	m, _ = press(m, "3", "/")
	m = typeText(m, "user:app")
	m, _ = press(m, "enter")
	if !m.panes[m.focus].CapturesKeys() {
		t.Fatal("enter closed the prompt though submit is ctrl+s")
	}
	m, _ = send1(m, ctrl('s'))
	if m.panes[m.focus].CapturesKeys() || !strings.Contains(plain(m), `filter:"user:app" 4 match`) {
		t.Fatalf("ctrl+s did not keep the filter:\n%s", plain(m))
	}
	m, _ = press(m, "/")
	m, _ = send1(m, ctrl('g'))
	if m.panes[m.focus].CapturesKeys() || strings.Contains(plain(m), "filter:") {
		t.Fatalf("ctrl+g did not clear the filter:\n%s", plain(m))
	}

	// Menu: ctrl+g closes, ctrl+s chooses (after the guard), enter does not.
	m, _ = press(m, "a")
	m, _ = send1(m, ctrl('g'))
	if menuOf(m) != nil {
		t.Fatal("ctrl+g did not close the menu")
	}
	m, _ = press(m, "a", "j")
	e.clk.Add(kit.KeyGuard)
	if m, cmd := press(m, "enter"); cmd != nil || menuOf(m) == nil {
		t.Fatal("enter chose a menu entry though submit is ctrl+s")
	}
	m, cmd := send1(m, ctrl('s'))
	if menuOf(m) != nil || cmd == nil {
		t.Fatal("ctrl+s did not choose the entry")
	}
	if msg, ok := cmd().(RequestMsg); !ok || msg.Request.Action != ops.Terminate {
		t.Fatalf("menu answered %T", cmd())
	}

	// Form: ctrl+n moves to the next field (tab types nothing now),
	// ctrl+s submits, ctrl+g cancels.
	m, _ = press(m, "4", "S")
	f := formOf(m)
	if f == nil || f.Focus() != 0 {
		t.Fatalf("scale form %+v", f)
	}
	m, _ = press(m, "tab")
	if f.Focus() != 0 {
		t.Error("tab moved to the next field though next_field is ctrl+n")
	}
	m, _ = send1(m, ctrl('n'))
	if f.Focus() != 1 {
		t.Error("ctrl+n did not move to the next field")
	}
	e.clk.Add(kit.KeyGuard)
	m, _ = press(m, "enter")
	if f.Err() != "" || formOf(m) == nil {
		t.Error("enter submitted the form though submit is ctrl+s")
	}
	m, _ = send1(m, ctrl('s'))
	if !strings.Contains(f.Err(), "already at 6 replicas") {
		t.Errorf("ctrl+s did not submit: %q", f.Err())
	}
	m, cmd = send1(m, ctrl('g'))
	if _, ok := cmd().(CancelledMsg); !ok || formOf(m) != nil {
		t.Fatal("ctrl+g did not cancel the form")
	}

	// Typed confirmation: enter does not submit, ctrl+s does; ctrl+g
	// cancels another one.
	m, cmd = press(m, "3", "K")
	m = runCmd(t, m, cmd)
	e.clk.Add(kit.KeyGuard)
	m = typeText(m, "4711")
	if m, cmd = press(m, "enter"); cmd != nil || confirmOf(m) == nil {
		t.Fatal("enter confirmed though submit is ctrl+s")
	}
	m, cmd = send1(m, ctrl('s'))
	m = runCmd(t, m, cmd)
	if got := e.pg.calls(); !slices.Equal(got, []int32{4711}) {
		t.Fatalf("ctrl+s did not confirm: signals %v, status %q", got, m.status)
	}
	m, cmd = press(m, "K")
	m = runCmd(t, m, cmd)
	e.clk.Add(kit.KeyGuard)
	m, cmd = send1(m, ctrl('g'))
	if _, ok := cmd().(CancelledMsg); !ok || confirmOf(m) != nil {
		t.Fatal("ctrl+g did not cancel the confirmation")
	}
	// The quit key that types nothing still quits from a dialog.
	m, _ = press(m, "a")
	if _, cmd := send1(m, ctrl('c')); cmd == nil {
		t.Error("ctrl+c did not quit from the menu")
	}
}

// noteView is a full-screen view defined only here: it shows the keys it
// was given and counts snapshots and ticks.
type noteView struct {
	id           string
	snaps, ticks int
	keys         []string
}

func (v *noteView) ID() string                   { return v.id }
func (v *noteView) Title() string                { return "Note" }
func (v *noteView) SetSnapshot(sources.Snapshot) { v.snaps++ }
func (v *noteView) ShortHelp() []key.Binding     { return nil }
func (v *noteView) FullHelp() [][]key.Binding    { return nil }
func (v *noteView) CapturesKeys() bool           { return false }

func (v *noteView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		v.keys = append(v.keys, msg.String())
	case TickMsg:
		v.ticks++
	}
	return nil
}

func (v *noteView) View(w, h int) []string {
	out := kit.Blank(w, h)
	out[0] = kit.Fit("note "+v.id+" keys "+strings.Join(v.keys, ","), w, "…")
	return out
}

// TestViews: a pushed view takes the body and every snapshot and tick;
// esc returns to the panes and pushing its ID again shows it with its
// state; a focus key leaves it; CloseViewMsg forgets it.
func TestViews(t *testing.T) {
	m := newEnv(t, true).model(80, 24)
	v := &noteView{id: "run-1"}
	m, _ = send1(m, PushViewMsg{View: v})
	if v.snaps != 5 {
		t.Errorf("a new view got %d of the 5 snapshots the panes have", v.snaps)
	}
	m, _ = press(m, "j")
	out := plain(m)
	if !strings.Contains(out, "note run-1 keys j") || strings.Contains(out, "1 SLOs") {
		t.Fatalf("view not shown over the body:\n%s", out)
	}
	if lines := strings.Split(out, "\n"); len(lines) != 24 {
		t.Errorf("%d lines", len(lines))
	}
	m, _ = send1(m, SnapshotsMsg{Snapshots: uitest.AllSnaps()[:1]})
	m, _ = send1(m, TickMsg{})
	if v.snaps != 6 || v.ticks != 1 {
		t.Errorf("snapshots %d ticks %d", v.snaps, v.ticks)
	}
	m, _ = press(m, "esc")
	if out := plain(m); strings.Contains(out, "note run-1") || !strings.Contains(out, "1 SLOs") {
		t.Fatalf("esc did not return to the panes:\n%s", out)
	}
	m, _ = send1(m, SnapshotsMsg{Snapshots: uitest.AllSnaps()[:1]})
	if v.snaps != 7 {
		t.Error("a hidden view stopped getting snapshots")
	}
	m, _ = send1(m, PushViewMsg{View: &noteView{id: "run-1"}})
	if out := plain(m); !strings.Contains(out, "note run-1 keys j") {
		t.Fatalf("pushing the ID again did not show the kept view:\n%s", out)
	}
	m, _ = press(m, "3")
	if m.shownView() != nil || m.panes[m.focus].Title() != "Postgres" {
		t.Error("a focus key did not leave the view for its pane")
	}
	m, _ = send1(m, CloseViewMsg{ID: "run-1"})
	if len(m.views) != 0 {
		t.Errorf("views %d after close", len(m.views))
	}
}

// TestShowPane: a runbook "view" step focuses the pane that owns the kind,
// leaves any view, and puts its filter (with its sort) in force.
func TestShowPane(t *testing.T) {
	m := newEnv(t, true).model(100, 30)
	m, _ = send1(m, PushViewMsg{View: &noteView{id: "run-1"}})
	m, _ = send1(m, ShowPaneMsg{Kind: sources.KindPostgres, Filter: "state:!idle sort:user"})
	out := plain(m)
	if m.shownView() != nil || m.panes[m.focus].Title() != "Postgres" {
		t.Fatalf("not on the Postgres pane:\n%s", out)
	}
	for _, want := range []string{"sort:user", `filter:"state:!idle sort:user" 7 match`} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	if m, _ = send1(m, ShowPaneMsg{Kind: "queue"}); !m.statusBad {
		t.Error("a kind no pane owns was not reported")
	}
}

// TestSessionFacts: the header's production badge and the operator come
// from Options (the caller decided them), and the session's context ends
// the wait for snapshots.
func TestSessionFacts(t *testing.T) {
	e := newEnv(t, true)
	e.opts.Identity.Environment, e.opts.Identity.Production, e.opts.Identity.Operator = "eu-live", true, "alice (SHA256:4f2a…) from 10.0.0.7"
	m := e.model(80, 24)
	if out := plain(m); !strings.Contains(out, " EU-LIVE ") {
		t.Errorf("production badge missing:\n%s", out)
	}
	m, _ = press(m, "?")
	if out := plain(m); !strings.Contains(out, "operator: alice (SHA256:4f2a…) from 10.0.0.7") {
		t.Errorf("operator not in help:\n%s", out)
	}
	// The UI no longer guesses from the name.
	e.opts.Identity.Environment, e.opts.Identity.Production = "production", false
	if out := plain(e.model(80, 24)); !strings.Contains(out, " production ") {
		t.Errorf("environment named production but not decided so was badged:\n%s", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	e.opts.Context, e.opts.Data.Updates = ctx, &fakeSub{}
	m = New(e.opts)
	done := make(chan tea.Msg, 1)
	go func() { done <- m.waitCmd()() }()
	cancel()
	select {
	case msg := <-done:
		if sm, ok := msg.(SnapshotsMsg); !ok || sm.Err == nil {
			t.Fatalf("wait ended with %#v", msg)
		}
		if mm, _ := send1(m, msg); mm.status != "" {
			t.Errorf("the session's end reported as a fault: %q", mm.status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the session's context did not end the wait")
	}
}
