package demo

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/internal/sanitize"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// The demo sources satisfy ops's capability interfaces; main asserts that
// (ops is not imported here, even in tests: arrows only go downward), and
// ops/opstest holds the fakes, so no copy of the interfaces lives here.
var (
	_ sources.Source = (*SLOSource)(nil)
	_ sources.Source = (*AlertSource)(nil)
	_ sources.Source = (*PostgresSource)(nil)
	_ sources.Source = (*KubeSource)(nil)
)

var ctx = context.Background()

func TestSources(t *testing.T) {
	w, _ := newTestWorld(t)
	want := map[string]sources.Kind{"prom": sources.KindSLO, "am": sources.KindAlerts, "pg main": sources.KindPostgres, "kube": sources.KindRollouts, "aws": sources.KindAWS}
	got := map[string]sources.Kind{}
	for _, s := range w.Sources() {
		got[s.Name()] = s.Kind()
		p, err := s.Fetch(ctx)
		if err != nil || p == nil {
			t.Fatalf("%s: Fetch = %v, %v", s.Name(), p, err)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sources = %v, want %v", got, want)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Postgres().Fetch(cctx); err == nil {
		t.Error("Fetch with a cancelled context succeeded")
	}
}

func TestCalm(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 5)
	k := kubeAt(t, w)
	api := findDep(t, k, "nudgecampaign-api")
	if api.Namespace != "production" || api.Revision != 41 || api.Images[0] != goodImage || api.Ready != 3 || api.Replicas != 3 || api.State != sources.RolloutComplete {
		t.Errorf("api = %+v", api)
	}
	for _, d := range k.Deployments {
		if len(d.History) < 3 || d.History[0].Number != d.Revision {
			t.Errorf("%s: history %+v", d.Name, d.History)
		}
		for _, r := range d.History {
			if r.ChangeCause == "" || r.ReplicaSet == "" || len(r.Images) != 1 {
				t.Errorf("%s: revision %+v", d.Name, r)
			}
		}
	}
	if len(k.Deployments) != 3 {
		t.Errorf("deployments = %d", len(k.Deployments))
	}

	pg := pgAt(t, w)
	if n := len(pg.Backends); n < 30 || n > 40 {
		t.Errorf("%d backends, want 30–40", n)
	}
	if pg.MaxConnections != 100 || pg.ReservedConnections != 3 || pg.Usable() != 97 {
		t.Errorf("settings %d/%d", pg.MaxConnections, pg.ReservedConnections)
	}
	types := map[string]bool{}
	apps := map[string]bool{}
	for _, b := range pg.Backends {
		types[b.BackendType] = true
		apps[b.Application] = true
		if b.PID < 1000 || b.PID > 99999 {
			t.Errorf("pid %d not realistic", b.PID)
		}
		if b.BackendStart.IsZero() {
			t.Errorf("pid %d: no backend_start", b.PID)
		}
	}
	for _, typ := range []string{"client backend", "checkpointer", "walsender", "autovacuum launcher"} {
		if !types[typ] {
			t.Errorf("no %s backend", typ)
		}
	}
	for _, app := range []string{"nudgecampaign-api", "nudgecampaign-worker", "psql", "pgbouncer"} {
		if !apps[app] {
			t.Errorf("no backend of %s", app)
		}
	}
	if pg.ByUser["app"] == 0 || pg.ByUser["worker"] == 0 || pg.ByUser["analyst"] == 0 {
		t.Errorf("by user %v", pg.ByUser)
	}
	if sources.BlockingTree(pg.Backends) != nil {
		t.Error("lock waits in the calm phase")
	}

	for _, s := range slosAt(t, w).SLOs {
		if s.Level != sources.SLOOK {
			t.Errorf("%s: %s (%s)", s.Name, s.Level, s.Reason)
		}
		checkSLO(t, s)
	}
	at(c, 20)
	for _, a := range alertsAt(t, w).Alerts {
		if a.State == sources.AlertFiring || a.Severity == "critical" {
			t.Errorf("alert %s %s in the calm phase", a.Name, a.State)
		}
	}
	if findAlert(alertsAt(t, w), "HighCPUUsage") == nil {
		t.Error("no unrelated pending alert in the calm phase")
	}
}

func checkSLO(t *testing.T, s sources.SLOStatus) {
	t.Helper()
	if len(s.Burn) != len(sources.BurnWindows) {
		t.Errorf("%s: %d burn windows", s.Name, len(s.Burn))
	}
	for _, win := range sources.BurnWindows {
		if v := s.BurnRate(win); !(v >= 0) {
			t.Errorf("%s: burn over %s = %v", s.Name, win, v)
		}
	}
	if !(s.SLI > 0.9 && s.SLI < 1) || !(s.BudgetLeft < 1) || s.BudgetLeftTime == 0 {
		t.Errorf("%s: SLI %v budget %v (%s)", s.Name, s.SLI, s.BudgetLeft, s.BudgetLeftTime)
	}
	if len(s.Spark) < 50 || s.SparkStep <= 0 {
		t.Errorf("%s: spark %d points step %s", s.Name, len(s.Spark), s.SparkStep)
	}
	if !strings.Contains(s.Description, "1 s = 1 min") || s.Window != 30*24*time.Hour {
		t.Errorf("%s: description %q window %s", s.Name, s.Description, s.Window)
	}
}

func TestIncidentScript(t *testing.T) {
	w, c := newTestWorld(t)

	at(c, 35)
	api := findDep(t, kubeAt(t, w), "nudgecampaign-api")
	if api.Revision != 42 || api.Images[0] != badImage || api.State != sources.RolloutProgressing || api.Updated >= 3 {
		t.Fatalf("at 35s api = rev %d %v %s updated %d", api.Revision, api.Images, api.State, api.Updated)
	}
	if !strings.Contains(api.History[0].ChangeCause, "v5.1.0") || api.History[1].Number != 41 {
		t.Errorf("history %+v", api.History[:2])
	}
	if api.RolledOutAt != epoch.Add(30*time.Second) {
		t.Errorf("rolled out at %s", api.RolledOutAt)
	}
	at(c, 60)
	api = findDep(t, kubeAt(t, w), "nudgecampaign-api")
	if api.State != sources.RolloutComplete || api.Ready != 3 || api.Updated != 3 {
		t.Errorf("at 60s api %s %d/%d", api.State, api.Ready, api.Updated)
	}

	at(c, 100)
	av := findSLO(t, slosAt(t, w), "availability")
	if av.Level != sources.SLOPage {
		t.Errorf("at 100s availability %s (%s)", av.Level, av.Reason)
	}
	checkSLO(t, av)
	if last := av.Spark[len(av.Spark)-1]; last < 14.4 || av.Spark[0] > 2 {
		t.Errorf("spark %v", av.Spark)
	}
	lat := findSLO(t, slosAt(t, w), "latency")
	if lat.Level != sources.SLOTicket {
		t.Errorf("at 100s latency %s (%s)", lat.Level, lat.Reason)
	}
	set := alertsAt(t, w)
	her := findAlert(set, "HighErrorRate")
	if her == nil || her.State != sources.AlertFiring || her.Severity != "critical" ||
		her.Summary != "High error rate detected" || !strings.Contains(her.Description, "errors per second") ||
		!strings.HasPrefix(her.RunbookURL, "https://runbooks.nudgecampaign.com/") {
		t.Fatalf("HighErrorRate = %+v", her)
	}
	for _, l := range []string{"alertname", "severity", "service", "namespace"} {
		if her.Label(l) == "" {
			t.Errorf("HighErrorRate lacks label %s", l)
		}
	}
	fp := her.Fingerprint
	at(c, 101)
	if her2 := findAlert(alertsAt(t, w), "HighErrorRate"); her2.Fingerprint != fp || len(fp) != 16 {
		t.Errorf("fingerprint %q then %q", fp, her2.Fingerprint)
	}

	at(c, 200)
	pg := pgAt(t, w)
	tree := sources.BlockingTree(pg.Backends)
	if len(tree) < 5 || !tree[0].Root || tree[0].Depth != 0 {
		t.Fatalf("blocking tree %+v", tree)
	}
	maxDepth := 0
	for _, n := range tree {
		maxDepth = max(maxDepth, n.Depth)
	}
	if maxDepth < 2 {
		t.Errorf("lock chain only %d deep", maxDepth)
	}
	root := backendOf(pg, tree[0].PID)
	if root.State != "idle in transaction" || root.Query != rootQuery || root.User != "app" ||
		root.Application != "nudgecampaign-api" || root.XactStart.IsZero() {
		t.Errorf("root = %+v", root)
	}
	if pg.LongestIdleX == nil || pg.LongestIdleX.PID != root.PID {
		t.Errorf("longest idle in transaction = %+v", pg.LongestIdleX)
	}
	events := map[string]bool{}
	for _, b := range pg.Backends {
		if len(b.BlockedBy) > 0 {
			events[b.WaitType+"/"+b.WaitEvent] = true
			if b.State != "active" {
				t.Errorf("waiter %d is %s", b.PID, b.State)
			}
		}
	}
	if !events["Lock/transactionid"] || !events["Lock/tuple"] {
		t.Errorf("wait events %v", events)
	}
	if r := float64(pg.Connections) / float64(pg.Usable()); r <= 0.8 {
		t.Errorf("connections %d/%d", pg.Connections, pg.Usable())
	}
	pool := findAlert(alertsAt(t, w), "DatabaseConnectionPoolExhausted")
	if pool == nil || pool.State != sources.AlertFiring || pool.Severity != "warning" {
		t.Errorf("pool alert = %+v", pool)
	}
}

func backendOf(pg *sources.PGActivity, pid int32) sources.Backend {
	for _, b := range pg.Backends {
		if b.PID == pid {
			return b
		}
	}
	return sources.Backend{}
}

func blockedPIDs(pg *sources.PGActivity) []int32 {
	var out []int32
	for _, b := range pg.Backends {
		if len(b.BlockedBy) > 0 {
			out = append(out, b.PID)
		}
	}
	return out
}

func TestTerminateRootBlocker(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 200)
	pg := pgAt(t, w)
	tree := sources.BlockingTree(pg.Backends)
	root := backendOf(pg, tree[0].PID)
	waiters := blockedPIDs(pg)
	sig := w.Postgres()

	// pid-reuse guard: a different backend_start matches nothing.
	if ok, err := sig.SignalBackend(ctx, root.PID, root.BackendStart.Add(time.Millisecond), true); ok || err != nil {
		t.Fatalf("wrong start: matched=%v err=%v", ok, err)
	}
	if ok, err := sig.SignalBackend(ctx, 3, root.BackendStart, true); ok || err != nil {
		t.Fatalf("unknown pid: matched=%v err=%v", ok, err)
	}
	if got := blockedPIDs(pgAt(t, w)); !slices.Equal(got, waiters) {
		t.Fatalf("a mismatched signal changed the waiters: %v → %v", waiters, got)
	}
	// Cancelling an idle-in-transaction session does nothing, as in PG.
	if ok, err := sig.SignalBackend(ctx, root.PID, root.BackendStart, false); !ok || err != nil {
		t.Fatalf("cancel root: matched=%v err=%v", ok, err)
	}
	if b := backendOf(pgAt(t, w), root.PID); b.State != "idle in transaction" {
		t.Fatalf("root after cancel: %s", b.State)
	}

	if ok, err := sig.SignalBackend(ctx, root.PID, root.BackendStart, true); !ok || err != nil {
		t.Fatalf("terminate root: matched=%v err=%v", ok, err)
	}
	pg = pgAt(t, w)
	if b := backendOf(pg, root.PID); b.PID != 0 {
		t.Errorf("root still there: %+v", b)
	}
	if tr := sources.BlockingTree(pg.Backends); tr != nil {
		t.Errorf("still blocked: %+v", tr)
	}
	for _, pid := range waiters {
		if b := backendOf(pg, pid); b.PID != 0 && (b.WaitType == "Lock" || len(b.BlockedBy) > 0) {
			t.Errorf("waiter %d still waits: %+v", pid, b)
		}
	}
	if live, _ := sig.LookupBackends(ctx, []int32{root.PID}); len(live) != 0 {
		t.Errorf("LookupBackends finds the terminated root: %+v", live)
	}
	// Retried signal: the backend is gone.
	if ok, _ := sig.SignalBackend(ctx, root.PID, root.BackendStart, true); ok {
		t.Error("second terminate matched")
	}

	at(c, 260)
	pg = pgAt(t, w)
	if r := float64(pg.Connections) / float64(pg.Usable()); r > 0.8 {
		t.Errorf("60s later still %d connections", pg.Connections)
	}
	if a := findAlert(alertsAt(t, w), "DatabaseConnectionPoolExhausted"); a != nil {
		t.Errorf("pool alert still %s", a.State)
	}
}

func TestCancelAndRefusals(t *testing.T) {
	w, c := newTestWorld(t)
	sig := w.Postgres()
	at(c, 10)
	pg := pgAt(t, w)
	var report, self, ckpt sources.Backend
	for _, b := range pg.Backends {
		switch {
		case b.Self:
			self = b
		case b.BackendType == "checkpointer":
			ckpt = b
		case b.User == "analyst" && b.State == "active":
			report = b
		}
	}
	if ok, err := sig.SignalBackend(ctx, ckpt.PID, ckpt.BackendStart, true); ok || err == nil {
		t.Errorf("terminate checkpointer: %v %v", ok, err)
	}
	if ok, err := sig.SignalBackend(ctx, self.PID, self.BackendStart, false); ok || err == nil {
		t.Errorf("cancel own connection: %v %v", ok, err)
	}
	if ok, err := sig.SignalBackend(ctx, report.PID, report.BackendStart, false); !ok || err != nil {
		t.Fatalf("cancel report: %v %v", ok, err)
	}
	if b := backendOf(pgAt(t, w), report.PID); b.State != "idle" || !b.XactStart.IsZero() {
		t.Errorf("report after cancel: %s xact %v", b.State, b.XactStart)
	}

	// Cancel the first waiter in the chain: its transaction is aborted
	// (locks still held), then the app rolls back and its queue moves.
	at(c, 200)
	pg = pgAt(t, w)
	tree := sources.BlockingTree(pg.Backends)
	w1 := backendOf(pg, tree[1].PID)
	if w1.User != "worker" || w1.WaitEvent != "transactionid" {
		t.Fatalf("first waiter %+v", w1)
	}
	if ok, err := sig.SignalBackend(ctx, w1.PID, w1.BackendStart, false); !ok || err != nil {
		t.Fatal(ok, err)
	}
	pg = pgAt(t, w)
	if b := backendOf(pg, w1.PID); b.State != "idle in transaction (aborted)" || len(b.BlockedBy) > 0 {
		t.Errorf("w1 after cancel: %s blocked by %v", b.State, b.BlockedBy)
	}
	behindW1 := 0
	for _, b := range pg.Backends {
		if slices.Contains(b.BlockedBy, w1.PID) {
			behindW1++
		}
	}
	if behindW1 == 0 {
		t.Error("nobody waits for the aborted transaction's locks")
	}
	at(c, 204)
	pg = pgAt(t, w)
	if b := backendOf(pg, w1.PID); b.PID == 0 || strings.HasPrefix(b.State, "idle in transaction") || len(b.BlockedBy) > 0 {
		t.Errorf("w1 not rolled back: %+v", b)
	}
	for _, b := range pg.Backends {
		if slices.Contains(b.BlockedBy, w1.PID) {
			t.Errorf("%d still waits for %d", b.PID, w1.PID)
		}
	}
	if tr := sources.BlockingTree(pg.Backends); len(tr) == 0 || tr[0].PID != tree[0].PID {
		t.Errorf("root blocker changed: %+v", tr)
	}
}

func TestPIDsNeverReused(t *testing.T) {
	w, c := newTestWorld(t)
	starts := map[int32]time.Time{}
	for s := 0; s <= 900; s++ {
		at(c, s)
		for _, b := range pgAt(t, w).Backends {
			if st, ok := starts[b.PID]; ok && !st.Equal(b.BackendStart) {
				t.Fatalf("at %ds pid %d reused (start %s, was %s)", s, b.PID, b.BackendStart, st)
			}
			starts[b.PID] = b.BackendStart
		}
	}
	if len(starts) < 100 {
		t.Errorf("only %d distinct backends over two loops", len(starts))
	}
}

func TestUndo(t *testing.T) {
	w, c := newTestWorld(t)
	k := w.Rollouts()
	at(c, 100)
	before, err := k.GetDeployment(ctx, "production", "nudgecampaign-api")
	if err != nil || before.Revision != 42 {
		t.Fatal(before.Revision, err)
	}
	var rs41 string
	for _, r := range before.History {
		if r.Number == 41 {
			rs41 = r.ReplicaSet
		}
	}
	diff, dry, err := k.PreviewUndo(ctx, "production", "nudgecampaign-api", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(diff, "image: nudgecampaign/api:v5.1.0 → nudgecampaign/api:v5.0.0") ||
		!slices.Contains(diff, "env: -FEATURE_BULK_IMPORT") || !slices.ContainsFunc(diff, func(s string) bool { return strings.HasPrefix(s, "resources:") }) {
		t.Errorf("diff %q", diff)
	}
	if len(dry) == 0 || !strings.Contains(dry[0], "dry run: ok") {
		t.Errorf("dry run %q", dry)
	}
	if _, _, err := k.PreviewUndo(ctx, "production", "nudgecampaign-api", 7); err == nil {
		t.Error("preview of a missing revision succeeded")
	}
	if err := k.Undo(ctx, "production", "nudgecampaign-api", 42); err == nil {
		t.Error("undo to the current revision succeeded")
	}
	if err := k.Undo(ctx, "production", "nudgecampaign-ap", 0); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown deployment: %v", err)
	}
	if _, err := k.GetDeployment(ctx, "staging", "nudgecampaign-api"); err == nil {
		t.Error("wrong namespace found")
	}
	if err := k.Undo(ctx, "production", "nudgecampaign-api", 0); err != nil {
		t.Fatal(err)
	}
	d, _ := k.GetDeployment(ctx, "production", "nudgecampaign-api")
	if d.Revision != 43 || d.Images[0] != goodImage || d.State != sources.RolloutProgressing {
		t.Errorf("after undo: rev %d %v %s", d.Revision, d.Images, d.State)
	}
	nums := []int64{}
	for _, r := range d.History {
		nums = append(nums, r.Number)
	}
	if !slices.Equal(nums, []int64{43, 42, 40, 39, 38}) || d.History[0].ReplicaSet != rs41 {
		t.Errorf("history %v, newest RS %s (want %s)", nums, d.History[0].ReplicaSet, rs41)
	}
	if d.UID != before.UID || d.Generation <= before.Generation {
		t.Errorf("uid/generation %s %d", d.UID, d.Generation)
	}
	// The reused ReplicaSet is days old, but the rollback just happened.
	if want := epoch.Add(100 * time.Second); !d.RolledOutAt.Equal(want) {
		t.Errorf("rolled out at %s, want the rollback's time %s", d.RolledOutAt, want)
	}

	at(c, 130)
	d, _ = k.GetDeployment(ctx, "production", "nudgecampaign-api")
	if d.State != sources.RolloutComplete || d.Ready != 3 {
		t.Errorf("30s after undo: %s %d ready", d.State, d.Ready)
	}
	at(c, 220)
	av := findSLO(t, slosAt(t, w), "availability")
	if b := av.BurnRate(5 * time.Minute); b > 2 {
		t.Errorf("2 min after undo the 5m burn is %.1f", b)
	}
	if av.Level == sources.SLOPage {
		t.Errorf("still paging 2 min after undo: %s", av.Reason)
	}
	if a := findAlert(alertsAt(t, w), "HighErrorRate"); a != nil {
		t.Errorf("HighErrorRate still %s", a.State)
	}
	if tr := sources.BlockingTree(pgAt(t, w).Backends); tr != nil {
		t.Errorf("rolled back before the pile-up, yet locks: %+v", tr)
	}
}

func TestRestartScalePause(t *testing.T) {
	w, c := newTestWorld(t)
	k := w.Rollouts()
	at(c, 5)
	before, _ := k.GetDeployment(ctx, "production", "nudgecampaign-worker")
	if err := k.Restart(ctx, "production", "nudgecampaign-worker", c.Now()); err != nil {
		t.Fatal(err)
	}
	d, _ := k.GetDeployment(ctx, "production", "nudgecampaign-worker")
	if d.Revision != before.Revision+1 || d.History[0].ChangeCause != before.History[0].ChangeCause || d.State != sources.RolloutProgressing {
		t.Errorf("after restart: %+v", d)
	}
	diff, _, _ := k.PreviewUndo(ctx, "production", "nudgecampaign-worker", 0)
	if len(diff) != 1 || !strings.Contains(diff[0], "restartedAt") {
		t.Errorf("restart undo diff %q", diff)
	}

	if err := k.Scale(ctx, "production", "nudgecampaign-web", 4); err != nil {
		t.Fatal(err)
	}
	d, _ = k.GetDeployment(ctx, "production", "nudgecampaign-web")
	if d.Replicas != 4 || d.Ready != 2 || d.State != sources.RolloutProgressing {
		t.Errorf("just scaled: %d/%d %s", d.Ready, d.Replicas, d.State)
	}
	at(c, 25)
	d, _ = k.GetDeployment(ctx, "production", "nudgecampaign-web")
	if d.Ready != 4 || d.State != sources.RolloutComplete {
		t.Errorf("20s after scaling: %d/%d %s", d.Ready, d.Replicas, d.State)
	}
	w2, _ := k.GetDeployment(ctx, "production", "nudgecampaign-worker")
	if w2.State != sources.RolloutComplete || w2.Ready != 2 {
		t.Errorf("20s after restart: %s %d", w2.State, w2.Ready)
	}
	if err := k.Scale(ctx, "production", "nudgecampaign-web", -1); err == nil {
		t.Error("negative scale accepted")
	}

	// Pause the API before the deploy: it waits until resumed.
	if err := k.SetPaused(ctx, "production", "nudgecampaign-api", true); err != nil {
		t.Fatal(err)
	}
	if err := k.Undo(ctx, "production", "nudgecampaign-api", 0); err == nil {
		t.Error("undo of a paused deployment succeeded")
	}
	if err := k.Restart(ctx, "production", "nudgecampaign-api", c.Now()); err == nil {
		t.Error("restart of a paused deployment succeeded")
	}
	at(c, 40)
	d, _ = k.GetDeployment(ctx, "production", "nudgecampaign-api")
	if !d.Paused || d.State != sources.RolloutPaused || d.Revision != 41 {
		t.Errorf("paused api: %+v", d)
	}
	if err := k.SetPaused(ctx, "production", "nudgecampaign-api", false); err != nil {
		t.Fatal(err)
	}
	d, _ = k.GetDeployment(ctx, "production", "nudgecampaign-api")
	if d.Paused || d.Revision != 42 || d.Images[0] != badImage {
		t.Errorf("resumed api: rev %d %v paused %v", d.Revision, d.Images, d.Paused)
	}
}

func TestSilences(t *testing.T) {
	w, c := newTestWorld(t)
	am := w.Alerts()
	at(c, 100)
	eq := func(n, v string) sources.Matcher { return sources.Matcher{Name: n, Value: v, IsEqual: true} }
	re := func(n, v string, equal bool) sources.Matcher {
		return sources.Matcher{Name: n, Value: v, IsRegex: true, IsEqual: equal}
	}
	names := func(ms ...sources.Matcher) []string {
		t.Helper()
		as, err := am.MatchingAlerts(ctx, ms)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		slices.Sort(out)
		return out
	}
	if got := names(re("alertname", "High.*", true)); !slices.Equal(got, []string{"HighErrorRate"}) {
		t.Errorf("=~High.* → %v", got)
	}
	if got := names(re("alertname", "High", true)); got != nil {
		t.Errorf("regex not anchored: %v", got)
	}
	if got := names(eq("service", "nudgecampaign-api"), re("severity", "warn.*", false)); !slices.Equal(got, []string{"HighErrorRate"}) {
		t.Errorf("!~warn.* → %v", got)
	}
	if got := names(sources.Matcher{Name: "alertname", Value: "HighErrorRate"}); !slices.Contains(got, "SlowResponseTime") || slices.Contains(got, "HighErrorRate") {
		t.Errorf("!= → %v", got)
	}
	if _, err := am.MatchingAlerts(ctx, []sources.Matcher{re("alertname", "(", true)}); err == nil {
		t.Error("bad regex accepted")
	}

	now := c.Now()
	sil := sources.Silence{Matchers: []sources.Matcher{eq("alertname", "HighErrorRate")}, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "oncall@bastion", Comment: "rolling back"}
	bad := sil
	bad.Matchers = []sources.Matcher{re("alertname", ".*", true)}
	if _, err := am.CreateSilence(ctx, bad); err == nil {
		t.Error("silence matching everything accepted")
	}
	bad = sil
	bad.Comment = ""
	if _, err := am.CreateSilence(ctx, bad); err == nil {
		t.Error("silence without a comment accepted")
	}
	id, err := am.CreateSilence(ctx, sil)
	if err != nil || id == "" {
		t.Fatal(id, err)
	}
	set := alertsAt(t, w)
	a := findAlert(set, "HighErrorRate")
	if a.State != sources.AlertSilenced || !slices.Equal(a.SilencedBy, []string{id}) {
		t.Errorf("silenced alert %s by %v", a.State, a.SilencedBy)
	}
	if len(set.Silences) != 1 || set.Silences[0].ID != id || set.Silences[0].State != "active" || set.Silences[0].CreatedBy != "oncall@bastion" {
		t.Errorf("silences %+v", set.Silences)
	}
	if got := names(re("alertname", "High.*", true)); got != nil {
		t.Errorf("silenced alert still matches: %v", got)
	}
	at(c, 130)
	if a := findAlert(alertsAt(t, w), "HighErrorRate"); a.State != sources.AlertSilenced {
		t.Errorf("30s later %s", a.State)
	}
	if err := am.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	if a := findAlert(alertsAt(t, w), "HighErrorRate"); a.State != sources.AlertFiring || a.SilencedBy != nil {
		t.Errorf("after expiry %s %v", a.State, a.SilencedBy)
	}
	got, err := am.GetSilence(ctx, id)
	if err != nil || got.State != "expired" {
		t.Errorf("GetSilence %+v %v", got, err)
	}
	if err := am.ExpireSilence(ctx, id); err == nil {
		t.Error("expired twice")
	}
	if _, err := am.GetSilence(ctx, "nope"); err == nil {
		t.Error("unknown silence found")
	}
}

func TestLoopsBackToCalm(t *testing.T) {
	w, c := newTestWorld(t)
	sawIncident := false
	for s := 1; s <= maxLoop+5; s++ {
		at(c, s)
		api := findDep(t, kubeAt(t, w), "nudgecampaign-api")
		if api.Revision > 41 {
			sawIncident = true
			continue
		}
		if !sawIncident {
			continue
		}
		// Back to calm.
		if s < 300 {
			t.Fatalf("looped at %ds, before the script ran its course", s)
		}
		if api.Images[0] != goodImage || api.Ready != 3 {
			t.Errorf("api %v %d", api.Images, api.Ready)
		}
		pg := pgAt(t, w)
		if pg.Connections > 40 || sources.BlockingTree(pg.Backends) != nil {
			t.Errorf("pg not calm: %d connections", pg.Connections)
		}
		for _, a := range alertsAt(t, w).Alerts {
			t.Errorf("alert %s %s after the loop", a.Name, a.State)
		}
		for _, slo := range slosAt(t, w).SLOs {
			if slo.Level != sources.SLOOK {
				t.Errorf("%s %s after the loop", slo.Name, slo.Level)
			}
		}
		return
	}
	t.Fatal("never looped back")
}

func TestFixedIncidentLoopsSooner(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 80)
	if err := w.Rollouts().Undo(ctx, "production", "nudgecampaign-api", 0); err != nil {
		t.Fatal(err)
	}
	id, err := w.Alerts().CreateSilence(ctx, sources.Silence{Matchers: []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}},
		EndsAt: c.Now().Add(time.Hour), CreatedBy: "me", Comment: "fixing"})
	if err != nil {
		t.Fatal(err)
	}
	for s := 81; s < 300; s++ {
		at(c, s)
		if findDep(t, kubeAt(t, w), "nudgecampaign-api").Revision == 41 {
			// A silence made for an hour lasts the hour: the restart
			// keeps it, and it silences the alert when it fires again.
			if sil := alertsAt(t, w).Silences; len(sil) != 1 || sil[0].ID != id || sil[0].State != "active" {
				t.Fatalf("silence %s lost in the loop: %+v", id, sil)
			}
			for s2 := s + 1; s2 < s+120; s2++ {
				at(c, s2)
				if a := findAlert(alertsAt(t, w), "HighErrorRate"); a != nil && a.State != sources.AlertPending {
					if a.State != sources.AlertSilenced || len(a.SilencedBy) != 1 || a.SilencedBy[0] != id {
						t.Errorf("HighErrorRate in the next run: %s by %v, want silenced by %s", a.State, a.SilencedBy, id)
					}
					return
				}
			}
			t.Fatal("HighErrorRate did not fire again in the next run")
		}
	}
	t.Error("did not loop within a calm minute of the fix")
}

// An expired silence is not carried into the next run.
func TestLoopDropsExpiredSilences(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 10)
	if _, err := w.Alerts().CreateSilence(ctx, sources.Silence{Matchers: []sources.Matcher{{Name: "alertname", Value: "HighCPUUsage", IsEqual: true}},
		EndsAt: c.Now().Add(time.Minute), CreatedBy: "me", Comment: "short"}); err != nil {
		t.Fatal(err)
	}
	at(c, maxLoop+1)
	if sil := alertsAt(t, w).Silences; len(sil) != 0 {
		t.Errorf("expired silence kept by the loop: %+v", sil)
	}
}

// Every payload says which run of the script it shows, so the recorder
// and the cockpit can say the world started over by itself.
func TestPayloadsSayTheRun(t *testing.T) {
	w, c := newTestWorld(t)
	runs := func() []*sources.Script {
		var out []*sources.Script
		for _, src := range w.Sources() {
			p, err := src.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sources.ScriptOf(p))
		}
		return out
	}
	at(c, 5)
	for i, r := range runs() {
		if r == nil || r.Loop != 1 || !r.Since.Equal(epoch) || r.Reset == "" {
			t.Fatalf("source %d in the first run: %+v", i, r)
		}
	}
	at(c, maxLoop+3)
	for i, r := range runs() {
		// The script runs its course (300 s) before it can start over.
		if r == nil || r.Loop != 2 || r.Since.Before(epoch.Add(autoRollbackAt*time.Second)) || r.Since.After(c.Now()) {
			t.Fatalf("source %d after the loop: %+v", i, r)
		}
	}
}

func TestFreshPayloads(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 200)
	p1, p2 := pgAt(t, w), pgAt(t, w)
	if p1 == p2 || &p1.Backends[0] == &p2.Backends[0] {
		t.Fatal("payloads shared")
	}
	var i int
	for i = range p1.Backends {
		if len(p1.Backends[i].BlockedBy) > 0 {
			break
		}
	}
	p1.Backends[i].BlockedBy[0] = -1
	p1.ByState["active"] = -1
	if p3 := pgAt(t, w); p3.Backends[i].BlockedBy[0] == -1 || p3.ByState["active"] == -1 {
		t.Error("a snapshot's slices or maps are shared with the world")
	}
	a1 := alertsAt(t, w)
	a1.Alerts[0].Labels[0].Value = "x"
	if alertsAt(t, w).Alerts[0].Labels[0].Value == "x" {
		t.Error("alert labels shared")
	}
	k1 := kubeAt(t, w)
	k1.Deployments[0].History[0].Images[0] = "x"
	if kubeAt(t, w).Deployments[0].History[0].Images[0] == "x" {
		t.Error("history shared")
	}
	s1 := slosAt(t, w)
	s1.SLOs[0].Burn[time.Hour] = -1
	if slosAt(t, w).SLOs[0].Burn[time.Hour] == -1 {
		t.Error("burn map shared")
	}
}

func TestDeterministic(t *testing.T) {
	w1, c1 := newTestWorld(t)
	w2, c2 := newTestWorld(t)
	for _, s := range []int{3, 50, 150, 200} {
		at(c1, s)
		at(c2, s)
		if !reflect.DeepEqual(pgAt(t, w1), pgAt(t, w2)) {
			t.Fatalf("pg differs at %ds", s)
		}
		s1, s2 := slosAt(t, w1), slosAt(t, w2)
		if s1.SLOs[0].SLI != s2.SLOs[0].SLI {
			t.Fatalf("SLOs differ at %ds", s)
		}
	}
	// Fetching more often does not change the course of events.
	w3, c3 := newTestWorld(t)
	for s := 0; s <= 200; s += 7 {
		at(c3, s)
		pgAt(t, w3)
	}
	at(c3, 200)
	if !reflect.DeepEqual(pgAt(t, w1), pgAt(t, w3)) {
		t.Error("pg depends on how often it is fetched")
	}
}

func TestSanitized(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 200)
	pg := pgAt(t, w)
	found := false
	for _, b := range pg.Backends {
		for _, s := range []string{b.Application, b.Query, b.User, b.State} {
			if s != sanitize.Text(s) || strings.ContainsRune(s, 0x1b) {
				t.Errorf("unsanitized %q", s)
			}
		}
		if b.User == "analyst" && b.ClientAddr == "10.0.9.41" {
			found = b.Application == "psql"
		}
	}
	if !found {
		t.Error("the escape-laden application name is not shown sanitized")
	}
}

func TestSpeed(t *testing.T) {
	c := opstest.NewClock(epoch)
	w := NewWorld(Options{Now: c.Now, Seed: 1, Speed: 10})
	c.Advance(3500 * time.Millisecond) // 35 simulated seconds
	api := findDep(t, kubeAt(t, w), "nudgecampaign-api")
	if api.Revision != 42 {
		t.Fatalf("revision %d", api.Revision)
	}
	if want := epoch.Add(3 * time.Second); !api.RolledOutAt.Equal(want) {
		t.Errorf("rolled out at %s, want %s (clock time)", api.RolledOutAt, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	w, c := newTestWorld(t)
	var wg sync.WaitGroup
	for _, s := range w.Sources() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if _, err := s.Fetch(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 250 {
			c.Advance(time.Second)
			pg := pgAt(t, w)
			if tr := sources.BlockingTree(pg.Backends); tr != nil {
				b := backendOf(pg, tr[0].PID)
				_, _ = w.Postgres().SignalBackend(ctx, b.PID, b.BackendStart, true)
			}
			_ = w.Rollouts().Scale(ctx, "production", "nudgecampaign-web", 3)
		}
	}()
	wg.Wait()
}
