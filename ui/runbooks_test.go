package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/runbooks"
)

// pileUpBook is a runbook over the UI fixtures: the pile-up behind
// pid 4711 and the HighErrorRate alert that opens it.
const pileUpBook = `name: pile-up
title: Lock pile-up
description: Connections pile up behind one idle transaction.
opens_on:
  alerts: [HighErrorRate]
symptoms: [too many connections]
steps:
  - kind: check
    title: Connections are high
    expr: pg.ratio >= 0.8
  - kind: view
    title: See the blockers
    pane: postgres
    filter: blocking
  - kind: action
    title: Terminate the root blocker
    action: terminate
    backends: blocking
    root_blockers: true
  - kind: verify
    title: No root blocker left
    expr: pg.root_blockers == 0
    within: 1m
  - kind: note
    title: Tell the others
    text: "Post in #incidents."
    command: echo resolved
`

func loadPileUp(t *testing.T) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Load("pile-up.yaml", []byte(pileUpBook))
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// runbookEnv is newEnv with the pile-up runbook and the journal as the
// runs' journal.
func runbookEnv(t *testing.T, ro bool, books ...*runbook.Runbook) *env {
	t.Helper()
	e := newEnv(t, ro)
	if len(books) == 0 {
		books = append(books, loadPileUp(t))
	}
	e.opts.Runbooks.Set = runbook.NewSet(books...)
	e.opts.Identity.Operator = "test@host"
	if !ro {
		j, err := ops.OpenJournal(e.journal)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		e.opts.Runbooks.Journal = j
	}
	return e
}

// drive runs cmd and everything it leads to, batches included, feeding
// each message back into m; a Cmd still pending after limit rounds fails.
func drive(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 200 {
			t.Fatal("the Cmds never settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		if b, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, b...)
			continue
		}
		if msg == nil {
			continue
		}
		mm, next := m.Update(msg)
		m = mm.(Model)
		queue = append(queue, next)
	}
	return m
}

// key presses one key and drives what it starts.
func (e *env) key(t *testing.T, m Model, k string) Model {
	t.Helper()
	mm, cmd := m.Update(keyMsg(k))
	return drive(t, mm.(Model), cmd)
}

func shownRun(t *testing.T, m Model) *runbooks.RunView {
	t.Helper()
	rv, ok := m.shownView().(*runbooks.RunView)
	if !ok {
		t.Fatalf("no run view shown:\n%s", plain(m))
	}
	return rv
}

func journal(t *testing.T, path string) []string {
	t.Helper()
	recs, err := ops.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		s := r.Phase
		switch {
		case r.Run != nil && r.Phase == ops.PhaseRunStep:
			s += ":" + r.Run.Kind + ":" + r.Run.Result
		case r.Run != nil && r.Run.Result != "":
			s += ":" + r.Run.Result
		case r.Run == nil:
			s += ":" + string(r.Action) + ":" + r.Outcome
		}
		out = append(out, s)
	}
	return out
}

// The whole way through a run from the Alerts pane: r opens the alert's
// runbook, enter does each step (the view step shows its pane, the action
// goes through the one confirm flow, the verify passes on the next
// snapshot, the note is acknowledged) and the journal holds it all.
func TestRunbookWalkThrough(t *testing.T) {
	e := runbookEnv(t, false)
	m := e.model(160, 60)
	m = e.key(t, m, "2")
	m = e.key(t, m, "r")
	rv := shownRun(t, m)
	if a := rv.Run().Alert(); a == nil || a.Name != "HighErrorRate" {
		t.Fatalf("run opened by %+v", a)
	}
	out := plain(m)
	for _, want := range []string{"Lock pile-up", "opened by alert HighErrorRate (critical)", "started 03:12:00 UTC by test@host",
		"▶ ·  1. check  Connections are high", "now ✓ true", "symptoms: too many connections"} {
		if !strings.Contains(out, want) {
			t.Errorf("run view lacks %q:\n%s", want, out)
		}
	}

	m = e.key(t, m, "enter") // the check
	m = e.key(t, m, "enter") // the view step: the Postgres pane, filtered
	if m.shownView() != nil || m.panes[m.focus].Title() != "Postgres" || !strings.Contains(plain(m), `filter:"blocking"`) {
		t.Fatalf("view step did not show the filtered Postgres pane:\n%s", plain(m))
	}
	// r away from the alerts lists the open run first; enter goes back.
	m = e.key(t, m, "r")
	if !strings.Contains(plain(m), "Open runs (1)") {
		t.Fatalf("list:\n%s", plain(m))
	}
	m = e.key(t, m, "enter")
	rv = shownRun(t, m)
	if rv.Cursor() != 2 {
		t.Fatalf("cursor on step %d, want the action", rv.Cursor()+1)
	}
	if out := plain(m); !strings.Contains(out, "→ target pid 4711") {
		t.Errorf("the action's targets are not previewed:\n%s", out)
	}

	m = e.key(t, m, "enter") // the action: plan, then the confirm dialog
	d := confirmOf(m)
	if d == nil || d.Plan().Action != ops.Terminate || d.Plan().Phrase != "4711" {
		t.Fatalf("confirm dialog: %+v\n%s", d, plain(m))
	}
	e.clk.Add(500 * time.Millisecond)
	m = typeText(m, "4711")
	m = e.key(t, m, "enter")
	if got := e.pg.calls(); !slices.Equal(got, []int32{4711}) {
		t.Fatalf("signalled %v", got)
	}
	steps := rv.Run().Steps(e.clk.Now())
	if steps[2].State != runbook.OK || steps[3].State != runbook.Waiting {
		t.Fatalf("after the action: %s, verify %s", steps[2].State, steps[3].State)
	}
	if out := plain(m); !strings.Contains(out, "waiting, 1m00s left") {
		t.Errorf("no countdown:\n%s", out)
	}

	// The countdown runs on ticks; the next snapshot, without the blocker,
	// passes the verify.
	e.clk.Add(10 * time.Second)
	mm, _ := m.Update(TickMsg{})
	m = mm.(Model)
	if out := plain(m); !strings.Contains(out, "waiting, 50s left") {
		t.Errorf("countdown did not run:\n%s", out)
	}
	pg := uitest.PG()
	pg.Backends = slices.DeleteFunc(pg.Backends, func(b sources.Backend) bool { return b.PID == 4711 })
	for i := range pg.Backends {
		pg.Backends[i].BlockedBy = nil
	}
	mm, cmd := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{{Source: "pg main", Kind: sources.KindPostgres, Data: pg, FetchedAt: e.clk.Now()}}})
	m = drive(t, mm.(Model), cmd)
	if s := rv.Run().Steps(e.clk.Now())[3]; s.State != runbook.OK {
		t.Fatalf("verify: %+v", s)
	}

	// The note: c copies its command, enter acknowledges it and ends the run.
	_, cmd = m.Update(keyMsg("c"))
	if cmd == nil || !strings.Contains(rv.Said(), "echo resolved") {
		t.Errorf("copy: cmd=%v msg=%q", cmd != nil, rv.Said())
	}
	m = e.key(t, m, "enter")
	if !rv.Run().Ended() || !strings.Contains(plain(m), "run ended: 5/5 steps done") {
		t.Fatalf("run not ended:\n%s", plain(m))
	}
	want := []string{"run_start", "run_step:check:ok", "run_step:view:viewed", "intent:terminate:", "outcome:terminate:ok",
		"run_step:action:ok", "run_step:verify:waiting", "run_step:verify:ok", "run_step:note:acknowledged", "run_end:completed"}
	if got := journal(t, e.journal); !slices.Equal(got, want) {
		t.Errorf("journal:\n got %v\nwant %v", got, want)
	}
	// esc returns to the panes; the ended run is no longer offered.
	m = e.key(t, m, "esc")
	m = e.key(t, m, "r")
	if strings.Contains(plain(m), "Open runs") {
		t.Errorf("ended run still listed:\n%s", plain(m))
	}
}

// Skipping asks for a reason (a form that ignores enter at first); the
// journal keeps it. Cancelling the confirmation puts the step back.
func TestRunbookSkipAndCancel(t *testing.T) {
	e := runbookEnv(t, false)
	m := e.model(160, 60)
	m = e.key(t, m, "2")
	m = e.key(t, m, "r")
	rv := shownRun(t, m)

	m = e.key(t, m, "s")
	if _, ok := m.dialogs[len(m.dialogs)-1].(*runbooks.SkipDialog); !ok {
		t.Fatalf("no reason dialog:\n%s", plain(m))
	}
	m = e.key(t, m, "enter") // inside the key guard: ignored
	if len(m.dialogs) == 0 {
		t.Fatal("enter in the key guard closed the dialog")
	}
	e.clk.Add(500 * time.Millisecond)
	m = e.key(t, m, "enter") // empty reason
	if d, ok := m.dialogs[len(m.dialogs)-1].(*runbooks.SkipDialog); !ok || d.Problem() == "" {
		t.Fatal("an empty reason was taken")
	}
	m = typeText(m, "seen on the dashboard")
	m = e.key(t, m, "enter")
	if s := rv.Run().Steps(e.clk.Now())[0]; s.State != runbook.Skipped || s.Reason != "seen on the dashboard" {
		t.Fatalf("skip: %+v", s)
	}
	if out := plain(m); !strings.Contains(out, "reason: seen on the dashboard") {
		t.Errorf("skip reason not shown:\n%s", out)
	}

	m = e.key(t, m, "j") // to the action
	m = e.key(t, m, "enter")
	if confirmOf(m) == nil {
		t.Fatalf("no confirm dialog:\n%s", plain(m))
	}
	e.clk.Add(500 * time.Millisecond)
	m = e.key(t, m, "esc")
	if s := rv.Run().Steps(e.clk.Now())[2]; s.State != runbook.Pending || s.Reason != "confirmation cancelled" {
		t.Fatalf("cancelled action: %+v", s)
	}
	if len(e.pg.calls()) != 0 {
		t.Fatal("a cancelled step signalled")
	}
	got := journal(t, e.journal)
	if want := []string{"run_start", "run_step:check:skipped", "run_step:action:cancelled"}; !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v", got, want)
	}
}

// A read-only session opens and follows a run (checks live), but an
// action step is refused on the step, nothing is signalled and nothing is
// written.
func TestRunbookReadOnly(t *testing.T) {
	e := runbookEnv(t, true)
	m := e.model(160, 60)
	m = e.key(t, m, "2")
	m = e.key(t, m, "r")
	rv := shownRun(t, m)
	out := plain(m)
	if !strings.Contains(out, "read-only session: every action step is refused") || !strings.Contains(out, "now ✓ true") {
		t.Fatalf("read-only run view:\n%s", out)
	}
	m = e.key(t, m, "G")
	m = e.key(t, m, "k")
	m = e.key(t, m, "k") // the action
	m = e.key(t, m, "enter")
	s := rv.Run().Steps(e.clk.Now())[2]
	if s.State != runbook.Failed || s.Outcome != runbook.OutcomeRefused || s.Reason != kit.ReadOnlyRefusal || confirmOf(m) != nil {
		t.Fatalf("read-only action: %+v", s)
	}
	if !strings.Contains(plain(m), "step 3 refused: "+kit.ReadOnlyRefusal) {
		t.Errorf("refusal not said:\n%s", plain(m))
	}
}

// An alert no runbook opens says so and how to add one; several are
// listed to pick from.
func TestRunbookNoneOrSeveral(t *testing.T) {
	other, err := runbook.Load("other.yaml", []byte(strings.Replace(strings.Replace(pileUpBook, "name: pile-up", "name: other", 1), "title: Lock pile-up", "title: Another one", 1)))
	if err != nil {
		t.Fatal(err)
	}
	e := runbookEnv(t, false, loadPileUp(t), other)
	m := e.model(160, 60)
	m = e.key(t, m, "2")
	m = e.key(t, m, "r")
	if out := plain(m); !strings.Contains(out, "2 runbooks open on alert HighErrorRate: pick one.") {
		t.Fatalf("several:\n%s", out)
	}
	m = e.key(t, m, "j")
	m = e.key(t, m, "enter")
	if rv := shownRun(t, m); rv.Run().Runbook().Name != "pile-up" || rv.Run().Alert().Name != "HighErrorRate" {
		t.Fatalf("picked %s", rv.Run().Runbook().Name)
	}

	// PostgresConnectionsHigh opens none.
	m = e.key(t, m, "esc")
	m = e.key(t, m, "/")
	m = typeText(m, "PostgresConnections")
	m = e.key(t, m, "enter")
	m = e.key(t, m, "r")
	out := plain(m)
	for _, want := range []string{"No runbook opens on alert PostgresConnectionsHigh.", "runbooks: [~/.config/flightdeck/runbooks]",
		"~/.config/flightdeck/runbooks/postgresconnectionshigh.yaml", "opens_on: {alerts: [PostgresConnectionsHigh]}", "Other runbooks (2)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
}

// After a restart the open run comes back from the journal: the list
// offers it, and it follows the snapshots.
func TestRunbookResumed(t *testing.T) {
	rb := loadPileUp(t)
	set := runbook.NewSet(rb)
	run, recs := runbook.Start(rb, nil, "test@host", ops.DefaultPolicy(), uitest.T0.Add(-time.Minute))
	run.Observe(uitest.AllSnaps(), uitest.T0.Add(-time.Minute))
	_, more := run.Do(0, uitest.T0.Add(-time.Minute))
	resumed, err := runbook.Resume(append(recs, more...), set, ops.DefaultPolicy())
	if err != nil || len(resumed) != 1 {
		t.Fatalf("resume: %v %v", resumed, err)
	}
	e := runbookEnv(t, false, rb)
	e.opts.Runbooks.Runs = resumed
	e.opts.Journals.Notices = []string{"audit journal: 1 damaged line"}
	m := New(e.opts)
	if m.status != "audit journal: 1 damaged line" || !m.statusBad {
		t.Errorf("notice: %q", m.status)
	}
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 60})
	mm, cmd := mm.Update(SnapshotsMsg{Snapshots: uitest.AllSnaps()})
	m = drive(t, mm.(Model), cmd)
	m = e.key(t, m, "r")
	if out := plain(m); !strings.Contains(out, "Lock pile-up · from the list") || !strings.Contains(out, "next: 2. See the blockers") {
		t.Fatalf("resumed run not listed:\n%s", out)
	}
	m = e.key(t, m, "enter")
	rv := shownRun(t, m)
	if rv.Run() != resumed[0] || rv.Run().Steps(e.clk.Now())[2].Preview == nil {
		t.Fatalf("resumed run view: %+v", rv.Run().Steps(e.clk.Now())[2])
	}
}

// t shows the timeline the world builds, newest last; a failure says why.
func TestTimelineView(t *testing.T) {
	e := runbookEnv(t, true)
	var lines []string
	for i := range 100 {
		lines = append(lines, "03:"+string(rune('0'+i/10))+string(rune('0'+i%10))+":00 entry")
	}
	e.opts.Journals.Timeline = func(context.Context) ([]string, error) { return lines, nil }
	m := e.model(160, 40)
	m = e.key(t, m, "t")
	out := plain(m)
	if !strings.Contains(out, "Incident timeline") || !strings.Contains(out, "03:99:00 entry") || strings.Contains(out, "03:00:00 entry") {
		t.Fatalf("timeline not at its newest:\n%s", out)
	}
	m = e.key(t, m, "g")
	if out := plain(m); !strings.Contains(out, "03:00:00 entry") {
		t.Fatalf("top:\n%s", out)
	}
	e.opts.Journals.Timeline = func(context.Context) ([]string, error) { return nil, errors.New("audit journal: permission denied") }
	m = e.model(160, 40)
	m = e.key(t, m, "t")
	if out := plain(m); !strings.Contains(out, "timeline: audit journal: permission denied") {
		t.Fatalf("error not shown:\n%s", out)
	}
}

// A flight recorder that cannot write says so in the status bar.
func TestRecorderErrorInStatusBar(t *testing.T) {
	e := newEnv(t, true)
	fail := errors.New("events.jsonl: no space left on device")
	e.opts.Journals.RecorderErr = func() error { return fail }
	m := e.model(160, 40)
	mm, _ := m.Update(TickMsg{})
	if out := plain(mm.(Model)); !strings.Contains(out, "recorder ERR events.jsonl: no space left on device") {
		t.Fatalf("recorder error not shown:\n%s", out)
	}
}

// burnAt is a flight recorder that saw one SLO start burning at one time.
type burnAt struct {
	source, slo string
	at          time.Time
}

func (b burnAt) BurnStart(source, slo string) (time.Time, bool) {
	return b.at, source == b.source && slo == b.slo
}

// The SLO detail names the rollout that came shortly before the burn the
// flight recorder saw start; the alert detail, the one before a firing
// alert.
func TestCorrelationInDetails(t *testing.T) {
	e := newEnv(t, true)
	e.opts.Journals.Burns = burnAt{"prom", "api-availability", uitest.T0.Add(-time.Minute)}
	m := e.model(160, 60)
	calm := uitest.SLOs()
	for i := range calm.SLOs {
		calm.SLOs[i].Level = sources.SLOOK
	}
	burning := uitest.SLOs()
	mm, _ := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{snap("prom", sources.KindSLO, calm, 2*time.Minute)}})
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{snap("prom", sources.KindSLO, burning, time.Minute)}})
	m = mm.(Model)
	m = e.key(t, m, "1")
	m = e.key(t, m, "enter")
	// nudge-api revision 42 rolled out at 03:08, the burn was seen at 03:11.
	if out := plain(m); !strings.Contains(out, "burn started 03:11, 3 min after nudge-api revision 42") {
		t.Fatalf("SLO detail:\n%s", out)
	}
	m = e.key(t, m, "esc")
	m = e.key(t, m, "2")
	m = e.key(t, m, "enter")
	if out := plain(m); !strings.Contains(out, "HighErrorRate started 03:06, 19 min after nudge-web revision 8") {
		t.Fatalf("alert detail:\n%s", out)
	}
}
