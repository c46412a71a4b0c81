package ui

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"flightdeck/keymap"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/runbooks"
)

// TestEscCancelsAtOnce is issue 17 item 2: esc the moment a confirm opens
// cancels it (the key guard holds back only confirming and typing), text
// typed inside the guard does not reach the phrase, and esc while the plan
// is still being made cancels it before its dialog can open.
func TestEscCancelsAtOnce(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, cmd := press(m, "3", "K")
	m = runCmd(t, m, cmd)
	if confirmOf(m) == nil {
		t.Fatal("no confirm dialog")
	}
	// Inside the guard: typing and enter do nothing, esc cancels.
	m = typeText(m, "123")
	if v := confirmOf(m).Typed(); v != "" {
		t.Fatalf("typed inside the key guard reached the phrase: %q", v)
	}
	if _, c := press(m, "enter"); c != nil {
		t.Fatal("enter inside the key guard answered")
	}
	m, cmd = press(m, "esc")
	if confirmOf(m) != nil || cmd == nil {
		t.Fatal("esc inside the key guard did not close the confirm dialog")
	}
	if _, ok := cmd().(CancelledMsg); !ok {
		t.Fatal("esc did not answer CancelledMsg")
	}

	// esc while planning: the plan arrives after it and opens nothing.
	m, cmd = press(m, "K")
	if !strings.Contains(plain(m), "planning Terminate backend") {
		t.Fatalf("no planning line:\n%s", plain(m))
	}
	m, _ = press(m, "esc")
	m = runCmd(t, m, cmd)
	if confirmOf(m) != nil {
		t.Fatal("the confirm dialog opened after esc cancelled its planning")
	}
	if !strings.Contains(m.status, "cancelled") {
		t.Errorf("status %q", m.status)
	}
	m = typeText(m, "123")
	if len(m.dialogs) != 0 {
		t.Fatal("a dialog is open")
	}

	// The low-risk dialog's no key cancels inside the guard too.
	m, cmd = press(m, "j", "C")
	m = runCmd(t, m, cmd)
	if confirmOf(m) == nil {
		t.Fatal("no low-risk confirm dialog")
	}
	m, _ = press(m, "y")
	if confirmOf(m) == nil {
		t.Fatal("y inside the key guard confirmed")
	}
	if m, _ = press(m, "n"); confirmOf(m) != nil {
		t.Fatal("n inside the key guard did not cancel")
	}

	// A form: typing inside the guard is dropped, esc closes at once.
	m, _ = press(m, "4", "S")
	if formOf(m) == nil {
		t.Fatal("no scale form")
	}
	m = typeText(m, "9")
	if v := formOf(m).Fields()[0].Value; v != "6" {
		t.Fatalf("typed inside the key guard reached the form: %q", v)
	}
	if m, _ = press(m, "esc"); formOf(m) != nil {
		t.Fatal("esc inside the key guard did not close the form")
	}
}

// TestStatusExpires is issue 17 item 3: a status message gives the line
// back to the key hints after a few seconds (an error after longer), and
// while a dialog is open the hints are the dialog's.
func TestStatusExpires(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, cmd := press(m, "3", "K")
	m = runCmd(t, m, cmd)
	hints := func(m Model) string {
		lines := strings.Split(plain(m), "\n")
		return lines[len(lines)-1]
	}
	if h := hints(m); !strings.Contains(h, "submit the phrase") || !strings.Contains(h, "esc cancel") || strings.Contains(h, "sort") {
		t.Errorf("the confirm dialog's hints: %q", h)
	}
	m, cmd = press(m, "esc")
	m = runCmd(t, m, cmd)
	if h := hints(m); !strings.Contains(h, "Terminate backend 4711: cancelled") {
		t.Fatalf("status line %q", h)
	}
	e.clk.Add(statusTTL)
	m, _ = send1(m, TickMsg{})
	if h := hints(m); strings.Contains(h, "cancelled") || !strings.Contains(h, "? help") || !strings.Contains(h, "K terminate") {
		t.Fatalf("after %v the status line still says %q", statusTTL, h)
	}

	// An error stays longer.
	m.setStatus("refused: something", true)
	e.clk.Add(statusTTL)
	m, _ = send1(m, TickMsg{})
	if h := hints(m); !strings.Contains(h, "refused: something") {
		t.Fatalf("an error gone after %v: %q", statusTTL, h)
	}
	e.clk.Add(statusBadTTL)
	m, _ = send1(m, TickMsg{})
	if h := hints(m); !strings.Contains(h, "? help") {
		t.Fatalf("an error still there after %v: %q", statusBadTTL, h)
	}

	// The menu's and the help's hints while they are open.
	m, _ = press(m, "a")
	if h := hints(m); !strings.Contains(h, "enter choose") || strings.Contains(h, "K terminate") {
		t.Errorf("the menu's hints: %q", h)
	}
	m, _ = press(m, "esc", "?")
	if h := hints(m); !strings.Contains(h, "close") || strings.Contains(h, "K terminate") {
		t.Errorf("the help's hints: %q", h)
	}
}

// failoverEnv is an operator's session whose only runbook is the shipped
// Failover to DR, whose expressions and commands run over several lines.
func failoverEnv(t *testing.T) *env {
	t.Helper()
	books, err := runbook.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range books {
		if b.Name == "failover-to-dr" {
			return runbookEnv(t, false, b)
		}
	}
	t.Fatal("no failover-to-dr runbook")
	return nil
}

// goldenModel compares m's screen with testdata/<test>.golden, for screens
// reached by driving the model's Cmds in order (a runbook started from
// its list), which the program's own loop would race with the next key.
func goldenModel(t *testing.T, m Model) {
	t.Helper()
	golden.RequireEqual(t, []byte(plain(m)+"\n"))
}

// TestGoldenRunbookMultiLine is issue 17 item 6: a multi-line expression
// (step 1) and a multi-line shell command (step 5) wrap inside the
// runbook's box, indented under their text, at both reference sizes.
func TestGoldenRunbookMultiLine(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		for _, c := range []struct {
			name string
			down int
		}{{"expr", 0}, {"command", 4}} {
			t.Run(c.name+"_"+itoa(sz[0])+"x"+itoa(sz[1]), func(t *testing.T) {
				e := failoverEnv(t)
				m := e.model(sz[0], sz[1])
				m = e.key(t, m, "r")
				e.clk.Add(kit.KeyGuard)
				m = e.key(t, m, "enter")
				for range c.down {
					m = e.key(t, m, "j")
				}
				shownRun(t, m)
				goldenModel(t, m)
			})
		}
	}
}

// demoTimeline is what `t` shows in the demo, as record.Timeline.Lines
// writes it: long entries among short ones.
var demoTimeline = []string{
	"2026-03-14 03:05:02 to 03:12:00 UTC, 6 entries.",
	"03:05:02 +0s      kube       production/nudgecampaign-api revision 42 rollout started (revision 41 → 42): nudgecampaign/api:v5.0.0 — deploy v5.0.0: Node 20, new email template engine",
	"03:08:41 +3m39s   am         DatabaseConnectionPoolExhausted resolved after 15s",
	"03:08:42 +3m40s   pg main    connections back to 41/97 (42%) of usable on pg main",
	"03:09:46 +4m44s   runbook    runbook “High Error Rate” step 1 “The availability error budget is burning” (check): ok [level page; burn 5m 20.7x, 1h 63.0x; budget left 13%] (root@vm)",
	"03:12:00 +6m58s   runbook    runbook “High Error Rate” step 3 “Check recent deployments” (view): viewed (root@vm)",
	"Note: the flight recorder was not running before 03:05:02",
}

// TestGoldenTimelineHanging is issue 17 item 9: an entry too long for the
// screen continues under its text column, not at column 0.
func TestGoldenTimelineHanging(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(itoa(sz[0])+"x"+itoa(sz[1]), func(t *testing.T) {
			e := newEnv(t, false)
			e.opts.Journals.Timeline = func(context.Context) ([]string, error) { return demoTimeline, nil }
			m := e.model(sz[0], sz[1])
			m = e.key(t, m, "t")
			goldenModel(t, m)
		})
	}
}

// TestUnboundKeysSaySo is issue 17 item 11: a key that does nothing
// where it is pressed answers the same short line every time, which goes
// by itself; the keys a pane or view lists say nothing of the kind.
func TestUnboundKeysSaySo(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, _ = press(m, "1")
	for _, k := range []string{"u", "x", "K", ":", "f", "9"} {
		m, _ = press(m, k)
		if want := k + ": not a key here · ? lists the keys"; m.status != want || m.statusBad || len(m.dialogs) != 0 {
			t.Errorf("%s on the SLOs pane: status %q (bad %v), %d dialogs", k, m.status, m.statusBad, len(m.dialogs))
		}
	}
	e.clk.Add(statusKeyTTL)
	m, _ = send1(m, TickMsg{})
	if m.statusNow() != "" {
		t.Errorf("the line stays: %q", m.statusNow())
	}
	m.status = ""
	for _, k := range []string{"3", "s", "b", "]", "[", "space", "T", "j", "pgdown", "g", "G", "enter", "esc"} {
		if m, _ = press(m, k); strings.Contains(m.status, "not a key here") {
			t.Errorf("%s on the Postgres pane said %q", k, m.status)
		}
	}
	// A view: the timeline's scrolling keys are its own.
	e.opts.Journals.Timeline = func(context.Context) ([]string, error) { return demoTimeline, nil }
	m = e.model(80, 24)
	m = e.key(t, m, "t")
	for _, k := range []string{"j", "k", "pgup", "pgdown", "g", "G"} {
		if m, _ = press(m, k); strings.Contains(m.status, "not a key here") {
			t.Errorf("%s in the timeline said %q", k, m.status)
		}
	}
	if m, _ = press(m, "K"); m.status != "K: not a key here · ? lists the keys" {
		t.Errorf("K in the timeline: %q", m.status)
	}
}

// TestRefusalNamesNoEmptyTarget is issue 17 item 10: a direct key with
// nothing selected is refused by the action's name, not "Terminate
// backend ()".
func TestRefusalNamesNoEmptyTarget(t *testing.T) {
	e := newEnv(t, false)
	m := e.model(80, 24)
	m, _ = press(m, "3", "/")
	m = typeText(m, "nothing-matches-this")
	m, _ = press(m, "enter", "K")
	if !strings.HasPrefix(m.status, "refused: Terminate backend: ") || strings.Contains(m.status, "()") {
		t.Fatalf("status %q", m.status)
	}
}

// viewStep walks the pile-up runbook from the Alerts pane to its view
// step, which shows the Postgres pane.
func viewStep(t *testing.T, e *env, w, h int) Model {
	t.Helper()
	m := e.model(w, h)
	m = e.key(t, m, "2")
	m = e.key(t, m, "r")
	m = e.key(t, m, "enter") // the check
	m = e.key(t, m, "enter") // the view step
	if m.shownView() != nil {
		t.Fatalf("the view step left the run on screen:\n%s", plain(m))
	}
	return m
}

// TestViewStepWayBack is issue 17 item 4: after a runbook's view step
// the footer and the shown pane's title say how to return, and one key
// (the keymap's return, backspace) does.
func TestViewStepWayBack(t *testing.T) {
	e := runbookEnv(t, false)
	m := viewStep(t, e, 80, 24)
	scr := plain(m)
	lines := strings.Split(scr, "\n")
	if h := lines[len(lines)-1]; !strings.HasPrefix(h, " backspace back to Runbook Lock pile-up") {
		t.Errorf("footer %q", h)
	}
	if !strings.Contains(scr, "backspace ↩ Runbook Lock pile-up ─╮") {
		t.Errorf("no way back in the pane's title:\n%s", scr)
	}
	m = e.key(t, m, "backspace")
	if rv := shownRun(t, m); !strings.Contains(rv.Said(), "backspace comes back here") {
		t.Errorf("the run said %q", rv.Said())
	}
	// Back on the panes by esc: the return key still goes back, but the
	// view step's notes are gone.
	m = e.key(t, m, "esc")
	if strings.Contains(plain(m), "↩") {
		t.Errorf("a way back shown after leaving by esc:\n%s", plain(m))
	}
	m = e.key(t, m, "backspace")
	shownRun(t, m)
	// Remapped.
	e = runbookEnv(t, false)
	if err := keymap.ApplyOverrides(&e.opts.Look.KeyMap, map[string][]string{"return": {"ctrl+o"}}); err != nil {
		t.Fatal(err)
	}
	m = viewStep(t, e, 80, 24)
	if !strings.Contains(plain(m), "ctrl+o ↩ Runbook") {
		t.Errorf("the remapped key not shown:\n%s", plain(m))
	}
	if m = e.key(t, m, "backspace"); m.shownView() != nil {
		t.Error("backspace still returns once remapped")
	}
	m = e.key(t, m, "ctrl+o")
	shownRun(t, m)
}

// TestGoldenViewStep is item 4's screens: the pane a view step shows, at
// both reference sizes.
func TestGoldenViewStep(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(itoa(sz[0])+"x"+itoa(sz[1]), func(t *testing.T) {
			goldenModel(t, viewStep(t, runbookEnv(t, false), sz[0], sz[1]))
		})
	}
}

// TestGoldenHeaderGivesWay is issue 17 item 8's header: with more people
// connected than the line holds, whole names give way, counted, and the
// clock stays clear.
func TestGoldenHeaderGivesWay(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(itoa(sz[0])+"x"+itoa(sz[1]), func(t *testing.T) {
			r := newRoom()
			bob := r.join(t, newEnv(t, true), "b1", "bob", 0)
			for i, name := range []string{"alice", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia"} {
				e := newEnv(t, i%3 == 2)
				r.join(t, e, "x"+itoa(i), name, time.Duration(i+1)*time.Minute)
			}
			bob, _ = feed(bob, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			bob = roster(t, bob)
			head := strings.SplitN(plain(bob), "\n", 2)[0]
			if !strings.HasSuffix(head, " 03:12:00 ") || strings.Contains(head, "…") {
				t.Errorf("header %q", head)
			}
			goldenModel(t, bob)
		})
	}
}

// TestGoldenHelpAndMenuWrap is issue 17 item 8's overlays: the help and
// the action menu wrap what is wider than the dialog instead of cutting
// it, at both reference sizes (80x24 is TestGoldenOverlays').
func TestGoldenHelpAndMenuWrap(t *testing.T) {
	t.Run("help_postgres_200x060", func(t *testing.T) {
		runGolden(t, newEnv(t, false), 200, 60, withSnaps(keys("3", "?")...)...)
	})
	t.Run("menu_postgres_200x060", func(t *testing.T) {
		runGolden(t, newEnv(t, false), 200, 60, withSnaps(keys("3", "a")...)...)
	})
}

// walkPileUp walks the pile-up runbook to its end at w×h, as
// TestRunbookWalkThrough does, and returns the model on the run's view.
func walkPileUp(t *testing.T, e *env, w, h int) (Model, *runbooks.RunView) {
	t.Helper()
	m := e.model(w, h)
	m = e.key(t, m, "2")
	m = e.key(t, m, "r")
	rv := shownRun(t, m)
	m = e.key(t, m, "enter") // the check
	m = e.key(t, m, "enter") // the view step
	m = e.key(t, m, "backspace")
	m = e.key(t, m, "enter") // the action
	e.clk.Add(500 * time.Millisecond)
	m = typeText(m, "4711")
	m = e.key(t, m, "enter")
	e.clk.Add(10 * time.Second) // data newer than the action
	pg := uitest.PG()
	pg.Backends = slices.DeleteFunc(pg.Backends, func(b sources.Backend) bool { return b.PID == 4711 })
	for i := range pg.Backends {
		pg.Backends[i].BlockedBy = nil
	}
	mm, cmd := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{{Source: "pg main", Kind: sources.KindPostgres, Data: pg, FetchedAt: e.clk.Now()}}})
	m = drive(t, mm.(Model), cmd)
	m = e.key(t, m, "enter") // the note ends the run
	if !rv.Run().Ended() {
		t.Fatalf("the run did not end:\n%s", plain(m))
	}
	return m, rv
}

// TestRunCompletedSaysSo is issue 17 item 12's "a finished run says so":
// the run's view leads with its end, the status bar says it, and the
// runbook list keeps it under "Finished runs" instead of dropping it.
func TestRunCompletedSaysSo(t *testing.T) {
	e := runbookEnv(t, false)
	m, _ := walkPileUp(t, e, 80, 24)
	scr := plain(m)
	for _, want := range []string{"✓ RUN COMPLETED at 03:12:10 UTC · 4 ok · 1 acknowledged", "Runbook Lock pile-up: completed at 03:12:10 UTC (4 ok, 1 acknowledged)"} {
		if !strings.Contains(scr, want) {
			t.Errorf("no %q:\n%s", want, scr)
		}
	}
	m = e.key(t, m, "esc")
	m = e.key(t, m, "1")
	m = e.key(t, m, "r")
	scr = plain(m)
	if !strings.Contains(scr, "Finished runs (1)") || !strings.Contains(scr, "Lock pile-up · for HighErrorRate · completed") || strings.Contains(scr, "Open runs") {
		t.Fatalf("the list:\n%s", scr)
	}
	m = e.key(t, m, "enter")
	if rv := shownRun(t, m); !rv.Run().Ended() {
		t.Fatal("enter on a finished run did not show it")
	}
}

// planID is a plan's id on screen, with the padding after its line: it
// counts plans in the process, so a golden masks it at a fixed width.
var planID = regexp.MustCompile(`\d{8}T\d{6}-\d+-[0-9a-f]+ ok *`)

// TestGoldenRunCompleted is the finished run's screen at both sizes.
func TestGoldenRunCompleted(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(itoa(sz[0])+"x"+itoa(sz[1]), func(t *testing.T) {
			m, _ := walkPileUp(t, runbookEnv(t, false), sz[0], sz[1])
			scr := planID.ReplaceAllStringFunc(plain(m), func(id string) string {
				return "<plan id> ok" + strings.Repeat(" ", len(id)-len("<plan id> ok"))
			})
			golden.RequireEqual(t, []byte(scr+"\n"))
		})
	}
}

// TestObserverSeesTheOperatorsRun is issue 17 item 12: an observer's
// runbook list shows the run an operator has open; enter follows them
// and shows their run view as they see it, read-only; the operator's
// header names who follows; any key stops following and takes the view
// down.
func TestObserverSeesTheOperatorsRun(t *testing.T) {
	r := newRoom()
	ae := runbookEnv(t, false)
	alice := r.join(t, ae, "a1", "alice", 0)
	be := runbookEnv(t, true)
	bob := roster(t, r.join(t, be, "b1", "bob", time.Minute))

	alice = ae.key(t, alice, "2")
	alice = ae.key(t, alice, "r")
	alice = ae.key(t, alice, "enter") // the check: the run moves on
	shownRun(t, alice)

	bob, _ = press(bob, "1", "r")
	scr := plain(bob)
	if !strings.Contains(scr, "Open in other sessions (1)") || !strings.Contains(scr, "alice: Lock pile-up · for HighErrorRate · 1/5 steps done · next: 2. See the blockers") {
		t.Fatalf("bob's runbook list:\n%s", scr)
	}
	bob, cmd := press(bob, "enter")
	for _, c := range cmd().(tea.BatchMsg) {
		var next tea.Cmd
		if bob, next = feed(bob, c()); next != nil {
			cmd = next
		}
	}
	bob, cmd = feed(bob, next(t, cmd)) // alice's view: where she is
	// Within a second (her tick) alice knows bob follows and publishes
	// her run's screen too.
	alice, _ = feed(alice, TickMsg{})
	bob, cmd = feed(bob, next(t, cmd))
	scr = plain(bob)
	for _, want := range []string{"FOLLOWING alice (in Runbook Lock pile-up)", "alice's Runbook Lock pile-up (read-only)",
		"✓  1. check  Connections are high", "▶ ·  2. view   See the blockers", "any key stops following"} {
		if !strings.Contains(scr, want) {
			t.Errorf("bob's screen lacks %q:\n%s", want, scr)
		}
	}

	if head := strings.SplitN(plain(alice), "\n", 2)[0]; !strings.Contains(head, "followed by bob") {
		t.Errorf("alice's header %q", head)
	}

	// Alice goes back to the panes: bob's mirror of her run goes too.
	alice = ae.key(t, alice, "esc")
	bob, cmd = feed(bob, next(t, cmd))
	if scr := plain(bob); strings.Contains(scr, "(read-only)") || !strings.Contains(scr, "FOLLOWING alice") {
		t.Fatalf("bob still shows alice's run:\n%s", scr)
	}
	alice = ae.key(t, alice, "backspace") // the return key: her run again
	shownRun(t, alice)
	bob, _ = feed(bob, next(t, cmd))
	if !strings.Contains(plain(bob), "alice's Runbook Lock pile-up (read-only)") {
		t.Fatalf("bob does not see alice's run again:\n%s", plain(bob))
	}
	bob, _ = press(bob, "x")
	if crewOf(bob).Watching() || strings.Contains(plain(bob), "(read-only)") {
		t.Fatalf("after a key bob still follows:\n%s", plain(bob))
	}
	alice, _ = feed(alice, TickMsg{})
	if head := strings.SplitN(plain(alice), "\n", 2)[0]; strings.Contains(head, "followed by") {
		t.Errorf("alice's header after bob stopped: %q", head)
	}
}

// TestGoldenRunbookConfirm is issue 17 item 7: a confirm dialog over a
// runbook run at 80x24 ended '╰╰──…──╯╯', the run's corners showing
// beside the dialog's. Both reference sizes.
func TestGoldenRunbookConfirm(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(itoa(sz[0])+"x"+itoa(sz[1]), func(t *testing.T) {
			e := runbookEnv(t, false)
			m := viewStep(t, e, sz[0], sz[1])
			m = e.key(t, m, "backspace")
			m = e.key(t, m, "enter") // the action: its confirm dialog
			if confirmOf(m) == nil {
				t.Fatalf("no confirm dialog:\n%s", plain(m))
			}
			if scr := plain(m); strings.Contains(scr, "╰╰") || strings.Contains(scr, "╯╯") {
				t.Errorf("borders overlap:\n%s", scr)
			}
			goldenModel(t, m)
		})
	}
}
