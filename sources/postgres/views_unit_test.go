package postgres

import (
	"strings"
	"testing"
	"time"

	"flightdeck/sources"
)

// The exec-time columns were renamed in 13: the manual's mean_time fails
// on its own 14.9, mean_exec_time fails on 12.
func TestStatementsSQLByVersion(t *testing.T) {
	for _, c := range []struct {
		version   int
		want, not []string
	}{
		{120000, []string{"total_time AS total", "mean_time AS mean", "max_time AS maxt"}, []string{"exec_time"}},
		{130000, []string{"total_exec_time AS total", "mean_exec_time AS mean", "max_exec_time AS maxt"}, []string{" total_time", " mean_time"}},
		{140009, []string{"mean_exec_time"}, []string{" mean_time"}},
		{160004, []string{"mean_exec_time"}, []string{" mean_time"}},
	} {
		q := StatementsSQL(c.version, "public")
		for _, w := range c.want {
			if !strings.Contains(q, w) {
				t.Errorf("%d: no %q in\n%s", c.version, w, q)
			}
		}
		for _, n := range c.not {
			if strings.Contains(q, n) {
				t.Errorf("%d: %q in\n%s", c.version, n, q)
			}
		}
	}
	if q := StatementsSQL(150000, "Odd Schema"); !strings.Contains(q, `"Odd Schema".pg_stat_statements`) {
		t.Errorf("schema not quoted:\n%s", q)
	}
}

// pg_stat_wal_receiver's received_lsn became flushed_lsn in 13, and slots
// gained wal_status; the analyze and create-index progress views came in
// 13 and 12.
func TestReplicationAndProgressSQLByVersion(t *testing.T) {
	r12 := strings.Join(ReplicationSQL(120000), "\n")
	r15 := strings.Join(ReplicationSQL(150000), "\n")
	if !strings.Contains(r12, "w.received_lsn") || strings.Contains(r12, "flushed_lsn") || strings.Contains(r12, "s.wal_status") ||
		!strings.Contains(r15, "w.flushed_lsn") || !strings.Contains(r15, "wal_status") {
		t.Errorf("replication SQL by version:\n12: %s\n15: %s", r12, r15)
	}
	p11, p12, p13 := ProgressSQL(110000), ProgressSQL(120000), ProgressSQL(130000)
	switch {
	case strings.Contains(p11, "create_index") || strings.Contains(p11, "progress_analyze"):
		t.Errorf("11 reads views it lacks:\n%s", p11)
	case !strings.Contains(p12, "create_index") || strings.Contains(p12, "progress_analyze"):
		t.Errorf("12:\n%s", p12)
	case !strings.Contains(p13, "progress_analyze"):
		t.Errorf("13:\n%s", p13)
	}
}

// query_id joins pg_stat_activity from 14 on.
func TestActivityQueryID(t *testing.T) {
	if q := activityQuery(serverInfo{version: 130000, querySize: 1024, readStatsBy: "MEMBER"}); strings.Contains(q, "query_id") {
		t.Errorf("13 reads query_id:\n%s", q)
	}
	if q := activityQuery(serverInfo{version: 140000, querySize: 1024, readStatsBy: "MEMBER"}); !strings.Contains(q, "a.query_id") {
		t.Errorf("14 does not read query_id:\n%s", q)
	}
}

func TestPreloaded(t *testing.T) {
	for s, want := range map[string]bool{
		"pg_stat_statements": true, "auto_explain, pg_stat_statements": true, `"pg_stat_statements"`: true,
		"$libdir/pg_stat_statements": true, "": false, "pg_stat_statements_x": false, "auto_explain": false,
	} {
		if preloaded(s) != want {
			t.Errorf("preloaded(%q) = %t", s, !want)
		}
	}
}

// A view is read while wanted and at its own pace; a want lapses.
func TestWants(t *testing.T) {
	var w sources.Wants
	now := time.Date(2025, 3, 14, 3, 12, 0, 0, time.UTC)
	w.Want("pg a", sources.PGViewTables, now.Add(10))
	if !w.Wanted("pg a", sources.PGViewTables, now) || w.Wanted("pg a", sources.PGViewTables, now.Add(10)) ||
		w.Wanted("pg b", sources.PGViewTables, now) || w.Wanted("pg a", sources.PGViewIndexes, now) {
		t.Error("wants")
	}
}
