package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"flightdeck/sources"
)

func TestNewBadDSNDoesNotLeak(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:hunter2@host:notaport/db",
		"host=db password=hunter2 port=notaport",
		"host=db password=hunter2 sslmode=bogus",
	} {
		_, err := New(Options{Name: "x", DSN: dsn})
		if err == nil {
			t.Errorf("New(%q) accepted", dsn)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
		t.Log(err)
	}
}

func TestNewSetsSessionParameters(t *testing.T) {
	src, err := New(Options{Name: "main", DSN: "postgres://u@h/db?application_name=other&statement_timeout=99999"})
	if err != nil {
		t.Fatal(err)
	}
	p := src.cfg.RuntimeParams
	if p["application_name"] != AppName || p["statement_timeout"] != "500" {
		t.Errorf("runtime params %v", p)
	}
	if src.cfg.ConnectTimeout != 2*DefaultTimeout || src.Name() != "pg main" || src.Kind() != sources.KindPostgres {
		t.Errorf("connect timeout %v name %q", src.cfg.ConnectTimeout, src.Name())
	}
	src, _ = New(Options{Name: "x", DSN: "host=h connect_timeout=5", Timeout: 2 * time.Second})
	if src.cfg.ConnectTimeout != 5*time.Second || src.cfg.RuntimeParams["statement_timeout"] != "1800" {
		t.Errorf("connect_timeout from DSN: %v, statement_timeout %s", src.cfg.ConnectTimeout, src.cfg.RuntimeParams["statement_timeout"])
	}
}

func TestQueryPerVersion(t *testing.T) {
	for _, c := range []struct {
		version      int
		leader, role string
	}{
		{120000, "NULL::int", "'MEMBER'"},
		{130004, "a.leader_pid", "'MEMBER'"},
		{150004, "a.leader_pid", "'USAGE'"},
		{170000, "a.leader_pid", "'USAGE'"},
	} {
		readBy := "MEMBER"
		if c.version >= 150000 {
			readBy = "USAGE"
		}
		q := activityQuery(serverInfo{version: c.version, querySize: 1024, readStatsBy: readBy})
		if !strings.Contains(q, c.leader) || !strings.Contains(q, "pg_has_role('pg_read_all_stats', "+c.role+")") ||
			!strings.Contains(q, ">= 1023") || !strings.Contains(q, "CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END") {
			t.Errorf("version %d:\n%s", c.version, q)
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{"flightdeck": "flightdeck", "fd_2": "fd_2", "Ops": `"Ops"`, `a"b`: `"a""b"`, "2x": `"2x"`, "": `""`} {
		if got := quoteIdent(in); got != want {
			t.Errorf("quoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)
	act := &sources.PGActivity{Backends: []sources.Backend{
		{PID: 9, BackendType: "client backend", State: "idle in transaction", XactStart: t0.Add(time.Minute), StateChange: t0.Add(2 * time.Minute), Database: "app", User: "api", Application: "api"},
		{PID: 3, BackendType: "client backend", State: "active", XactStart: t0, Database: "app", User: "api", Application: "", Self: true},
		{PID: 5, BackendType: "client backend", State: "idle in transaction (aborted)", XactStart: t0.Add(30 * time.Second), StateChange: t0.Add(time.Minute), Database: "app", User: "worker", Application: "worker"},
		{PID: 7, BackendType: "autovacuum worker", XactStart: t0.Add(-time.Hour), Database: "app"},
		{PID: 8, BackendType: "", Hidden: true, Database: "app", User: "other"},
	}}
	summarize(act)
	if act.Backends[0].PID != 3 || act.Backends[4].PID != 9 {
		t.Errorf("not sorted by pid")
	}
	if act.Connections != 4 || act.ByState["unknown"] != 1 || act.ByState["active"] != 1 || act.ByApp["(none)"] != 2 || act.ByUser["api"] != 2 || act.ByDatabase["app"] != 4 {
		t.Errorf("counts: %d %v %v %v %v", act.Connections, act.ByState, act.ByApp, act.ByUser, act.ByDatabase)
	}
	// Self (3) and the autovacuum worker (7) are never "the oldest".
	if act.OldestXact == nil || act.OldestXact.PID != 5 || act.LongestIdleX == nil || act.LongestIdleX.PID != 5 {
		t.Errorf("oldest %+v longest idle %+v", act.OldestXact, act.LongestIdleX)
	}
}

func TestSignalRefusesWithoutIdentity(t *testing.T) {
	src, err := New(Options{Name: "x", DSN: "host=127.0.0.1 port=1"})
	if err != nil {
		t.Fatal(err)
	}
	// Refused before any connection is attempted.
	if _, err := src.SignalBackend(context.Background(), 42, time.Time{}, true); err == nil || !strings.Contains(err.Error(), "backend_start unknown") {
		t.Errorf("zero start: %v", err)
	}
}
