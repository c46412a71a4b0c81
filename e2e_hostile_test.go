package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
)

// TestHostileStatusLineAndEnvironment is issue 11's raw-pty scenario: a
// stand-in Prometheus answers every query with a status line carrying an
// OSC title, an 8-bit CSI and a right-to-left override, and the config's
// environment carries an OSC 52 clipboard write. The cockpit shows the
// failure and the environment, and none of those bytes reaches the
// terminal: not in the panes, not in the window title.
func TestHostileStatusLineAndEnvironment(t *testing.T) {
	var hits atomic.Int64
	prom := testsrv.RawHTTP(t, func(*http.Request) string {
		hits.Add(1)
		return testsrv.RawResponse(testsrv.HostileStatus, "text/plain", "down for maintenance\u202e\n")
	})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	// YAML escapes: \e is ESC, \a is BEL.
	cfg := fmt.Sprintf(`environment: "staging\e]52;c;cHduZWQ=\a\u202e\u009b2J"
audit: {path: %s}
prometheus: {url: %s, interval: 1s}
slos:
  - name: availability
    objective: 0.999
    window: 30d
    good: 'sum(rate(http_requests_total{status!~"5.."}[{{.window}}]))'
    total: 'sum(rate(http_requests_total[{{.window}}]))'
`, filepath.Join(dir, "audit.jsonl"), prom)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTmux(t, []string{"XDG_STATE_HOME=" + dir}, buildBinary(t), "--config", cfgPath)
	s.waitFor("the stand-in's failure in the SLO pane", contains("503 SvcRLO", "staging"))
	s.keys("q")
	// The session ends with the program; by then its output is in the pipe.
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		return exec.Command(s.tmux, "-S", s.sock, "has-session", "-t", "fd").Run() != nil, "flightdeck still running after q"
	})

	if hits.Load() == 0 {
		t.Fatal("the stand-in Prometheus was never asked")
	}
	raw, err := os.ReadFile(s.raw)
	if err != nil || len(raw) == 0 {
		t.Fatalf("pipe-pane captured nothing: %v", err)
	}
	for name, bad := range map[string]string{
		"the status line's OSC title (ESC ] 0 ; X)": "\x1b]0;X",
		"an OSC 52 clipboard write":                 "\x1b]52",
		"a C1 CSI (U+009B)":                         "\u009b",
		"a right-to-left override (U+202E)":         "\u202e",
		"the environment's payload":                 "cHduZWQ=",
	} {
		if i := bytes.Index(raw, []byte(bad)); i >= 0 {
			t.Errorf("%s reached the terminal: …%q…", name, raw[max(0, i-40):min(len(raw), i+40)])
		}
	}
}
