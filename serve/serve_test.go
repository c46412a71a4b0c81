package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"
	gossh "golang.org/x/crypto/ssh"

	"flightdeck/together"
)

// key is a client key pair.
type key struct {
	signer gossh.Signer
	pub    gossh.PublicKey
}

func newKey(t testing.TB) key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return key{signer: s, pub: s.PublicKey()}
}

// testFactory makes a small cockpit that shows who it is for and what it
// saw, and records every SessionInfo it was given.
type testFactory struct {
	mu    sync.Mutex
	infos []SessionInfo
	// tick makes the model redraw every tick, like a live cockpit.
	tick time.Duration
	// onSession runs for each session (publishing to Follow, say).
	onSession func(ctx context.Context, info SessionInfo)
	err       error
	// hang, when set, makes the model's first tick block until it is
	// closed: a program that cannot quit.
	hang chan struct{}
	// seen, when set, records every message the models are given.
	seen *msgLog
}

// msgLog records the messages test cockpits are given.
type msgLog struct {
	mu   sync.Mutex
	msgs []tea.Msg
}

func (l *msgLog) add(msg tea.Msg) {
	l.mu.Lock()
	l.msgs = append(l.msgs, msg)
	l.mu.Unlock()
}

// all is every message seen so far.
func (l *msgLog) all() []tea.Msg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tea.Msg(nil), l.msgs...)
}

func (f *testFactory) NewSession(ctx context.Context, info SessionInfo) (tea.Model, error) {
	f.mu.Lock()
	f.infos = append(f.infos, info)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if f.onSession != nil {
		f.onSession(ctx, info)
	}
	return testModel{info: info, w: info.Width, h: info.Height, tick: f.tick, hang: f.hang, seen: f.seen}, nil
}

func (f *testFactory) sessions() []SessionInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SessionInfo(nil), f.infos...)
}

type tickMsg struct{}

type testModel struct {
	info  SessionInfo
	w, h  int
	keys  int
	ticks int
	tick  time.Duration
	hang  chan struct{}
	seen  *msgLog
}

func (m testModel) Init() tea.Cmd {
	if m.tick > 0 {
		return tea.Tick(m.tick, func(time.Time) tea.Msg { return tickMsg{} })
	}
	return nil
}

func (m testModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.seen != nil {
		m.seen.add(msg)
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch msg.String() {
		case "q", "ctrl+c":
			return m, tea.Quit
		}
		m.keys++
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tickMsg:
		if m.hang != nil {
			<-m.hang
		}
		m.ticks++
		return m, tea.Tick(m.tick, func(time.Time) tea.Msg { return tickMsg{} })
	}
	return m, nil
}

// alarm is drawn in colour (and bold) on every test cockpit: what a
// terminal gets of it shows which colour profile the session follows.
var alarm = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true).Render("ALARM")

func (m testModel) View() tea.View {
	v := tea.NewView(fmt.Sprintf("cockpit for %s as %s size %dx%d keys=%d\nticks=%d %s",
		m.info.User, m.info.Role, m.w, m.h, m.keys, m.ticks, alarm))
	v.AltScreen = true
	return v
}

type fixture struct {
	t       testing.TB
	srv     *Server
	factory *testFactory
	alice   key // operator
	bob     key // observer
	logs    *syncBuffer
}

func start(t testing.TB, tweak func(*Options)) *fixture {
	t.Helper()
	fx := &fixture{t: t, factory: &testFactory{seen: &msgLog{}}, alice: newKey(t), bob: newKey(t), logs: &syncBuffer{}}
	o := Options{
		Listen:      "127.0.0.1:0",
		HostKeyPath: filepath.Join(t.TempDir(), "state", "ssh_host_ed25519_key"),
		Users: []User{
			{Name: "alice", Role: together.Operator, Keys: []gossh.PublicKey{fx.alice.pub}},
			{Name: "bob", Role: together.Observer, Keys: []gossh.PublicKey{fx.bob.pub}},
		},
		Log: slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&o)
	}
	srv, err := New(o, fx.factory)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	fx.srv = srv
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return fx
}

func (fx *fixture) dial(k key) (*gossh.Client, error) {
	return gossh.Dial("tcp", fx.srv.Addr().String(), &gossh.ClientConfig{
		User:            "whoever",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(k.signer)},
		HostKeyCallback: gossh.FixedHostKey(fx.srv.HostKey()),
		Timeout:         10 * time.Second,
	})
}

// client is one SSH session with its output collected.
type client struct {
	t     testing.TB
	conn  *gossh.Client
	sess  *gossh.Session
	stdin io.WriteCloser
	out   *syncBuffer
	errb  *syncBuffer
	done  chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// open connects k and starts a shell, with an xterm-256color pty of w×h
// unless w is 0.
func (fx *fixture) open(k key, w, h int, env ...string) *client {
	fx.t.Helper()
	return fx.openTerm(k, "xterm-256color", w, h, env...)
}

// openTerm is open with the pty's terminal type.
func (fx *fixture) openTerm(k key, term string, w, h int, env ...string) *client {
	fx.t.Helper()
	conn, err := fx.dial(k)
	if err != nil {
		fx.t.Fatalf("dial: %v", err)
	}
	fx.t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		fx.t.Fatal(err)
	}
	c := &client{t: fx.t, conn: conn, sess: sess, out: &syncBuffer{}, errb: &syncBuffer{}, done: make(chan error, 1)}
	sess.Stdout, sess.Stderr = c.out, c.errb
	c.stdin, _ = sess.StdinPipe()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if err := sess.Setenv(k, v); err != nil {
			fx.t.Fatal(err)
		}
	}
	if w > 0 {
		if err := sess.RequestPty(term, h, w, gossh.TerminalModes{}); err != nil {
			fx.t.Fatal(err)
		}
	}
	if err := sess.Shell(); err != nil {
		fx.t.Fatal(err)
	}
	go func() { c.done <- sess.Wait() }()
	return c
}

func (c *client) waitOut(what string) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(c.out.String(), what) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("no %q in output:\n%q\nstderr: %q", what, c.out.String(), c.errb.String())
}

// wait returns the session's exit status once it ended.
func (c *client) wait(within time.Duration) int {
	c.t.Helper()
	select {
	case err := <-c.done:
		var ee *gossh.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitStatus()
		default:
			c.t.Fatalf("session ended without a status: %v", err)
		}
	case <-time.After(within):
		c.t.Fatalf("session still open after %v; output %q", within, c.out.String())
	}
	return -1
}

func (c *client) stillOpen() bool {
	select {
	case err := <-c.done:
		c.done <- err
		return false
	default:
		return true
	}
}

func (c *client) keys(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, s); err != nil {
		c.t.Fatal(err)
	}
}

func TestOperatorAndObserverGetTheirCockpits(t *testing.T) {
	fx := start(t, nil)
	a := fx.open(fx.alice, 200, 60, "LANG=C.UTF-8")
	a.waitOut("cockpit for alice as operator size 200x60")
	b := fx.open(fx.bob, 120, 40)
	b.waitOut("cockpit for bob as observer size 120x40")

	members := fx.srv.Presence().Members()
	if len(members) != 2 || members[0].Name != "alice" || members[0].Role != together.Operator ||
		members[1].Name != "bob" || members[1].Role != together.Observer {
		t.Fatalf("presence = %+v", members)
	}
	infos := fx.factory.sessions()
	ai := infos[0]
	fp := gossh.FingerprintSHA256(fx.alice.pub)
	if ai.User != "alice" || ai.Role != together.Operator || ai.Fingerprint != fp || ai.Term != "xterm-256color" ||
		ai.Width != 200 || ai.Height != 60 || ai.ColorProfile != colorprofile.ANSI256 || len(ai.ID) != 8 ||
		!strings.HasPrefix(ai.Addr, "127.0.0.1:") || !strings.Contains(strings.Join(ai.Environ, " "), "LANG=C.UTF-8") {
		t.Errorf("alice's info = %+v", ai)
	}
	want := fmt.Sprintf("alice (%s) from %s, session %s", fp, ai.Addr, ai.ID)
	if ai.Identity != want {
		t.Errorf("identity %q, want %q", ai.Identity, want)
	}
	if infos[1].Role != together.Observer || infos[1].Role.CanAct() {
		t.Errorf("bob's role = %v", infos[1].Role)
	}

	// q ends alice's session, not the server: bob stays, and alice can
	// come back.
	a.keys("q")
	if code := a.wait(10 * time.Second); code != 0 {
		t.Errorf("exit status after q = %d", code)
	}
	if !b.stillOpen() {
		t.Fatal("bob's session ended with alice's")
	}
	waitFor(t, "alice to leave presence", func() bool { return len(fx.srv.Presence().Members()) == 1 })
	a2 := fx.open(fx.alice, 80, 24)
	a2.waitOut("cockpit for alice as operator size 80x24")
	a2.keys("\x03") // ctrl+c: the session, not the server
	a2.wait(10 * time.Second)
	b.waitOut("size 120x40")
	if !b.stillOpen() {
		t.Fatal("bob's session ended on alice's ctrl+c")
	}
	waitFor(t, "the session end logged", func() bool { return strings.Contains(fx.logs.String(), "reason=quit") })
	logs := fx.logs.String()
	for _, w := range []string{"msg=\"session start\"", "user=alice", "role=operator", "fingerprint=" + fp, "msg=\"session end\"", "reason=quit"} {
		if !strings.Contains(logs, w) {
			t.Errorf("log lacks %s:\n%s", w, logs)
		}
	}
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestResizeReachesOnlyThatSession(t *testing.T) {
	fx := start(t, nil)
	a := fx.open(fx.alice, 200, 60)
	b := fx.open(fx.bob, 200, 60)
	a.waitOut("size 200x60")
	b.waitOut("size 200x60")
	if err := a.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	a.waitOut("size 100x30")
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(b.out.String(), "100x30") {
		t.Fatal("bob's cockpit saw alice's resize")
	}
}

func TestColorProfile(t *testing.T) {
	cases := []struct {
		env       []string
		term      string
		truecolor bool
		want      colorprofile.Profile
	}{
		{nil, "xterm-256color", false, colorprofile.ANSI256},
		{nil, "xterm-256color", true, colorprofile.TrueColor},
		{[]string{"COLORTERM=truecolor"}, "xterm-256color", false, colorprofile.TrueColor},
		{[]string{"NO_COLOR=1"}, "xterm-256color", true, colorprofile.ASCII},
		{nil, "dumb", true, colorprofile.NoTTY},
		{nil, "vt100", true, colorprofile.ASCII},                               // its terminfo entry has no colours
		{[]string{"TERM=dumb"}, "xterm-256color", false, colorprofile.ANSI256}, // the pty's TERM wins
	}
	for _, tc := range cases {
		if got := colorProfile(tc.env, tc.term, tc.truecolor); got != tc.want {
			t.Errorf("colorProfile(%v, %q, %v) = %v, want %v", tc.env, tc.term, tc.truecolor, got, tc.want)
		}
	}
}

// TestTerminalCapabilitiesFollowed is issue 11's item 3 over SSH: a vt100
// gets bold but no colour, an xterm-256color gets colour, and a dumb
// terminal is told why and closed, without cursor addressing or the
// alternate screen.
func TestTerminalCapabilitiesFollowed(t *testing.T) {
	fx := start(t, nil)
	colour := fx.open(fx.alice, 80, 24)
	colour.waitOut("ALARM")
	vt := fx.openTerm(fx.bob, "vt100", 80, 24)
	vt.waitOut("ALARM")
	// The cell's SGR as the renderer writes it: colour 9 as 16-colour
	// bright red, or nothing but bold.
	if out := colour.out.String(); !strings.Contains(out, "\x1b[91;1mALARM") {
		t.Errorf("xterm-256color: no colour before ALARM in %q", out)
	}
	if out := vt.out.String(); !strings.Contains(out, "\x1b[1mALARM") || strings.Contains(out, "91m") || strings.Contains(out, "38;5") {
		t.Errorf("vt100: colour sent, or bold lost, in %q", out)
	}

	dumb := fx.openTerm(fx.alice, "dumb", 80, 24)
	if code := dumb.wait(10 * time.Second); code != 1 {
		t.Errorf("dumb: exit status %d", code)
	}
	if e := dumb.errb.String(); !strings.Contains(e, "flightdeck serve: needs a terminal with cursor addressing (TERM=dumb has none)") {
		t.Errorf("dumb: stderr %q", e)
	}
	if out := dumb.out.String(); strings.Contains(out, "\x1b") {
		t.Errorf("dumb: escape sequences sent: %q", out)
	}
	if n := len(fx.factory.sessions()); n != 2 {
		t.Errorf("%d cockpits made; the dumb terminal's must not be", n)
	}
}

func TestTrueColorByConfig(t *testing.T) {
	fx := start(t, func(o *Options) { o.TrueColor = true })
	fx.open(fx.alice, 80, 24).waitOut("cockpit for alice")
	if got := fx.factory.sessions()[0].ColorProfile; got != colorprofile.TrueColor {
		t.Fatalf("profile = %v", got)
	}
}

func TestUnknownKeyRefused(t *testing.T) {
	fx := start(t, nil)
	_, err := fx.dial(newKey(t))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown key: %v", err)
	}
	if n := len(fx.factory.sessions()); n != 0 {
		t.Fatalf("factory called %d times for an unknown key", n)
	}
	if !strings.Contains(fx.logs.String(), "ssh key refused") {
		t.Errorf("refusal not logged:\n%s", fx.logs.String())
	}
}

// TestOnlyPublicKeyOffered: a client ready to answer password and
// keyboard-interactive prompts is never asked, because the server offers
// neither; it fails after trying only "none".
func TestOnlyPublicKeyOffered(t *testing.T) {
	fx := start(t, nil)
	var asked sync.Map
	_, err := gossh.Dial("tcp", fx.srv.Addr().String(), &gossh.ClientConfig{
		User: "alice",
		Auth: []gossh.AuthMethod{
			gossh.PasswordCallback(func() (string, error) { asked.Store("password", true); return "hunter2", nil }),
			gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
				asked.Store("keyboard-interactive", true)
				return nil, nil
			}),
		},
		HostKeyCallback: gossh.FixedHostKey(fx.srv.HostKey()),
	})
	if err == nil {
		t.Fatal("logged in without a key")
	}
	if !strings.Contains(err.Error(), "attempted methods [none]") || !strings.Contains(err.Error(), "no supported methods remain") {
		t.Errorf("err = %v", err)
	}
	asked.Range(func(k, _ any) bool { t.Errorf("server asked for %v", k); return true })
}

func TestNoPtyRefused(t *testing.T) {
	fx := start(t, nil)
	c := fx.open(fx.alice, 0, 0)
	if code := c.wait(10 * time.Second); code != 1 {
		t.Errorf("exit status %d", code)
	}
	if c.errb.String() != "flightdeck serve: needs a terminal: connect with ssh -t (your client asked for none)\n" {
		t.Errorf("stderr %q", c.errb.String())
	}
	if len(fx.factory.sessions()) != 0 {
		t.Error("a cockpit was made for a session without a pty")
	}
}

func TestCommandRefused(t *testing.T) {
	fx := start(t, nil)
	conn, err := fx.dial(fx.alice)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, _ := conn.NewSession()
	out, err := sess.CombinedOutput("cat /etc/passwd")
	var ee *gossh.ExitError
	// Said once, the program named once (issue 17.10: it was doubled).
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 || string(out) != "flightdeck serve: runs no commands: connect with ssh -t and no command\n" {
		t.Fatalf("err %v, out %q", err, out)
	}
}

// TestSSHCommand: the start message can name the real port and host
// (issue 17.10: it said "ssh -p PORT HOST").
func TestSSHCommand(t *testing.T) {
	fx := start(t, nil)
	port := fx.srv.Addr().(*net.TCPAddr).Port
	if got, want := fx.srv.SSHCommand(), fmt.Sprintf("ssh -p %d 127.0.0.1", port); got != want {
		t.Errorf("SSHCommand = %q, want %q", got, want)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	for _, c := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 2222}, "ssh -p 2222 " + host},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 22}, "ssh " + host},
		{&net.TCPAddr{Port: 2222}, "ssh -p 2222 " + host},
		{&net.TCPAddr{IP: net.ParseIP("10.0.3.4"), Port: 22}, "ssh 10.0.3.4"},
	} {
		s := &Server{addr: c.addr}
		if got := s.SSHCommand(); got != c.want {
			t.Errorf("listening on %v: %q, want %q", c.addr, got, c.want)
		}
	}
	if got := (&Server{}).SSHCommand(); got != "" {
		t.Errorf("before Start: %q", got)
	}
}

func TestMaxSessions(t *testing.T) {
	fx := start(t, func(o *Options) { o.MaxSessions = 1 })
	a := fx.open(fx.alice, 80, 24)
	a.waitOut("cockpit for alice")
	b := fx.open(fx.bob, 80, 24)
	if code := b.wait(10 * time.Second); code != 1 {
		t.Errorf("exit status %d", code)
	}
	if !strings.Contains(b.errb.String(), "all 1 sessions are in use: try again later") {
		t.Errorf("stderr %q", b.errb.String())
	}
	a.keys("q")
	a.wait(10 * time.Second)
	waitFor(t, "the slot to free", func() bool { return fx.srv.Sessions() == 0 })
	fx.open(fx.bob, 80, 24).waitOut("cockpit for bob")
}

func TestRateLimitPerAddress(t *testing.T) {
	fx := start(t, func(o *Options) { o.RateLimit = RateLimit{PerSecond: 0.001, Burst: 1} })
	fx.open(fx.alice, 80, 24).waitOut("cockpit for alice")
	b := fx.open(fx.bob, 80, 24)
	if code := b.wait(10 * time.Second); code != 1 || !strings.Contains(b.errb.String(), "too many new sessions from your address") {
		t.Fatalf("exit %d, stderr %q", code, b.errb.String())
	}
}

// TestIdleTimeoutCountsKeysNotOutput: a cockpit redrawing every 50 ms is
// still idle; key presses keep it open; without them it closes with a
// message left on the terminal.
func TestIdleTimeoutCountsKeysNotOutput(t *testing.T) {
	const idle = 700 * time.Millisecond
	fx := start(t, func(o *Options) { o.IdleTimeout = idle })
	fx.factory.tick = 50 * time.Millisecond
	c := fx.open(fx.alice, 80, 24)
	c.waitOut("cockpit for alice")
	began := time.Now()
	for time.Since(began) < 3*idle {
		c.keys("j")
		time.Sleep(idle / 4)
	}
	if !c.stillOpen() {
		t.Fatalf("closed while keys were pressed: %q", c.out.String())
	}
	stopped := time.Now()
	c.wait(idle + goodbyeFor + 5*time.Second)
	took := time.Since(stopped)
	if took < idle {
		t.Errorf("closed %v after the last key, before the idle timeout", took)
	}
	c.waitOut("flightdeck: closed after 700ms without a key press")
	waitFor(t, "the session end logged with its reason", func() bool {
		return strings.Contains(fx.logs.String(), "reason=\"closed after 700ms without a key press\"")
	})
}

func TestMaxSessionLength(t *testing.T) {
	fx := start(t, func(o *Options) { o.MaxSessionLength = time.Second })
	c := fx.open(fx.alice, 80, 24)
	c.waitOut("cockpit for alice")
	for i := 0; i < 10 && c.stillOpen(); i++ {
		c.keys("j") // busy, yet the length limit holds
		time.Sleep(100 * time.Millisecond)
	}
	c.wait(goodbyeFor + 5*time.Second)
	c.waitOut("flightdeck: sessions last at most 1s: reconnect to go on")
}

// TestShutdownSaysGoodbye: every session sees the goodbye frame, then the
// line stays on its terminal; all close within a few seconds; new
// connections are refused.
func TestShutdownSaysGoodbye(t *testing.T) {
	fx := start(t, nil)
	fx.factory.tick = 100 * time.Millisecond
	a := fx.open(fx.alice, 100, 30)
	b := fx.open(fx.bob, 100, 30)
	a.waitOut("cockpit for alice")
	b.waitOut("cockpit for bob")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	began := time.Now()
	if err := fx.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(began); took > 4*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	for _, c := range []*client{a, b} {
		c.wait(2 * time.Second)
		out := c.out.String()
		frame := strings.Index(out, "goodbye")
		line := strings.LastIndex(out, "flightdeck: "+ReasonShutdown)
		if frame < 0 || line < frame {
			t.Errorf("want the goodbye frame, then the line; output tail %q", tail(out, 600))
		}
	}
	if _, err := fx.dial(fx.alice); err == nil {
		t.Error("a connection was accepted after Shutdown")
	}
	if fx.srv.Sessions() != 0 || len(fx.srv.Presence().Members()) != 0 {
		t.Error("sessions left behind")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestShutdownCutsOffAStuckSession: a session whose program cannot quit
// does not hold the server past Shutdown's deadline.
func TestShutdownCutsOffAStuckSession(t *testing.T) {
	fx := start(t, nil)
	release := make(chan struct{})
	defer close(release)
	fx.factory.tick, fx.factory.hang = 10*time.Millisecond, release
	c := fx.open(fx.alice, 80, 24)
	c.waitOut("cockpit for alice")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	began := time.Now()
	err := fx.srv.Shutdown(ctx)
	if took := time.Since(began); took > 4*time.Second {
		t.Fatalf("shutdown took %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline", err)
	}
	select {
	case <-c.done: // its connection was closed under it, without an exit status
	case <-time.After(5 * time.Second):
		t.Fatal("the stuck session's connection stayed open")
	}
}

func TestFactoryErrorRefusesSession(t *testing.T) {
	fx := start(t, nil)
	fx.factory.err = errors.New("hub not ready")
	c := fx.open(fx.alice, 80, 24)
	if code := c.wait(10 * time.Second); code != 1 || !strings.Contains(c.errb.String(), "could not start a cockpit: hub not ready") {
		t.Fatalf("exit %d, stderr %q", code, c.errb.String())
	}
	waitFor(t, "the refused session to leave presence", func() bool { return len(fx.srv.Presence().Members()) == 0 })
}

// TestSessionEndStopsItsFollowers: when a leader's session ends, serve ends
// it as a leader, so an observer following it stops.
func TestSessionEndStopsItsFollowers(t *testing.T) {
	fx := start(t, nil)
	fx.factory.onSession = func(_ context.Context, info SessionInfo) {
		fx.srv.Follow().Publish(info.ID, together.View{Focus: "postgres"})
	}
	a := fx.open(fx.alice, 80, 24)
	a.waitOut("cockpit for alice")
	f, err := fx.srv.Follow().Subscribe(fx.factory.sessions()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if v, err := f.Next(ctx); err != nil || v.Focus != "postgres" {
		t.Fatalf("Next = %+v, %v", v, err)
	}
	a.keys("q")
	if _, err := f.Next(ctx); !errors.Is(err, together.ErrLeaderGone) {
		t.Fatalf("after the leader quit: %v", err)
	}
}

// TestFactoryContextEndsWithSession: the ctx given to NewSession is how the
// caller frees per-session resources, so it must end with the session.
func TestFactoryContextEndsWithSession(t *testing.T) {
	fx := start(t, nil)
	ended := make(chan struct{})
	fx.factory.onSession = func(ctx context.Context, _ SessionInfo) {
		context.AfterFunc(ctx, func() { close(ended) })
	}
	c := fx.open(fx.alice, 80, 24)
	c.waitOut("cockpit for alice")
	c.conn.Close() // the connection drops without a q
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the session's ctx did not end when its connection dropped")
	}
}

// fakeSession is just enough of an ssh.Session for verify.
type fakeSession struct {
	ssh.Session
	key  gossh.PublicKey
	exts map[string]string
}

func newFake(k gossh.PublicKey, exts map[string]string) ssh.Session {
	return fakeSession{key: k, exts: exts}
}

func (f fakeSession) PublicKey() ssh.PublicKey { return f.key }

func (f fakeSession) Permissions() ssh.Permissions {
	return ssh.Permissions{Permissions: &gossh.Permissions{Extensions: f.exts}}
}

func TestVerifyChecksTheAuthenticatedKeyAgain(t *testing.T) {
	alice, bob, stranger := newKey(t), newKey(t), newKey(t)
	s := &Server{keys: mustKeyring(t, []User{
		{Name: "alice", Role: together.Operator, Keys: []gossh.PublicKey{alice.pub}},
		{Name: "bob", Keys: []gossh.PublicKey{bob.pub}},
	})}
	fpA := gossh.FingerprintSHA256(alice.pub)
	ok := map[string]string{extUser: "alice", extFingerprint: fpA}
	if u, fp, err := s.verify(newFake(alice.pub, ok)); err != nil || u.Name != "alice" || fp != fpA {
		t.Fatalf("good session: %v %v %v", u, fp, err)
	}
	bad := []struct {
		name string
		sess ssh.Session
	}{
		{"no key", newFake(nil, ok)},
		{"key not listed", newFake(stranger.pub, map[string]string{extUser: "alice", extFingerprint: gossh.FingerprintSHA256(stranger.pub)})},
		// The callback accepted bob's key, but alice's completed the handshake.
		{"other key than accepted", newFake(alice.pub, map[string]string{extUser: "bob", extFingerprint: gossh.FingerprintSHA256(bob.pub)})},
		{"no record of the callback", newFake(alice.pub, nil)},
	}
	for _, tc := range bad {
		if u, _, err := s.verify(tc.sess); err == nil {
			t.Errorf("%s: accepted as %v", tc.name, u.Name)
		}
	}
}

func mustKeyring(t *testing.T, users []User) *keyring {
	t.Helper()
	k, err := newKeyring(users)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyringRefusesAmbiguity(t *testing.T) {
	k := newKey(t)
	if _, err := newKeyring(nil); err == nil {
		t.Error("no users accepted")
	}
	if _, err := newKeyring([]User{{Name: "a", Keys: []gossh.PublicKey{k.pub}}, {Name: "b", Keys: []gossh.PublicKey{k.pub}}}); err == nil ||
		!strings.Contains(err.Error(), "belongs to both a and b") {
		t.Errorf("shared key: %v", err)
	}
	if _, err := newKeyring([]User{{Name: "a"}, {Name: "a"}}); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestHostKeyCreatedOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "ssh_host_ed25519_key")
	f := &testFactory{}
	users := []User{{Name: "a", Keys: []gossh.PublicKey{newKey(t).pub}}}
	s1, err := New(Options{HostKeyPath: path, Users: users}, f)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode: %v %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("created directory mode %v", di.Mode())
	}
	if s1.HostKey().Type() != gossh.KeyAlgoED25519 {
		t.Errorf("host key type %s", s1.HostKey().Type())
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if pk, _, _, _, err := gossh.ParseAuthorizedKey(pub); err != nil || !bytes.Equal(pk.Marshal(), s1.HostKey().Marshal()) {
		t.Errorf(".pub does not match: %v", err)
	}
	s2, err := New(Options{HostKeyPath: path, Users: users}, f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1.HostKey().Marshal(), s2.HostKey().Marshal()) {
		t.Fatal("a restart made a new host key")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{HostKeyPath: path, Users: users}, f); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable host key: %v", err)
	}
}

// TestHostKeySameOverTheWire: a client that pinned the key on the first
// start connects after a restart.
func TestHostKeySameOverTheWire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hk")
	alice := newKey(t)
	users := []User{{Name: "alice", Role: together.Operator, Keys: []gossh.PublicKey{alice.pub}}}
	var pinned gossh.PublicKey
	for i := range 2 {
		s, err := New(Options{Listen: "127.0.0.1:0", HostKeyPath: path, Users: users}, &testFactory{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		cb := gossh.InsecureIgnoreHostKey() //nolint:gosec // first contact: pin what we see
		if i == 0 {
			cb = func(_ string, _ net.Addr, k gossh.PublicKey) error { pinned = k; return nil }
		} else {
			cb = gossh.FixedHostKey(pinned)
		}
		c, err := gossh.Dial("tcp", s.Addr().String(), &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(alice.signer)}, HostKeyCallback: cb})
		if err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Shutdown(ctx)
		cancel()
	}
}

func TestClientEnvironmentBounded(t *testing.T) {
	env := []string{"LANG=C.UTF-8", "HUGE=" + strings.Repeat("x", 5000)}
	for i := range 100 {
		env = append(env, fmt.Sprintf("V%d=1", i))
	}
	got := boundEnviron(env)
	if len(got) != maxEnviron || got[0] != "LANG=C.UTF-8" || got[1] != "V0=1" {
		t.Fatalf("kept %d: %q…", len(got), got[:2])
	}
}
