package demo

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Server settings of the simulated primary.
const (
	maxConns      = 100
	reservedConns = 3
	usableConns   = maxConns - reservedConns
	maxClients    = 91 // the API's pools stop growing here
	database      = "nudgecampaign"
)

// Rows the lock chain is about.
const (
	rowCampaign   = "campaigns:4711"
	rowDeliveries = "email_deliveries:campaign=4711"
)

// The query the root blocker ran before it went idle in transaction.
const rootQuery = "UPDATE campaigns SET status = 'sending' WHERE id = 4711"

// backend is one simulated pg_stat_activity row plus what drives it.
type backend struct {
	sources.Backend
	tag     string   // script role: "root", "w1".., "report", "av"; "" for pool members
	user    string   // which query mix it draws from
	pool    bool     // runs the app's random short queries
	extra   bool     // opened during the pile-up; closed once it is over
	inTx    bool     // inside an explicit transaction
	holds   []string // rows its transaction has locked
	waitRow string   // row it waits to lock, "" if none
	// waitSince orders a row's queue.
	waitSince  int64
	finishAt   int64 // tick the running statement ends; 0 if none
	rollbackAt int64 // tick the app rolls an aborted transaction back; 0 if none
	idleSince  int64
	woken      bool
	gone       bool
}

var queryMix = map[string][]string{
	"app": {
		"SELECT id, name, status, scheduled_at FROM campaigns WHERE account_id = $1 ORDER BY created_at DESC LIMIT 50",
		"SELECT id, email, first_name FROM contacts WHERE list_id = $1 AND unsubscribed_at IS NULL ORDER BY id LIMIT 500 OFFSET $2",
		"INSERT INTO email_deliveries (campaign_id, contact_id, status, created_at) VALUES ($1, $2, 'queued', now())",
		"UPDATE email_deliveries SET opened_at = now() WHERE id = $1",
		"SELECT count(*) FROM email_deliveries WHERE campaign_id = $1 AND status = 'opened'",
		"SELECT id, email, plan, account_id FROM users WHERE id = $1",
		"UPDATE contacts SET last_activity_at = now() WHERE id = $1",
	},
	"app-bad": {
		"INSERT INTO contacts (list_id, email, first_name, created_at) SELECT $1, unnest($2::text[]), unnest($3::text[]), now() ON CONFLICT (list_id, email) DO NOTHING",
		"SELECT id, email FROM contacts WHERE list_id = $1 AND email = ANY($2)",
	},
	"worker": {
		"SELECT id, campaign_id, contact_id FROM email_deliveries WHERE status = 'queued' ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED",
		"UPDATE email_deliveries SET status = 'sent', sent_at = now(), provider_id = $1 WHERE id = $2",
		"UPDATE campaigns SET sent_count = sent_count + $1 WHERE id = $2",
		"SELECT id, email, first_name, custom_fields FROM contacts WHERE id = ANY($1)",
		"DELETE FROM sessions WHERE expires_at < now() - interval '7 days'",
	},
	"pgbouncer":         {"SELECT usename, passwd FROM pg_shadow WHERE usename=$1"},
	"grafana":           {"SELECT datname, numbackends, xact_commit, xact_rollback, blks_read FROM pg_stat_database"},
	"postgres_exporter": {"SELECT pg_database.datname, pg_database_size(pg_database.datname) FROM pg_database"},
}

var activeProb = map[string]float64{"app": 0.18, "worker": 0.3, "pgbouncer": 0.04, "grafana": 0.1, "postgres_exporter": 0.07}

const reportQuery = "SELECT date_trunc('day', d.created_at) AS day, c.name, count(*) AS sent, " +
	"count(*) FILTER (WHERE d.opened_at IS NOT NULL) AS opened FROM email_deliveries d " +
	"JOIN campaigns c ON c.id = d.campaign_id WHERE d.created_at > now() - interval '90 days' " +
	"GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC"

const psqlDescribe = "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c " +
	"LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " +
	"WHERE c.relname OPERATOR(pg_catalog.~) '^(email_deliveries)$' COLLATE pg_catalog.default " +
	"AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3"

func (w *World) allocPID() int32 {
	w.nextPID += 1 + int32(w.ids.IntN(37))
	if w.nextPID > 4_000_000 {
		w.nextPID = 11000
	}
	return w.nextPID
}

// open adds a client backend, idle, with a fresh pid.
func (w *World) open(user, app, addr string, start time.Time) *backend {
	b := &backend{user: user, pool: activeProb[user] > 0, idleSince: w.tick}
	b.PID = w.allocPID()
	b.BackendStart = start
	b.BackendType = "client backend"
	b.Database = database
	b.User = user
	b.Application = sanitize.Text(app)
	b.ClientAddr = addr
	b.State = "idle"
	b.WaitType, b.WaitEvent = "Client", "ClientRead"
	if qs := queryMix[user]; len(qs) > 0 {
		b.Query = qs[w.rng.IntN(len(qs))]
		b.QueryStart = start.Add(time.Duration(w.rng.IntN(800)) * time.Millisecond)
	}
	b.StateChange = b.QueryStart
	if b.StateChange.IsZero() {
		b.StateChange = start
	}
	w.backends = append(w.backends, b)
	return b
}

func dbUser(d *deployment) string {
	if d.name == "nudgecampaign-worker" {
		return "worker"
	}
	return "app"
}

// podUp opens the new pod's connection pool.
func (w *World) podUp(d *deployment, ip string) {
	for range d.poolPerPod {
		w.open(dbUser(d), d.app, ip, w.at())
	}
}

// podGone closes every connection the pod held, as its process exits.
func (w *World) podGone(ip string) {
	for _, b := range slices.Clone(w.backends) {
		if b.ClientAddr == ip && b.IsClient() {
			w.terminate(b)
		}
	}
}

// initPG builds the calm server: background processes, the apps' pools,
// a few humans and tools.
func (w *World) initPG() {
	base := w.wall(w.loopStart)
	boot := w.origin.Add(-(9*24*time.Hour + 4*time.Hour + 17*time.Minute)).Truncate(time.Second)
	sys := []struct{ typ, wait string }{
		{"checkpointer", "CheckpointerMain"},
		{"background writer", "BgWriterHibernate"},
		{"walwriter", "WalWriterMain"},
		{"autovacuum launcher", "AutoVacuumMain"},
		{"logical replication launcher", "LogicalLauncherMain"},
	}
	for i, s := range sys {
		b := &backend{}
		b.PID = w.sysPIDs[i]
		b.BackendStart = boot.Add(time.Duration(i*3+2) * time.Millisecond)
		b.BackendType = s.typ
		b.WaitType, b.WaitEvent = "Activity", s.wait
		w.backends = append(w.backends, b)
	}
	ws := &backend{}
	ws.PID = w.sysPIDs[5] + 9000
	ws.BackendStart = w.origin.Add(-(3*24*time.Hour + 2*time.Hour + 41*time.Minute)).Truncate(time.Millisecond)
	ws.BackendType = "walsender"
	ws.User = "replicator"
	ws.Application = "db-replica-1"
	ws.ClientAddr = "10.0.0.31"
	ws.State = "active"
	ws.Query = "START_REPLICATION SLOT \"replica_1\" 3A/5F000000 TIMELINE 1"
	ws.QueryStart, ws.StateChange = ws.BackendStart.Add(40*time.Millisecond), ws.BackendStart.Add(41*time.Millisecond)
	ws.WaitType, ws.WaitEvent = "Activity", "WalSenderMain"
	w.backends = append(w.backends, ws)

	for _, d := range w.deps {
		if d.poolPerPod == 0 {
			continue
		}
		for _, p := range d.curPods {
			span := base.Sub(p.rev.created) - time.Minute
			for range d.poolPerPod {
				w.open(dbUser(d), d.app, p.ip, p.rev.created.Add(time.Duration(w.rng.Int64N(int64(span)))))
			}
		}
	}
	ago := func(d time.Duration) time.Time {
		return base.Add(-d - time.Duration(w.rng.IntN(1000))*time.Millisecond)
	}
	w.open("pgbouncer", "pgbouncer", "10.0.0.5", ago(26*time.Hour))
	w.open("pgbouncer", "pgbouncer", "10.0.0.5", ago(3*time.Hour+12*time.Minute))
	w.open("grafana", "Grafana", "10.0.4.17", ago(47*time.Minute))
	w.open("postgres_exporter", "postgres_exporter", "10.0.4.22", ago(3*24*time.Hour))

	rep := w.open("analyst", "psql", "10.0.9.23", ago(38*time.Minute))
	rep.tag = "report"
	rep.State = "active"
	rep.Query = sanitize.Text(reportQuery)
	rep.QueryStart = ago(95 * time.Second)
	rep.XactStart, rep.StateChange = rep.QueryStart, rep.QueryStart
	rep.WaitType, rep.WaitEvent = "IO", "DataFileRead"
	rep.finishAt = w.loopStart + 240

	// An application name carrying a terminal escape (a window-title
	// change), as anyone can set: sanitized on the way in like all text.
	odd := w.open("analyst", "\x1b]0;pwned\x07psql", "10.0.9.41", ago(2*time.Hour+5*time.Minute))
	odd.Query = sanitize.Text(psqlDescribe)
	odd.QueryStart = ago(6*time.Minute + 12*time.Second)
	odd.StateChange = odd.QueryStart.Add(37 * time.Millisecond)

	self := w.open("flightdeck", "flightdeck", "10.0.0.12", w.wall(w.loopStart).Add(-2*time.Second))
	self.Self = true
	self.tag = "self"
	self.State = "active"
	self.Query = "SELECT a.pid, a.backend_start, a.backend_type, a.datname, a.usename, a.application_name, a.client_addr::text, a.state, a.wait_event_type, a.wait_event, a.xact_start, a.query_start, a.state_change, a.query, pg_blocking_pids(a.pid) FROM pg_stat_activity a"
	self.WaitType, self.WaitEvent = "", ""
}

func (w *World) clients() int {
	n := 0
	for _, b := range w.backends {
		if b.IsClient() {
			n++
		}
	}
	return n
}

func (w *World) lockWaiters() int {
	n := 0
	for _, b := range w.backends {
		if b.waitRow != "" {
			n++
		}
	}
	return n
}

// terminate ends a backend: its transaction rolls back, its locks go.
func (w *World) terminate(b *backend) {
	b.gone = true
	w.backends = slices.DeleteFunc(w.backends, func(x *backend) bool { return x == b })
	w.releaseHolds(b)
}

// releaseHolds frees the rows h's transaction locked. Whoever queued for
// them proceeds; at one-second resolution the whole queue behind them
// (and behind those) gets through at once, so release is transitive.
func (w *World) releaseHolds(h *backend) {
	rows := h.holds
	h.holds = nil
	for _, row := range rows {
		for _, b := range w.backends {
			if b.waitRow == row {
				w.wake(b)
			}
		}
	}
}

func (w *World) wake(b *backend) {
	b.waitRow = ""
	b.State = "active"
	b.WaitType, b.WaitEvent = "", ""
	b.finishAt = w.tick + 1 + int64(w.rng.IntN(2))
	b.woken = true
	w.releaseHolds(b)
}

// finish ends the running statement (and its transaction: the apps commit
// right after).
func (w *World) finish(b *backend) {
	b.finishAt = 0
	b.State = "idle"
	b.StateChange = w.at()
	b.WaitType, b.WaitEvent = "Client", "ClientRead"
	b.XactStart = time.Time{}
	b.inTx = false
	b.idleSince = w.tick
	w.releaseHolds(b)
	if b.woken {
		b.woken = false
		b.pool = activeProb[b.user] > 0
	}
}

func (w *World) startQuery(b *backend) {
	qs := queryMix[b.user]
	if b.user == "app" {
		if bad, _ := w.apiPods(); bad > 0 && w.rng.IntN(3) == 0 {
			qs = queryMix["app-bad"]
		}
	}
	b.Query = qs[w.rng.IntN(len(qs))]
	b.State = "active"
	b.QueryStart = w.at()
	b.XactStart, b.StateChange = b.QueryStart, b.QueryStart
	b.WaitType, b.WaitEvent = "", ""
	switch w.rng.IntN(8) {
	case 0:
		b.WaitType, b.WaitEvent = "IO", "DataFileRead"
	case 1:
		b.WaitType, b.WaitEvent = "LWLock", "WALWrite"
	}
	b.finishAt = w.tick + 1
	if w.rng.Float64() < 0.15+0.4*w.intensity {
		b.finishAt += 1 + int64(w.rng.IntN(3))
	}
}

// stepPG runs one second of the server: the script, statements ending,
// the pools' traffic, autovacuum, and the pools shrinking back.
func (w *World) stepPG(t int64) {
	w.stepPileUp(t)
	var gone []*backend
	for _, b := range w.backends {
		switch {
		case b.waitRow != "" || b.Self:
		case !b.IsClient():
			if b.finishAt > 0 && w.tick >= b.finishAt {
				gone = append(gone, b)
			}
		case b.finishAt > 0 && w.tick >= b.finishAt:
			w.finish(b)
		case b.rollbackAt > 0 && w.tick >= b.rollbackAt:
			// The app got the error and rolled back.
			b.rollbackAt = 0
			b.inTx = false
			b.XactStart = time.Time{}
			b.State, b.Query, b.StateChange = "idle", "ROLLBACK", w.at()
			b.WaitType, b.WaitEvent = "Client", "ClientRead"
			w.releaseHolds(b)
			b.pool = activeProb[b.user] > 0
		case b.tag == "report" && b.State == "active":
			if w.rng.IntN(2) == 0 {
				b.WaitType, b.WaitEvent = "IO", "DataFileRead"
			} else {
				b.WaitType, b.WaitEvent = "", ""
			}
		case b.pool && b.State == "idle" && w.rng.Float64() < activeProb[b.user]+0.2*w.intensity*b2f(b.user == "app"):
			w.startQuery(b)
		}
	}
	for _, b := range gone {
		w.terminate(b)
	}
	if t%75 == 20 {
		tables := []string{"email_deliveries", "contacts", "campaigns", "sessions"}
		av := &backend{tag: "av"}
		av.PID = w.allocPID()
		av.BackendStart = w.at()
		av.BackendType = "autovacuum worker"
		av.Database = database
		av.State = "active"
		av.Query = "autovacuum: VACUUM ANALYZE public." + tables[int(t/75)%len(tables)]
		av.XactStart, av.QueryStart, av.StateChange = av.BackendStart, av.BackendStart, av.BackendStart
		av.WaitType, av.WaitEvent = "Timeout", "VacuumDelay"
		av.finishAt = w.tick + 25
		w.backends = append(w.backends, av)
	}
	if w.lockWaiters() == 0 {
		for _, b := range w.backends {
			if b.extra && b.State == "idle" {
				w.terminate(b) // the pool's idle timeout
				break
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// take borrows an idle pool connection of user's app for the script, or
// opens a new one.
func (w *World) take(user string) *backend {
	for _, b := range w.backends {
		if b.user == user && b.pool && !b.extra && b.State == "idle" && b.tag == "" {
			b.pool = false
			return b
		}
	}
	d := w.dep("nudgecampaign-api")
	if user == "worker" {
		d = w.dep("nudgecampaign-worker")
	}
	if len(d.curPods)+len(d.oldPods) == 0 {
		return nil
	}
	pods := append(slices.Clone(d.curPods), d.oldPods...)
	b := w.open(user, d.app, pods[w.rng.IntN(len(pods))].ip, w.at())
	b.pool = false
	return b
}

// wait makes b run query inside a transaction and queue for row.
func (w *World) wait(b *backend, tag, row, query string) {
	if b == nil {
		return
	}
	b.tag = tag
	b.pool = false
	b.inTx = true
	b.State = "active"
	b.Query = sanitize.Text(query)
	b.QueryStart = w.at()
	b.XactStart = b.QueryStart.Add(-time.Duration(40+w.rng.IntN(400)) * time.Millisecond)
	b.StateChange = b.QueryStart
	b.waitRow = row
	b.waitSince = w.tick
	b.finishAt = 0
}

// stepPileUp is the lock-chain part of the script.
func (w *World) stepPileUp(t int64) {
	if t == pileUpAt {
		if bad, _ := w.apiPods(); bad > 0 {
			if r := w.take("app"); r != nil {
				w.root = r
				r.tag = "root"
				r.inTx = true
				r.State = "idle in transaction"
				r.Query = rootQuery
				r.QueryStart = w.at()
				r.XactStart = r.QueryStart.Add(-1312 * time.Millisecond)
				r.StateChange = r.QueryStart.Add(4 * time.Millisecond)
				r.WaitType, r.WaitEvent = "Client", "ClientRead"
				r.holds = []string{rowCampaign}
				r.idleSince = w.tick
			}
		}
	}
	r := w.root
	if r == nil || r.gone {
		return
	}
	switch dt := t - pileUpAt; dt {
	case 6:
		b := w.take("worker")
		w.wait(b, "w1", rowCampaign, "UPDATE campaigns SET sent_count = sent_count + $1, updated_at = now() WHERE id = $2")
		if b != nil {
			b.holds = []string{rowDeliveries}
			b.XactStart = b.QueryStart.Add(-2417 * time.Millisecond)
		}
	case 12:
		w.wait(w.extraConn(), "w2", rowCampaign, "UPDATE campaigns SET status = $1, updated_at = now() WHERE id = $2")
	case 18:
		w.wait(w.take("app"), "w3", rowCampaign, "SELECT id, status, sent_count FROM campaigns WHERE id = $1 FOR UPDATE")
	case 24:
		w.wait(w.take("worker"), "w4", rowDeliveries, "UPDATE email_deliveries SET status = 'sent', sent_at = now() WHERE campaign_id = $1 AND contact_id = $2")
	case 30:
		w.wait(w.take("worker"), "w5", rowDeliveries, "UPDATE email_deliveries SET status = 'sent', sent_at = now() WHERE campaign_id = $1 AND contact_id = $2")
	}
	// Requests time out behind the lock and retry; the API's pools grow.
	if dt := t - pileUpAt; dt > 2 && dt != 12 && (dt >= 30 || dt%2 == 0) && w.clients() < maxClients {
		k := w.extrasSpawned
		w.extrasSpawned++
		b := w.extraConn()
		if b != nil && k%3 == 2 {
			if (k/3)%2 == 0 {
				w.wait(b, "", rowCampaign, "UPDATE campaigns SET status = $1, updated_at = now() WHERE id = $2")
			} else {
				w.wait(b, "", rowDeliveries, "UPDATE email_deliveries SET opened_at = now() WHERE campaign_id = $1 AND contact_id = $2")
			}
		}
	}
	if w.tick-r.idleSince >= idleTxTimeout {
		// FATAL: terminating connection due to idle-in-transaction timeout
		w.terminate(r)
	}
}

// extraConn opens a new API connection from one of its pods.
func (w *World) extraConn() *backend {
	d := w.dep("nudgecampaign-api")
	pods := append(slices.Clone(d.curPods), d.oldPods...)
	if len(pods) == 0 {
		return nil
	}
	b := w.open("app", d.app, pods[w.extrasSpawned%len(pods)].ip, w.at())
	b.extra = true
	return b
}

// rows renders pg_stat_activity, pg_blocking_pids included: the first in a
// row's queue waits for the holder's transaction, the others for the tuple
// lock the first one holds.
func (w *World) rows() []sources.Backend {
	holder := map[string]*backend{}
	queues := map[string][]*backend{}
	for _, b := range w.backends {
		for _, r := range b.holds {
			holder[r] = b
		}
		if b.waitRow != "" {
			queues[b.waitRow] = append(queues[b.waitRow], b)
		}
	}
	for _, q := range queues {
		sort.SliceStable(q, func(i, j int) bool {
			if q[i].waitSince != q[j].waitSince {
				return q[i].waitSince < q[j].waitSince
			}
			return q[i].PID < q[j].PID
		})
	}
	out := make([]sources.Backend, 0, len(w.backends))
	for _, b := range w.backends {
		r := b.Backend
		r.BlockedBy = nil
		if b.Self {
			r.QueryStart = w.wallNow.Add(-2 * time.Millisecond)
			r.XactStart, r.StateChange = r.QueryStart, r.QueryStart
		}
		if b.waitRow != "" {
			q := queues[b.waitRow]
			r.WaitType = "Lock"
			if q[0] == b {
				r.WaitEvent = "transactionid"
				if h := holder[b.waitRow]; h != nil {
					r.BlockedBy = []int32{h.PID}
				}
			} else {
				r.WaitEvent = "tuple"
				r.BlockedBy = []int32{q[0].PID}
			}
		}
		if r.IsClient() {
			r.QueryID = queryID(r.Query)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// PostgresSource is the demo's "pg main" source: pg_stat_activity of the
// simulated primary. It also implements the ops BackendSignaler methods.
type PostgresSource struct{ w *World }

// Name is "pg main".
func (s *PostgresSource) Name() string { return "pg main" }

// Kind is sources.KindPostgres.
func (s *PostgresSource) Kind() sources.Kind { return sources.KindPostgres }

// Fetch returns every backend, background processes included (BackendType
// tells them apart), with the server's settings and tallies.
func (s *PostgresSource) Fetch(ctx context.Context) (sources.Payload, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return nil, err
	}
	defer w.mu.Unlock()
	a := &sources.PGActivity{
		Scripted:               w.scripted(),
		ServerVersion:          160004,
		MaxConnections:         maxConns,
		ReservedConnections:    reservedConns,
		TrackActivityQuerySize: 1024,
		Backends:               w.rows(),
		ByState:                map[string]int{},
		ByDatabase:             map[string]int{},
		ByUser:                 map[string]int{},
		ByApp:                  map[string]int{},
		CanSeeAll:              true,
		Now:                    w.wallNow,
	}
	for i := range a.Backends {
		b := &a.Backends[i]
		if !b.IsClient() {
			continue
		}
		a.Connections++
		a.ByState[b.State]++
		a.ByDatabase[b.Database]++
		a.ByUser[b.User]++
		a.ByApp[b.Application]++
		if !b.XactStart.IsZero() && (a.OldestXact == nil || b.XactStart.Before(a.OldestXact.XactStart)) {
			a.OldestXact = b
		}
		if (b.State == "idle in transaction" || b.State == "idle in transaction (aborted)") &&
			(a.LongestIdleX == nil || b.StateChange.Before(a.LongestIdleX.StateChange)) {
			a.LongestIdleX = b
		}
	}
	a.Views = w.pgViews(a)
	return a, nil
}

// LookupBackends returns the live rows of pids; pids that are gone are
// simply absent.
func (s *PostgresSource) LookupBackends(ctx context.Context, pids []int32) ([]sources.Backend, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return nil, err
	}
	defer w.mu.Unlock()
	var out []sources.Backend
	for _, r := range w.rows() {
		if slices.Contains(pids, r.PID) {
			out = append(out, r)
		}
	}
	return out, nil
}

// SignalBackend cancels or terminates pid if its backend_start still equals
// start, like pg_cancel_backend / pg_terminate_backend guarded by
// backend_start in the same statement. Terminating a lock holder lets its
// queue through. Cancelling an idle-in-transaction session does nothing, as
// in PostgreSQL. Background processes and flightdeck's own connection are
// refused.
func (s *PostgresSource) SignalBackend(ctx context.Context, pid int32, start time.Time, terminate bool) (bool, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return false, err
	}
	defer w.mu.Unlock()
	var b *backend
	for _, x := range w.backends {
		if x.PID == pid {
			b = x
		}
	}
	if b == nil || !b.BackendStart.Equal(start) {
		return false, nil
	}
	switch {
	case !b.IsClient():
		return false, fmt.Errorf("pid %d is a %s, not a client backend: not signalled", pid, b.BackendType)
	case b.Self:
		return false, fmt.Errorf("pid %d is flightdeck's own connection: not signalled", pid)
	}
	if terminate {
		w.terminate(b)
		return true, nil
	}
	if b.State != "active" {
		return true, nil // nothing running to cancel
	}
	// ERROR: canceling statement due to user request
	b.waitRow = ""
	b.finishAt = 0
	b.StateChange = w.at()
	b.WaitType, b.WaitEvent = "Client", "ClientRead"
	if b.inTx {
		b.State = "idle in transaction (aborted)"
		if b.user == "app" || b.user == "worker" {
			b.rollbackAt = w.tick + 1 + int64(w.rng.IntN(2))
		}
		return true, nil
	}
	b.State = "idle"
	b.XactStart = time.Time{}
	if b.woken {
		b.woken = false
		b.pool = activeProb[b.user] > 0
	}
	if b.tag == "report" {
		b.tag = ""
	}
	return true, nil
}
