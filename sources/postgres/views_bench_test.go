package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// BenchmarkStatements is the statements view against 5,000 distinct
// statements: one flightdeck tick with the view shown (the activity
// statement and the statements query), beside the manual's own query with
// the 13+ column names and a plain read of the whole view (what a tool
// that shows every statement does). scripts/bench-pg.sh prints the ratios.
func BenchmarkStatements(b *testing.B) {
	pg := testsrv.StartPostgresWith(b, testsrv.PGOptions{Preload: []string{"pg_stat_statements"},
		Settings: []string{"pg_stat_statements.max = 10000"}})
	setupRoles(b, pg)
	pg.Exec(b, "CREATE EXTENSION pg_stat_statements", "SELECT pg_stat_statements_reset()")
	load := testsrv.Connect(b, pg.SuperuserDSN(), "load")
	ctx := context.Background()
	// Distinct after normalisation: constants and aliases are not part
	// of a statement's identity, but the table and the length of an IN
	// list are (before 18): 50 tables × 100 list lengths.
	for t := range 50 {
		if _, err := load.Exec(ctx, fmt.Sprintf("CREATE TABLE s%d (id int)", t)); err != nil {
			b.Fatal(err)
		}
		in := "0"
		for n := 1; n <= 100; n++ {
			in += fmt.Sprintf(",%d", n)
			if _, err := load.Exec(ctx, fmt.Sprintf("SELECT id FROM s%d WHERE id IN (%s)", t, in), pgx.QueryExecModeSimpleProtocol); err != nil {
				b.Fatal(err)
			}
		}
	}
	var n int
	if err := load.QueryRow(ctx, "SELECT count(*) FROM pg_stat_statements").Scan(&n); err != nil || n < 5000 {
		b.Fatalf("%d statements: %v", n, err)
	}
	b.Run("flightdeck-tick", func(b *testing.B) {
		s, _ := viewSourceB(b, pg, sources.PGViewStatements)
		var rows int
		b.ReportAllocs()
		for b.Loop() {
			p, err := s.Fetch(ctx)
			if err != nil {
				b.Fatal(err)
			}
			rows = len(p.(*sources.PGActivity).Views.Statements.Statements)
		}
		b.ReportMetric(float64(rows), "statements")
		b.ReportMetric(2, "roundtrips/op")
	})
	b.Run("activity-only", func(b *testing.B) {
		s, _ := viewSourceB(b, pg)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1, "roundtrips/op")
	})
	for _, q := range []struct{ name, sql string }{
		{"manual-sql", `SELECT query, calls, total_exec_time, mean_exec_time, max_exec_time, min_exec_time
  FROM pg_stat_statements WHERE mean_exec_time > 100 ORDER BY mean_exec_time DESC LIMIT 20`},
		{"stats-without-text", `SELECT queryid, calls, total_exec_time, mean_exec_time FROM pg_stat_statements(false)`},
		{"manual-sql-all", `SELECT query, calls, total_exec_time, mean_exec_time, max_exec_time, rows,
       shared_blks_hit, shared_blks_read, temp_blks_read, temp_blks_written FROM pg_stat_statements`},
	} {
		b.Run(q.name, func(b *testing.B) {
			conn := testsrv.Connect(b, pg.DSN(roleMonitor, "postgres"), "psql")
			var rows int
			b.ReportAllocs()
			for b.Loop() {
				r, err := conn.Query(ctx, q.sql, pgx.QueryExecModeSimpleProtocol)
				if err != nil {
					b.Fatal(err)
				}
				rows = 0
				for r.Next() {
					_ = r.RawValues()
					rows++
				}
				r.Close()
			}
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(1, "roundtrips/op")
		})
	}
}

// viewSourceB is viewSource for a benchmark: views read on every Fetch,
// the connection opened before the timer.
func viewSourceB(b *testing.B, pg *testsrv.Postgres, views ...sources.PGView) (*Source, *sources.Wants) {
	b.Helper()
	w := &sources.Wants{}
	s, err := New(Options{Name: "bench", DSN: pg.DSN(roleMonitor, "postgres"), Timeout: 5 * time.Second, Wants: w})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	s.viewEvery = map[sources.PGView]time.Duration{sources.PGViewStatements: 0}
	for _, v := range views {
		w.Want(s.Name(), v, time.Now().Add(time.Hour))
	}
	if _, err := s.Fetch(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s, w
}
