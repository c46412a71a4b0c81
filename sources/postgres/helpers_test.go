package postgres

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// The integration tests share one server per test binary (initdb costs
// seconds); each test works in its own database so counts are exact. Tests
// that stop the server start a private one.

func TestMain(m *testing.M) {
	code := m.Run()
	closeBench()
	testsrv.StopSharedPostgres()
	os.Exit(code)
}

// Roles every test can use, created once per server.
const (
	roleMonitor = "fd_monitor" // pg_monitor + pg_signal_backend: the recommended setup
	roleSeer    = "fd_seer"    // pg_monitor only: sees everything, cannot signal others
	roleWeak    = "fd_weak"    // neither
	roleApp     = "app_user"   // the application's sessions
	rolePW      = "fd_pw"      // needs a password
	pwSecret    = "s3cret-Pa55"
)

var rolesOnce sync.Map // *testsrv.Postgres -> *sync.Once

func server(t testing.TB) *testsrv.Postgres {
	t.Helper()
	pg := testsrv.SharedPostgres(t)
	setupRoles(t, pg)
	return pg
}

func setupRoles(t testing.TB, pg *testsrv.Postgres) {
	t.Helper()
	v, _ := rolesOnce.LoadOrStore(pg, new(sync.Once))
	v.(*sync.Once).Do(func() {
		pg.Exec(t,
			"CREATE ROLE "+roleMonitor+" LOGIN",
			"GRANT pg_monitor, pg_signal_backend TO "+roleMonitor,
			"CREATE ROLE "+roleSeer+" LOGIN",
			"GRANT pg_monitor TO "+roleSeer,
			"CREATE ROLE "+roleWeak+" LOGIN",
			"CREATE ROLE "+roleApp+" LOGIN",
			"CREATE ROLE "+rolePW+" LOGIN PASSWORD '"+pwSecret+"'",
			"GRANT "+testsrv.PasswordRole+" TO "+rolePW,
		)
	})
}

var dbSeq atomic.Int64

// newDB creates a database of its own for t, with a table t(id, v) of 10 rows
// that app_user may update, and returns its name.
func newDB(t testing.TB, pg *testsrv.Postgres) string {
	t.Helper()
	name := fmt.Sprintf("db_%s_%d", strings.ToLower(strings.NewReplacer("/", "_", " ", "_", "=", "_").Replace(t.Name())), dbSeq.Add(1))
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	pg.Exec(t, "CREATE DATABASE "+name)
	conn := testsrv.Connect(t, pg.DSN(pg.Superuser, name), "setup")
	mustExec(t, conn, "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)",
		"INSERT INTO t SELECT g FROM generate_series(1, 10) g",
		"CREATE TABLE u (id int PRIMARY KEY)",
		"GRANT ALL ON t, u TO "+roleApp)
	_ = conn.Close(context.Background())
	return name
}

func mustExec(t testing.TB, conn *pgx.Conn, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// background runs a statement that is expected to block (pg_sleep, a lock
// wait) and reports its outcome on the returned channel. If it is still
// running when the test ends, it is cancelled and waited for before the
// connection is closed (a pgx connection is not for concurrent use).
func background(t testing.TB, conn *pgx.Conn, sql string) <-chan error {
	ch := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		_, err := conn.Exec(context.Background(), sql)
		ch <- err
	}()
	t.Cleanup(func() {
		select {
		case <-finished:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			_ = conn.PgConn().CancelRequest(ctx)
			select {
			case <-finished:
				return
			case <-ctx.Done():
				t.Errorf("background %q would not stop", sql)
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	return ch
}

// newSource opens a Source as role on db; closed when t ends.
func newSource(t testing.TB, pg *testsrv.Postgres, role, db string) *Source {
	t.Helper()
	src, err := New(Options{Name: "main", DSN: pg.DSN(role, db)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

func fetch(t testing.TB, src *Source) *sources.PGActivity {
	t.Helper()
	p, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return p.(*sources.PGActivity)
}

// waitFor polls cond until it holds, with a generous deadline (the machine
// is shared); it never asserts on elapsed time.
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		ok, state := cond()
		return ok, what + ": " + state
	})
}

// waitFetch fetches until cond holds on the snapshot and returns it.
func waitFetch(t testing.TB, src *Source, what string, cond func(*sources.PGActivity) (bool, string)) *sources.PGActivity {
	t.Helper()
	var act *sources.PGActivity
	waitFor(t, what, func() (bool, string) {
		act = fetch(t, src)
		return cond(act)
	})
	return act
}

// backendsIn returns the client backends of database db.
func backendsIn(act *sources.PGActivity, db string) []sources.Backend {
	var out []sources.Backend
	for _, b := range act.Backends {
		if b.Database == db && b.IsClient() {
			out = append(out, b)
		}
	}
	return out
}

func findPID(act *sources.PGActivity, pid int32) *sources.Backend {
	for i := range act.Backends {
		if act.Backends[i].PID == pid {
			return &act.Backends[i]
		}
	}
	return nil
}

func pidOf(conn *pgx.Conn) int32 { return int32(conn.PgConn().PID()) }

// alive reports whether a held session still answers.
func alive(conn *pgx.Conn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return conn.Ping(ctx) == nil
}

// waitDone waits for a background statement to finish.
func waitDone(t testing.TB, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not complete", what)
		return nil
	}
}
