package main

import (
	"strings"
	"testing"
	"time"
)

// The first five minutes at 3 a.m. (issue 17), through the real binary in
// a real tmux: items 2, 3 and 12.

// startDemo80 runs the demo cockpit at 80×24, the size the issue was
// found at, and waits for its panes.
func startDemo80(t *testing.T) *tmuxSession {
	t.Helper()
	bin := buildBinary(t)
	state := t.TempDir()
	s := startTmux(t, []string{"XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "FLIGHTDECK_DEMO_SPEED=8"}, bin, "--demo")
	s.run("resize-window", "-t", "fd", "-x", "80", "-y", "24")
	s.waitFor("the demo with data", contains("DEMO", "conns "))
	return s
}

// lastLine is the screen's last non-empty line: the key hints or the
// status.
func lastLine(scr string) string {
	ls := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	return ls[len(ls)-1]
}

// TestFirstFiveEscCancelsAtOnce is item 2: 3, K, esc at once, then 1 2 3.
// The esc cancels (the dialog's guard holds back only confirming and
// typing), nothing is left open, and 1 2 3 are focus keys again, not a
// phrase.
func TestFirstFiveEscCancelsAtOnce(t *testing.T) {
	s := startDemo80(t)
	s.keys("3", "/")
	s.text("blocking")
	s.keys("Enter")
	scr := s.waitFor("a root blocker", func(scr string) bool { return rootRow.MatchString(scr) })
	pid := rootRow.FindStringSubmatch(scr)[1]

	s.keys("K", "Escape") // one send-keys: both within a few milliseconds
	s.waitFor("the cancel", contains("Terminate backend "+pid+": cancelled"))
	time.Sleep(100 * time.Millisecond) // esc then a digit at once reads as alt+digit
	s.text("123")
	time.Sleep(time.Second) // a plan that arrived late would open its dialog now
	scr = s.screen()
	if strings.Contains(scr, "Confirm") || strings.Contains(scr, "> 1") || strings.Contains(scr, "to confirm") {
		t.Fatalf("a confirm dialog is open after esc:\n%s", scr)
	}
	if !strings.Contains(scr, "3 Postgres") {
		t.Fatalf("1 2 3 did not focus the panes:\n%s", scr)
	}
}

// TestFirstFiveHintsComeBack is item 3: a status message goes after a few
// seconds and the key hints come back; while a dialog is open the footer
// shows the dialog's keys, not the pane's.
func TestFirstFiveHintsComeBack(t *testing.T) {
	s := startDemo80(t)
	s.keys("3", "/")
	s.text("blocking")
	s.keys("Enter")
	scr := s.waitFor("a root blocker", func(scr string) bool { return rootRow.MatchString(scr) })
	pid := rootRow.FindStringSubmatch(scr)[1]

	s.keys("K")
	scr = s.waitFor("the confirm dialog", contains("type "+pid+" to confirm"))
	if l := lastLine(scr); !strings.Contains(l, "submit the phrase") || !strings.Contains(l, "esc cancel") || strings.Contains(l, "sort") {
		t.Errorf("the footer under the dialog: %q", l)
	}
	s.keys("Escape")
	s.waitFor("the cancel", contains("Terminate backend "+pid+": cancelled"))
	start := time.Now()
	s.waitFor("the hints back", func(scr string) bool {
		l := lastLine(scr)
		return !strings.Contains(scr, "cancelled") && strings.Contains(l, "? help") && strings.Contains(l, "K terminate")
	})
	t.Logf("the status gave way to the hints after %v", time.Since(start).Round(100*time.Millisecond))

	// A key that does nothing here says so, and goes by itself too.
	s.keys("1", "u")
	s.waitFor("the unbound key's answer", contains("u: not a key here"))
	s.waitFor("the hints back", func(scr string) bool { return !strings.Contains(scr, "not a key here") })
}

// TestFirstFiveFollowTheRun is item 12 over serve with real OpenSSH
// clients: the observer's runbook list shows the run alice has open,
// enter follows her and shows her run view read-only, and alice's header
// says bob follows her.
func TestFirstFiveFollowTheRun(t *testing.T) {
	fx := newServeFixture(t)
	fx.start()
	op := fx.client("alice")
	op.waitFor("alice's cockpit", contains("DEMO", "conns ")) // alice first: the header lists by arrival
	obs := fx.client("bob")
	for _, s := range []*tmuxSession{op, obs} {
		s.waitFor("who is connected", contains("alice (operator) · bob (observer)"))
	}
	op.waitFor("HighErrorRate firing", contains("HighErrorRate ×1"))
	op.keys("2", "r")
	op.waitFor("alice's run", contains("Runbook · High Error Rate"))

	obs.keys("r")
	obs.waitFor("alice's run in bob's list", contains("Open in other sessions (1)", "alice: High Error Rate · for HighErrorRate"))
	obs.keys("Enter")
	obs.waitFor("alice's run, read-only, on bob's screen", contains("FOLLOWING alice (in Runbook High Error Rate)",
		"alice's Runbook High Error Rate (read-only)", "1. check", "any key stops following"))
	op.waitFor("alice sees bob following", contains("followed by bob"))

	// Alice moves on a step: bob's copy follows.
	op.keys("Enter")
	op.waitFor("the check done", contains("1/12 steps done"))
	obs.waitFor("bob's copy moved on", contains("(read-only)", "1/12 steps done"))

	obs.keys("x")
	obs.waitFor("following stopped", contains("stopped following alice"))
	if scr := obs.screen(); strings.Contains(scr, "(read-only)") {
		t.Fatalf("bob still shows alice's run:\n%s", scr)
	}
	op.waitFor("alice no longer followed", func(scr string) bool { return !strings.Contains(scr, "followed by") })
}
