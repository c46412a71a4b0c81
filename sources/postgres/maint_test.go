package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// REINDEX TABLE CONCURRENTLY on a real server: the table's indexes are
// built again (new files) while a writer goes on; a run cancelled while it
// waits for an older transaction fails, and its error names the invalid
// index it left behind, which stays for the operator to drop.
func TestReindexTableConcurrently(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	admin := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "psql")
	mustExec(t, admin, "CREATE INDEX t_v_idx ON t (v)")
	src := newSource(t, pg, pg.Superuser, db)
	ctx := context.Background()
	var relid int64
	node := func() (n int64) {
		if err := admin.QueryRow(ctx, "SELECT relfilenode::int8 FROM pg_class WHERE relname = 't_v_idx'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := admin.QueryRow(ctx, "SELECT 't'::regclass::oid::int8").Scan(&relid); err != nil {
		t.Fatal(err)
	}
	before := node()
	// A writer: REINDEX CONCURRENTLY blocks no write.
	writer := testsrv.Connect(t, pg.DSN(roleApp, db), "api")
	mustExec(t, writer, "BEGIN", "UPDATE t SET v = v + 1 WHERE id = 1", "COMMIT")
	d, err := src.MaintainTable(ctx, uint32(relid), "public", "t", sources.TableReindex)
	if err != nil || !strings.Contains(d, "REINDEX TABLE CONCURRENTLY public.t done") {
		t.Fatalf("reindex: %q %v", d, err)
	}
	if after := node(); after == before {
		t.Errorf("t_v_idx still in file %d: not rebuilt", after)
	}

	// An older transaction holds the reindex in its last wait; cancelling
	// it there leaves the new index invalid.
	old := testsrv.Connect(t, pg.DSN(roleApp, db), "report")
	mustExec(t, old, "BEGIN ISOLATION LEVEL REPEATABLE READ", "SELECT count(*) FROM u")
	defer func() { _, _ = old.Exec(ctx, "ROLLBACK") }()
	keep := maintainWait
	maintainWait = time.Minute
	defer func() { maintainWait = keep }()
	type outcome struct {
		d   string
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		d, err := src.MaintainTable(ctx, uint32(relid), "public", "t", sources.TableReindex)
		done <- outcome{d, err}
	}()
	var pid int32
	waitFor(t, "the reindex waiting for the older transaction", func() (bool, string) {
		var phase string
		err := admin.QueryRow(ctx, "SELECT pid, phase FROM pg_stat_progress_create_index WHERE relid = $1", relid).Scan(&pid, &phase)
		return err == nil && strings.HasPrefix(phase, "waiting for"), phase
	})
	var ccnew int
	_ = admin.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname LIKE 't_%_ccnew%'").Scan(&ccnew)
	if _, err := admin.Exec(ctx, "SELECT pg_cancel_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	var got outcome
	select {
	case got = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the cancelled reindex did not return")
	}
	if got.err == nil || !strings.Contains(got.err.Error(), "left behind, INVALID: public.t_") ||
		!strings.Contains(got.err.Error(), "_ccnew") || !strings.Contains(got.err.Error(), "DROP INDEX CONCURRENTLY") {
		t.Fatalf("cancelled reindex: %q %v (ccnew indexes while it waited: %d)", got.d, got.err, ccnew)
	}
	t.Logf("the error: %v", got.err)
	var invalid int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_index WHERE indrelid = $1 AND NOT indisvalid", relid).Scan(&invalid); err != nil || invalid == 0 {
		t.Errorf("invalid indexes after the cancel: %d %v (they are named, not dropped)", invalid, err)
	}
}
