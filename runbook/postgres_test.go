package runbook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/sources/postgres"
)

// session is a connection the test holds open, maybe running a statement.
type session struct {
	conn   *pgx.Conn
	pid    int32
	done   chan error // the running statement's outcome
	cancel context.CancelFunc
}

func openSession(t *testing.T, dsn, app string) *session {
	t.Helper()
	conn := testsrv.Connect(t, dsn, app)
	s := &session{conn: conn, pid: int32(conn.PgConn().PID())}
	// Runs before Connect's close: a pgx connection is not safe for
	// concurrent use, so end the statement and wait for it first.
	t.Cleanup(func() {
		if s.done != nil {
			s.cancel()
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
			}
		}
	})
	return s
}

// sleep starts a statement that runs for ten minutes unless terminated.
func (s *session) sleep() {
	s.done = make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		_, err := s.conn.Exec(ctx, "SELECT pg_sleep(600)")
		s.done <- err
	}()
}

// terminated reports whether the session's statement ended with its
// connection closed by the server.
func (s *session) terminated(t *testing.T) bool {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if err == nil || !strings.Contains(err.Error(), "terminating connection due to administrator command") {
			t.Errorf("pid %d ended with %v", s.pid, err)
		}
		return true
	case <-time.After(50 * time.Millisecond):
		return false
	}
}

// The manual's "kill long-running queries" step, with its 10 minutes
// lowered to 5 seconds, on a real PostgreSQL with max_connections 20 so the
// connection check and its verify mean something: it terminates exactly the
// non-idle backends older than the threshold, oldest first, none younger,
// none of the protected role, max_targets at a time, and the verify passes
// once connections fall below 80% of usable.
func TestPostgresKillLongRunningQueries(t *testing.T) {
	pg := testsrv.StartPostgres(t)
	pg.Exec(t, "ALTER SYSTEM SET max_connections = 20",
		"CREATE ROLE app_user LOGIN",
		"CREATE ROLE fd_monitor LOGIN",
		"GRANT pg_monitor, pg_signal_backend TO fd_monitor",
		"CHECKPOINT") // Stop is a crash, and the server runs with synchronous_commit off
	pg.Stop(t)
	pg.Restart(t)

	src, err := postgres.New(postgres.Options{Name: "main", DSN: pg.DSN("fd_monitor", "postgres"), Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	// Open the source's action connection now, so the count below holds.
	if _, err := src.LookupBackends(context.Background(), []int32{1}); err != nil {
		t.Fatal(err)
	}

	const threshold = "5s"
	appDSN := pg.DSN("app_user", "postgres")
	var old []*session
	for i := range 3 {
		s := openSession(t, appDSN, fmt.Sprintf("api-%d", i))
		s.sleep()
		old = append(old, s)
		time.Sleep(300 * time.Millisecond) // different ages: oldest first matters with max_targets
	}
	protected := openSession(t, pg.SuperuserDSN(), "psql")
	protected.sleep()
	idle := []*session{openSession(t, appDSN, "api-idle")}

	pol := ops.Policy{MaxTargets: 2, ProtectedRoles: []string{"postgres"}}
	d := newDriver(t, time.Now, func() {}, []sources.Source{src},
		ops.Capabilities{src.Name(): src}, pol)
	// The protected session must be as old as the others, or the preview
	// would not list it as skipped: wait for both under a loaded machine.
	d.pollUntil("the old sessions older than "+threshold, 200, func(s []sources.Snapshot) bool {
		time.Sleep(100 * time.Millisecond)
		return matching(pgOf(s), "user:app_user state:active >"+threshold) == 3 &&
			matching(pgOf(s), "user:postgres app:psql state:active >"+threshold) == 1
	})
	// Fill the server to 16 of 17 usable connections (94%), the young
	// session included: after two terminations 14 (82%), after three 13 (76%).
	for pgOf(d.poll()).Connections < 15 {
		idle = append(idle, openSession(t, appDSN, "api-idle"))
	}
	young := openSession(t, appDSN, "api-young")
	young.sleep()

	data, err := os.ReadFile(filepath.Join("builtin", "database-connection-exhaustion.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbook.Load("test.yaml", []byte(strings.ReplaceAll(string(data), ">10m", ">"+threshold)))
	if err != nil {
		t.Fatal(err)
	}
	d.start(rb, nil)
	if c := pgOf(d.snaps).Connections; c != 16 {
		t.Fatalf("%d connections, want 16", c)
	}

	check := d.do(0)
	if v := d.view(0); v.State != runbook.OK || v.Values[0].String() != "connections 16/17 usable (94%)" {
		t.Fatalf("check: %+v %+v", check, v)
	}
	d.do(1)
	kill := stepIndex(t, rb, "Kill long-running queries")
	preview := d.view(kill).Targets
	want := []string{fmt.Sprintf("target pid %d app_user api-0 active", old[0].pid), fmt.Sprintf("target pid %d app_user api-1 active", old[1].pid),
		"1 more match beyond max_targets 2", fmt.Sprintf("skip pid %d (postgres): role \"postgres\" is protected by policy", protected.pid)}
	if len(preview) != len(want) {
		t.Fatalf("preview %q", preview)
	}
	for i, w := range want {
		if !strings.HasPrefix(preview[i], w) {
			t.Errorf("preview[%d] = %q, want %q…", i, preview[i], w)
		}
	}
	// Plan → confirm with the plan's phrase ("terminate 2") → execute.
	d.do(kill)
	first := d.results[kill]
	if !first.OK || first.Plan.Phrase != "terminate 2" || fmt.Sprint(targetPIDs(first.Plan)) != fmt.Sprint([]int32{old[0].pid, old[1].pid}) {
		t.Fatalf("first kill: %+v", first)
	}
	// The verify waits: 14 of 17 is still above 80%.
	verify := stepIndex(t, rb, "Connections fall")
	d.observe()
	if v := d.view(verify); v.State != runbook.Waiting || v.Live != runbook.False {
		t.Fatalf("verify after the first kill: %+v", v)
	}
	// Done again, the step takes the one left.
	d.do(kill)
	second := d.results[kill]
	if !second.OK || second.Plan.Phrase != fmt.Sprint(old[2].pid) || fmt.Sprint(targetPIDs(second.Plan)) != fmt.Sprint([]int32{old[2].pid}) {
		t.Fatalf("second kill: %+v", second)
	}
	for n := 0; d.view(verify).State == runbook.Waiting; n++ {
		if n == 100 {
			t.Fatalf("verify still waiting: %+v", d.view(verify))
		}
		time.Sleep(50 * time.Millisecond)
		d.observe()
	}
	if v := d.view(verify); v.State != runbook.OK || v.Values[0].String() != "connections 13/17 usable (76%)" {
		t.Errorf("verify: %+v", v)
	}
	// No lock pile-up: the root-blocker step does not apply.
	root := stepIndex(t, rb, "Terminate the root blocker")
	d.do(root)
	if v := d.view(root); v.State != runbook.Skipped || !strings.HasPrefix(v.Reason, "does not apply") {
		t.Errorf("root blocker step: %+v", v)
	}

	for _, s := range old {
		if !s.terminated(t) {
			t.Errorf("old pid %d still running", s.pid)
		}
	}
	for _, s := range []*session{young, protected} {
		if s.terminated(t) {
			t.Errorf("pid %d was terminated", s.pid)
		}
	}
	for _, s := range idle {
		if err := s.conn.Ping(context.Background()); err != nil {
			t.Errorf("idle pid %d: %v", s.pid, err)
		}
	}
	got := strings.Join(phases(d.records()), " ")
	if want := "run_start run_step:check:ok run_step:view:viewed intent:terminate: outcome:terminate:ok run_step:action:ok " +
		"run_step:verify:waiting intent:terminate: outcome:terminate:ok run_step:action:ok run_step:verify:waiting " +
		"run_step:verify:ok run_step:action:skipped"; got != want {
		t.Errorf("journal:\n got %s\nwant %s", got, want)
	}
}

func targetPIDs(p ops.Plan) []int32 {
	var out []int32
	for _, t := range p.Targets {
		if b, ok := t.Subject.(sources.Backend); ok {
			out = append(out, b.PID)
		}
	}
	return out
}

// matching counts the client backends a filter selects.
func matching(a *sources.PGActivity, filter string) int {
	return len(a.Select(sources.ParseBackendFilter(filter)))
}
