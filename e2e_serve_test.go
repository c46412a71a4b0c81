package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	gossh "golang.org/x/crypto/ssh"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/sources/postgres"
)

// serveFixture is a real `flightdeck serve` (on the demo, or on the
// sources in its config) and the OpenSSH keys and known_hosts its clients
// use.
type serveFixture struct {
	t          *testing.T
	bin, dir   string
	ssh        string
	config     string
	knownHosts string
	hostKey    string
	journal    string
	port       int
	proc       *exec.Cmd
	out        *lockedBuffer
	// sources is the config's sources (postgres:, prometheus:, slos:);
	// empty serves the demo.
	sources string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newServeFixture writes keys for alice (operator, from a keys_file), bob
// (observer, inline) and eve (not listed), and a config serving them the
// demo.
func newServeFixture(t *testing.T) *serveFixture {
	t.Helper()
	return newServeFixtureOn(t, "")
}

// newServeFixtureOn is newServeFixture serving real servers: sources is
// the config's postgres:, prometheus: and slos: sections.
func newServeFixtureOn(t *testing.T, sources string) *serveFixture {
	t.Helper()
	fx := &serveFixture{t: t, dir: t.TempDir(),
		ssh: testsrv.LookBin(t, "apt-get install openssh-client", "ssh")}
	keygen := testsrv.LookBin(t, "apt-get install openssh-client", "ssh-keygen")
	for _, name := range []string{"alice", "bob", "eve"} {
		out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", name+"@laptop", "-f", filepath.Join(fx.dir, name)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	bobPub, err := os.ReadFile(filepath.Join(fx.dir, "bob.pub"))
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(fx.dir, "state")
	fx.hostKey = filepath.Join(state, "ssh_host_ed25519_key")
	fx.journal = filepath.Join(state, "audit-demo.jsonl")
	if sources != "" {
		fx.journal = filepath.Join(state, "audit.jsonl")
	}
	fx.sources = sources
	fx.knownHosts = filepath.Join(fx.dir, "known_hosts")
	fx.config = filepath.Join(fx.dir, "config.yaml")
	cfg := fmt.Sprintf(`audit: {path: %s}
serve:
  host_key_path: %s
  rate_limit: {per_second: 100, burst: 100}
  users:
    - name: alice
      role: operator
      keys_file: alice.pub
    - name: bob
      role: observer
      keys: [%q]
`, filepath.Join(state, "audit.jsonl"), fx.hostKey, strings.TrimSpace(string(bobPub))) + sources
	if err := os.WriteFile(fx.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	fx.bin = buildBinary(t)
	fx.port = testsrv.FreePort(t)
	return fx
}

// start runs the server and waits until it listens.
func (fx *serveFixture) start() {
	t := fx.t
	t.Helper()
	fx.out = &lockedBuffer{}
	args := []string{"serve", "--config", fx.config, "--listen", fmt.Sprintf("127.0.0.1:%d", fx.port)}
	if fx.sources == "" {
		args = append(args, "--demo")
	}
	cmd := exec.Command(fx.bin, args...)
	cmd.Env = append(os.Environ(), "FLIGHTDECK_DEMO_SPEED=8", "XDG_STATE_HOME="+fx.dir, "XDG_CONFIG_HOME="+fx.dir)
	cmd.Stdout, cmd.Stderr = fx.out, fx.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fx.proc = cmd
	t.Cleanup(fx.stop)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(fx.out.String(), "flightdeck serve: listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("flightdeck serve did not start:\n%s", fx.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The start line says how to connect, with the real port and host.
	if want := fmt.Sprintf("connect with: ssh -p %d 127.0.0.1", fx.port); !strings.Contains(fx.out.String(), want) {
		t.Errorf("start line does not say %q:\n%s", want, fx.out.String())
	}
}

// stop sends SIGTERM, as systemd does, and waits for the process to exit.
func (fx *serveFixture) stop() {
	if fx.proc == nil {
		return
	}
	p := fx.proc
	fx.proc = nil
	_ = p.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			fx.t.Errorf("flightdeck serve exited with %v:\n%s", err, fx.out.String())
		}
	case <-time.After(15 * time.Second):
		_ = p.Process.Kill()
		<-done
		fx.t.Errorf("flightdeck serve ignored SIGTERM:\n%s", fx.out.String())
	}
}

// sshArgs is the OpenSSH command line for key; nothing from the user's own
// ~/.ssh/config or agent gets in.
func (fx *serveFixture) sshArgs(key string, extra ...string) []string {
	args := []string{fx.ssh, "-F", "/dev/null", "-p", fmt.Sprint(fx.port),
		"-o", "IdentityAgent=none", "-o", "UserKnownHostsFile=" + fx.knownHosts}
	if key != "" {
		args = append(args, "-i", filepath.Join(fx.dir, key), "-o", "IdentitiesOnly=yes")
	}
	return append(append(args, extra...), "127.0.0.1")
}

// runSSH runs the real client outside tmux and returns its exit status and
// stderr (refusals happen before any terminal is involved).
func (fx *serveFixture) runSSH(key string, extra ...string) (int, string) {
	fx.t.Helper()
	args := fx.sshArgs(key, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = strings.NewReader("")
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		fx.t.Fatalf("ssh: %v", err)
	}
	return code, stderr.String()
}

// client opens an interactive session in its own tmux, the way a person
// types `ssh -tt -p PORT host`; the pane shows ssh's exit status after.
func (fx *serveFixture) client(key string) *tmuxSession {
	fx.t.Helper()
	args := fx.sshArgs(key, "-tt", "-o", "BatchMode=yes", "-o", "PreferredAuthentications=publickey",
		"-o", "StrictHostKeyChecking=accept-new", "-o", "LogLevel=ERROR")
	return startTmux(fx.t, nil, strings.Join(args, " ")+"; echo ssh-exit=$?; sleep 600")
}

// TestServeDemoOperatorAndObserver is issue 10's first "done means" and
// its following, with the real OpenSSH client: an operator and an observer
// each get the demo cockpit and see each other in the header; the observer
// follows the operator into the Postgres pane (the operator's filter and
// selection) and into the confirm dialog's preview, and cannot confirm it;
// the observer's own K is refused; the operator terminates the root blocker
// with the typed pid; the observer's screen shows the announcement and the
// backend gone; the journal names the operator's key fingerprint and
// address.
func TestServeDemoOperatorAndObserver(t *testing.T) {
	fx := newServeFixture(t)
	fx.start()

	op := fx.client("alice")
	op.waitFor("the operator's cockpit", contains("DEMO", "SLOs", "Alerts", "Postgres", "Rollouts", "conns "))
	obs := fx.client("bob")
	obs.waitFor("the observer's cockpit", contains("DEMO · READ-ONLY", "SLOs", "Postgres", "conns "))
	if strings.Contains(op.screen(), "READ-ONLY") {
		t.Fatal("the operator's cockpit is read-only")
	}
	for _, s := range []*tmuxSession{op, obs} {
		s.waitFor("who is connected", contains("alice (operator) · bob (observer)"))
	}

	// The observer follows the only operator; the operator goes to the
	// root blocker and the observer's cockpit goes with them.
	obs.keys("f")
	obs.waitFor("following", contains("FOLLOWING alice"))
	op.keys("3", "/")
	op.text("blocking")
	op.keys("Enter")
	scr := op.waitFor("a root blocker", func(scr string) bool { return rootRow.MatchString(scr) })
	pid := rootRow.FindStringSubmatch(scr)[1]
	obs.waitFor("the operator's filter and the root blocker, mirrored", contains(`filter:"blocking"`, pid, "FOLLOWING alice"))

	// The operator opens the confirm dialog: the observer sees its preview,
	// read-only, and the keys that would confirm it only stop following.
	op.keys("K")
	op.waitFor("the confirm dialog", contains("Terminate backend "+pid, "type "+pid+" to confirm"))
	obs.waitFor("the operator's confirm dialog, read-only", contains("alice's confirm dialog (read-only)", "Terminate backend "+pid, "you cannot"))
	if strings.Contains(obs.screen(), "to confirm") {
		t.Fatal("the observer is shown the confirmation prompt")
	}
	time.Sleep(500 * time.Millisecond) // past the dialog's key guard, as the operator will be
	obs.keys("y")
	obs.waitFor("following stopped", contains("stopped following alice"))
	obs.keys("Enter")
	time.Sleep(time.Second)
	if scr := obs.screen(); strings.Contains(scr, "confirm dialog") || strings.Contains(scr, "FOLLOWING") {
		t.Fatalf("the observer still shows the operator's dialog:\n%s", scr)
	}
	if recs, _ := ops.ReadJournal(fx.journal); len(recs) != 0 {
		t.Fatalf("the observer's keys reached the journal: %+v", recs)
	}
	if !strings.Contains(op.screen(), "type "+pid+" to confirm") {
		t.Fatal("the operator's dialog closed by the observer's keys")
	}

	// The observer cannot act: K is refused and opens nothing.
	obs.keys("K")
	obs.waitFor("the refusal", contains("read-only mode: actions are disabled"))
	if strings.Contains(obs.screen(), "Confirm") {
		t.Fatal("a confirm dialog opened for the observer")
	}

	op.text(pid)
	op.keys("Enter")
	op.waitFor("the result", contains("Terminate backend "+pid+": done"))
	obs.waitFor("the announcement and the backend gone on the observer's screen", func(scr string) bool {
		m := rootRow.FindStringSubmatch(scr)
		return strings.Contains(scr, "alice: Terminate backend "+pid+": done") && (m == nil || m[1] != pid)
	})

	recs, err := ops.ReadJournal(fx.journal)
	if err != nil {
		t.Fatal(err)
	}
	alicePub, _ := os.ReadFile(filepath.Join(fx.dir, "alice.pub"))
	pk, _, _, _, err := gossh.ParseAuthorizedKey(alicePub)
	if err != nil {
		t.Fatal(err)
	}
	wantOp := "alice (" + gossh.FingerprintSHA256(pk) + ") from 127.0.0.1:"
	if len(recs) != 2 || recs[0].Phase != "intent" || recs[1].Outcome != "ok" || recs[0].Targets[0] != "pid "+pid {
		t.Fatalf("journal = %+v", recs)
	}
	for _, r := range recs {
		if !strings.HasPrefix(r.Operator, wantOp) || !strings.Contains(r.Operator, ", session ") {
			t.Errorf("journal operator %q, want %q…, session …", r.Operator, wantOp)
		}
	}

	// q ends the operator's session, not the server: the observer stays.
	op.keys("q")
	op.waitFor("ssh to exit 0", contains("ssh-exit=0"))
	time.Sleep(time.Second)
	if scr := obs.screen(); strings.Contains(scr, "ssh-exit") || !strings.Contains(scr, "DEMO · READ-ONLY") {
		t.Fatalf("the observer's session ended with the operator's:\n%s", scr)
	}

	// SIGTERM: the observer is told and its ssh exits cleanly.
	fx.stop()
	obs.waitFor("the goodbye left on the terminal", contains("flightdeck: flightdeck serve is shutting down", "ssh-exit=0"))
	for _, want := range []string{"session start", "user=alice", "role=operator", "user=bob", "role=observer", "session end"} {
		if !strings.Contains(fx.out.String(), want) {
			t.Errorf("server log lacks %q:\n%s", want, fx.out.String())
		}
	}
}

// TestServeKeysOnlyAndHostKeyKept: an unknown key, and a client offering
// only password and keyboard-interactive, are refused with "Permission
// denied (publickey)" and a non-zero exit; the host key is created 0600 and
// is the same after a restart, so a strict known_hosts check passes.
func TestServeKeysOnlyAndHostKeyKept(t *testing.T) {
	fx := newServeFixture(t)
	fx.start()

	code, stderr := fx.runSSH("eve", "-tt", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new")
	if code == 0 || !strings.Contains(stderr, "Permission denied (publickey)") {
		t.Errorf("unknown key: exit %d, stderr %q", code, stderr)
	}

	// No key at all, only password and keyboard-interactive. With -v the
	// client prints what the server offers: publickey and nothing else.
	code, stderr = fx.runSSH("", "-v", "-tt", "-o", "PubkeyAuthentication=no",
		"-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "NumberOfPasswordPrompts=1",
		"-o", "StrictHostKeyChecking=accept-new")
	if code == 0 || !strings.Contains(stderr, "Permission denied (publickey)") ||
		!strings.Contains(stderr, "Authentications that can continue: publickey\r\n") && !strings.Contains(stderr, "Authentications that can continue: publickey\n") {
		t.Errorf("password-only client: exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "password:") || strings.Contains(stderr, "Next authentication method: password") {
		t.Errorf("the server offered password authentication:\n%s", stderr)
	}

	fi, err := os.Stat(fx.hostKey)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", fi, err)
	}
	hostPub, err := os.ReadFile(fx.hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	kh, _ := os.ReadFile(fx.knownHosts)
	if !strings.Contains(string(kh), strings.Fields(string(hostPub))[1]) {
		t.Fatalf("known_hosts %q lacks the host key %q", kh, hostPub)
	}

	// Restart. A strict check against what the client learned must pass:
	// the session then gets as far as the server's own "needs a terminal".
	fx.stop()
	fx.start()
	code, stderr = fx.runSSH("alice", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes")
	if code != 1 || !strings.Contains(stderr, "flightdeck serve: needs a terminal") {
		t.Fatalf("after restart: exit %d, stderr %q", code, stderr)
	}
	again, _ := os.ReadFile(fx.hostKey + ".pub")
	if !bytes.Equal(again, hostPub) {
		t.Fatal("the host key changed on restart")
	}
}

// countingProxy stands in front of a real Prometheus and records when each
// query reached it, so a test can tell one poller from many.
type countingProxy struct {
	mu    sync.Mutex
	times []time.Time
}

func startCountingProxy(t *testing.T, target string) (*countingProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	cp := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/query") {
			cp.mu.Lock()
			cp.times = append(cp.times, time.Now())
			cp.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return cp, srv.URL
}

// ticks groups the queries received in [from, to) into polls: a poll's
// queries arrive together, polls a second apart. It returns how many polls
// and the most queries one poll made.
func (cp *countingProxy) ticks(from, to time.Time) (polls, perPoll int) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var last time.Time
	n := 0
	for _, ts := range cp.times {
		if ts.Before(from) || !ts.Before(to) {
			continue
		}
		if last.IsZero() || ts.Sub(last) > 300*time.Millisecond {
			polls++
			n = 0
		}
		n++
		perPoll = max(perPoll, n)
		last = ts
	}
	return polls, perPoll
}

// sshSession is one x/crypto/ssh client session with a 200×60 pty.
type sshSession struct {
	sess *gossh.Session
	out  *lockedBuffer
}

func (fx *serveFixture) dialGo(key string) *sshSession {
	t := fx.t
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(fx.dir, key))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	hostPub, err := os.ReadFile(fx.hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	hk, _, _, _, err := gossh.ParseAuthorizedKey(hostPub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", fx.port), &gossh.ClientConfig{User: key,
		Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: gossh.FixedHostKey(hk), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s := &sshSession{sess: sess, out: &lockedBuffer{}}
	sess.Stdout = s.out
	if err := sess.RequestPty("xterm-256color", 60, 200, nil); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return s
}

// layout is where a screen's boxes are: the columns of every corner on
// every line. Data, ages and the clock change; the layout only when the
// session is laid out again.
func layout(scr string) string {
	var b strings.Builder
	for i, line := range strings.Split(scr, "\n") {
		col := 0
		for _, r := range line {
			if strings.ContainsRune("╭╮╰╯", r) {
				fmt.Fprintf(&b, "%d:%d%c ", i, col, r)
			}
			col++
		}
	}
	return b.String()
}

// TestServeTwentySessionsOnePoller is issue 10's "done means" on cost,
// against real servers: twenty sessions on real PostgreSQL and Prometheus
// make the servers see one flightdeck poller (one monitoring connection in
// pg_stat_activity; Prometheus polled as often, with as many queries per
// poll, as for one session), every session renders its cockpit, and a
// resize of one OpenSSH client re-lays out that session and no other.
func TestServeTwentySessionsOnePoller(t *testing.T) {
	pg := testsrv.StartPostgres(t)
	prom := testsrv.StartPrometheus(t, testsrv.PrometheusOptions{})
	proxy, proxyURL := startCountingProxy(t, prom.URL)
	fx := newServeFixtureOn(t, fmt.Sprintf(`postgres:
  - name: main
    dsn: %q
    interval: 1s
prometheus: {url: %s, interval: 1s}
slos:
  - name: availability
    objective: 0.999
    window: 30d
    good:  'sum(rate(http_requests_total{status!~"5.."}[{{.window}}]))'
    total: 'sum(rate(http_requests_total[{{.window}}]))'
`, pg.DSN(pg.Superuser, "postgres"), proxyURL))
	fx.start()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pg.SuperuserDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	monitors := func() int {
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", postgres.AppName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	rendered := func(s *sshSession) bool {
		out := s.out.String()
		return strings.Contains(out, "conns ") && strings.Contains(out, "availability") && strings.Contains(out, "prom")
	}
	const window = 8 * time.Second

	// One session: what one poller costs.
	first := fx.dialGo("alice")
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) { return rendered(first), "the first session's cockpit" })
	time.Sleep(2 * time.Second)
	t0 := time.Now()
	time.Sleep(window)
	polls1, perPoll1 := proxy.ticks(t0, time.Now())
	if polls1 < 5 || perPoll1 == 0 {
		t.Fatalf("one session: %d polls of Prometheus in %v, %d queries each", polls1, window, perPoll1)
	}
	if n := monitors(); n != 1 {
		t.Fatalf("one session: %d flightdeck connections to PostgreSQL", n)
	}

	// Twenty sessions: the same.
	sessions := []*sshSession{first}
	for range 19 {
		sessions = append(sessions, fx.dialGo("alice"))
	}
	for i, s := range sessions {
		testsrv.WaitFor(t, 90*time.Second, func() (bool, string) { return rendered(s), fmt.Sprintf("session %d's cockpit", i+1) })
	}
	t1 := time.Now()
	time.Sleep(window)
	polls20, perPoll20 := proxy.ticks(t1, time.Now())
	// The sparkline's range query is cached and refreshed on its own
	// period, so one window may hold a poll with it and the other not: a
	// poll's queries may differ by that one, never by a session's worth.
	if perPoll20 > perPoll1+1 || perPoll20 < perPoll1-1 || polls20 > polls1+1 || polls20 < polls1-1 {
		t.Errorf("Prometheus: %d polls of %d queries with one session, %d polls of %d queries with twenty", polls1, perPoll1, polls20, perPoll20)
	}
	if n := monitors(); n != 1 {
		t.Errorf("twenty sessions: %d flightdeck connections to PostgreSQL, want the one poller's", n)
	}
	t.Logf("Prometheus in %v: one session %d polls × %d queries, twenty sessions %d polls × %d queries", window, polls1, perPoll1, polls20, perPoll20)

	// A resize re-lays out the resized session only. Two OpenSSH clients
	// in their own tmux: one window shrinks, the other keeps its layout.
	a, b := fx.client("alice"), fx.client("bob")
	for _, s := range []*tmuxSession{a, b} {
		s.waitFor("a cockpit in tmux", contains("conns ", "availability", "3 Postgres"))
	}
	beforeA, beforeB := layout(a.screen()), layout(b.screen())
	if !strings.Contains(beforeB, "╮") {
		t.Fatalf("no boxes on the other session's screen:\n%s", b.screen())
	}
	a.run("resize-window", "-t", "fd", "-x", "120", "-y", "40")
	a.waitFor("the resized session laid out again", func(scr string) bool { return layout(scr) != beforeA && !strings.Contains(scr, "╮╭") })
	time.Sleep(2 * time.Second)
	if after := layout(b.screen()); after != beforeB {
		t.Errorf("the other session was laid out again:\nbefore %s\nafter  %s", beforeB, after)
	}
}
