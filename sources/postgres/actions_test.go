package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// The ops.Executor is the only caller of the action methods in the product;
// these tests drive them through the real one.

var _ ops.BackendSignaler = (*Source)(nil)

type execFixture struct {
	exec    *ops.Executor
	journal string
}

func newExecutor(t *testing.T, src *Source, policy ops.Policy, readOnly bool) execFixture {
	t.Helper()
	j, path := opstest.Journal(t)
	return execFixture{
		exec: ops.NewExecutor(ops.Config{
			Environment: "test",
			Policy:      policy,
			Caps:        ops.Capabilities{src.Name(): src},
			Journal:     j,
			Operator:    "tester@test",
			ReadOnly:    readOnly,
		}),
		journal: path,
	}
}

func (f execFixture) records(t *testing.T) []ops.Record {
	t.Helper()
	recs, err := ops.ReadJournal(f.journal)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestTerminateRootBlockerThroughExecutor(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	chain := makeLockChain(t, pg.DSN(roleApp, db))
	src := newSource(t, pg, roleMonitor, db)

	act := fetch(t, src)
	tree := sources.BlockingTree(act.Backends)
	if len(tree) == 0 || tree[0].PID != chain.a {
		t.Fatalf("root blocker: tree %+v, want %d", tree, chain.a)
	}
	root := *findPID(act, tree[0].PID)

	f := newExecutor(t, src, ops.DefaultPolicy(), false)
	plan, err := f.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: []sources.Backend{root}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Phrase != strconv.Itoa(int(chain.a)) || plan.Risk != ops.High {
		t.Fatalf("plan phrase %q risk %v", plan.Phrase, plan.Risk)
	}
	// A wrong phrase is refused and changes nothing.
	if res := f.exec.Execute(context.Background(), plan, "y"); !res.Refused || !errors.Is(res.Err, ops.ErrConfirmation) {
		t.Fatalf("wrong phrase: %+v", res)
	}
	if !alive(chain.aConn) {
		t.Fatal("A died after a refused plan")
	}
	res := f.exec.Execute(context.Background(), plan, plan.Phrase)
	if !res.OK {
		t.Fatalf("execute: %+v", res)
	}
	if len(res.Details) != 1 || !strings.Contains(res.Details[0], "terminated") {
		t.Errorf("details %v", res.Details)
	}
	// The waiters proceed: both UPDATEs complete.
	if err := waitDone(t, "B's update", chain.bDone); err != nil {
		t.Errorf("B: %v", err)
	}
	if err := waitDone(t, "C's update", chain.cDone); err != nil {
		t.Errorf("C: %v", err)
	}
	if alive(chain.aConn) {
		t.Error("A still alive")
	}
	after := waitFetch(t, src, "A gone", func(a *sources.PGActivity) (bool, string) {
		return findPID(a, chain.a) == nil, "A still listed"
	})
	if tree := sources.BlockingTree(after.Backends); len(tree) != 0 {
		t.Errorf("still blocked: %+v", tree)
	}

	recs := f.records(t)
	phases := []string{}
	for _, r := range recs {
		phases = append(phases, r.Phase+":"+r.Outcome)
	}
	// refused (wrong phrase), intent, outcome ok.
	if fmt.Sprint(phases) != "[refused:refused intent: outcome:ok]" {
		t.Errorf("journal phases %v", phases)
	}
	last := recs[len(recs)-1]
	if last.PlanHash != plan.Hash || len(last.Targets) != 1 || last.Targets[0] != "pid "+plan.Phrase || last.Source != "pg main" {
		t.Errorf("outcome record %+v", last)
	}
}

// idleInTx opens n sessions idle in transaction in db.
func idleInTx(t *testing.T, dsn string, n int) []*pgx.Conn {
	t.Helper()
	conns := make([]*pgx.Conn, n)
	for i := range conns {
		conns[i] = testsrv.Connect(t, dsn, fmt.Sprintf("leaky-%d", i))
		mustExec(t, conns[i], "BEGIN", "SELECT 1")
	}
	return conns
}

func TestBulkTerminatePolicy(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	conns := idleInTx(t, pg.DSN(roleApp, db), 7)
	src := newSource(t, pg, roleMonitor, db)
	act := fetch(t, src)
	var targets []sources.Backend
	for _, b := range backendsIn(act, db) {
		if strings.HasPrefix(b.Application, "leaky-") {
			targets = append(targets, b)
		}
	}
	if len(targets) != 7 {
		t.Fatalf("%d leaky sessions seen, want 7", len(targets))
	}
	policy := ops.DefaultPolicy()
	policy.MaxTargets = 5
	f := newExecutor(t, src, policy, false)

	// Seven: refused at planning.
	_, err := f.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: targets})
	if !errors.Is(err, ops.ErrPolicy) || !strings.Contains(err.Error(), "max_targets 5") {
		t.Fatalf("7 targets: %v", err)
	}
	// Even a plan forged past the check is refused at execution.
	forged, err := f.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: targets[:5]})
	if err != nil {
		t.Fatal(err)
	}
	forged.Targets = append(forged.Targets, ops.Target{ID: "pid 1", Subject: targets[5]})
	if res := f.exec.Execute(context.Background(), forged, forged.Phrase); !res.Refused {
		t.Fatalf("forged plan executed: %+v", res)
	}
	for i, c := range conns {
		if !alive(c) {
			t.Fatalf("session %d died after refusals", i)
		}
	}

	// Five: allowed, typed "terminate 5".
	plan, err := f.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: targets[:5]})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Phrase != "terminate 5" {
		t.Fatalf("phrase %q", plan.Phrase)
	}
	res := f.exec.Execute(context.Background(), plan, "terminate 5")
	if !res.OK || len(res.Details) != 5 {
		t.Fatalf("bulk: %+v", res)
	}
	dead := map[int32]bool{}
	for _, b := range targets[:5] {
		dead[b.PID] = true
	}
	for _, c := range conns {
		if got := alive(c); got == dead[pidOf(c)] {
			t.Errorf("pid %d alive=%v, terminated=%v", pidOf(c), got, dead[pidOf(c)])
		}
	}
	act = waitFetch(t, src, "5 leaky gone", func(a *sources.PGActivity) (bool, string) {
		n := a.ByState["idle in transaction"]
		return n == 2, fmt.Sprintf("%d idle in transaction", n)
	})
	// 2 survivors + the source's monitoring and (still open) action connections.
	if n, own := act.ByDatabase[db], len(src.OwnPIDs()); n != 2+own || own != 2 {
		t.Errorf("ByDatabase %d, own connections %d", n, own)
	}
}

func TestPIDReuseGuard(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	sleeper := testsrv.Connect(t, pg.DSN(roleApp, db), "sleeper")
	done := background(t, sleeper, "SELECT pg_sleep(600)")
	src := newSource(t, pg, roleMonitor, db)
	act := waitFetch(t, src, "sleeper active", func(a *sources.PGActivity) (bool, string) {
		b := findPID(a, pidOf(sleeper))
		return b != nil && b.State == "active" && strings.Contains(b.Query, "pg_sleep"), "not yet"
	})
	b := *findPID(act, pidOf(sleeper))

	// The Executor sees the pid now belongs to "another" backend.
	f := newExecutor(t, src, ops.DefaultPolicy(), false)
	stale := b
	stale.BackendStart = b.BackendStart.Add(-time.Second)
	plan, err := f.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: []sources.Backend{stale}})
	if err != nil {
		t.Fatal(err)
	}
	res := f.exec.Execute(context.Background(), plan, plan.Phrase)
	if !res.Refused || !errors.Is(res.Err, ops.ErrTargetChanged) {
		t.Fatalf("stale identity: %+v", res)
	}

	// SignalBackend itself checks identity in the same statement.
	ctx := context.Background()
	for _, wrong := range []time.Time{b.BackendStart.Add(time.Microsecond), b.BackendStart.Add(-time.Microsecond), time.Unix(0, 0)} {
		matched, err := src.SignalBackend(ctx, b.PID, wrong, true)
		if err != nil || matched {
			t.Fatalf("wrong start %v: matched=%v err=%v", wrong, matched, err)
		}
	}
	if !alive(connectProbe(t, pg, db)) || len(pollDone(done)) != 0 {
		t.Fatal("sleeper disturbed by mismatched signals")
	}
	// Gone pid: no row.
	if matched, err := src.SignalBackend(ctx, 1<<30, b.BackendStart, true); err != nil || matched {
		t.Fatalf("absent pid: matched=%v err=%v", matched, err)
	}

	// The exact start, even carrying sub-microsecond noise (as a time
	// that went through a float would), matches: cancel the sleep.
	matched, err := src.SignalBackend(ctx, b.PID, b.BackendStart.Add(400*time.Nanosecond), false)
	if err != nil || !matched {
		t.Fatalf("exact start: matched=%v err=%v", matched, err)
	}
	err = waitDone(t, "cancelled sleep", done)
	if err == nil || !strings.Contains(err.Error(), "canceling statement due to user request") {
		t.Errorf("sleep ended with %v, want a cancel", err)
	}
	if !alive(sleeper) {
		t.Error("cancel closed the session")
	}
}

func connectProbe(t *testing.T, pg interface{ DSN(string, string) string }, db string) *pgx.Conn {
	return testsrv.Connect(t, pg.DSN(roleApp, db), "probe")
}

// pollDone returns the outcome if the statement already finished.
func pollDone(ch <-chan error) []error {
	select {
	case err := <-ch:
		return []error{err}
	default:
		return nil
	}
}

func TestReadOnlyExecutorSignalsNothing(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	victim := idleInTx(t, pg.DSN(roleApp, db), 1)[0]
	src := newSource(t, pg, roleMonitor, db)
	b := findPID(fetch(t, src), pidOf(victim))

	ro := newExecutor(t, src, ops.DefaultPolicy(), true)
	if _, err := ro.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: []sources.Backend{*b}}); !errors.Is(err, ops.ErrReadOnly) {
		t.Fatalf("read-only plan: %v", err)
	}
	// A plan made elsewhere is refused too.
	rw := newExecutor(t, src, ops.DefaultPolicy(), false)
	plan, err := rw.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: []sources.Backend{*b}})
	if err != nil {
		t.Fatal(err)
	}
	res := ro.exec.Execute(context.Background(), plan, plan.Phrase)
	if !res.Refused || !errors.Is(res.Err, ops.ErrReadOnly) {
		t.Fatalf("read-only execute: %+v", res)
	}
	if !alive(victim) {
		t.Fatal("read-only executor killed the session")
	}
	for _, r := range ro.records(t) {
		if r.Phase == "intent" {
			t.Errorf("read-only executor journaled an intent: %+v", r)
		}
	}
	// And it never opened an action connection.
	if own := src.OwnPIDs(); len(own) != 1 {
		t.Errorf("own pids %v: an action connection was opened", own)
	}
}

func TestOwnConnectionsNeverSignalled(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	src := newSource(t, pg, roleMonitor, db)
	act := fetch(t, src)
	monPID := src.OwnPIDs()[0]
	self := findPID(act, monPID)
	if self == nil || !self.Self {
		t.Fatalf("own backend %+v", self)
	}
	matched, err := src.SignalBackend(context.Background(), monPID, self.BackendStart, true)
	if err == nil || matched || !strings.Contains(err.Error(), "own connection") {
		t.Fatalf("signal own pid: matched=%v err=%v", matched, err)
	}
	// Lookup opens the action connection; it is ours too, and marked.
	live, err := src.LookupBackends(context.Background(), []int32{monPID})
	if err != nil || len(live) != 1 || !live[0].Self {
		t.Fatalf("lookup own: %+v %v", live, err)
	}
	own := src.OwnPIDs()
	if len(own) != 2 {
		t.Fatalf("own pids %v, want monitoring + action", own)
	}
	act = fetch(t, src)
	for _, pid := range own {
		if b := findPID(act, pid); b == nil || !b.Self || b.Application != AppName {
			t.Errorf("own pid %d: %+v", pid, b)
		}
	}
	// The Executor refuses it by policy, before any signal.
	f := newExecutor(t, src, ops.DefaultPolicy(), false)
	if _, err := f.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: []sources.Backend{*self}}); !errors.Is(err, ops.ErrPolicy) {
		t.Fatalf("plan on self: %v", err)
	}
	// The action connection goes away when idle; Close ends everything.
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if own := src.OwnPIDs(); len(own) != 0 {
		t.Errorf("after Close own pids %v", own)
	}
}

func TestPrivileges(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	victim := idleInTx(t, pg.DSN(roleApp, db), 1)[0]

	t.Run("no pg_monitor", func(t *testing.T) {
		src := newSource(t, pg, roleWeak, db)
		act := fetch(t, src)
		if act.CanSeeAll {
			t.Error("CanSeeAll without pg_monitor")
		}
		b := findPID(act, pidOf(victim))
		if b == nil || !b.Hidden || b.Query != hiddenQuery || !b.BackendStart.IsZero() {
			t.Fatalf("other role's backend: %+v", b)
		}
		self := findPID(act, src.OwnPIDs()[0])
		if self == nil || self.Hidden || !strings.Contains(self.Query, "pg_stat_activity") {
			t.Errorf("own backend should be visible: %+v", self)
		}
		want := `role fd_weak lacks pg_signal_backend: GRANT pg_signal_backend TO fd_weak`
		if act.Denied["terminate"] != want || act.Denied["cancel"] != want {
			t.Errorf("Denied %v", act.Denied)
		}
		// Hidden rows have no identity: nothing to aim at.
		_, err := src.SignalBackend(context.Background(), b.PID, b.BackendStart, true)
		if err == nil || !strings.Contains(err.Error(), "pg_read_all_stats") {
			t.Errorf("signal hidden: %v", err)
		}
		// Even with the right identity, the server keeps it out of sight.
		real := trueStart(t, pg, db, b.PID)
		_, err = src.SignalBackend(context.Background(), b.PID, real, true)
		if err == nil || !strings.Contains(err.Error(), "cannot see") {
			t.Errorf("signal hidden with real start: %v", err)
		}
		for _, b := range act.Backends {
			t.Logf("as %s: pid %d type %q user %q db %q hidden %v", roleWeak, b.PID, b.BackendType, b.User, b.Database, b.Hidden)
		}
		if countHidden(act) == 0 {
			t.Error("no hidden rows")
		}
		// Hidden background processes are not counted as connections:
		// only the victim and ourselves are.
		if act.Connections != 2 {
			t.Errorf("Connections = %d, want 2", act.Connections)
		}
	})

	t.Run("pg_monitor without pg_signal_backend", func(t *testing.T) {
		src := newSource(t, pg, roleSeer, db)
		act := fetch(t, src)
		if !act.CanSeeAll || act.Denied["terminate"] == "" {
			t.Fatalf("CanSeeAll=%v Denied=%v", act.CanSeeAll, act.Denied)
		}
		b := findPID(act, pidOf(victim))
		if b.Hidden || b.BackendStart.IsZero() {
			t.Fatalf("pg_monitor should see %+v", b)
		}
		matched, err := src.SignalBackend(context.Background(), b.PID, b.BackendStart, true)
		var perr *Error
		if matched || !errors.As(err, &perr) || perr.Code != codeInsufficientPrivilege ||
			!strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), "GRANT pg_signal_backend TO fd_seer") {
			t.Fatalf("signal without privilege: matched=%v err=%v", matched, err)
		}
		t.Logf("privilege error: %v", err)
		// Through the Executor: the outcome is a failure, journaled.
		f := newExecutor(t, src, ops.DefaultPolicy(), false)
		plan, err := f.exec.Plan(context.Background(), ops.Request{Action: ops.Terminate, Source: src.Name(), Backends: []sources.Backend{*b}})
		if err != nil {
			t.Fatal(err)
		}
		res := f.exec.Execute(context.Background(), plan, plan.Phrase)
		if res.OK || res.Refused || !strings.Contains(res.Err.Error(), "permission denied") {
			t.Fatalf("execute: %+v", res)
		}
		recs := f.records(t)
		if len(recs) != 2 || recs[0].Phase != "intent" || recs[1].Outcome != "failed" || !strings.Contains(recs[1].Error, "pg_signal_backend") {
			t.Errorf("journal %+v", recs)
		}
		if !alive(victim) {
			t.Error("victim died")
		}
		// The action connection survives a permission error.
		if own := src.OwnPIDs(); len(own) != 2 {
			t.Errorf("own pids %v", own)
		}
	})

	t.Run("superuser backends need a superuser", func(t *testing.T) {
		su := testsrv.Connect(t, pg.DSN(pg.Superuser, db), "dba")
		src := newSource(t, pg, roleMonitor, db)
		b := findPID(fetch(t, src), pidOf(su))
		matched, err := src.SignalBackend(context.Background(), b.PID, b.BackendStart, true)
		if matched || err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("signal superuser: matched=%v err=%v", matched, err)
		}
		if strings.Contains(err.Error(), "GRANT") {
			t.Errorf("no GRANT helps here: %v", err)
		}
		t.Logf("superuser target: %v", err)
		if !alive(su) {
			t.Error("superuser session died")
		}
	})
}

// trueStart reads backend_start as the superuser.
func trueStart(t *testing.T, pg interface{ DSN(string, string) string }, db string, pid int32) time.Time {
	t.Helper()
	conn := testsrv.Connect(t, pg.DSN("postgres", db), "probe")
	var ts time.Time
	if err := conn.QueryRow(context.Background(), "SELECT backend_start FROM pg_stat_activity WHERE pid = $1", pid).Scan(&ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

func countHidden(act *sources.PGActivity) int {
	n := 0
	for _, b := range act.Backends {
		if b.Hidden {
			n++
		}
	}
	return n
}
