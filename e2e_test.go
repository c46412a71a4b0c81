package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
)

// tmuxSession drives the real flightdeck binary in a real tmux, as a person
// would: send-keys in, capture-pane out, pipe-pane for the raw bytes.
type tmuxSession struct {
	t    *testing.T
	tmux string
	sock string
	raw  string
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flightdeck")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startTmux(t *testing.T, env []string, args ...string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, tmux: testsrv.LookBin(t, "apt-get install tmux", "tmux")}
	dir := t.TempDir()
	s.sock, s.raw = filepath.Join(dir, "tmux.sock"), filepath.Join(dir, "raw.out")
	cmd := "env " + strings.Join(env, " ") + " TERM=xterm-256color " + strings.Join(args, " ")
	s.run("-f", "/dev/null", "new-session", "-d", "-s", "fd", "-x", "200", "-y", "60", cmd)
	t.Cleanup(func() { _ = exec.Command(s.tmux, "-S", s.sock, "kill-server").Run() })
	s.run("pipe-pane", "-o", "-t", "fd", "cat >> "+s.raw)
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.run(append([]string{"send-keys", "-t", "fd"}, keys...)...)
}
func (s *tmuxSession) text(txt string) { s.run("send-keys", "-t", "fd", "-l", txt) }
func (s *tmuxSession) screen() string  { return s.run("capture-pane", "-p", "-t", "fd") }

// waitFor polls the screen until ok holds; the deadline is generous because
// this machine is shared, and it is a deadline, not a measurement.
func (s *tmuxSession) waitFor(what string, ok func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var scr string
	for time.Now().Before(deadline) {
		scr = s.screen()
		if ok(scr) {
			return scr
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s; screen:\n%s", what, scr)
	return ""
}

func contains(subs ...string) func(string) bool {
	return func(scr string) bool {
		for _, sub := range subs {
			if !strings.Contains(scr, sub) {
				return false
			}
		}
		return true
	}
}

var rootRow = regexp.MustCompile(`▶\s+(\d+)\s`)

// TestDemoTerminateRootBlocker is the cockpit issue's "done means": the demo
// fills all four panes; ? shows the keys; 3, filter to the blocking backend,
// K, type its pid, enter → the backend disappears and the audit file has an
// intent and an outcome line.
func TestDemoTerminateRootBlocker(t *testing.T) {
	bin := buildBinary(t)
	state := t.TempDir()
	s := startTmux(t, []string{"XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "FLIGHTDECK_DEMO_SPEED=8"}, bin, "--demo")

	s.waitFor("four panes with data", contains("SLOs", "Alerts", "Postgres", "Rollouts", "DEMO",
		"availability", "DEPLOYMENT", "conns "))
	s.keys("?")
	s.waitFor("help", contains("audit journal:", "quit", "4 Rollouts"))
	// ? closes help too; esc followed at once by 3 would read as alt+3.
	s.keys("?")
	s.waitFor("help closed", func(scr string) bool { return !strings.Contains(scr, "audit journal:") })

	s.keys("3", "/")
	s.text("blocking")
	s.keys("Enter")
	scr := s.waitFor("a root blocker", func(scr string) bool { return rootRow.MatchString(scr) })
	pid := rootRow.FindStringSubmatch(scr)[1]

	s.keys("K")
	s.waitFor("the confirm dialog", contains("Terminate backend "+pid))
	time.Sleep(500 * time.Millisecond) // the dialog ignores keys for its first 400 ms, by design
	s.text(pid)
	s.keys("Enter")
	s.waitFor("the result", contains("Terminate backend "+pid+": done"))
	s.waitFor("the backend gone", func(scr string) bool {
		m := rootRow.FindStringSubmatch(scr)
		return m == nil || m[1] != pid
	})

	recs, err := ops.ReadJournal(filepath.Join(state, "flightdeck", "audit-demo.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Phase != "intent" || recs[1].Phase != "outcome" || recs[1].Outcome != "ok" ||
		recs[0].Targets[0] != "pid "+pid || recs[0].Environment != "demo" {
		t.Fatalf("journal = %+v", recs)
	}

	s.keys("q")
	// The demo has an application name carrying an OSC title sequence; it
	// must never reach the terminal raw.
	raw, _ := os.ReadFile(s.raw)
	if len(raw) == 0 {
		t.Fatal("pipe-pane captured nothing")
	}
	if bytes.Contains(raw, []byte("\x1b]0;pwned")) {
		t.Fatal("unsanitized OSC title sequence reached the terminal")
	}
}

// TestDemoReadOnlyRefuses: with --read-only the same keys are refused in the
// status bar, nothing changes and nothing is journalled.
func TestDemoReadOnlyRefuses(t *testing.T) {
	bin := buildBinary(t)
	state := t.TempDir()
	s := startTmux(t, []string{"XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "FLIGHTDECK_DEMO_SPEED=8"}, bin, "--demo", "--read-only")
	s.waitFor("read-only header with data", contains("READ-ONLY", "DEMO", "conns "))
	s.keys("3", "/")
	s.text("blocking")
	s.keys("Enter")
	scr := s.waitFor("a root blocker", func(scr string) bool { return rootRow.MatchString(scr) })
	pid := rootRow.FindStringSubmatch(scr)[1]
	s.keys("K")
	s.waitFor("the refusal", contains("read-only mode: actions are disabled"))
	if strings.Contains(s.screen(), "Confirm") {
		t.Fatal("a confirm dialog opened in read-only mode")
	}
	s.text(pid)
	s.keys("Enter")
	if _, err := os.Stat(filepath.Join(state, "flightdeck", "audit-demo.jsonl")); !os.IsNotExist(err) {
		t.Fatalf("read-only run wrote an audit journal: %v", err)
	}
	// The blocker is still there.
	s.waitFor("the root blocker still present", func(scr string) bool {
		m := rootRow.FindStringSubmatch(scr)
		return m != nil && m[1] == pid
	})
}
