package ops_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
	"flightdeck/sources/postgres"
)

// The Postgres maintenance actions and the bulk cancel by statement,
// against a real server with pg_stat_statements preloaded and logical WAL.

func pgServer(t *testing.T) (*testsrv.Postgres, *postgres.Source, *ops.Executor, string) {
	t.Helper()
	pg := testsrv.StartPostgresWith(t, testsrv.PGOptions{Preload: []string{"pg_stat_statements"}, Logical: true})
	// REPLICATION: dropping a slot needs it (README, Privileges).
	pg.Exec(t, "CREATE ROLE fd_monitor LOGIN REPLICATION", "GRANT pg_monitor, pg_signal_backend TO fd_monitor",
		"CREATE ROLE app_user LOGIN", "CREATE TABLE public.t (id int PRIMARY KEY, v int)",
		"GRANT ALL ON public.t TO app_user", "CREATE EXTENSION pg_stat_statements")
	src, err := postgres.New(postgres.Options{Name: "main", DSN: pg.DSN("fd_monitor", "postgres"), Timeout: 3 * time.Second,
		Wants: &sources.Wants{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	j, path := opstest.Journal(t)
	ex := ops.NewExecutor(ops.Config{Caps: ops.Capabilities{src.Name(): src}, Journal: j, Operator: "test@host", Now: time.Now})
	return pg, src, ex, path
}

func execute(t *testing.T, ex *ops.Executor, req ops.Request) ops.Result {
	t.Helper()
	ctx := context.Background()
	p, err := ex.Plan(ctx, req)
	if err != nil {
		t.Fatalf("plan %s: %v", req.Action, err)
	}
	return ex.Execute(ctx, p, p.Phrase)
}

func slotKept(t *testing.T, pg *testsrv.Postgres, name string) (kept int64, found bool) {
	t.Helper()
	conn := testsrv.Connect(t, pg.SuperuserDSN(), "psql")
	err := conn.QueryRow(context.Background(), `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8
  FROM pg_replication_slots WHERE slot_name = $1`, name).Scan(&kept)
	if err != nil {
		return 0, false
	}
	return kept, true
}

// Dropping the inactive slot frees the WAL it retained; an active one is
// refused, at the plan and again at execution.
func TestDropSlot(t *testing.T) {
	pg, src, ex, path := pgServer(t)
	pg.Exec(t, "SELECT pg_create_physical_replication_slot('stale_etl', true)")
	for i := 0; i < 4; i++ {
		pg.Exec(t, fmt.Sprintf("INSERT INTO t SELECT g, g FROM generate_series(%d, %d) g", i*20000+1, (i+1)*20000),
			"SELECT pg_switch_wal()")
	}
	kept, ok := slotKept(t, pg, "stale_etl")
	if !ok || kept < 3*16<<20 {
		t.Fatalf("slot retains %d bytes", kept)
	}
	// The oldest WAL segment on disk: a checkpoint removes (or recycles
	// under a later name) every segment no slot needs.
	conn := testsrv.Connect(t, pg.SuperuserDSN(), "psql")
	ctx := context.Background()
	oldest := func() string {
		t.Helper()
		var name string
		if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT min(name) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		return name
	}
	held := oldest()
	slot, ok, err := src.LookupSlot(context.Background(), "stale_etl")
	if err != nil || !ok || slot.Active {
		t.Fatalf("lookup: %+v %v %v", slot, ok, err)
	}
	p, err := ex.Plan(context.Background(), ops.Request{Action: ops.DropSlot, Source: src.Name(), Subject: slot})
	if err != nil {
		t.Fatal(err)
	}
	if p.Risk != ops.High || p.Phrase != "stale_etl" {
		t.Fatalf("plan risk %s phrase %q", p.Risk, p.Phrase)
	}
	if r := ex.Execute(context.Background(), p, "stale"); r.OK {
		t.Fatal("dropped with the wrong phrase")
	}
	p, _ = ex.Plan(context.Background(), ops.Request{Action: ops.DropSlot, Source: src.Name(), Subject: slot})
	if r := ex.Execute(context.Background(), p, "stale_etl"); !r.OK {
		t.Fatalf("drop: %v", r.Err)
	}
	if _, found := slotKept(t, pg, "stale_etl"); found {
		t.Fatal("slot still there")
	}
	// With the slot gone the next checkpoint frees the WAL it held.
	if freed := oldest(); freed <= held {
		t.Fatalf("oldest WAL segment %s after the drop, %s before: nothing freed", freed, held)
	} else {
		t.Logf("slot retained %d bytes; oldest WAL segment %s before the drop, %s after", kept, held, freed)
	}

	// An active slot: pg_recvlogical streams from it.
	pg.Exec(t, "SELECT pg_create_logical_replication_slot('live_cdc', 'test_decoding')")
	cmd := exec.Command(filepath.Join(pg.BinDir, "pg_recvlogical"), "-h", pg.Host, "-p", fmt.Sprint(pg.Port), "-U", pg.Superuser,
		"-d", "postgres", "--slot", "live_cdc", "--start", "-f", "/dev/null")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var live sources.ReplicationSlot
	deadline := time.Now().Add(20 * time.Second)
	for !live.Active {
		if time.Now().After(deadline) {
			t.Fatal("pg_recvlogical never made the slot active")
		}
		time.Sleep(100 * time.Millisecond)
		live, _, _ = src.LookupSlot(ctx, "live_cdc")
	}
	_, err = ex.Plan(ctx, ops.Request{Action: ops.DropSlot, Source: src.Name(), Subject: live})
	if !errors.Is(err, ops.ErrPolicy) {
		t.Fatalf("active slot planned: %v", err)
	}
	// The plan saw it inactive; by execution it is active: refused.
	seen := live
	seen.Active, seen.ActivePID = false, 0
	p, err = ex.Plan(ctx, ops.Request{Action: ops.DropSlot, Source: src.Name(), Subject: seen})
	if err != nil {
		t.Fatal(err)
	}
	if r := ex.Execute(ctx, p, p.Phrase); r.OK || !r.Refused {
		t.Fatalf("active slot dropped: %+v", r)
	}
	if _, found := slotKept(t, pg, "live_cdc"); !found {
		t.Fatal("the active slot is gone")
	}
	recs := opstest.Records(t, path)
	if len(recs) == 0 || !strings.Contains(fmt.Sprint(recs), "stale_etl") {
		t.Fatalf("journal: %+v", recs)
	}
}

// ANALYZE, VACUUM (ANALYZE) and REINDEX TABLE CONCURRENTLY of a table, by
// oid; a table swapped under the same name is refused.
func TestMaintainTable(t *testing.T) {
	pg, src, ex, _ := pgServer(t)
	pg.Exec(t, "INSERT INTO t SELECT g, g FROM generate_series(1, 5000) g", "DELETE FROM t WHERE id <= 3000")
	var relid int64
	conn := testsrv.Connect(t, pg.SuperuserDSN(), "psql")
	ctx := context.Background()
	if err := conn.QueryRow(ctx, "SELECT 'public.t'::regclass::oid::int8").Scan(&relid); err != nil {
		t.Fatal(err)
	}
	tab, ok, err := src.LookupTable(ctx, uint32(relid))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	// Not the owner: the server would skip the table with a warning and
	// report success; the action refuses instead.
	if r := execute(t, ex, ops.Request{Action: ops.VacuumTable, Source: src.Name(), Subject: tab}); r.OK ||
		r.Err == nil || !strings.Contains(r.Err.Error(), "does not own") {
		t.Fatalf("vacuum by a non-owner: %+v", r)
	}
	pg.Exec(t, "ALTER TABLE t OWNER TO app_user", "GRANT app_user TO fd_monitor")
	if r := execute(t, ex, ops.Request{Action: ops.AnalyzeTable, Source: src.Name(), Subject: tab}); !r.OK {
		t.Fatalf("analyze: %v", r.Err)
	}
	if r := execute(t, ex, ops.Request{Action: ops.VacuumTable, Source: src.Name(), Subject: tab}); !r.OK {
		t.Fatalf("vacuum: %v %v", r.Err, r.Details)
	}
	// REINDEX TABLE CONCURRENTLY: high risk (typed phrase), its cost and
	// what a failure leaves in the preview; the indexes get new files.
	rp, err := ex.Plan(ctx, ops.Request{Action: ops.ReindexTable, Source: src.Name(), Subject: tab})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Risk != ops.High || rp.Phrase != "public.t" || rp.Title != "REINDEX TABLE CONCURRENTLY public.t" ||
		!strings.Contains(strings.Join(rp.Preview, "\n"), "INVALID (named …_ccnew)") {
		t.Errorf("reindex plan: %s %q %q %q", rp.Risk, rp.Phrase, rp.Title, rp.Preview)
	}
	var node0, node1 int64
	_ = conn.QueryRow(ctx, "SELECT relfilenode::int8 FROM pg_class WHERE relname = 't_pkey'").Scan(&node0)
	if r := ex.Execute(ctx, rp, rp.Phrase); !r.OK || !strings.Contains(strings.Join(r.Details, " "), "done") {
		t.Fatalf("reindex: %v %v", r.Err, r.Details)
	}
	_ = conn.QueryRow(ctx, "SELECT relfilenode::int8 FROM pg_class WHERE relname = 't_pkey'").Scan(&node1)
	if node0 == node1 {
		t.Errorf("t_pkey not rebuilt (file %d)", node1)
	}
	var vacuumed, analyzed bool
	testsrv.WaitFor(t, 20*time.Second, func() (bool, string) {
		_ = conn.QueryRow(ctx, "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relid = $1",
			relid).Scan(&vacuumed, &analyzed)
		return vacuumed && analyzed, fmt.Sprintf("vacuumed %t analyzed %t", vacuumed, analyzed)
	})
	// Same name, another table: the plan's oid no longer matches.
	p, err := ex.Plan(ctx, ops.Request{Action: ops.VacuumTable, Source: src.Name(), Subject: tab})
	if err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, "DROP TABLE t", "CREATE TABLE t (id int)")
	if r := ex.Execute(ctx, p, p.Phrase); r.OK || !r.Refused {
		t.Fatalf("vacuum of a swapped table: %+v", r)
	}
}

// Cancel by statement cancels exactly the backends running it, and the
// journal records the statement text each one was seen running.
func TestBulkCancelByStatement(t *testing.T) {
	pg, src, ex, path := pgServer(t)
	type run struct {
		pid  int32
		done chan error
	}
	start := func(sql string) run {
		conn := testsrv.Connect(t, pg.DSN("app_user", "postgres"), "api")
		r := run{pid: int32(conn.PgConn().PID()), done: make(chan error, 1)}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _, err := conn.Exec(ctx, sql); r.done <- err }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-r.done:
			case <-time.After(5 * time.Second):
			}
		})
		return r
	}
	target := []run{start("SELECT pg_sleep(600)"), start("SELECT pg_sleep(600)"), start("SELECT pg_sleep(300)")}
	other := start("SELECT pg_sleep(600), 'other'")
	var act *sources.PGActivity
	var qid int64
	testsrv.WaitFor(t, 20*time.Second, func() (bool, string) {
		p, err := src.Fetch(context.Background())
		if err != nil {
			return false, err.Error()
		}
		act = p.(*sources.PGActivity)
		n := 0
		for _, b := range act.Backends {
			if b.PID == target[0].pid && b.State == "active" {
				qid = b.QueryID
			}
		}
		for _, b := range act.Backends {
			if qid != 0 && b.QueryID == qid {
				n++
			}
		}
		return n == 3, fmt.Sprintf("%d backends with queryid %d", n, qid)
	})
	var running []sources.Backend
	for _, b := range act.Backends {
		if b.QueryID == qid {
			running = append(running, b)
		}
	}
	r := execute(t, ex, ops.Request{Action: ops.Cancel, Source: src.Name(), Backends: running})
	if !r.OK {
		t.Fatalf("bulk cancel: %v", r.Err)
	}
	for _, x := range target {
		select {
		case err := <-x.done:
			if err == nil || !strings.Contains(err.Error(), "canceling statement due to user request") {
				t.Errorf("pid %d ended with %v", x.pid, err)
			}
			x.done <- err
		case <-time.After(10 * time.Second):
			t.Errorf("pid %d still running", x.pid)
		}
	}
	select {
	case err := <-other.done:
		t.Errorf("the other statement ended: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	recs := opstest.Records(t, path)
	seen := fmt.Sprint(recs)
	if strings.Count(seen, "pg_sleep(600)") < 2 || !strings.Contains(seen, "pg_sleep(300)") {
		t.Errorf("journal lacks the statement text seen: %s", seen)
	}
}

// Cancelling "an autovacuum worker" is refused for anything else, by the
// policy check and by the server-side identity check alike.
func TestCancelAutovacuumOnlyAutovacuum(t *testing.T) {
	pg, src, ex, _ := pgServer(t)
	conn := testsrv.Connect(t, pg.DSN("app_user", "postgres"), "api")
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, err := conn.Exec(ctx, "SELECT pg_sleep(600)"); done <- err }()
	t.Cleanup(func() { cancel(); <-done })
	pid := int32(conn.PgConn().PID())
	var b sources.Backend
	testsrv.WaitFor(t, 10*time.Second, func() (bool, string) {
		bs, err := src.LookupBackends(context.Background(), []int32{pid})
		if err != nil || len(bs) != 1 || bs[0].State != "active" {
			return false, fmt.Sprint(bs, err)
		}
		b = bs[0]
		return true, ""
	})
	if _, err := ex.Plan(context.Background(), ops.Request{Action: ops.CancelAutovacuum, Source: src.Name(), Subject: b}); !errors.Is(err, ops.ErrPolicy) {
		t.Fatalf("client backend planned as autovacuum: %v", err)
	}
	if ok, err := src.CancelAutovacuum(context.Background(), b.PID, b.BackendStart); ok || err != nil {
		t.Fatalf("client backend cancelled as autovacuum: %v %v", ok, err)
	}
	select {
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("the query ended: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
}
