package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// lockChain builds A → B → C: A holds a row lock idle in transaction, B's
// UPDATE of the same row waits on A's transaction, C's UPDATE waits on the
// tuple lock B holds while it waits. B and C run in autocommit, so once A is
// gone both complete.
type lockChain struct {
	a, b, c      int32
	aConn        *pgx.Conn
	bDone, cDone <-chan error
}

func makeLockChain(t *testing.T, dsn string) lockChain {
	t.Helper()
	a := testsrv.Connect(t, dsn, "chain-a")
	b := testsrv.Connect(t, dsn, "chain-b")
	c := testsrv.Connect(t, dsn, "chain-c")
	mustExec(t, a, "BEGIN", "SELECT * FROM t WHERE id = 1 FOR UPDATE")
	ch := lockChain{a: pidOf(a), b: pidOf(b), c: pidOf(c), aConn: a}
	ch.bDone = background(t, b, "UPDATE t SET v = v + 1 WHERE id = 1")
	// C must queue behind B, not beside it: wait until B is waiting.
	waitLock(t, dsn, ch.b)
	ch.cDone = background(t, c, "UPDATE t SET v = v + 10 WHERE id = 1")
	waitLock(t, dsn, ch.c)
	return ch
}

// waitLock waits until pid waits on a heavyweight lock.
func waitLock(t *testing.T, dsn string, pid int32) {
	t.Helper()
	probe := testsrv.Connect(t, dsn, "probe")
	waitFor(t, fmt.Sprintf("pid %d to wait on a lock", pid), func() (bool, string) {
		var wt *string
		err := probe.QueryRow(context.Background(),
			"SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid).Scan(&wt)
		if err != nil {
			return false, err.Error()
		}
		return wt != nil && *wt == "Lock", fmt.Sprint(wt)
	})
	_ = probe.Close(context.Background())
}

func TestSnapshot(t *testing.T) {
	pg := server(t)
	db := newDB(t, pg)
	app := pg.DSN(roleApp, db)

	idle := testsrv.Connect(t, app, "idle-one")
	idleTx := testsrv.Connect(t, app, "idle-tx")
	mustExec(t, idleTx, "BEGIN", "SELECT 1")
	active := testsrv.Connect(t, app, "sleeper")
	sleepDone := background(t, active, "SELECT pg_sleep(600)")

	// Terminal escapes in the application name, the query text and a role
	// name: OSC title change, CSI colour, BEL, bidi override.
	evil := testsrv.Connect(t, app, "evil\x1b]0;pwned\x07\x1b[31mred\u202eapp")
	evilQuery := "SELECT pg_sleep(600) /* \x1b]0;pwned\x07 \x1b[2J\x1b[31m red \u202e txet */"
	evilDone := background(t, evil, evilQuery)

	evilRole := "ev\x1b[2Jil\u202erole"
	pg.Exec(t, `CREATE ROLE "`+evilRole+`" LOGIN`)
	evilUser := testsrv.Connect(t, fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable user='%s'", pg.Host, pg.Port, db, evilRole), "evil-user")

	// A query longer than track_activity_query_size (1024 by default).
	long := testsrv.Connect(t, app, "long-query")
	longDone := background(t, long, "SELECT pg_sleep(600) /* "+strings.Repeat("x", 2000)+" */")

	chain := makeLockChain(t, app)

	src := newSource(t, pg, roleMonitor, db)
	act := waitFetch(t, src, "sleepers active", func(a *sources.PGActivity) (bool, string) {
		n := 0
		for _, b := range backendsIn(a, db) {
			if b.State == "active" && strings.Contains(b.Query, "pg_sleep") {
				n++
			}
		}
		return n == 3, fmt.Sprintf("%d sleepers active", n)
	})

	if act.ServerVersion < 120000 || act.MaxConnections == 0 || act.TrackActivityQuerySize != 1024 {
		t.Errorf("server figures: version %d max %d tqs %d", act.ServerVersion, act.MaxConnections, act.TrackActivityQuerySize)
	}
	if act.Usable() != act.MaxConnections-3 {
		t.Errorf("usable %d, max %d: expected superuser_reserved_connections=3", act.Usable(), act.MaxConnections)
	}
	if !act.CanSeeAll || act.Denied != nil {
		t.Errorf("pg_monitor + pg_signal_backend role: CanSeeAll=%v Denied=%v", act.CanSeeAll, act.Denied)
	}
	if act.Now.IsZero() {
		t.Error("no server time")
	}

	// Every backend type is listed; the UI hides the non-client ones.
	types := map[string]bool{}
	for _, b := range act.Backends {
		types[b.BackendType] = true
	}
	for _, want := range []string{"client backend", "checkpointer", "background writer", "walwriter"} {
		if !types[want] {
			t.Errorf("backend type %q missing; have %v", want, types)
		}
	}

	// Counts in our database: idle, idle-tx, sleeper, evil, evil-user, long, chain a/b/c, and the source itself.
	mine := backendsIn(act, db)
	if got := act.ByDatabase[db]; got != len(mine) || got != 10 {
		t.Errorf("ByDatabase[%s] = %d, %d listed; want 10", db, got, len(mine))
	}
	states := map[string]int{}
	for _, b := range mine {
		states[b.State]++
	}
	want := map[string]int{"idle": 2, "idle in transaction": 2, "active": 6}
	for k, v := range want {
		if states[k] != v {
			t.Errorf("state %q: %d, want %d (all: %v)", k, states[k], v, states)
		}
		if act.ByState[k] < v {
			t.Errorf("ByState[%q] = %d < %d", k, act.ByState[k], v)
		}
	}
	if act.ByUser[roleApp] < 8 || act.ByApp["sleeper"] != 1 || act.ByApp[AppName] < 1 {
		t.Errorf("ByUser=%v ByApp=%v", act.ByUser, act.ByApp)
	}
	if act.Connections < len(mine) {
		t.Errorf("Connections %d < %d", act.Connections, len(mine))
	}

	// Self: the monitoring connection, by pid.
	own := src.OwnPIDs()
	if len(own) != 1 {
		t.Fatalf("own pids %v, want the monitoring connection only", own)
	}
	self := findPID(act, own[0])
	if self == nil || !self.Self || self.Application != AppName || self.State != "active" {
		t.Errorf("own backend: %+v", self)
	}
	for _, b := range act.Backends {
		if b.Self && b.PID != own[0] {
			t.Errorf("pid %d marked Self", b.PID)
		}
	}

	// Oldest transaction / longest idle in transaction: among ours, A or
	// idle-tx, whichever began first; never our own connection.
	if act.OldestXact == nil || act.OldestXact.Self || act.LongestIdleX == nil {
		t.Fatalf("OldestXact=%v LongestIdleX=%v", act.OldestXact, act.LongestIdleX)
	}
	if p := act.LongestIdleX.PID; p != pidOf(idleTx) {
		t.Errorf("LongestIdleX = pid %d (%s), want idle-tx %d", p, act.LongestIdleX.Application, pidOf(idleTx))
	}
	if !strings.HasPrefix(act.LongestIdleX.State, "idle in transaction") {
		t.Errorf("LongestIdleX state %q", act.LongestIdleX.State)
	}

	// The lock chain: A root, B under A, C under B.
	a, b, c := findPID(act, chain.a), findPID(act, chain.b), findPID(act, chain.c)
	if a == nil || b == nil || c == nil {
		t.Fatal("chain backends missing")
	}
	if len(a.BlockedBy) != 0 || fmt.Sprint(b.BlockedBy) != fmt.Sprint([]int32{chain.a}) || fmt.Sprint(c.BlockedBy) != fmt.Sprint([]int32{chain.b}) {
		t.Errorf("BlockedBy: a=%v b=%v c=%v (pids %d %d %d)", a.BlockedBy, b.BlockedBy, c.BlockedBy, chain.a, chain.b, chain.c)
	}
	if b.WaitType != "Lock" || b.WaitEvent != "transactionid" || c.WaitType != "Lock" || c.WaitEvent != "tuple" {
		t.Errorf("waits: b %s/%s c %s/%s", b.WaitType, b.WaitEvent, c.WaitType, c.WaitEvent)
	}
	tree := sources.BlockingTree(act.Backends)
	if len(tree) != 3 || tree[0].PID != chain.a || !tree[0].Root || tree[0].Waiters != 2 ||
		tree[1].PID != chain.b || tree[1].Depth != 1 || tree[2].PID != chain.c || tree[2].Depth != 2 {
		t.Errorf("blocking tree %+v, want %d → %d → %d", tree, chain.a, chain.b, chain.c)
	}

	// Sanitized at ingestion.
	var ev, eu, lq *sources.Backend
	for i := range mine {
		switch {
		case mine[i].Application == "evil-user":
			eu = &mine[i]
		case strings.HasPrefix(mine[i].Application, "evil"):
			ev = &mine[i]
		case mine[i].Application == "long-query":
			lq = &mine[i]
		}
	}
	if ev == nil || eu == nil || lq == nil {
		t.Fatalf("evil/long sessions missing: %v %v %v", ev, eu, lq)
	}
	for _, s := range []string{ev.Application, ev.Query, eu.User} {
		if bad := unsafeRune(s); bad >= 0 {
			t.Errorf("unsanitized %U in %q", bad, s)
		}
	}
	if strings.Contains(ev.Query, "pwned") || !strings.Contains(ev.Query, "red") || !strings.Contains(ev.Query, "txet") {
		t.Errorf("query not sanitized as expected: %q", ev.Query)
	}
	// Sanitize drops the whole CSI sequence and the bidi override.
	if eu.User != "evilrole" {
		t.Errorf("role name sanitized to %q", eu.User)
	}
	// The server itself turns non-ASCII in application_name into '?' (or
	// \xNN on 16+); whatever survives must be harmless.
	t.Logf("application name as shown: %q", ev.Application)
	if !lq.QueryTruncated || len(lq.Query) > 1024 {
		t.Errorf("long query: truncated=%v len=%d", lq.QueryTruncated, len(lq.Query))
	}
	if ev.QueryTruncated {
		t.Error("short query marked truncated")
	}
	if findPID(act, pidOf(idle)).ClientAddr != "127.0.0.1" {
		t.Errorf("client addr %q", findPID(act, pidOf(idle)).ClientAddr)
	}
	if eu.PID != pidOf(evilUser) {
		t.Errorf("evil-user pid %d, want %d", eu.PID, pidOf(evilUser))
	}

	// Release the sleepers so the test ends promptly.
	cancelAll(t, src, db)
	for _, ch := range []<-chan error{sleepDone, evilDone, longDone} {
		_ = waitDone(t, "sleeper", ch)
	}
}

// unsafeRune returns the first rune that must not reach a terminal, or -1.
func unsafeRune(s string) rune {
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) {
			return r
		}
	}
	return -1
}

// cancelAll cancels every active pg_sleep in db, through the source.
func cancelAll(t *testing.T, src *Source, db string) {
	t.Helper()
	act := fetch(t, src)
	for _, b := range backendsIn(act, db) {
		if b.State == "active" && strings.Contains(b.Query, "pg_sleep") {
			if _, err := src.SignalBackend(context.Background(), b.PID, b.BackendStart, false); err != nil {
				t.Errorf("cancel %d: %v", b.PID, err)
			}
		}
	}
}
