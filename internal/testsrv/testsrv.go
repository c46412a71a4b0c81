// Package testsrv starts the real servers the integration tests need
// (PostgreSQL, Prometheus, Alertmanager, etcd + kube-apiserver) on loopback in
// temp dirs, and stops them when the test ends.
//
// When a server binary is missing the test is skipped with the command that
// installs it, unless FLIGHTDECK_REQUIRE_SERVERS=1 (set by `make test`), in
// which case it fails: CI must never pass by skipping the real thing.
package testsrv

import (
	"errors"
	"fmt"
	"net"
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
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// freePort is FreePort for callers without a testing.TB.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitHTTP polls url until it answers 200 or timeout passes.
func WaitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	if err := poll(timeout, 100*time.Millisecond, nil, httpOK(nil, url)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// WaitFor polls cond every 100 ms until it holds, failing t with cond's last
// explanation after timeout. A deadline for a shared, noisy machine, never a
// measurement.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	err := poll(timeout, 100*time.Millisecond, nil, func() error {
		if ok, why := cond(); !ok {
			return errors.New(why)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("condition not met: %v", err)
	}
}
