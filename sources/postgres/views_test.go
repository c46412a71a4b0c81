package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// viewSource is a Source as role on db of pg whose wanted views are views,
// read on every Fetch.
func viewSource(t *testing.T, pg *testsrv.Postgres, role, db string, views ...sources.PGView) (*Source, *sources.Wants) {
	t.Helper()
	w := &sources.Wants{}
	s, err := New(Options{Name: "views", DSN: pg.DSN(role, db), Timeout: 5 * time.Second, Wants: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.viewEvery = map[sources.PGView]time.Duration{}
	for _, v := range sources.PGViewOrder {
		s.viewEvery[v] = 0
	}
	for _, v := range views {
		w.Want(s.Name(), v, time.Now().Add(time.Hour))
	}
	return s, w
}

func fetchViews(t *testing.T, s *Source) *sources.PGViews {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	act := p.(*sources.PGActivity)
	if act.Views == nil {
		t.Fatal("no views in the payload")
	}
	return act.Views
}

// psqlRows runs the manual's SQL as the superuser and returns each row's
// columns as text, the way psql prints them.
func psqlRows(t *testing.T, pg *testsrv.Postgres, db, sql string) [][]string {
	t.Helper()
	conn := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "psql")
	rows, err := conn.Query(context.Background(), sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var row []string
		for _, v := range rows.RawValues() {
			row = append(row, string(v))
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A view the nobody wants costs nothing: the tick stays the activity
// statement alone and the payload carries no views.
func TestViewsHiddenCostNothing(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	s, _ := viewSource(t, pg, roleMonitor, db)
	ctx := context.Background()
	p, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v := p.(*sources.PGActivity).Views; v != nil {
		t.Fatalf("views read while nobody wants them: %+v", v)
	}
}

// Without the library preloaded the statements view says exactly that and
// what to set, installed extension or not; never an SQL error.
func TestStatementsNotPreloaded(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	s, _ := viewSource(t, pg, roleMonitor, db, sources.PGViewStatements)
	if st := fetchViews(t, s).Statements; st == nil || st.Err != pgssNotLoaded {
		t.Fatalf("statements without the library: %+v", st)
	}
	// CREATE EXTENSION succeeds without the library; the view still
	// names shared_preload_libraries.
	conn := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "setup")
	mustExec(t, conn, "CREATE EXTENSION pg_stat_statements")
	if st := fetchViews(t, s).Statements; st == nil || st.Err != pgssNotLoaded {
		t.Fatalf("statements with the extension but not the library: %+v", st)
	}
}

// The views against a server with pg_stat_statements preloaded, a paused
// streaming standby, a logical subscription on a third cluster and an
// inactive slot: each shows what the manual's SQL shows.
func TestViewsAgainstServer(t *testing.T) {
	pg := testsrv.StartPostgresWith(t, testsrv.PGOptions{Preload: []string{"pg_stat_statements"}, Logical: true})
	setupRoles(t, pg)
	db := newDB(t, pg)
	setup := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "setup")
	mustExec(t, setup, "CREATE EXTENSION pg_stat_statements")

	t.Run("statements", func(t *testing.T) {
		s, _ := viewSource(t, pg, roleMonitor, db, sources.PGViewStatements)
		st := fetchViews(t, s).Statements
		if st == nil || st.Err != "" {
			t.Fatalf("statements: %+v", st)
		}
		app := testsrv.Connect(t, pg.DSN(roleApp, db), "app")
		for i := 0; i < 5; i++ {
			mustExec(t, app, "SELECT pg_sleep(0.12), count(*) FROM t")
		}
		st = fetchViews(t, s).Statements
		want := psqlRows(t, pg, db, `SELECT queryid, calls, round(mean_exec_time::numeric, 3)
  FROM pg_stat_statements WHERE mean_exec_time > 100 ORDER BY mean_exec_time DESC LIMIT 10`)
		if len(want) == 0 {
			t.Fatal("the manual's query found no slow statement")
		}
		for _, w := range want {
			found := false
			for _, r := range st.Statements {
				if fmt.Sprint(r.QueryID) == w[0] {
					found = true
					if fmt.Sprint(r.Calls) != w[1] || fmt.Sprintf("%.3f", r.MeanMs) != w[2] || !r.Slow() {
						t.Errorf("statement %s: view calls=%d mean=%.3f, psql %v", w[0], r.Calls, r.MeanMs, w)
					}
				}
			}
			if !found {
				t.Errorf("statement %v missing from the view", w)
			}
		}
		// Text from outside is sanitized at ingestion: a comment with a
		// terminal title sequence and a colour reaches the view inert.
		mustExec(t, app, "SELECT 1 AS x /* \x1b]0;pwned\x07 \x1b[31mred */")
		st = fetchViews(t, s).Statements
		for _, r := range st.Statements {
			if strings.ContainsAny(r.Query, "\x1b\x07") {
				t.Errorf("raw control bytes in %q", r.Query)
			}
		}
		// Rates come from two readings.
		mustExec(t, app, "SELECT pg_sleep(0.12), count(*) FROM t")
		time.Sleep(50 * time.Millisecond)
		st = fetchViews(t, s).Statements
		rated := false
		for _, r := range st.Statements {
			if strings.Contains(r.Query, "pg_sleep") && r.HasRates && r.CallsPerSec > 0 {
				rated = true
			}
		}
		if !rated || st.Interval <= 0 {
			t.Errorf("no per-second rate between two readings: interval %v", st.Interval)
		}
		// The extension dropped under the view: the reading fails with the
		// server's reason and no rows, the next says what to run.
		mustExec(t, setup, "DROP EXTENSION pg_stat_statements")
		st = fetchViews(t, s).Statements
		if st.Err == "" || len(st.Statements) != 0 {
			t.Errorf("after DROP EXTENSION: %q, %d rows", st.Err, len(st.Statements))
		}
		st = fetchViews(t, s).Statements
		if !strings.Contains(st.Err, "CREATE EXTENSION pg_stat_statements") || strings.Contains(st.Err, "shared_preload_libraries") {
			t.Errorf("then: %q", st.Err)
		}
		mustExec(t, setup, "CREATE EXTENSION pg_stat_statements")
	})

	t.Run("tables and indexes", func(t *testing.T) {
		mustExec(t, setup, "CREATE TABLE bloat (id int PRIMARY KEY, v int)", "CREATE INDEX bloat_v ON bloat (v)",
			"INSERT INTO bloat SELECT g, g FROM generate_series(1, 5000) g", "ANALYZE bloat",
			"DELETE FROM bloat WHERE id <= 2000")
		// A backend reports its counters when idle, within 10s.
		var want [][]string
		waitFor(t, "dead tuples reported", func() (bool, string) {
			want = psqlRows(t, pg, db, `SELECT schemaname, relname, n_live_tup, n_dead_tup,
       ROUND(n_dead_tup::numeric / NULLIF(n_live_tup, 0), 4) AS dead_ratio
  FROM pg_stat_user_tables WHERE n_dead_tup > 1000 ORDER BY dead_ratio DESC`)
			return len(want) == 1 && want[0][1] == "bloat", fmt.Sprint(want)
		})
		s, _ := viewSource(t, pg, roleMonitor, db, sources.PGViewTables, sources.PGViewIndexes)
		v := fetchViews(t, s)
		got := v.Tables.Tables[0]
		if got.Name != "bloat" || fmt.Sprint(got.Live) != want[0][2] || fmt.Sprint(got.Dead) != want[0][3] ||
			fmt.Sprintf("%.4f", float64(got.Dead)/float64(got.Live)) != want[0][4] || got.SizeBytes == 0 {
			t.Errorf("tables view %+v, psql %v", got, want[0])
		}
		idx := psqlRows(t, pg, db, `SELECT indexrelname, idx_scan FROM pg_stat_user_indexes ORDER BY idx_scan ASC, indexrelname`)
		byName := map[string]sources.IndexStat{}
		for _, i := range v.Indexes.Indexes {
			byName[i.Name] = i
		}
		for _, w := range idx {
			if i, ok := byName[w[0]]; !ok || fmt.Sprint(i.Scans) != w[1] {
				t.Errorf("index %v: view %+v", w, i)
			}
		}
		bv, bp := byName["bloat_v"], byName["bloat_pkey"]
		if !bv.Unused() || bp.Unused() {
			t.Errorf("unused: bloat_v %+v bloat_pkey %+v", byName["bloat_v"], byName["bloat_pkey"])
		}
	})

	t.Run("databases", func(t *testing.T) {
		s, _ := viewSource(t, pg, roleMonitor, db, sources.PGViewDatabases)
		testsrv.Connect(t, pg.DSN(roleApp, db), "app1")
		testsrv.Connect(t, pg.DSN(roleApp, db), "app2")
		// psql's own connection counts in both readings, and so does
		// the view's, opened by a first fetch.
		fetchViews(t, s)
		want := psqlRows(t, pg, db, `SELECT datname, numbackends FROM pg_stat_database
 WHERE datname NOT IN ('postgres', 'template0', 'template1') ORDER BY numbackends DESC`)
		v := fetchViews(t, s).Databases
		got := map[string]int{}
		for _, d := range v.Databases {
			got[d.Name] = d.Backends
		}
		for _, w := range want {
			if w[0] == db && fmt.Sprint(got[w[0]]) != w[1] {
				t.Errorf("database %s: view %d backends, psql %s", w[0], got[w[0]], w[1])
			}
		}
		if got[db] < 3 || v.MaxConnections != 700 {
			t.Errorf("backends %d of %d", got[db], v.MaxConnections)
		}
	})

	t.Run("progress", func(t *testing.T) {
		// Nothing runs: the view reads, empty.
		s, _ := viewSource(t, pg, roleMonitor, db, sources.PGViewProgress)
		if p := fetchViews(t, s).Progress; p == nil || p.Err != "" || p.At.IsZero() || len(p.Ops) != 0 {
			t.Fatalf("progress: %+v", p)
		}
		// CREATE INDEX CONCURRENTLY waits for a writer's open transaction
		// in a phase of its own: the view shows it as psql does.
		writer := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "writer")
		mustExec(t, writer, "BEGIN", "UPDATE t SET v = v + 1 WHERE id = 1")
		builder := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "builder")
		done := make(chan error, 1)
		go func() {
			_, err := builder.Exec(context.Background(), "CREATE INDEX CONCURRENTLY t_v ON t (v)")
			done <- err
		}()
		var op sources.ProgressOp
		waitFor(t, "the index build in the progress view", func() (bool, string) {
			p := fetchViews(t, s).Progress
			for _, o := range p.Ops {
				if o.PID == int32(builder.PgConn().PID()) && strings.HasPrefix(o.Phase, "waiting for writers") {
					op = o
					return true, ""
				}
			}
			return false, fmt.Sprintf("%+v", p.Ops)
		})
		want := psqlRows(t, pg, db, fmt.Sprintf("SELECT command, phase, relid::regclass::text FROM pg_stat_progress_create_index WHERE pid = %d", op.PID))
		if len(want) != 1 || op.Command != want[0][0] || op.Phase != want[0][1] || op.Relation != want[0][2] ||
			op.Command != "CREATE INDEX CONCURRENTLY" {
			t.Errorf("view %+v, psql %v", op, want)
		}
		mustExec(t, writer, "COMMIT")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("replication", func(t *testing.T) {
		testReplication(t, pg, db, setup)
	})
}

func testReplication(t *testing.T, pg *testsrv.Postgres, db string, setup *pgx.Conn) {
	standby := pg.Standby(t)
	sbConn := testsrv.Connect(t, standby.SuperuserDSN(), "setup")
	// The subscriber: a third cluster subscribing to a publication on
	// the primary, as the manual builds its read replica.
	sub := testsrv.StartPostgres(t)
	mustExec(t, setup, "CREATE TABLE events (id int PRIMARY KEY, v text)",
		"CREATE PUBLICATION pub_events FOR TABLE events",
		"SELECT pg_create_physical_replication_slot('stale_slot', true)")
	sub.Exec(t, "CREATE TABLE events (id int PRIMARY KEY, v text)",
		fmt.Sprintf("CREATE SUBSCRIPTION sub_events CONNECTION 'host=%s port=%d user=%s dbname=%s' PUBLICATION pub_events",
			pg.Host, pg.Port, pg.Superuser, db))
	t.Log("clusters up")
	waitFor(t, "initial table sync", func() (bool, string) {
		rows := psqlRows(t, sub, "postgres", "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
		return rows[0][0] == "0", rows[0][0] + " tables syncing"
	})
	waitFor(t, "replication", func() (bool, string) {
		rows := psqlRows(t, pg, "postgres", "SELECT count(*) FROM pg_stat_replication")
		return rows[0][0] == "2", rows[0][0] + " walsenders"
	})
	// Pause the standby's replay, then write: received, not replayed.
	mustExec(t, sbConn, "SELECT pg_wal_replay_pause()")
	mustExec(t, setup, "INSERT INTO events SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g")
	waitFor(t, "replication", func() (bool, string) {
		rows := psqlRows(t, pg, "postgres", `SELECT count(*) FROM pg_stat_replication
 WHERE application_name <> 'sub_events' AND pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) = 0
   AND pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) > 1000000`)
		return rows[0][0] == "1", "standby not flushed or replay not behind"
	})

	t.Log("lag made")
	s, _ := viewSource(t, pg, roleMonitor, db, sources.PGViewReplication)
	r := fetchViews(t, s).Replication
	if r.Err != "" || r.InRecovery {
		t.Fatalf("primary's replication view: %+v", r)
	}
	want := psqlRows(t, pg, "postgres", `SELECT application_name, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8
  FROM pg_stat_replication ORDER BY application_name`)
	if len(r.Senders) != len(want) {
		t.Fatalf("senders %+v, psql %v", r.Senders, want)
	}
	for i, w := range r.Senders {
		if w.Application != want[i][0] {
			t.Errorf("sender %d: %s, psql %v", i, w.Application, want[i])
		}
		if w.Application == "sub_events" {
			continue
		}
		// Both readings are of a paused replay: the byte lag is the same
		// but for what the primary's WAL writer wrote in between (testsrv
		// runs with synchronous_commit = off: the write position goes on
		// after the INSERT returns).
		var psqlLag int64
		fmt.Sscan(want[i][1], &psqlLag)
		if d := psqlLag - w.ReplayLagBytes; d < 0 || d > 1<<20 || w.ReplayLagBytes < 1000000 {
			t.Errorf("standby lag: view %+v, psql %v", w, want[i])
		}
	}
	slots := map[string]sources.ReplicationSlot{}
	for _, sl := range r.Slots {
		slots[sl.Name] = sl
	}
	stale, ok := slots["stale_slot"]
	if !ok || stale.Active || stale.RetainedBytes < 1000000 || stale.Type != "physical" {
		t.Errorf("stale slot: %+v", stale)
	}
	if l := slots["sub_events"]; !l.Active || l.Type != "logical" {
		t.Errorf("subscription's slot: %+v", l)
	}
	wantSlot := psqlRows(t, pg, "postgres", `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8 FROM pg_replication_slots WHERE slot_name = 'stale_slot'`)
	var psqlKept int64
	fmt.Sscan(wantSlot[0][0], &psqlKept)
	if d := psqlKept - stale.RetainedBytes; d < 0 || d > 1<<20 {
		t.Errorf("stale slot retains %d, psql %v", stale.RetainedBytes, wantSlot)
	}

	// The standby's side: its receiver streams, replay is paused and
	// behind by what the primary saw.
	sbs, _ := viewSource(t, standby, standby.Superuser, "postgres", sources.PGViewReplication)
	sr := fetchViews(t, sbs).Replication
	if sr.Err != "" || !sr.InRecovery || sr.Receiver == nil {
		t.Fatalf("standby's replication view: %+v", sr)
	}
	rc := sr.Receiver
	if rc.Status != "streaming" || !rc.ReplayPaused || rc.ReplayLagBytes < 1000000 || rc.ReplayDelay <= 0 {
		t.Errorf("receiver: %+v", rc)
	}

	// The subscriber's side: its apply worker.
	subs, _ := viewSource(t, sub, sub.Superuser, "postgres", sources.PGViewReplication)
	waitFor(t, "replication", func() (bool, string) {
		sr := fetchViews(t, subs).Replication
		return len(sr.Subscriptions) == 1 && sr.Subscriptions[0].PID != 0 && sr.Subscriptions[0].ReceivedLSN != "", fmt.Sprintf("%+v", sr.Subscriptions)
	})
	mustExec(t, sbConn, "SELECT pg_wal_replay_resume()")
}

// A poll without time left for a view's statement reads activity and
// leaves the view for the next tick, keeping its connection.
func TestViewsWaitForTime(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	s, _ := viewSource(t, pg, roleMonitor, db, sources.PGViewTables)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // < the source's 5s timeout
	defer cancel()
	p, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v := p.(*sources.PGActivity).Views; v != nil {
		t.Fatalf("a view read without the time for it: %+v", v)
	}
	if v := fetchViews(t, s); v.Tables == nil || v.Tables.Err != "" {
		t.Fatalf("next tick with time: %+v", v.Tables)
	}
}
