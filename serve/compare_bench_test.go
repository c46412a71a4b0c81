package serve

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
)

// BenchmarkServe50VsTmux is issue 21's comparison, all arms in one run on
// the real binary: 50 real OpenSSH clients, each on its own 200×60 pty (a
// terminal that reads everything), watching
//
//   - serve: one `flightdeck serve` (one operator, 49 observers);
//   - tmux: one `flightdeck` in a tmux session with the 50 clients
//     attached through an OpenSSH sshd on a loopback port (its own host
//     key, authorized_keys and config), the way teams share a TUI today;
//   - local: one `flightdeck` on a 200×60 pty, no SSH: the bytes the same
//     screen costs a local terminal, and one session's CPU.
//
// CPU is the server side's, from /proc: the serve process; for tmux the
// tmux server with flightdeck in it, sshd and every process under it (the
// per-connection sshd and tmux clients). Bytes are what each client's
// terminal receives (after SSH), per second. Memory per extra session is
// serve's resident set with 50 sessions less that with one, over 49.
//
// Two worlds: "postgres-idle", a real PostgreSQL with 200 idle client
// connections polled every 2 s (skipped without PostgreSQL), and "demo",
// the demo incident (rows, sparklines and ages move every second). Each op
// is one second of every arm's measuring window.
//
//	make bench-serve   # or: go test -run '^$' -bench Serve50VsTmux -benchtime 10x ./serve/
//
// Needs ssh, ssh-keygen, sshd (Debian openssh-client, openssh-server) and
// tmux; skipped without them.
func BenchmarkServe50VsTmux(b *testing.B) {
	tools := map[string]string{}
	for _, name := range []string{"ssh", "ssh-keygen", "tmux"} {
		p, err := exec.LookPath(name)
		if err != nil {
			b.Skipf("%s not found: apt-get install openssh-client openssh-server tmux", name)
		}
		tools[name] = p
	}
	tools["sshd"] = "/usr/sbin/sshd"
	if _, err := os.Stat(tools["sshd"]); err != nil {
		b.Skip("no /usr/sbin/sshd: apt-get install openssh-server")
	}
	bin := buildFlightdeck(b)
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
		compareArms(b, tools, bin, fmt.Sprintf("postgres:\n  - name: main\n    dsn: %q\n    interval: 2s\n", pg.DSN(pg.Superuser, "postgres")))
	})
	b.Run("demo", func(b *testing.B) {
		compareArms(b, tools, bin, "")
	})
}

const (
	cmpSessions = 50
	cmpBatch    = 6 // clients connecting at once
	cmpW, cmpH  = 200, 60
)

// compareArms runs the three arms on one world (sources == "": the demo).
func compareArms(b *testing.B, tools map[string]string, bin, sources string) {
	dir := b.TempDir()
	env := append(os.Environ(), "XDG_STATE_HOME="+dir, "XDG_CONFIG_HOME="+dir, "TERM=xterm-256color")
	key := filepath.Join(dir, "id")
	if out, err := exec.Command(tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		b.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		b.Fatal(err)
	}
	demo := []string{}
	if sources == "" {
		demo = []string{"--demo"}
	}
	window := time.Duration(max(b.N, 3)) * time.Second

	// serve: one operator and 49 observers, a key for each role.
	obsKey := key + "-obs"
	if out, err := exec.Command(tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-f", obsKey).CombinedOutput(); err != nil {
		b.Fatalf("ssh-keygen: %v %s", err, out)
	}
	port := testsrv.FreePort(b)
	cfg := filepath.Join(dir, "serve.yaml")
	writeFile(b, cfg, fmt.Sprintf(`audit: {path: %s}
serve:
  host_key_path: %s
  max_sessions: %d
  rate_limit: {per_second: 1000, burst: 1000}
  users:
    - {name: alice, role: operator, keys: [%q]}
    - {name: bob, role: observer, keys: [%q]}
`, filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "hostkey"), cmpSessions,
		strings.TrimSpace(string(pub)), strings.TrimSpace(readFile(b, obsKey+".pub")))+sources)
	srv := startProc(b, env, bin, append([]string{"serve", "--config", cfg, "--listen", "127.0.0.1:" + strconv.Itoa(port), "--log", filepath.Join(dir, "serve.log")}, demo...)...)
	waitListen(b, port)
	sshBase := []string{tools["ssh"], "-F", "/dev/null", "-o", "IdentityAgent=none", "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-tt"}
	serveClient := func(i int) []string {
		k := obsKey
		if i == 0 {
			k = key
		}
		return append(append([]string{}, sshBase...), "-p", strconv.Itoa(port), "-i", k, "127.0.0.1")
	}
	farm := newPtyFarm(b, env)
	farm.start(b, serveClient(0))
	farm.settle(b)
	rss1 := rssOf(srv.Process.Pid)
	for i := 1; i < cmpSessions; i++ {
		farm.start(b, serveClient(i))
		if i%cmpBatch == 0 {
			farm.frames(b) // serve admits 8 unauthenticated connections from one address
		}
	}
	farm.settle(b)
	rssN := rssOf(srv.Process.Pid)
	stopPerf := perfRecord(b, srv.Process.Pid)
	serveCPU, serveBytes := farm.measure(window, []int{srv.Process.Pid})
	stopPerf()
	farm.close()
	stopProc(srv)

	// tmux: one flightdeck, 50 clients attached through sshd.
	sshdPort := testsrv.FreePort(b)
	sshdDir := filepath.Join(dir, "sshd")
	_ = os.MkdirAll(sshdDir, 0o700)
	if out, err := exec.Command(tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(sshdDir, "hostkey")).CombinedOutput(); err != nil {
		b.Fatalf("ssh-keygen: %v %s", err, out)
	}
	writeFile(b, filepath.Join(sshdDir, "authorized_keys"), string(pub))
	_ = os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	sock := filepath.Join(dir, "tmux.sock")
	localCfg := filepath.Join(dir, "local.yaml")
	writeFile(b, localCfg, fmt.Sprintf("audit: {path: %s}\n", filepath.Join(dir, "audit-local.jsonl"))+sources)
	fdCmd := strings.Join(append([]string{bin, "--config", localCfg}, demo...), " ")
	tm := exec.Command(tools["tmux"], "-f", "/dev/null", "-S", sock, "new-session", "-d", "-x", strconv.Itoa(cmpW), "-y", strconv.Itoa(cmpH), fdCmd)
	tm.Env = env
	if out, err := tm.CombinedOutput(); err != nil {
		b.Fatalf("tmux: %v %s", err, out)
	}
	defer func() { _ = exec.Command(tools["tmux"], "-S", sock, "kill-server").Run() }()
	tmuxPid := tmuxServerPid(b, tools["tmux"], sock)
	sshd := startProc(b, env, tools["sshd"], "-D", "-e", "-f", "/dev/null", "-p", strconv.Itoa(sshdPort),
		"-h", filepath.Join(sshdDir, "hostkey"), "-o", "ListenAddress=127.0.0.1", "-o", "AuthorizedKeysFile="+filepath.Join(sshdDir, "authorized_keys"),
		"-o", "PidFile=none", "-o", "UsePAM=no", "-o", "StrictModes=no", "-o", "PermitRootLogin=prohibit-password",
		"-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no", "-o", "PrintMotd=no", "-o", "PrintLastLog=no",
		"-o", "MaxStartups=100:30:200", "-o", "MaxSessions=100", "-o", "SetEnv=XDG_STATE_HOME="+dir)
	waitListen(b, sshdPort)
	tmuxClient := append(append([]string{}, sshBase...), "-p", strconv.Itoa(sshdPort), "-i", key, "127.0.0.1",
		"TERM=xterm-256color", tools["tmux"], "-S", sock, "attach")
	farm = newPtyFarm(b, env)
	for i := range cmpSessions {
		farm.start(b, tmuxClient)
		if i%cmpBatch == 0 {
			farm.frames(b)
		}
	}
	farm.settle(b)
	tmuxCPU, tmuxBytes := farm.measure(window, []int{tmuxPid, sshd.Process.Pid})
	farm.close()
	stopProc(sshd)

	// local: the same screen on a local terminal.
	farm = newPtyFarm(b, env)
	localPid := farm.start(b, append([]string{bin, "--config", localCfg}, demo...))
	farm.settle(b)
	localCPU, localBytes := farm.measure(window, []int{localPid})
	farm.close()

	// FLIGHTDECK_BENCH_BASELINE=BINARY: the same local screen drawn by
	// another build (an earlier commit's), for one session's CPU before
	// and after in the same run.
	if old := os.Getenv("FLIGHTDECK_BENCH_BASELINE"); old != "" {
		farm = newPtyFarm(b, env)
		oldPid := farm.start(b, append([]string{old, "--config", localCfg}, demo...))
		farm.settle(b)
		oldCPU, _ := farm.measure(window, []int{oldPid})
		farm.close()
		b.ReportMetric(100*oldCPU, "baseline-local-%core")
	}

	b.ReportMetric(100*serveCPU, "serve-%core")
	b.ReportMetric(100*tmuxCPU, "tmux-%core")
	b.ReportMetric(serveCPU/tmuxCPU, "serve/tmux-cpu")
	b.ReportMetric(serveBytes/cmpSessions, "serve-B/s/session")
	b.ReportMetric(tmuxBytes/cmpSessions, "tmux-B/s/session")
	b.ReportMetric(localBytes, "local-B/s")
	b.ReportMetric(serveBytes/cmpSessions/localBytes, "serve/local-bytes")
	b.ReportMetric(100*localCPU, "local-%core")
	b.ReportMetric(float64(rssN-rss1)/(cmpSessions-1)/(1<<20), "serve-RSS-MB/extra-session")
}

// perfRecord samples pid's CPU with perf (call graphs) into the file
// $FLIGHTDECK_BENCH_PERF names, suffixed with the sub-benchmark, until the
// returned function is called: the profile of serve's measuring window
// (`perf report -i FILE`). Without the variable it does nothing.
func perfRecord(b *testing.B, pid int) (stop func()) {
	out := os.Getenv("FLIGHTDECK_BENCH_PERF")
	if out == "" {
		return func() {}
	}
	out += "." + strings.ReplaceAll(b.Name(), "/", "-")
	cmd := exec.Command("perf", "record", "-q", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", out)
	if err := cmd.Start(); err != nil {
		b.Logf("perf: %v", err)
		return func() {}
	}
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		b.Logf("serve's profile: perf report -i %s", out)
	}
}

// ptyFarm runs commands on their own 200×60 ptys and counts what each
// terminal receives.
type ptyFarm struct {
	env   []string
	cmds  []*exec.Cmd
	ptys  []*os.File
	bytes []*atomic.Int64
	heads []*headBuffer
}

// headBuffer keeps the first bytes a terminal got, to say why it got no
// frame.
type headBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (h *headBuffer) add(p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := 512 - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.b)
}

func newPtyFarm(b *testing.B, env []string) *ptyFarm {
	f := &ptyFarm{env: env}
	b.Cleanup(f.close)
	return f
}

// start runs argv on a new pty and returns its pid.
func (f *ptyFarm) start(b *testing.B, argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = f.env
	p, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: cmpH, Cols: cmpW})
	if err != nil {
		b.Fatal(err)
	}
	n, head := &atomic.Int64{}, &headBuffer{}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			k, err := p.Read(buf)
			n.Add(int64(k))
			head.add(buf[:k])
			if err != nil {
				return
			}
		}
	}()
	f.cmds, f.ptys, f.bytes = append(f.cmds, cmd), append(f.ptys, p), append(f.bytes, n)
	f.heads = append(f.heads, head)
	return cmd.Process.Pid
}

// settle waits for every terminal's first full frame, then for the start
// to be over.
func (f *ptyFarm) settle(b *testing.B) {
	f.frames(b)
	time.Sleep(4 * time.Second)
}

// frames waits for every terminal's first full frame.
func (f *ptyFarm) frames(b *testing.B) {
	deadline := time.Now().Add(90 * time.Second)
	for i, n := range f.bytes {
		for n.Load() < firstFrame {
			if time.Now().After(deadline) {
				b.Fatalf("terminal %d (%s): %d bytes, no first frame: %q", i, f.cmds[i].Path, n.Load(), f.heads[i])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// measure returns the CPU (share of one core) of the process trees under
// roots, and the bytes per second all terminals received, over window.
func (f *ptyFarm) measure(window time.Duration, roots []int) (cpu, bytesPerSec float64) {
	var b0 int64
	for _, n := range f.bytes {
		b0 += n.Load()
	}
	c0, t0 := treeCPU(roots), time.Now()
	time.Sleep(window)
	c1, secs := treeCPU(roots), time.Since(t0).Seconds()
	var b1 int64
	for _, n := range f.bytes {
		b1 += n.Load()
	}
	return (c1 - c0).Seconds() / secs, float64(b1-b0) / secs
}

func (f *ptyFarm) close() {
	for i, c := range f.cmds {
		_ = c.Process.Kill()
		_ = c.Wait()
		_ = f.ptys[i].Close()
	}
	f.cmds, f.ptys, f.bytes, f.heads = nil, nil, nil, nil
}

// treeCPU is the user+system CPU of the processes under roots (and the
// roots), from /proc.
func treeCPU(roots []int) time.Duration {
	parent := map[int]int{}
	ticks := map[int]int64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After the command's closing parenthesis: state ppid … utime(14) stime(15).
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		parent[pid], ticks[pid] = ppid, ut+st
	}
	in := map[int]bool{}
	for _, r := range roots {
		in[r] = true
	}
	var sum int64
	for pid, t := range ticks {
		for p := pid; p > 1; p = parent[p] {
			if in[p] {
				sum += t
				break
			}
		}
	}
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(sum) * time.Second / clkTck
}

// rssOf is a process's resident set in bytes.
func rssOf(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func tmuxServerPid(b *testing.B, tmux, sock string) int {
	out, err := exec.Command(tmux, "-S", sock, "display-message", "-p", "#{pid}").Output()
	if err != nil {
		b.Fatalf("tmux pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		b.Fatalf("tmux pid %q", out)
	}
	return pid
}

// buildFlightdeck builds the binary from the module root.
func buildFlightdeck(b *testing.B) string {
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "flightdeck")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startProc(b *testing.B, env []string, argv0 string, args ...string) *exec.Cmd {
	cmd := exec.Command(argv0, args...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stopProc(cmd) })
	return cmd
}

func stopProc(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func waitListen(b *testing.B, port int) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("nothing listens on %d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(b *testing.B, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		b.Fatal(err)
	}
}

func readFile(b *testing.B, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}
