package testsrv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is one server process started by a helper of this package — every
// real server the tests run (PostgreSQL, Prometheus, Alertmanager, etcd,
// kube-apiserver, …) is one. Its output goes to a log file; it is killed
// if the test binary dies without cleaning up (Pdeathsig), so no server
// outlives its tests; and it is stopped politely, then firmly.
type Proc struct {
	name    string // the binary's base name, for messages
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	done    chan struct{}
	stop    sync.Once
}

// Launch starts cmd with its stdout and stderr appended to logPath. It
// keeps what cmd.SysProcAttr already asks for (credentials, say) and adds
// the parent-death signal.
func Launch(logPath string, cmd *exec.Cmd) (*Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// If the test binary dies without cleanup, the server dies with it.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Proc{name: filepath.Base(cmd.Path), cmd: cmd, logPath: logPath, log: logf, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends sig (SIGTERM, or what the server treats as its shutdown) and
// waits up to grace for the exit before killing it. It is safe on a nil
// Proc and when called again.
func (p *Proc) Stop(sig os.Signal, grace time.Duration) {
	if p == nil {
		return
	}
	p.stop.Do(func() {
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		p.log.Close()
	})
}

// LogTail returns the last n bytes of the process's log.
func (p *Proc) LogTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	return string(tail(b, n))
}

// WaitReady polls ready until it returns nil, failing early when the
// process exits, and with ready's last error when timeout passes.
func (p *Proc) WaitReady(timeout time.Duration, ready func() error) error {
	return poll(timeout, 100*time.Millisecond, func() error {
		if p.Exited() {
			return fmt.Errorf("%s exited during start-up", p.name)
		}
		return nil
	}, ready)
}

// WaitHTTP is WaitReady until url answers 200 (through c, or a plain client
// when nil).
func (p *Proc) WaitHTTP(url string, c *http.Client, timeout time.Duration) error {
	return p.WaitReady(timeout, httpOK(c, url))
}

// poll calls ready every interval until it returns nil or timeout passes;
// abort, when not nil, ends the wait with its error (a process that
// exited). It is the one wait loop of this package: a deadline for a
// shared, noisy machine, never a measurement.
func poll(timeout, interval time.Duration, abort, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		if abort != nil {
			if err := abort(); err != nil {
				return err
			}
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}

// httpOK is a readiness check: url answers 200.
func httpOK(c *http.Client, url string) func() error {
	if c == nil {
		c = &http.Client{}
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", url, resp.StatusCode)
		}
		return nil
	}
}

// StartProcess starts cmd with output to logPath and registers a cleanup
// that stops it (SIGINT, then SIGKILL after 5s) and logs the tail of its
// output when the test failed.
func StartProcess(t testing.TB, logPath string, cmd *exec.Cmd) *Proc {
	t.Helper()
	p, err := Launch(logPath, cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(os.Interrupt, 5*time.Second)
		if t.Failed() {
			t.Logf("--- %s log tail ---\n%s", cmd.Path, p.LogTail(4000))
		}
	})
	return p
}

// errUnavailable marks a server that cannot run here (a missing binary:
// skip), as opposed to one that was there but failed to start (fail).
var errUnavailable = errors.New("unavailable")

// need skips (or, under make test, fails) t when err says the server is
// unavailable, and fails it on any other error.
func need(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errUnavailable) {
		Unavailable(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// closer is a server a helper launched: Close stops it and removes its
// files.
type closer interface{ Close() }

// start launches a server for t alone and closes it when t ends.
func start[T closer](t testing.TB, launch func() (T, error)) T {
	t.Helper()
	v, err := launch()
	need(t, err)
	t.Cleanup(v.Close)
	return v
}

// sharedServer is one server per test binary, started on first use:
// start-up costs seconds, tests cost milliseconds.
type sharedServer[T closer] struct {
	once    sync.Once
	v       T
	err     error
	started bool
}

func (s *sharedServer[T]) get(t testing.TB, launch func() (T, error)) T {
	t.Helper()
	s.once.Do(func() {
		s.v, s.err = launch()
		s.started = s.err == nil
	})
	need(t, s.err)
	return s.v
}

// stop closes the server if it was started; the package's TestMain calls
// it after m.Run.
func (s *sharedServer[T]) stop() {
	if s.started {
		s.v.Close()
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
