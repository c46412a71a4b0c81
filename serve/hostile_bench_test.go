package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/themes"
	"flightdeck/together"
)

// BenchmarkHostileClients runs the attacks of issue 16 items 1–4 at full
// size, each against a fresh server in its own process (the real cockpit
// on the demo incident), and reports that server's peak RSS (VmHWM) and a
// legitimate operator's login time (connect, authenticate, pty, shell,
// first full frame) from another address while the attack holds:
//
//		go test -run '^$' -bench HostileClients -benchtime 1x ./serve/
//
//	  - window: an observer's pty of 4000×2000, then a window change to
//	    6000×3000 and an in-band size report;
//	  - env: 30,000 env requests of 30 KB on one session channel;
//	  - paste: ESC[200~ and 200 MiB with no end marker;
//	  - flood: idle TCP connections from 127.0.0.2, as many as the file
//	    limit allows up to 21,000 (the login comes from 127.0.0.1).
//
// Each fails if the server peaks at 300 MB or more, or the login takes 2 s
// or more.
func BenchmarkHostileClients(b *testing.B) {
	b.Run("window", func(b *testing.B) {
		hostileRun(b, func(h *hostileServer) {
			c := h.session(h.bob, 4000, 2000)
			c.settle(2 * time.Second)
			if err := c.sess.WindowChange(3000, 6000); err != nil {
				b.Fatal(err)
			}
			c.keys("\x1b[8;2000;4000t")
			c.settle(2 * time.Second)
		})
	})
	b.Run("env", func(b *testing.B) {
		hostileRun(b, func(h *hostileServer) {
			conn := h.dial(h.bob, "127.0.0.3")
			ch, reqs, err := conn.OpenChannel("session", nil)
			if err != nil {
				b.Fatal(err)
			}
			go gossh.DiscardRequests(reqs)
			value := strings.Repeat("v", 30_000)
			refused := 0
			for i := range 30_000 {
				ok, err := ch.SendRequest("env", true, gossh.Marshal(struct{ Key, Value string }{"V" + strconv.Itoa(i), value}))
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					refused++
				}
			}
			b.Logf("env: %d of 30000 refused", refused)
		})
	})
	b.Run("paste", func(b *testing.B) {
		hostileRun(b, func(h *hostileServer) {
			c := h.session(h.bob, 120, 40)
			c.settle(time.Second)
			c.keys("\x1b[200~")
			chunk := strings.Repeat("a", 32<<10)
			for range (200 << 20) / len(chunk) {
				c.keys(chunk)
			}
			c.settle(time.Second)
		})
	})
	b.Run("flood", func(b *testing.B) {
		hostileRun(b, func(h *hostileServer) {
			n := floodSize(b)
			var held atomic.Int64
			done := make(chan struct{})
			var conns []net.Conn
			var mu sync.Mutex
			go func() {
				defer close(done)
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 10 * time.Second}
				var wg sync.WaitGroup
				work := make(chan struct{})
				for range 32 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range work {
							c, err := d.Dial("tcp", h.addr)
							if err != nil {
								continue
							}
							mu.Lock()
							conns = append(conns, c)
							mu.Unlock()
							held.Add(1)
						}
					}()
				}
				for range n {
					work <- struct{}{}
				}
				close(work)
				wg.Wait()
			}()
			for held.Load() < int64(n/2) {
				time.Sleep(10 * time.Millisecond)
			}
			h.login("mid-flood")
			<-done
			b.Logf("flood: %d idle connections from 127.0.0.2 held open by the client", held.Load())
			b.Cleanup(func() {
				for _, c := range conns {
					c.Close()
				}
			})
		})
	})
}

// floodSize is how many idle connections the flood opens: 21,000, or
// what this process's file limit (raised to its hard limit) leaves room
// for.
func floodSize(b *testing.B) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return int(min(21_000, lim.Cur-500))
}

// hostileServer is a server child process and the keys to reach it.
type hostileServer struct {
	b          *testing.B
	cmd        *exec.Cmd
	addr       string
	hostKey    gossh.PublicKey
	alice, bob key
	logins     []time.Duration
}

// hostileRun starts a server, logs alice in once, runs attack, logs her
// in again while the attack's connections stay open, and reports.
func hostileRun(b *testing.B, attack func(*hostileServer)) {
	h := startHostileServer(b)
	h.login("before")
	before := h.status("VmRSS")
	attack(h)
	h.login("under attack")
	peak := h.status("VmHWM")
	worst := time.Duration(0)
	for _, d := range h.logins[1:] {
		worst = max(worst, d)
	}
	b.ReportMetric(float64(before)/1024, "MB-RSS-before")
	b.ReportMetric(float64(peak)/1024, "MB-peak-RSS")
	b.ReportMetric(float64(worst.Milliseconds()), "ms-login-under-attack")
	if peak >= 300*1024 {
		b.Errorf("the server peaked at %d MB", peak/1024)
	}
	if worst >= 2*time.Second {
		b.Errorf("a legitimate login took %v", worst)
	}
}

func startHostileServer(b *testing.B) *hostileServer {
	h := &hostileServer{b: b, alice: newKey(b), bob: newKey(b)}
	keys := string(gossh.MarshalAuthorizedKey(h.alice.pub)) + string(gossh.MarshalAuthorizedKey(h.bob.pub))
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileServerChild$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), "FD_HOSTILE_KEYS="+keys, "FD_HOSTILE_DIR="+b.TempDir())
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("server process: %v", err)
	}
	addr, hk, _ := strings.Cut(strings.TrimSpace(line), " ")
	h.hostKey, _, _, _, err = gossh.ParseAuthorizedKey([]byte(hk))
	if err != nil {
		b.Fatalf("server process said %q: %v", line, err)
	}
	h.cmd, h.addr = cmd, addr
	return h
}

// status is a /proc/PID/status figure of the server, in kB.
func (h *hostileServer) status(field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.cmd.Process.Pid))
	if err != nil {
		h.b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	h.b.Fatalf("no %s in /proc/PID/status", field)
	return 0
}

func (h *hostileServer) dial(k key, from string) *gossh.Client {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 30 * time.Second}
	nc, err := d.Dial("tcp", h.addr)
	if err != nil {
		h.b.Fatal(err)
	}
	c, chans, reqs, err := gossh.NewClientConn(nc, h.addr, &gossh.ClientConfig{User: "x",
		Auth: []gossh.AuthMethod{gossh.PublicKeys(k.signer)}, HostKeyCallback: gossh.FixedHostKey(h.hostKey)})
	if err != nil {
		h.b.Fatal(err)
	}
	client := gossh.NewClient(c, chans, reqs)
	h.b.Cleanup(func() { client.Close() })
	return client
}

// hostileClient is an attacker's session.
type hostileClient struct {
	b     *testing.B
	sess  *gossh.Session
	stdin io.Writer
	got   atomic.Int64
}

func (h *hostileServer) session(k key, w, hgt int) *hostileClient {
	conn := h.dial(k, "127.0.0.3")
	s, err := conn.NewSession()
	if err != nil {
		h.b.Fatal(err)
	}
	c := &hostileClient{b: h.b, sess: s}
	s.Stdout = countingWriter{&c.got}
	c.stdin, _ = s.StdinPipe()
	if err := s.RequestPty("xterm-256color", hgt, w, gossh.TerminalModes{}); err != nil {
		h.b.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		h.b.Fatal(err)
	}
	return c
}

func (c *hostileClient) keys(s string) {
	if _, err := io.WriteString(c.stdin, s); err != nil {
		c.b.Fatal(err)
	}
}

// settle waits d, for the frames to be drawn.
func (c *hostileClient) settle(d time.Duration) { time.Sleep(d) }

// login is alice from 127.0.0.1: connect, authenticate, pty, shell, and
// her first full frame.
func (h *hostileServer) login(when string) {
	t0 := time.Now()
	conn := h.dial(h.alice, "127.0.0.1")
	s, err := conn.NewSession()
	if err != nil {
		h.b.Fatal(err)
	}
	var got atomic.Int64
	s.Stdout = countingWriter{&got}
	if err := s.RequestPty("xterm-256color", 60, 200, gossh.TerminalModes{}); err != nil {
		h.b.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		h.b.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for got.Load() < firstFrame && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d := time.Since(t0)
	h.logins = append(h.logins, d)
	h.b.Logf("login %s: %v", when, d.Round(time.Millisecond))
	s.Close()
	conn.Close()
}

// TestHostileServerChild is BenchmarkHostileClients's server process, not
// a test: the real cockpit on the demo incident, alice an operator and bob
// an observer, default limits. It prints its address and host key and
// serves until its stdin closes.
func TestHostileServerChild(t *testing.T) {
	keys := os.Getenv("FD_HOSTILE_KEYS")
	if keys == "" {
		t.Skip("the server half of BenchmarkHostileClients; runs only as its child process")
	}
	var users []User
	rest := []byte(keys)
	for i, name := range []string{"alice", "bob"} {
		k, _, _, r, err := gossh.ParseAuthorizedKey(rest)
		if err != nil {
			t.Fatal(err)
		}
		rest = r
		role := together.Operator
		if i == 1 {
			role = together.Observer
		}
		users = append(users, User{Name: name, Role: role, Keys: []gossh.PublicKey{k}})
	}
	hub := sources.NewHub(nil)
	for _, s := range demo.NewWorld(demo.Options{Seed: 1}).Sources() {
		hub.Add(s, sources.PollOptions{Interval: time.Second})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); hub.Wait() }()
	hub.Start(ctx)
	theme, err := themes.Get("dark")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Listen: "127.0.0.1:0", HostKeyPath: filepath.Join(os.Getenv("FD_HOSTILE_DIR"), "hk"), Users: users},
		&demoCockpits{hub: hub, theme: theme})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s %s", srv.Addr(), gossh.MarshalAuthorizedKey(srv.HostKey()))
	_, _ = io.Copy(io.Discard, os.Stdin)
	sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
	defer c()
	_ = srv.Shutdown(sctx)
}
