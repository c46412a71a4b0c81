// Package testsrv starts the real servers the integration tests need
// (PostgreSQL, Prometheus, Alertmanager, etcd + kube-apiserver) on loopback in
// temp dirs, and stops them when the test ends.
//
// When a server binary is missing the test is skipped with the command that
// installs it, unless FLIGHTDECK_REQUIRE_SERVERS=1 (set by `make test`), in
// which case it fails: CI must never pass by skipping the real thing.
package testsrv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Required reports whether missing servers must fail tests rather than skip them.
func Required() bool { return os.Getenv("FLIGHTDECK_REQUIRE_SERVERS") == "1" }

// Unavailable skips (or, under make test, fails) a test whose server cannot run.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("required server unavailable: %s", msg)
	}
	t.Skipf("server unavailable (run `make test` to set it up): %s", msg)
}

// LookBin returns the path of the first of candidates that exists (absolute
// paths) or is on PATH; it calls Unavailable with hint when none is.
func LookBin(t testing.TB, hint string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	Unavailable(t, "none of %v found; %s", candidates, hint)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls url until it answers 200 or timeout passes.
func WaitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Errorf("status %d", resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s: %v", url, timeout, last)
}

// StartProcess starts cmd with output to logPath and registers a cleanup that
// stops it (SIGTERM, then SIGKILL after 5s) and dumps the log tail on failure.
func StartProcess(t testing.TB, logPath string, cmd *exec.Cmd) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("--- %s log tail ---\n%s", cmd.Path, b)
			}
		}
	})
}

// WaitFor polls cond every 100 ms until it holds, failing t with cond's last
// explanation after timeout. A deadline for a shared, noisy machine, never a
// measurement.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %s", timeout, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
