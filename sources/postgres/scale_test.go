package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// openSessions opens n sessions to dsn concurrently (a few at a time: the
// machine is shared) and returns them; they close when tb ends.
func openSessions(tb testing.TB, dsn string, n int, app string) []*pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	conns := make([]*pgx.Conn, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			conns[i], errs[i] = pgx.ConnectConfig(ctx, cfg.Copy())
		}()
	}
	wg.Wait()
	tb.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close(context.Background())
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			tb.Fatalf("open %d sessions: %v", n, err)
		}
	}
	return conns
}

func Test200Sessions(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	conns := openSessions(t, pg.DSN(roleApp, db), 200, "crowd")
	// Some of them idle in transaction, some running.
	for _, c := range conns[:20] {
		mustExec(t, c, "BEGIN", "SELECT 1")
	}
	var done []<-chan error
	for _, c := range conns[20:30] {
		done = append(done, background(t, c, "SELECT pg_sleep(600)"))
	}
	src := newSource(t, pg, roleMonitor, db)
	act := waitFetch(t, src, "10 sleepers", func(a *sources.PGActivity) (bool, string) {
		n := 0
		for _, b := range backendsIn(a, db) {
			if b.State == "active" && b.Application == "crowd" {
				n++
			}
		}
		return n == 10, fmt.Sprintf("%d active", n)
	})
	if got := act.ByDatabase[db]; got != 201 {
		t.Errorf("ByDatabase = %d, want 200 + the source", got)
	}
	if act.ByApp["crowd"] != 200 || act.ByState["idle in transaction"] != 20 || act.ByState["idle"] != 170 {
		t.Errorf("ByApp %v ByState %v", act.ByApp, act.ByState)
	}
	if act.Connections < 201 || act.Connections > act.MaxConnections {
		t.Errorf("Connections %d of %d", act.Connections, act.MaxConnections)
	}
	if act.LongestIdleX == nil || act.LongestIdleX.PID != pidOf(conns[0]) {
		t.Errorf("LongestIdleX %+v, want pid %d", act.LongestIdleX, pidOf(conns[0]))
	}

	// What the tick costs the server, for the record (go test -v); no
	// assertion, the machine is shared.
	su := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "explain")
	sess := src.mon
	rows, err := su.Query(context.Background(), "EXPLAIN (ANALYZE, BUFFERS, TIMING) "+sess.activitySQL)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	t.Logf("EXPLAIN ANALYZE of the tick with %d backends:\n%s", len(act.Backends), strings.Join(plan, "\n"))

	cancelAll(t, src, db)
	for _, ch := range done {
		_ = waitDone(t, "sleeper", ch)
	}
}

// countingTracer counts statements and prepares on a connection.
type countingTracer struct{ queries, prepares atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}
func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *countingTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.prepares.Add(1)
	return ctx
}
func (c *countingTracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// After the first tick (connect, read settings, prepare), a tick is one
// statement: Bind/Execute/Sync of a prepared statement, one round trip.
func TestOneStatementPerTick(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	src := newSource(t, pg, roleMonitor, db)
	tr := &countingTracer{}
	src.cfg.Tracer = tr
	fetch(t, src)
	q0, p0 := tr.queries.Load(), tr.prepares.Load()
	for range 5 {
		fetch(t, src)
	}
	if q, p := tr.queries.Load()-q0, tr.prepares.Load()-p0; q != 5 || p != 0 {
		t.Errorf("5 ticks issued %d statements and %d prepares", q, p)
	}
}

func TestActionConnectionIsClosedWhenIdle(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	src := newSource(t, pg, roleMonitor, db)
	src.actIdle = 50 * time.Millisecond
	fetch(t, src)
	if _, err := src.LookupBackends(context.Background(), src.OwnPIDs()); err != nil {
		t.Fatal(err)
	}
	if n := len(src.OwnPIDs()); n != 2 {
		t.Fatalf("%d own connections during the action, want 2", n)
	}
	waitFor(t, "action connection closed", func() (bool, string) {
		own := src.OwnPIDs()
		return len(own) == 1, fmt.Sprint(own)
	})
	waitFetch(t, src, "the server sees one flightdeck connection", func(a *sources.PGActivity) (bool, string) {
		return a.ByApp[AppName] == 1, fmt.Sprint(a.ByApp[AppName])
	})
}
