package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"
)

// Hostile clients (issue 16, items 1–4): each test fails without its
// bound. BenchmarkHostileClients (hostile_bench_test.go) measures the same
// attacks at full size against a server in its own process.

// sizesSeen is every window size the test cockpits were given.
func sizesSeen(l *msgLog) []tea.WindowSizeMsg {
	var out []tea.WindowSizeMsg
	for _, m := range l.all() {
		if w, ok := m.(tea.WindowSizeMsg); ok {
			out = append(out, w)
		}
	}
	return out
}

func TestWindowSizeCapped(t *testing.T) {
	fx := start(t, nil)
	b := fx.open(fx.bob, 4000, 2000)
	b.waitOut(fmt.Sprintf("window capped at %d×%d", MaxWidth, MaxHeight))
	// The model gets one line less: the note is under it.
	b.waitOut(fmt.Sprintf("size %dx%d", MaxWidth, MaxHeight-1))
	if info := fx.factory.sessions()[0]; info.Width != MaxWidth || info.Height != MaxHeight {
		t.Errorf("session info size %dx%d", info.Width, info.Height)
	}

	// A window change, and a size reported in-band (CSI 8 ; h ; w t in
	// the input), are capped the same way.
	if err := b.sess.WindowChange(3000, 6000); err != nil {
		t.Fatal(err)
	}
	b.keys("\x1b[8;150;4000t") // Bubble Tea itself drops sizes over 4096 or 1M cells
	waitFor(t, "the in-band size report, capped", func() bool {
		for _, s := range sizesSeen(fx.factory.seen) {
			if s.Width == MaxWidth && s.Height == 149 {
				return true
			}
		}
		return false
	})
	// Back under the cap: the whole window is the cockpit's again.
	if err := b.sess.WindowChange(30, 90); err != nil {
		t.Fatal(err)
	}
	b.waitOut("size 90x30")
	for _, s := range sizesSeen(fx.factory.seen) {
		if s.Width > MaxWidth || s.Height > MaxHeight-1 {
			t.Fatalf("the cockpit was given %dx%d", s.Width, s.Height)
		}
	}
}

func TestCappedNoteInFrame(t *testing.T) {
	inner := testModel{info: SessionInfo{User: "bob"}}
	capped := &atomic.Bool{}
	capped.Store(true)
	m := cockpit{inner: inner, width: MaxWidth, height: 5, capped: capped}
	v := m.View()
	lines := strings.Split(v.Content, "\n")
	if len(lines) != 5 || !strings.Contains(lines[4], "window capped at 500×200") {
		t.Fatalf("frame %q", v.Content)
	}
	capped.Store(false)
	if v := m.View(); strings.Contains(v.Content, "capped") {
		t.Fatalf("note without a cap: %q", v.Content)
	}
}

func TestEnvRequestsBounded(t *testing.T) {
	fx := start(t, nil)
	conn, err := fx.dial(fx.bob)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Setenv("BIG", strings.Repeat("x", maxEnvironVar)); err == nil {
		t.Error("a variable over 1 KiB was accepted")
	}
	for i := range maxEnviron {
		if err := sess.Setenv(fmt.Sprintf("V%d", i), "1"); err != nil {
			t.Fatalf("variable %d refused: %v", i, err)
		}
	}
	for i := range 200 {
		if err := sess.Setenv(fmt.Sprintf("W%d", i), strings.Repeat("y", 30<<10)); err == nil {
			t.Fatalf("variable %d beyond %d accepted", maxEnviron+i, maxEnviron)
		}
	}
	var out syncBuffer
	sess.Stdout = &out
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cockpit", func() bool { return strings.Contains(out.String(), "cockpit for bob") })
	if env := fx.factory.sessions()[0].Environ; len(env) != maxEnviron || env[0] != "V0=1" {
		t.Fatalf("environment passed on: %d entries, first %q", len(env), env[:1])
	}
}

func TestSessionChannelsPerConnectionBounded(t *testing.T) {
	fx := start(t, nil)
	conn, err := fx.dial(fx.bob)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var open []*gossh.Session
	for range maxChannelsPerConn {
		s, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, s)
	}
	if _, err := conn.NewSession(); err == nil {
		t.Fatalf("session channel %d on one connection accepted", maxChannelsPerConn+1)
	}
	open[0].Close()
	waitFor(t, "the channel slot to free", func() bool {
		s, err := conn.NewSession()
		if err == nil {
			s.Close()
		}
		return err == nil
	})
}

// pastes is every paste the test cockpits were given.
func pastes(l *msgLog) []string {
	var out []string
	for _, m := range l.all() {
		if p, ok := m.(tea.PasteMsg); ok {
			out = append(out, p.Content)
		}
	}
	return out
}

func TestLongPasteDropped(t *testing.T) {
	fx := start(t, nil)
	b := fx.open(fx.bob, 100, 30)
	b.waitOut("cockpit for bob")
	b.keys("\x1b[200~hello\x1b[201~")
	waitFor(t, "the short paste", func() bool { return len(pastes(fx.factory.seen)) == 1 })

	// Unterminated, 4 MiB: dropped as it arrives, with a notice.
	b.keys("\x1b[200~")
	chunk := strings.Repeat("a", 32<<10)
	for range 128 {
		b.keys(chunk)
	}
	b.waitOut("paste dropped")
	// Its end marker, when it comes, ends the dropping; typing works.
	b.keys("\x1b[201~z")
	waitFor(t, "a key after the dropped paste", func() bool {
		for _, m := range fx.factory.seen.all() {
			if k, ok := m.(tea.KeyPressMsg); ok && k.String() == "z" {
				return true
			}
		}
		return false
	})
	if p := pastes(fx.factory.seen); len(p) != 1 || p[0] != "hello" {
		t.Fatalf("pastes given: %d, %q…", len(p), p[len(p)-1][:min(len(p[len(p)-1]), 20)])
	}

	// Many more, one after another: one notice (each costs a timer), one
	// log line.
	over := "\x1b[200~" + strings.Repeat("b", MaxPaste+1) + "\x1b[201~"
	for range 50 {
		b.keys(over)
	}
	b.keys("y")
	waitFor(t, "a key after the dropped pastes", func() bool {
		for _, m := range fx.factory.seen.all() {
			if k, ok := m.(tea.KeyPressMsg); ok && k.String() == "y" {
				return true
			}
		}
		return false
	})
	if n := strings.Count(fx.logs.String(), `msg="paste dropped"`); n != 1 {
		t.Errorf("%d paste-dropped records for 51 pastes dropped within seconds", n)
	}
	if p := pastes(fx.factory.seen); len(p) != 1 {
		t.Errorf("%d pastes given", len(p))
	}
}

// guardProgram runs a Bubble Tea program (the real input reader) on the
// guard's output, recording what it is given.
func guardProgram(t *testing.T, guard bool) (w io.WriteCloser, seen *msgLog, drops *int, mu *sync.Mutex) {
	t.Helper()
	pr, pw := io.Pipe()
	seen, drops, mu = &msgLog{}, new(int), &sync.Mutex{}
	var in io.Reader = pr
	if guard {
		in = newInputGuard(pr, func() { mu.Lock(); *drops++; mu.Unlock() })
	}
	p := tea.NewProgram(recorder{seen}, tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithoutRenderer(),
		tea.WithoutSignalHandler(), tea.WithEnvironment([]string{"TERM=xterm-256color"}), tea.WithWindowSize(80, 24))
	done := make(chan struct{})
	go func() { _, _ = p.Run(); close(done) }()
	t.Cleanup(func() { p.Kill(); pw.Close(); <-done })
	return pw, seen, drops, mu
}

// recorder is a model that records every message.
type recorder struct{ seen *msgLog }

func (r recorder) Init() tea.Cmd                           { return nil }
func (r recorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) { r.seen.add(msg); return r, nil }
func (r recorder) View() tea.View                          { return tea.NewView("") }

// TestInputGuardBoundsTheReader feeds hostile inputs through the guard to
// Bubble Tea's own input reader: whatever form the paste marker takes,
// split across reads or hidden behind a sequence the two parse
// differently, the reader never gets a paste over MaxPaste, and the input
// after it still arrives.
func TestInputGuardBoundsTheReader(t *testing.T) {
	// 64 KiB: eight times MaxPaste; cases the guard passes on as text are
	// paced, so more would only be slower.
	body := bytes.Repeat([]byte("0123456789abcdef"), (64<<10)/16)
	cases := []struct {
		name   string
		writes [][]byte
	}{
		{"plain", [][]byte{[]byte("\x1b[200~"), body, []byte("\x1b[201~z")}},
		{"split marker", [][]byte{[]byte("\x1b"), []byte("[2"), []byte("00~"), body, []byte("\x1b[20"), []byte("1~z")}},
		{"zero-padded", [][]byte{[]byte("\x1b[00200~"), body, []byte("\x1b[201~z")}},
		{"sub-parameter", [][]byte{[]byte("\x1b[200:1~"), body, []byte("\x1b[201~z")}},
		{"after ESC ESC", [][]byte{[]byte("\x1b\x1b\x1b[200~"), body, []byte("\x1b[201~z")}},
		{"after an OSC cut short", [][]byte{[]byte("\x1b]\x1b[200~"), body, []byte("\x1b[201~z")}},
		{"8-bit CSI", [][]byte{[]byte("\x9b200~"), body, []byte("z")}},
		{"8-bit CSI after a split rune", [][]byte{[]byte("\x1b];\xe1\x9c\x9b200~"), body, []byte("\x07\x1b[201~z")}},
		{"escape sequences inside", [][]byte{[]byte("\x1b[200~"), bytes.Repeat([]byte("\x1b]0;x\x07ab"), 1<<17), []byte("\x1b[201~z")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, seen, _, _ := guardProgram(t, true)
			for _, b := range c.writes {
				if _, err := w.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "the key after the paste", func() bool {
				for _, m := range seen.all() {
					if k, ok := m.(tea.KeyPressMsg); ok && k.String() == "z" {
						return true
					}
				}
				return false
			})
			for _, p := range pastes(seen) {
				if len(p) > MaxPaste {
					t.Fatalf("the reader was given a paste of %d bytes", len(p))
				}
			}
		})
	}
}

// TestInputGuardPassesTyping: keys, runes, escape sequences and a short
// paste pass the guard unchanged.
func TestInputGuardPassesTyping(t *testing.T) {
	in := "ab\x1b[Aé漢\x1bx\x1b[200~line1\nline2 ü\x1b[201~\x1b]11;rgb:0000/0000/0000\x1b\\q"
	var out bytes.Buffer
	g := newInputGuard(strings.NewReader(in), func() { t.Error("dropped") })
	g.sleep = func(time.Duration) {}
	if _, err := io.Copy(&out, g); err != nil {
		t.Fatal(err)
	}
	if out.String() != in {
		t.Fatalf("passed %q\nwant   %q", out.String(), in)
	}
}

// TestInputGuardPaces: a burst over paceAfter waits paceGap before more.
func TestInputGuardPaces(t *testing.T) {
	var slept []time.Duration
	g := newInputGuard(bytes.NewReader(bytes.Repeat([]byte("k"), 4*paceAfter)), nil)
	clock := time.Unix(0, 0)
	g.now = func() time.Time { return clock }
	g.sleep = func(d time.Duration) { slept = append(slept, d); clock = clock.Add(d) }
	if n, _ := io.Copy(io.Discard, g); n != 4*paceAfter {
		t.Fatalf("passed %d bytes", n)
	}
	if len(slept) < 3 {
		t.Fatalf("paused %d times over %d bytes", len(slept), 4*paceAfter)
	}
}

func TestUnauthenticatedConnectionsLimited(t *testing.T) {
	fx := start(t, func(o *Options) { o.MaxUnauthenticatedPerAddr = 4; o.MaxUnauthenticated = 10 })
	addr := fx.srv.Addr().String()
	flood := func(from string, n int) (refused int) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		var conns []net.Conn
		for range n {
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			t.Cleanup(func() { c.Close() })
		}
		// A refused connection is closed at once: EOF before any banner.
		for _, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			var b [1]byte
			if _, err := c.Read(b[:]); errors.Is(err, io.EOF) {
				refused++
			}
		}
		return refused
	}
	if r := flood("127.0.0.2", 50); r != 46 {
		t.Errorf("from one address: %d of 50 refused, want 46 (4 allowed)", r)
	}
	// Another address still logs in, and quickly.
	t0 := time.Now()
	fx.open(fx.alice, 80, 24).waitOut("cockpit for alice")
	t.Logf("login under a flood of 50 idle connections from another address: %v", time.Since(t0).Round(time.Millisecond))
	// In total: 4 held from 127.0.0.2, 6 more fit.
	if r := flood("127.0.0.3", 4) + flood("127.0.0.4", 4); r != 2 {
		t.Errorf("over the total: %d refused, want 2", r)
	}
	if conns, unauth := fx.srv.gate.counts(); unauth != 10 || conns != 11 {
		t.Errorf("gate counts %d connections, %d unauthenticated; want 11 and 10", conns, unauth)
	}
}

func TestHandshakeDeadline(t *testing.T) {
	if DefaultHandshakeTimeout > 10*time.Second {
		t.Errorf("default handshake deadline %v", DefaultHandshakeTimeout)
	}
	fx := start(t, func(o *Options) { o.HandshakeTimeout = 300 * time.Millisecond })
	c, err := net.Dial("tcp", fx.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	t0 := time.Now()
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("idle connection: %v after %v", err, time.Since(t0))
	}
	waitFor(t, "the slot freed", func() bool { _, unauth := fx.srv.gate.counts(); return unauth == 0 })
}

// TestInputGuardFlushesLongSequences: an escape sequence that never ends,
// streamed without a pause, is held by the reader until a pause; the
// guard's pacing makes one, so the reader never holds much more than
// paceAfter of it.
func TestInputGuardFlushesLongSequences(t *testing.T) {
	const streamed = 128 << 10
	w, seen, _, _ := guardProgram(t, true)
	go func() {
		_, _ = w.Write([]byte("\x1b]0;"))
		chunk := bytes.Repeat([]byte("x"), 4<<10)
		for range streamed / len(chunk) {
			_, _ = w.Write(chunk)
		}
		_, _ = w.Write([]byte("\x07z"))
	}()
	waitFor(t, "the key after the sequence", func() bool {
		for _, m := range seen.all() {
			if k, ok := m.(tea.KeyPressMsg); ok && k.String() == "z" {
				return true
			}
		}
		return false
	})
	longest := 0
	for _, m := range seen.all() {
		if _, ok := m.(tea.KeyPressMsg); !ok {
			longest = max(longest, len(fmt.Sprint(m)))
		}
	}
	t.Logf("longest event the reader made of %d KiB unterminated: %d bytes", streamed>>10, longest)
	if longest > 2*paceAfter {
		t.Fatalf("the reader held %d bytes of one sequence", longest)
	}
}

func TestMaxConnections(t *testing.T) {
	fx := start(t, func(o *Options) { o.MaxConnections = 2 })
	fx.open(fx.alice, 80, 24).waitOut("cockpit for alice")
	fx.open(fx.bob, 80, 24).waitOut("cockpit for bob")
	c, err := net.Dial("tcp", fx.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 64)); !errors.Is(err, io.EOF) {
		t.Fatalf("a third connection got %d bytes, %v; want it closed at once", n, err)
	}
	if conns, unauth := fx.srv.gate.counts(); conns != 2 || unauth != 0 {
		t.Errorf("gate counts %d connections, %d unauthenticated", conns, unauth)
	}
}
