package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
)

// TestLivePostgresLockChain is the Postgres issue's "done means", done as a
// person would: a real server with 200 sessions and a three-level lock chain;
// a config naming it; the chain on screen within a refresh; --read-only
// refuses; terminating the root blocker by typed pid unblocks the chain and
// lands in the audit file; a stopped server is shown in the pane and
// recovered from by itself.
func TestLivePostgresLockChain(t *testing.T) {
	pg := testsrv.StartPostgres(t)
	pg.Exec(t,
		"CREATE ROLE app LOGIN",
		"CREATE TABLE campaigns (id int PRIMARY KEY, status text)",
		"INSERT INTO campaigns VALUES (1, 'draft'), (4711, 'scheduled')",
		"GRANT ALL ON campaigns TO app",
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	connect := func(app string) *pgx.Conn {
		c, err := pgx.Connect(ctx, pg.DSN("app", "postgres")+" application_name="+app)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	for i := 0; i < 200; i++ {
		connect("nudgecampaign-worker")
	}
	// A holds row 4711 and goes idle in transaction; B holds row 1 and waits
	// for A; C waits for B.
	a, b, c := connect("nudgecampaign-api"), connect("nudgecampaign-api"), connect("nudgecampaign-api")
	var rootPID int
	if err := a.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&rootPID); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"BEGIN", "UPDATE campaigns SET status='sending' WHERE id=4711"} {
		if _, err := a.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"BEGIN", "UPDATE campaigns SET status='paused' WHERE id=1"} {
		if _, err := b.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	bDone, cDone := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, "UPDATE campaigns SET status='paused' WHERE id=4711")
		if err == nil {
			_, err = b.Exec(ctx, "COMMIT")
		}
		bDone <- err
	}()
	go func() { _, err := c.Exec(ctx, "UPDATE campaigns SET status='sent' WHERE id=1"); cDone <- err }()

	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.jsonl")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("environment: staging\naudit: {path: %s}\npostgres:\n  - name: main\n    dsn: %q\n    interval: 500ms\n",
		audit, pg.DSN(pg.Superuser, "postgres"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	pid := strconv.Itoa(rootPID)
	findRoot := func(s *tmuxSession) {
		s.waitFor("postgres data", contains("pg main", "conns "))
		s.keys("3", "/")
		s.text("blocking")
		s.keys("Enter")
		s.waitFor("the root blocker "+pid, func(scr string) bool {
			m := rootRow.FindStringSubmatch(scr)
			return m != nil && m[1] == pid
		})
	}

	// Read-only: the same keys are refused and nothing is signalled.
	ro := startTmux(t, []string{"XDG_STATE_HOME=" + dir}, bin, "--config", cfgPath, "--read-only")
	findRoot(ro)
	ro.keys("K")
	ro.waitFor("the read-only refusal", contains("read-only mode: actions are disabled"))
	ro.keys("q")
	select {
	case err := <-bDone:
		t.Fatalf("chain released in read-only mode: %v", err)
	default:
	}

	s := startTmux(t, []string{"XDG_STATE_HOME=" + dir}, bin, "--config", cfgPath)
	findRoot(s)
	// 200 idle workers + the chain + flightdeck itself are counted.
	s.waitFor("the session count", func(scr string) bool { return strings.Contains(scr, "conns 20") })
	s.keys("K")
	s.waitFor("the confirm dialog", contains("Terminate backend "+pid))
	time.Sleep(500 * time.Millisecond) // the dialog ignores keys for its first 400 ms, by design
	s.text(pid)
	s.keys("Enter")
	s.waitFor("the result", contains("Terminate backend "+pid+": done"))
	for name, ch := range map[string]chan error{"B": bDone, "C": cDone} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("waiter %s: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("waiter %s still blocked after the root blocker was terminated", name)
		}
	}
	recs, err := ops.ReadJournal(audit)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Phase != "intent" || recs[1].Outcome != "ok" || recs[0].Targets[0] != "pid "+pid {
		t.Fatalf("journal = %+v", recs)
	}

	// The server goes away: the pane says so; it comes back: recovered.
	pg.Stop(t)
	s.waitFor("the outage in the status bar", contains("pg main ERR"))
	pg.Restart(t)
	s.waitFor("recovery", func(scr string) bool { return !strings.Contains(scr, "pg main ERR") && strings.Contains(scr, "conns ") })
	s.keys("q")
}
