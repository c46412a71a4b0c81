package postgres

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// fetchErr runs Fetch with no deadline of its own: the Source's timeouts
// must end it. A watchdog turns a hang into a failure; it is not a timing
// assertion.
func fetchErr(t *testing.T, src *Source) error {
	t.Helper()
	type result struct {
		p   sources.Payload
		err error
	}
	ch := make(chan result, 1)
	go func() {
		p, err := src.Fetch(context.Background())
		ch <- result{p, err}
	}()
	select {
	case r := <-ch:
		if r.err == nil {
			t.Fatalf("Fetch succeeded: %+v", r.p)
		}
		return r.err
	case <-time.After(60 * time.Second):
		t.Fatal("Fetch hung: its own timeouts did not end it")
		return nil
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	port := testsrv.FreePort(t) // nothing listens there now
	src, err := New(Options{Name: "gone", DSN: fmt.Sprintf("postgres://x@127.0.0.1:%d/db?sslmode=disable", port)})
	if err != nil {
		t.Fatalf("New must not connect: %v", err)
	}
	defer src.Close()
	err = fetchErr(t, src)
	want := fmt.Sprintf("connect 127.0.0.1:%d: connection refused", port)
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestFetchBadPassword(t *testing.T) {
	pg := server(t)
	dsn := fmt.Sprintf("postgres://%s:wrong-Pa55@%s/postgres?sslmode=disable", rolePW, pg.Addr())
	src, err := New(Options{Name: "pw", DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	err = fetchErr(t, src)
	want := fmt.Sprintf(`connect %s: password authentication failed for user "%s"`, pg.Addr(), rolePW)
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), "wrong-Pa55") {
		t.Error("password in error")
	}

	ok := newSourceDSN(t, strings.Replace(dsn, "wrong-Pa55", pwSecret, 1))
	if act := fetch(t, ok); findPID(act, ok.OwnPIDs()[0]).User != rolePW {
		t.Error("not connected as the password role")
	}
}

func newSourceDSN(t *testing.T, dsn string) *Source {
	t.Helper()
	src, err := New(Options{Name: "main", DSN: dsn, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// A server that accepts TCP and never says a word.
func TestFetchTimeoutSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	src, err := New(Options{Name: "silent", DSN: "host=127.0.0.1 sslmode=disable user=x port=" + portOf(l), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	err = fetchErr(t, src)
	want := fmt.Sprintf("connect 127.0.0.1:%s: timeout after 600ms", portOf(l))
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func portOf(l net.Listener) string { return fmt.Sprint(l.Addr().(*net.TCPAddr).Port) }

// freezeProxy forwards TCP to the server and can stop forwarding, like a
// network partition or a server stuck in I/O.
type freezeProxy struct {
	l      net.Listener
	target string
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{l: l, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *freezeProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *freezeProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for n > 0 && p.frozen.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *freezeProxy) close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func TestFetchTimeoutHungConnection(t *testing.T) {
	pg := server(t)
	proxy := newFreezeProxy(t, pg.Addr())
	dsn := fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=postgres sslmode=disable", portOf(proxy.l), roleMonitor)
	src, err := New(Options{Name: "hung", DSN: dsn, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fetch(t, src)
	first := src.OwnPIDs()

	proxy.frozen.Store(true)
	err = fetchErr(t, src)
	if err.Error() != "timeout after 300ms" {
		t.Errorf("error %q, want %q", err, "timeout after 300ms")
	}
	if own := src.OwnPIDs(); len(own) != 0 {
		t.Errorf("broken connection kept: own pids %v", own)
	}
	// Still partitioned: reconnecting times out too, as a connect error.
	if err := fetchErr(t, src); !strings.HasPrefix(err.Error(), "connect 127.0.0.1:"+portOf(proxy.l)+": timeout after") {
		t.Errorf("reconnect while frozen: %v", err)
	}
	proxy.frozen.Store(false)
	waitFor(t, "recovery after the partition", func() (bool, string) {
		_, err := src.Fetch(context.Background())
		return err == nil, fmt.Sprint(err)
	})
	if own := src.OwnPIDs(); len(own) != 1 || own[0] == first[0] {
		t.Errorf("own pids %v after reconnect (first %v)", own, first)
	}
}

func TestServerRestart(t *testing.T) {
	pg := testsrv.StartPostgres(t) // private: this test stops it
	src := newSourceDSN(t, pg.SuperuserDSN())
	before := fetch(t, src)
	firstPID := src.OwnPIDs()[0]

	pg.Stop(t)
	err := fetchErr(t, src)
	t.Logf("after stop: %v", err)
	if len(src.OwnPIDs()) != 0 {
		t.Error("dead connection kept")
	}
	err = fetchErr(t, src)
	if want := "connect " + pg.Addr() + ": connection refused"; err.Error() != want {
		t.Errorf("while down: %q, want %q", err, want)
	}

	pg.Restart(t)
	var after *sources.PGActivity
	waitFor(t, "recovery after restart", func() (bool, string) {
		p, err := src.Fetch(context.Background())
		if err != nil {
			return false, err.Error()
		}
		after = p.(*sources.PGActivity)
		return true, ""
	})
	if own := src.OwnPIDs(); len(own) != 1 || own[0] == firstPID {
		t.Errorf("own pids %v, first %d", own, firstPID)
	}
	if !after.Now.After(before.Now) {
		t.Error("server clock did not advance")
	}
}

// An empty DSN follows libpq: PG* variables, the password file, the service
// file.
func TestEmptyDSNFollowsLibpq(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	dir := t.TempDir()
	for _, k := range []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE", "PGSSLMODE", "PGAPPNAME", "PGCONNECT_TIMEOUT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	user := func(src *Source) (string, string) {
		act := fetch(t, src)
		self := findPID(act, src.OwnPIDs()[0])
		return self.User, self.Database + " " + self.Application
	}

	t.Run("environment and pgpass", func(t *testing.T) {
		pass := filepath.Join(dir, "pgpass")
		if err := os.WriteFile(pass, []byte(fmt.Sprintf("%s:%d:*:%s:%s\n", pg.Host, pg.Port, rolePW, pwSecret)), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PGHOST", pg.Host)
		t.Setenv("PGPORT", fmt.Sprint(pg.Port))
		t.Setenv("PGUSER", rolePW)
		t.Setenv("PGDATABASE", db)
		t.Setenv("PGPASSFILE", pass)
		t.Setenv("PGSSLMODE", "disable")
		t.Setenv("PGAPPNAME", "not-flightdeck")
		src := newSourceDSN(t, "")
		if u, rest := user(src); u != rolePW || rest != db+" "+AppName {
			t.Errorf("connected as %s to %s", u, rest)
		}
	})
	t.Run("service file", func(t *testing.T) {
		svc := filepath.Join(dir, "pg_service.conf")
		conf := fmt.Sprintf("[incident]\nhost=%s\nport=%d\nuser=%s\ndbname=%s\nsslmode=disable\n", pg.Host, pg.Port, roleMonitor, db)
		if err := os.WriteFile(svc, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PGSERVICEFILE", svc)
		t.Setenv("PGSERVICE", "incident")
		src := newSourceDSN(t, "")
		if u, rest := user(src); u != roleMonitor || rest != db+" "+AppName {
			t.Errorf("connected as %s to %s", u, rest)
		}
	})
}
