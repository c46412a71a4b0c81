package postgres

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// The benchmarks compare one flightdeck tick with one pg_activity 3.0.3
// refresh against the same server, the same 500 sessions, the same role, in
// the same run. scripts/bench-pg.sh prints the ratio.

// benchSessions is the crowd both benchmarks look at: 500 sessions, like a
// connection-exhaustion incident. 380 idle, 80 idle in transaction (one
// holding a row lock), 30 running, 10 waiting on that lock.
const benchSessions = 500

var bench struct {
	once  sync.Once
	db    string
	err   string
	conns []*pgx.Conn
}

// closeBench closes the idle part of the crowd (TestMain calls it before
// stopping the server). The busy ones are left to the server's stop: a pgx
// connection must not be closed while another goroutine uses it.
func closeBench() {
	for i, c := range bench.conns {
		if c != nil && (i < 80 || i >= 120) {
			_ = c.Close(context.Background())
		}
	}
}

// benchWorld opens the crowd once per test binary. Its sessions outlive the
// benchmark that opened them, so both benchmarks see the same world.
func benchWorld(b *testing.B) (db string) {
	b.Helper()
	pg := server(b)
	bench.once.Do(func() {
		bench.db = "bench_world"
		pg.Exec(b, "CREATE DATABASE "+bench.db)
		setup := &silentTB{TB: b}
		su := openSessions(setup, pg.DSN(pg.Superuser, bench.db), 1, "setup")[0]
		mustExec(b, su, "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)",
			"INSERT INTO t SELECT g FROM generate_series(1, 1000) g", "GRANT ALL ON t TO "+roleApp)
		_ = su.Close(context.Background())

		conns := openSessions(setup, pg.DSN(roleApp, bench.db), benchSessions, "api")
		bench.conns = conns
		ctx := context.Background()
		for i, c := range conns[:80] {
			q := "SELECT v FROM t WHERE id = " + itoa(i+2)
			if i == 0 {
				q = "SELECT v FROM t WHERE id = 1 FOR UPDATE"
			}
			mustExec(b, c, "BEGIN", q)
		}
		for _, c := range conns[80:110] {
			go func() { _, _ = c.Exec(ctx, "SELECT pg_sleep(3600)") }()
		}
		for _, c := range conns[110:120] {
			go func() { _, _ = c.Exec(ctx, "UPDATE t SET v = v + 1 WHERE id = 1") }()
		}
		probe := testsrv.Connect(b, pg.DSN(pg.Superuser, bench.db), "probe")
		waitFor(b, "the crowd to settle", func() (bool, string) {
			var active, waiting int
			err := probe.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'active' AND wait_event = 'PgSleep'),
			        count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity WHERE datname = $1`, bench.db).Scan(&active, &waiting)
			return err == nil && active == 30 && waiting == 10, itoa(active) + " active, " + itoa(waiting) + " waiting"
		})
	})
	if bench.conns == nil {
		b.Fatal("benchmark world failed to start earlier in this run")
	}
	return bench.db
}

// silentTB keeps the crowd's connections open past the benchmark that
// opened them: its Cleanup is deferred to TestMain.
type silentTB struct{ testing.TB }

func (silentTB) Cleanup(func()) {}

func itoa(i int) string { return strconv.Itoa(i) }

func BenchmarkFetch(b *testing.B) {
	db := benchWorld(b)
	pg := server(b)
	b.Run("sessions=500", func(b *testing.B) {
		src := newSource(b, pg, roleMonitor, db)
		act := fetch(b, src) // connect and prepare outside the loop
		if act.ByDatabase[db] < benchSessions {
			b.Fatalf("only %d sessions in %s", act.ByDatabase[db], db)
		}
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		var n int
		for b.Loop() {
			p, err := src.Fetch(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n = len(p.(*sources.PGActivity).Backends)
		}
		b.ReportMetric(float64(n), "backends")
		b.ReportMetric(1, "roundtrips/op")
	})
}

// pgActivityDir is where Debian's pg-activity package keeps the SQL that
// pg_activity runs. It is read at run time rather than copied here (it is
// GPL-licensed, and this way the benchmark follows the installed version).
func pgActivityDir(b *testing.B) string {
	dir := os.Getenv("PGACTIVITY_QUERIES")
	if dir == "" {
		dir = "/usr/lib/python3/dist-packages/pgactivity/queries"
	}
	if _, err := os.Stat(filepath.Join(dir, "get_pg_activity_post_130000.sql")); err != nil {
		testsrv.Unavailable(b, "pg_activity's SQL not found in %s (apt-get install pg-activity, or set PGACTIVITY_QUERIES)", dir)
	}
	return dir
}

// pgActivitySQL loads one of pg_activity's queries and binds its parameters
// the way pg_activity 3.0.3 does on PostgreSQL 15 with default options
// (psycopg2 interpolates on the client, so the server sees literals):
// durations from query_start, no minimum duration, no database filter, the
// database size computed every refresh, not RDS.
func pgActivitySQL(b *testing.B, dir, name string) string {
	return pgActivitySQLWith(b, dir, name, false)
}

// pgActivitySQLWith binds skip_db_size as pg_activity --no-db-size does.
func pgActivitySQLWith(b *testing.B, dir, name string, noDBSize bool) string {
	raw, err := os.ReadFile(filepath.Join(dir, name+".sql"))
	if err != nil {
		b.Fatal(err)
	}
	return strings.NewReplacer(
		"{duration_column}", `"query_start"`,
		"%(min_duration)s", "0",
		"%(dbname_filter)s", "NULL",
		"%(skip_db_size)s", strconv.FormatBool(noDBSize),
		"%(prev_total_size)s", "0",
		"%(using_rds)s", "false",
		"%(timeout)s", "'400ms'",
		"%%", "%",
	).Replace(string(raw))
}

// BenchmarkPgActivityRefresh runs, per op, the statements one pg_activity
// refresh sends to a PostgreSQL 15 server (pgactivity/ui.py and data.py):
// pg_get_server_information (server info, then the temp-file query wrapped
// in SET/RESET statement_timeout, WAL senders, WAL receivers, replication
// slots), then the process list of the current mode ("activities" is the
// default; "activities-no-db-size" is with --no-db-size, which skips
// pg_database_size over every database). pg_activity shows one
// mode at a time; "all-views" is what it takes it to learn what one
// flightdeck tick does (activity, waiters and blockers). Each statement is
// its own round trip, over the simple protocol, as psycopg2 sends them; rows
// are read but not decoded, which favours pg_activity.
func BenchmarkPgActivityRefresh(b *testing.B) {
	db := benchWorld(b)
	pg := server(b)
	dir := pgActivityDir(b)
	info := []string{
		pgActivitySQL(b, dir, "get_server_info_post_110000"),
		pgActivitySQL(b, dir, "set_statement_timeout"),
		pgActivitySQL(b, dir, "get_temporary_files_post_120000"),
		pgActivitySQL(b, dir, "reset_statement_timeout"),
		pgActivitySQL(b, dir, "get_wal_senders_post_090100"),
		pgActivitySQL(b, dir, "get_wal_receivers_post_090600"),
		pgActivitySQL(b, dir, "get_replication_slots_post_140000"),
	}
	activities := pgActivitySQL(b, dir, "get_pg_activity_post_130000")
	waiting := pgActivitySQL(b, dir, "get_waiting_post_090200")
	blocking := pgActivitySQL(b, dir, "get_blocking_post_090600")
	// --no-db-size: the leanest pg_activity refresh, for a fair floor.
	lean := append([]string{pgActivitySQLWith(b, dir, "get_server_info_post_110000", true)}, info[1:]...)
	for _, mode := range []struct {
		name  string
		info  []string
		views []string
	}{
		{"activities", info, []string{activities}},
		{"activities-no-db-size", lean, []string{activities}},
		{"waiting", info, []string{waiting}},
		{"blocking", info, []string{blocking}},
		{"all-views", info, []string{activities, waiting, blocking}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			conn := testsrv.Connect(b, pg.DSN(roleMonitor, db), "pg_activity")
			stmts := append(append([]string{}, mode.info...), mode.views...)
			ctx := context.Background()
			run := func() int {
				rows := 0
				for _, q := range stmts {
					r, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
					if err != nil {
						b.Fatalf("%v\n%s", err, q)
					}
					for r.Next() {
						_ = r.RawValues()
						rows++
					}
					r.Close()
					if err := r.Err(); err != nil {
						b.Fatalf("%v\n%s", err, q)
					}
				}
				return rows
			}
			run()
			b.ReportAllocs()
			b.ResetTimer()
			var rows int
			for b.Loop() {
				rows = run()
			}
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(len(stmts)), "roundtrips/op")
		})
	}
}
