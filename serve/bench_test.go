package serve

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/jackc/pgx/v5"
	gossh "golang.org/x/crypto/ssh"

	"flightdeck/internal/testsrv"
	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/sources/postgres"
	"flightdeck/themes"
	"flightdeck/together"
	"flightdeck/ui"
	"flightdeck/ui/kit"
)

// countingSource counts upstream fetches, to show that N sessions cost the
// upstreams what one does.
type countingSource struct {
	sources.Source
	n *atomic.Int64
}

func (c countingSource) Fetch(ctx context.Context) (sources.Payload, error) {
	c.n.Add(1)
	return c.Source.Fetch(ctx)
}

// demoCockpits makes the real cockpit on the demo world for every session,
// each with its own hub subscription, observers without an Executor.
type demoCockpits struct {
	hub    *sources.Hub
	theme  themes.Theme
	blocks *kit.Blocks // shared, as a world shares them
}

func (d *demoCockpits) NewSession(ctx context.Context, info SessionInfo) (tea.Model, error) {
	sub := d.hub.Subscribe()
	context.AfterFunc(ctx, sub.Close)
	return ui.New(ui.Options{Identity: ui.Identity{Environment: "demo", Demo: true, ReadOnly: true},
		Actions: ui.Actions{Policy: ops.DefaultPolicy()}, Data: ui.Data{Updates: sub, Refresh: d.hub.Refresh},
		Look: ui.Look{KeyMap: keymap.DefaultKeyMap(), Theme: d.theme, Blocks: d.blocks}}), nil
}

// BenchmarkServe50Sessions: 50 SSH sessions with 200×60 ptys on the real
// cockpit, idle (no key pressed) in a steady state. The clients
// (x/crypto/ssh) run in a child process, so CPU and memory are the
// server's alone. Each op is one second of steady state.
//
//	go test -run '^$' -bench Serve50 -benchtime 10x ./serve/
//
// Two worlds: "postgres-idle" is a real PostgreSQL with 200 idle client
// connections polled every 2s (what an idle cockpit on a bastion sees;
// skipped without PostgreSQL); "demo" is the demo incident at full speed,
// rows and sparklines moving every second (an incident, not idle).
//
// Reported: bytes/s per session on the wire (encrypted, as the network
// sees it), CPU per session and in total (share of one core), memory per
// session beyond the first (heap + stacks in use after GC), and upstream
// fetches per second with 1 and with 50 sessions, which must be equal.
func BenchmarkServe50Sessions(b *testing.B) {
	b.Run("postgres-idle", func(b *testing.B) {
		pg := testsrv.StartPostgres(b)
		ctx := context.Background()
		for range 200 {
			c, err := pgx.Connect(ctx, pg.DSN(pg.Superuser, "postgres")+" application_name=nudgecampaign-worker")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close(context.Background()) })
		}
		src, err := postgres.New(postgres.Options{Name: "main", DSN: pg.DSN(pg.Superuser, "postgres")})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { src.Close() })
		benchServe(b, []sources.Source{src}, 2*time.Second)
	})
	b.Run("demo", func(b *testing.B) {
		benchServe(b, demo.NewWorld(demo.Options{Seed: 1}).Sources(), time.Second)
	})
}

func benchServe(b *testing.B, srcs []sources.Source, interval time.Duration) {
	const n = 50
	var fetches atomic.Int64
	hub := sources.NewHub(nil)
	for _, s := range srcs {
		hub.Add(countingSource{Source: s, n: &fetches}, sources.PollOptions{Interval: interval})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); hub.Wait() }()
	hub.Start(ctx)
	theme, err := themes.Get("dark")
	if err != nil {
		b.Fatal(err)
	}

	blocks := kit.NewBlocks()
	keyDir := b.TempDir()
	users := make([]User, n)
	for i := range users {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		block, err := gossh.MarshalPrivateKey(priv, "")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(keyDir, strconv.Itoa(i)), pem.EncodeToMemory(block), 0o600); err != nil {
			b.Fatal(err)
		}
		pk, _ := gossh.NewPublicKey(pub)
		users[i] = User{Name: "u" + strconv.Itoa(i), Role: together.Observer, Keys: []gossh.PublicKey{pk}}
	}
	srv, err := New(Options{Listen: "127.0.0.1:0", HostKeyPath: filepath.Join(b.TempDir(), "hk"), Users: users, MaxSessions: n},
		&demoCockpits{hub: hub, theme: theme, blocks: blocks})
	if err != nil {
		b.Fatal(err)
	}
	var sent atomic.Int64
	// Wrapped, not replaced: the gate's callback is what lets an
	// authenticated connection out of the per-address count.
	gateCallback := srv.ssh.ConnCallback
	srv.ssh.ConnCallback = func(ctx ssh.Context, c net.Conn) net.Conn {
		return countingConn{Conn: gateCallback(ctx, c), n: &sent}
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		srv.Shutdown(sctx)
	}()
	clients := func(from, to int) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBenchClients$", "-test.bench=^$")
		cmd.Env = append(os.Environ(), "FD_BENCH_ADDR="+srv.Addr().String(), "FD_BENCH_KEYS="+keyDir,
			"FD_BENCH_HOSTKEY="+string(gossh.MarshalAuthorizedKey(srv.HostKey())),
			"FD_BENCH_FROM="+strconv.Itoa(from), "FD_BENCH_TO="+strconv.Itoa(to))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { stdin.Close(); cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			b.Fatalf("client process: %q %v", line, err)
		}
	}
	settle := func() { time.Sleep(3 * time.Second) } // past the first full frames
	inUse := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}

	clients(0, 1)
	settle()
	mem1 := inUse()
	f0, t0 := fetches.Load(), time.Now()
	time.Sleep(max(3*time.Second, 3*interval))
	fetchesOne := float64(fetches.Load()-f0) / time.Since(t0).Seconds()

	clients(1, n)
	settle()
	if got := srv.Sessions(); got != n {
		b.Fatalf("%d sessions connected, want %d", got, n)
	}
	memN := inUse()

	frameCounts := func() (asked, computed, made int) {
		srv.frames.mu.Lock()
		defer srv.frames.mu.Unlock()
		return srv.frames.asked, srv.frames.computed, srv.frames.made
	}
	// FD_BENCH_CPUPROFILE=FILE profiles the measuring window only (the
	// connecting before it draws every session's first frame).
	if f := os.Getenv("FD_BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	b.ResetTimer()
	asked0, computed0, made0 := frameCounts()
	draws0, shared0 := blocks.Counts()
	bytes0, fetch0, cpu0, wall0 := sent.Load(), fetches.Load(), cpuTime(), time.Now()
	for range b.N {
		time.Sleep(time.Second)
	}
	secs := time.Since(wall0).Seconds()
	b.StopTimer()
	cpu := (cpuTime() - cpu0).Seconds()

	asked1, computed1, made1 := frameCounts()
	draws1, shared1 := blocks.Counts()
	b.ReportMetric(float64(asked1-asked0)/secs, "frames/s")
	b.ReportMetric(float64(computed1-computed0)/secs, "frames-computed/s")
	b.ReportMetric(float64(made1-made0)/secs, "renderers-made/s")
	b.ReportMetric(float64(draws1-draws0)/secs, "blocks-drawn/s")
	b.ReportMetric(float64(shared1-shared0)/secs, "blocks-shared/s")
	b.ReportMetric(float64(sent.Load()-bytes0)/secs/n, "B/s/session")
	b.ReportMetric(100*cpu/secs/n, "%core/session")
	b.ReportMetric(100*cpu/secs, "%core-total")
	b.ReportMetric((float64(memN)-float64(mem1))/(n-1)/(1<<20), "MB/extra-session")
	b.ReportMetric(fetchesOne, "fetches/s-1-session")
	b.ReportMetric(float64(fetches.Load()-fetch0)/secs, "fetches/s-50-sessions")
}

// TestBenchClients is BenchmarkServe50Sessions's client process, not a
// test: it connects the sessions it is given, reads everything they send
// (a terminal that keeps up) and exits when its stdin closes.
func TestBenchClients(t *testing.T) {
	addr := os.Getenv("FD_BENCH_ADDR")
	if addr == "" {
		t.Skip("the client half of BenchmarkServe50Sessions; runs only as its child process")
	}
	hostKey, _, _, _, err := gossh.ParseAuthorizedKey([]byte(os.Getenv("FD_BENCH_HOSTKEY")))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := strconv.Atoi(os.Getenv("FD_BENCH_FROM"))
	to, _ := strconv.Atoi(os.Getenv("FD_BENCH_TO"))
	got := make([]*atomic.Int64, 0, to-from)
	for i := from; i < to; i++ {
		data, err := os.ReadFile(filepath.Join(os.Getenv("FD_BENCH_KEYS"), strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		signer, err := gossh.ParsePrivateKey(data)
		if err != nil {
			t.Fatal(err)
		}
		c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "bench",
			Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: gossh.FixedHostKey(hostKey)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		n := &atomic.Int64{}
		got = append(got, n)
		s.Stdout = countingWriter{n}
		if err := s.RequestPty("xterm-256color", 60, 200, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Shell(); err != nil {
			t.Fatal(err)
		}
	}
	// Ready once every session has had its first full frame (several KB):
	// on a busy machine that takes a while, and it is not steady state.
	deadline := time.Now().Add(2 * time.Minute)
	for _, n := range got {
		for n.Load() < firstFrame && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// firstFrame is less than any session's first frame at 200×60.
const firstFrame = 4 << 10

// countingWriter counts what a client session receives.
type countingWriter struct{ n *atomic.Int64 }

func (c countingWriter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

// countingConn counts what the server writes to a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	k, err := c.Conn.Write(p)
	c.n.Add(int64(k))
	return k, err
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
