package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
)

// serveFixture is a real `flightdeck serve --demo` and the OpenSSH keys and
// known_hosts its clients use.
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
// (observer, inline) and eve (not listed), and a config serving them.
func newServeFixture(t *testing.T) *serveFixture {
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
	fx.knownHosts = filepath.Join(fx.dir, "known_hosts")
	fx.config = filepath.Join(fx.dir, "config.yaml")
	cfg := fmt.Sprintf(`audit: {path: %s}
serve:
  host_key_path: %s
  users:
    - name: alice
      role: operator
      keys_file: alice.pub
    - name: bob
      role: observer
      keys: [%q]
`, filepath.Join(state, "audit.jsonl"), fx.hostKey, strings.TrimSpace(string(bobPub)))
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
	cmd := exec.Command(fx.bin, "serve", "--demo", "--config", fx.config, "--listen", fmt.Sprintf("127.0.0.1:%d", fx.port))
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

// TestServeDemoOperatorAndObserver is issue 10's first "done means" with
// the real OpenSSH client: an operator and an observer each get the demo
// cockpit; the operator terminates the root blocker with the typed pid; the
// observer's screen shows the backend gone and its K is refused; the
// journal names the operator's key fingerprint and address.
func TestServeDemoOperatorAndObserver(t *testing.T) {
	fx := newServeFixture(t)
	fx.start()

	op := fx.client("alice")
	obs := fx.client("bob")
	op.waitFor("the operator's cockpit", contains("DEMO", "SLOs", "Alerts", "Postgres", "Rollouts", "conns "))
	obs.waitFor("the observer's cockpit", contains("DEMO · READ-ONLY", "SLOs", "Postgres", "conns "))
	if strings.Contains(op.screen(), "READ-ONLY") {
		t.Fatal("the operator's cockpit is read-only")
	}

	for _, s := range []*tmuxSession{op, obs} {
		s.keys("3", "/")
		s.text("blocking")
		s.keys("Enter")
	}
	scr := op.waitFor("a root blocker", func(scr string) bool { return rootRow.MatchString(scr) })
	pid := rootRow.FindStringSubmatch(scr)[1]
	obs.waitFor("the same root blocker for the observer", contains(pid))

	// The observer cannot act: K is refused and opens nothing.
	obs.keys("K")
	obs.waitFor("the refusal", contains("read-only mode: actions are disabled"))
	if strings.Contains(obs.screen(), "Confirm") {
		t.Fatal("a confirm dialog opened for the observer")
	}

	op.keys("K")
	op.waitFor("the confirm dialog", contains("Terminate backend "+pid))
	time.Sleep(500 * time.Millisecond) // the dialog ignores keys for its first 400 ms, by design
	op.text(pid)
	op.keys("Enter")
	op.waitFor("the result", contains("Terminate backend "+pid+": done"))
	obs.waitFor("the backend gone on the observer's screen too", func(scr string) bool {
		m := rootRow.FindStringSubmatch(scr)
		return m == nil || m[1] != pid
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
	if code != 1 || !strings.Contains(stderr, "flightdeck serve needs a terminal") {
		t.Fatalf("after restart: exit %d, stderr %q", code, stderr)
	}
	again, _ := os.ReadFile(fx.hostKey + ".pub")
	if !bytes.Equal(again, hostPub) {
		t.Fatal("the host key changed on restart")
	}
}
