package demo

import (
	"context"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"flightdeck/sources"
)

// The demo primary's optional views, made from the script's state so they
// tell the same story as pg_stat_activity: the pile-up's statements climb
// to the top of pg_stat_statements, the replica's replay falls behind as
// the bad build hammers the primary, and an ETL slot nobody uses any more
// holds back WAL.

// queryID is the demo's pg_stat_statements queryid of a statement text.
func queryID(q string) int64 {
	if q == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(q))
	return int64(h.Sum64() >> 1)
}

// statementMix is every statement the demo runs, with its usual mean time
// in ms and calls per second.
type stmtDef struct {
	query string
	user  string
	mean  float64
	rate  float64
}

// pileUpQueries are the lock chain's statements: cheap, until the chain
// makes each of them wait behind the idle transaction.
var pileUpQueries = []string{
	rootQuery,
	"UPDATE campaigns SET sent_count = sent_count + $1, updated_at = now() WHERE id = $2",
	"UPDATE campaigns SET status = $1, updated_at = now() WHERE id = $2",
	"SELECT id, status, sent_count FROM campaigns WHERE id = $1 FOR UPDATE",
	"UPDATE email_deliveries SET status = 'sent', sent_at = now() WHERE campaign_id = $1 AND contact_id = $2",
	"UPDATE email_deliveries SET opened_at = now() WHERE campaign_id = $1 AND contact_id = $2",
}

func statementDefs() []stmtDef {
	var out []stmtDef
	users := []string{"app", "app-bad", "worker", "pgbouncer", "grafana", "postgres_exporter"}
	for ui, u := range users {
		for i, q := range queryMix[u] {
			user := u
			if u == "app-bad" {
				user = "app"
			}
			out = append(out, stmtDef{query: q, user: user, mean: 0.3 + float64((i*7+ui*3)%11)*0.45, rate: 2 + float64((i*5+ui)%9)*3.5})
		}
	}
	out = append(out, stmtDef{query: reportQuery, user: "reporting", mean: 2400, rate: 0.002})
	for _, q := range pileUpQueries {
		out = append(out, stmtDef{query: q, user: "app", mean: 1.2, rate: 0.005})
	}
	return out
}

// pgViews builds every view for the activity a at the world's now.
func (w *World) pgViews(a *sources.PGActivity) *sources.PGViews {
	now := w.wallNow
	meta := sources.PGViewMeta{At: now}
	secs := float64(w.tick) + 86400 // the stats were reset a day before the demo began
	t := w.t()
	pile := t - pileUpAt
	// waited is how long each pile-up statement's backends have waited.
	waited := map[string]time.Duration{}
	waiting := map[string]int{}
	for _, b := range a.Backends {
		if b.WaitType == "Lock" || b.State == "idle in transaction" && b.Query == rootQuery {
			waited[b.Query] += now.Sub(b.QueryStart)
			waiting[b.Query]++
		}
	}
	st := &sources.PGStatements{PGViewMeta: meta, Interval: 5 * time.Second}
	for _, d := range statementDefs() {
		s := sources.Statement{QueryID: queryID(d.query), User: d.user, Database: database, Query: d.query}
		s.Calls = int64(secs * d.rate)
		s.MeanMs = d.mean
		s.MaxMs = d.mean * 6
		s.TotalMs = float64(s.Calls) * s.MeanMs
		s.HasRates, s.CallsPerSec, s.MsPerSec = true, d.rate, d.rate*d.mean
		if w := waited[d.query]; pile > 0 && (w > 0 || isPileUp(d.query)) {
			// The calls that waited behind the chain until the API's
			// 25 s request timeout gave up on them.
			slow := 40 + int64(pile)*3
			waitMs := float64(w.Milliseconds()) + float64(slow)*25000
			s.TotalMs += waitMs
			s.Calls += slow
			s.MeanMs = s.TotalMs / float64(s.Calls)
			s.MaxMs = max(s.MaxMs, float64(pile)*1000)
			// Each waiter retries about once a second (its request
			// times out and comes back), each retry spending its wait.
			s.CallsPerSec = d.rate + float64(waiting[d.query])
			s.MsPerSec = float64(waiting[d.query]) * 1000
		}
		s.Rows = s.Calls
		s.SharedHit = s.Calls * 12
		s.SharedRead = s.Calls / 40
		if d.query == reportQuery {
			s.TempRead, s.TempWritten, s.SharedRead = 182000, 182000, s.Calls*90000
		}
		st.Statements = append(st.Statements, s)
	}
	sort.SliceStable(st.Statements, func(i, j int) bool { return st.Statements[i].TotalMs > st.Statements[j].TotalMs })

	// The replica replays what the primary writes; the bad build's write
	// storm (and the report's long query on it) puts it behind.
	lagBytes := int64(180<<10) + int64(w.intensity*float64(420<<20))
	lagTime := 40*time.Millisecond + time.Duration(w.intensity*float64(95*time.Second))
	// WAL positions start where a server that ran for months would be.
	const walBase = int64(0x1A) << 32
	head := walBase + int64(w.tick)<<20
	rp := &sources.PGReplication{PGViewMeta: meta, CurrentLSN: lsn(head)}
	rp.Senders = []sources.WalSender{
		{PID: 212, BackendStart: w.origin.Add(-72 * time.Hour), User: "replicator", Application: "nudgecampaign-replica",
			ClientAddr: "10.0.3.41", State: "streaming", SyncState: "async", SentLSN: rp.CurrentLSN,
			ReplayLSN: lsn(head - lagBytes), WriteLagBytes: lagBytes / 20, FlushLagBytes: lagBytes / 10,
			ReplayLagBytes: lagBytes, WriteLag: lagTime / 30, FlushLag: lagTime / 20, ReplayLag: lagTime},
		{PID: 214, BackendStart: w.origin.Add(-30 * time.Hour), User: "replicator", Application: "analytics_sub",
			ClientAddr: "10.0.7.12", State: "streaming", SyncState: "async", SentLSN: rp.CurrentLSN,
			ReplayLSN: lsn(head - 64<<10), WriteLagBytes: 16 << 10, FlushLagBytes: 32 << 10, ReplayLagBytes: 64 << 10,
			WriteLag: 3 * time.Millisecond, FlushLag: 5 * time.Millisecond, ReplayLag: 9 * time.Millisecond},
	}
	rp.Slots = []sources.ReplicationSlot{
		{Name: "analytics_sub", Type: "logical", Plugin: "pgoutput", Database: database, Active: true, ActivePID: 214,
			RestartLSN: rp.Senders[1].ReplayLSN, RetainedBytes: 96 << 10, WALStatus: "reserved"},
		{Name: "etl_export_2023", Type: "logical", Plugin: "pgoutput", Database: database,
			RestartLSN: lsn(walBase - 14<<30), RetainedBytes: head - (walBase - 14<<30), WALStatus: "extended"},
		{Name: "nudgecampaign_replica", Type: "physical", Active: true, ActivePID: 212,
			RestartLSN: rp.Senders[0].ReplayLSN, RetainedBytes: lagBytes, WALStatus: "reserved"},
	}

	deadRise := int64(0)
	if pile > 0 && w.root != nil && !w.root.gone {
		deadRise = int64(pile) * 900 // updates that rolled back after timing out
	}
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tb := &sources.PGTables{PGViewMeta: meta, Tables: []sources.TableStat{
		{RelID: 16412, Schema: "public", Name: "sessions", Live: 1_240_000, Dead: 880_000, SizeBytes: 1_900 << 20,
			LastAutovacuum: ago(9 * 24 * time.Hour), LastAutoanalyze: ago(9 * 24 * time.Hour), SeqScan: 412, IdxScan: 88_000_000},
		{RelID: 16398, Schema: "public", Name: "email_deliveries", Live: 48_200_000, Dead: 6_100_000 + deadRise, SizeBytes: 61 << 30,
			LastAutovacuum: ago(3*24*time.Hour + 4*time.Hour), LastAutoanalyze: ago(26 * time.Hour), SeqScan: 9, IdxScan: 2_400_000_000},
		{RelID: 16390, Schema: "public", Name: "contacts", Live: 9_800_000, Dead: 310_000, SizeBytes: 7_400 << 20,
			LastAutovacuum: ago(14 * time.Hour), LastAutoanalyze: ago(14 * time.Hour), SeqScan: 31, IdxScan: 910_000_000},
		{RelID: 16384, Schema: "public", Name: "campaigns", Live: 41_000, Dead: 2_300 + deadRise/30, SizeBytes: 38 << 20,
			LastVacuum: ago(40 * 24 * time.Hour), LastAutovacuum: ago(2 * time.Hour), LastAutoanalyze: ago(2 * time.Hour),
			SeqScan: 1_200, IdxScan: 310_000_000},
		{RelID: 16402, Schema: "public", Name: "users", Live: 182_000, Dead: 1_100, SizeBytes: 96 << 20,
			LastAutovacuum: ago(20 * time.Hour), LastAutoanalyze: ago(20 * time.Hour), SeqScan: 88, IdxScan: 120_000_000},
	}}
	sort.SliceStable(tb.Tables, func(i, j int) bool { return tb.Tables[i].Dead > tb.Tables[j].Dead })

	ix := &sources.PGIndexes{PGViewMeta: meta, Indexes: []sources.IndexStat{
		{RelID: 16433, Schema: "public", Table: "campaigns", Name: "idx_campaigns_legacy_slug", SizeBytes: 180 << 20},
		{RelID: 16441, Schema: "public", Table: "email_deliveries", Name: "idx_email_deliveries_provider_id", SizeBytes: 3_100 << 20},
		{RelID: 16445, Schema: "public", Table: "contacts", Name: "contacts_list_id_email_key", Unique: true, Scans: 0, SizeBytes: 610 << 20},
		{RelID: 16439, Schema: "public", Table: "email_deliveries", Name: "idx_email_deliveries_campaign_status", Scans: 1_900_000_000, TupRead: 8_800_000_000, SizeBytes: 4_200 << 20},
		{RelID: 16399, Schema: "public", Table: "email_deliveries", Name: "email_deliveries_pkey", Unique: true, Scans: 520_000_000, TupRead: 520_000_000, SizeBytes: 2_900 << 20},
		{RelID: 16385, Schema: "public", Table: "campaigns", Name: "campaigns_pkey", Unique: true, Scans: 310_000_000, TupRead: 310_000_000, SizeBytes: 2 << 20},
	}}
	sort.SliceStable(ix.Indexes, func(i, j int) bool { return ix.Indexes[i].Scans < ix.Indexes[j].Scans })

	db := &sources.PGDatabases{PGViewMeta: meta, MaxConnections: maxConns}
	for name, n := range a.ByDatabase {
		db.Databases = append(db.Databases, sources.DatabaseStat{Name: name, Backends: n, ConnLimit: -1,
			Commits: int64(secs * 410), Rollbacks: int64(secs*3) + deadRise, BlksHit: int64(secs * 52000), BlksRead: int64(secs * 610),
			Deadlocks: 2, TempBytes: 2 << 30})
	}
	db.Databases = append(db.Databases, sources.DatabaseStat{Name: "postgres", ConnLimit: -1, Commits: int64(secs * 2), BlksHit: int64(secs * 30)})
	sort.Slice(db.Databases, func(i, j int) bool { return db.Databases[i].Backends > db.Databases[j].Backends })

	pr := &sources.PGProgress{PGViewMeta: meta}
	for _, b := range a.Backends {
		if b.BackendType == "autovacuum worker" {
			rel := strings.TrimPrefix(b.Query, "autovacuum: VACUUM ANALYZE ")
			done := int64(now.Sub(b.QueryStart)/time.Second) * 4
			pr.Ops = append(pr.Ops, sources.ProgressOp{Command: "VACUUM", PID: b.PID, Database: b.Database, Relation: rel,
				Phase: "scanning heap", Done: min(done, 100), Total: 100})
		}
	}
	v := &sources.PGViews{Statements: st, Replication: rp, Tables: tb, Indexes: ix, Databases: db, Progress: pr}
	w.applyMaint(v)
	return v
}

func isPileUp(q string) bool {
	for _, p := range pileUpQueries {
		if p == q {
			return true
		}
	}
	return false
}

// lsn prints a WAL position as PostgreSQL does.
func lsn(n int64) string {
	n = max(n, 0)
	const hex = "0123456789ABCDEF"
	format := func(v uint32) string {
		if v == 0 {
			return "0"
		}
		var b []byte
		for v > 0 {
			b = append([]byte{hex[v&15]}, b...)
			v >>= 4
		}
		return string(b)
	}
	return format(uint32(uint64(n)>>32)) + "/" + format(uint32(n))
}

// pgMaint is what the operator's maintenance changed in the demo primary:
// dropped slots stay dropped, a vacuumed table starts again from no dead
// tuples. It resets with the loop, like everything the script made.
type pgMaint struct {
	dropped  map[string]bool
	vacuumed map[uint32]time.Time
	analyzed map[uint32]time.Time
}

// applyMaint makes the views show what maintenance did.
func (w *World) applyMaint(v *sources.PGViews) {
	m := &w.maint
	if len(m.dropped) > 0 {
		kept := v.Replication.Slots[:0:0]
		for _, s := range v.Replication.Slots {
			if !m.dropped[s.Name] {
				kept = append(kept, s)
			}
		}
		v.Replication.Slots = kept
	}
	for i := range v.Tables.Tables {
		t := &v.Tables.Tables[i]
		if at, ok := m.vacuumed[t.RelID]; ok {
			t.LastVacuum, t.Dead = at, 0
		}
		if at, ok := m.analyzed[t.RelID]; ok {
			t.LastAnalyze = at
		}
	}
}

// views is pgViews of the activity now, maintenance applied; w.mu held.
func (w *World) views() *sources.PGViews {
	a := &sources.PGActivity{Backends: w.rows(), ByDatabase: map[string]int{}}
	return w.pgViews(a)
}

// LookupSlot reads a slot of the demo primary.
func (s *PostgresSource) LookupSlot(ctx context.Context, name string) (sources.ReplicationSlot, bool, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return sources.ReplicationSlot{}, false, err
	}
	defer w.mu.Unlock()
	for _, sl := range w.views().Replication.Slots {
		if sl.Name == name {
			return sl, true, nil
		}
	}
	return sources.ReplicationSlot{}, false, nil
}

// DropInactiveSlot drops an inactive slot; its restart_lsn never moves in
// the demo, so only activity and existence are checked.
func (s *PostgresSource) DropInactiveSlot(ctx context.Context, name, _ string) (bool, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return false, err
	}
	defer w.mu.Unlock()
	for _, sl := range w.views().Replication.Slots {
		if sl.Name == name && !sl.Active {
			if w.maint.dropped == nil {
				w.maint.dropped = map[string]bool{}
			}
			w.maint.dropped[name] = true
			return true, nil
		}
	}
	return false, nil
}

// LookupTable reads a table of the demo primary by oid.
func (s *PostgresSource) LookupTable(ctx context.Context, relid uint32) (sources.TableStat, bool, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return sources.TableStat{}, false, err
	}
	defer w.mu.Unlock()
	for _, t := range w.views().Tables.Tables {
		if t.RelID == relid {
			return t, true, nil
		}
	}
	return sources.TableStat{}, false, nil
}

// MaintainTable "runs" ANALYZE, VACUUM (ANALYZE) or REINDEX TABLE
// CONCURRENTLY: the table's figures change at once (a reindex changes none
// the demo shows).
func (s *PostgresSource) MaintainTable(ctx context.Context, relid uint32, schema, name string, op sources.TableOp) (string, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return "", err
	}
	defer w.mu.Unlock()
	m := &w.maint
	if m.vacuumed == nil {
		m.vacuumed, m.analyzed = map[uint32]time.Time{}, map[uint32]time.Time{}
	}
	switch op {
	case sources.TableVacuum:
		m.vacuumed[relid] = w.at()
		m.analyzed[relid] = w.at()
	case sources.TableAnalyze:
		m.analyzed[relid] = w.at()
	}
	return op.Statement() + " " + schema + "." + name + " done", nil
}

// CancelAutovacuum stops the demo's autovacuum worker pid if it is still
// the one started at start.
func (s *PostgresSource) CancelAutovacuum(ctx context.Context, pid int32, start time.Time) (bool, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return false, err
	}
	defer w.mu.Unlock()
	for _, b := range w.backends {
		if b.PID == pid && b.BackendStart.Equal(start) && b.BackendType == "autovacuum worker" {
			w.terminate(b)
			return true, nil
		}
	}
	return false, nil
}
