// Package postgres is the PostgreSQL source: it reads pg_stat_activity and the
// figures around it in one round trip per tick, and cancels or terminates
// backends for the ops Executor (it satisfies ops.BackendSignaler without
// importing ops).
//
// It holds one monitoring connection, opened lazily by Fetch and reopened
// after a failure, and opens a second connection only while an action runs.
// Both identify themselves as application_name=flightdeck and carry a
// server-side statement_timeout, so a sick server costs a bounded wait.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// AppName is the application_name of every connection flightdeck opens.
const AppName = "flightdeck"

// DefaultTimeout bounds one query round trip when Options.Timeout is zero.
const DefaultTimeout = 700 * time.Millisecond

// actionIdle is how long the action connection is kept after its last use,
// so the lookup and the signals of one Execute share it.
const actionIdle = 10 * time.Second

// Options configure a Source.
type Options struct {
	// Name is the config name ("main"); the source is called "pg main".
	Name string
	// DSN is a libpq connection string, URL or key=value. Empty means libpq
	// conventions: PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, ~/.pgpass,
	// PGSERVICE and the service file.
	DSN string
	// Timeout bounds one query round trip on the client side (default
	// 700ms). The server gets statement_timeout = Timeout-200ms (at least
	// half of Timeout) so it gives up first and the connection survives; a
	// connection attempt gets 2×Timeout unless the DSN sets connect_timeout.
	Timeout time.Duration
	// Log receives connection events; nil discards them.
	Log *slog.Logger
	// Wants says which optional views to read; nil is sources.ViewWants,
	// the process's registry the panes and runbooks write.
	Wants *sources.Wants
}

// Source polls one PostgreSQL server. It is safe for concurrent use: Fetch
// (the Hub) and the action methods (the Executor) run on different
// goroutines and different connections.
type Source struct {
	name    string
	cfg     *pgx.ConnConfig
	timeout time.Duration
	log     *slog.Logger

	monMu sync.Mutex // guards mon; held for a whole Fetch
	mon   *session

	actMu    sync.Mutex // guards act; held for a whole action statement
	actIdle  time.Duration
	act      *session
	actUsed  time.Time
	actTimer *time.Timer

	ownMu sync.Mutex
	own   map[int32]bool // pids of our own open connections

	// lastRows sizes the next snapshot's slice.
	lastRows atomic.Int64

	// wants says which optional views are on screen; views is what was
	// read of them (guarded by monMu).
	wants     *sources.Wants
	views     viewState
	viewEvery map[sources.PGView]time.Duration // overrides for tests
}

// session is one open connection and what was learned about the server when
// it was opened.
type session struct {
	conn *pgx.Conn
	pid  int32
	info serverInfo
	// activitySQL is the per-tick statement, built for this server version.
	activitySQL string
	lookupSQL   string
	intern      interner // used under the lock that guards the session
}

// serverInfo holds the settings that need a server restart to change (and a
// restart drops our connection), so they are read once per connection rather
// than every tick.
type serverInfo struct {
	version     int // server_version_num
	role        string
	maxConn     int
	reserved    int
	querySize   int
	readStatsBy string // "USAGE" (15+) or "MEMBER": how the server checks pg_read_all_stats
}

// New validates the DSN and returns a Source. It does not connect: an
// unreachable server is an error of Fetch (shown in the pane, retried by the
// Hub), not of startup.
func New(opts Options) (*Source, error) {
	cfg, err := pgx.ParseConfig(opts.DSN)
	if err != nil {
		// pgx redacts passwords in parse errors only on a best-effort basis;
		// scrub every secret we can find, and don't wrap: the wrapped error
		// carries the raw DSN.
		masked, secrets := redact.DSNSecrets(opts.DSN)
		msg := err.Error()
		// pgx quotes the whole DSN ("cannot parse `...`: invalid port");
		// we print our own masked copy, so keep only the reason.
		if strings.HasPrefix(msg, "cannot parse `") {
			if i := strings.LastIndex(msg, "`: "); i >= 0 {
				msg = msg[i+3:]
			}
		}
		return nil, fmt.Errorf("postgres %s: bad DSN %q: %s", opts.Name, masked, sanitize.Text(redact.Scrub(msg, secrets...)))
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	stmt := max(timeout-200*time.Millisecond, timeout/2)
	cfg.RuntimeParams["application_name"] = AppName
	cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(stmt.Milliseconds())
	// Our statements never wait on locks; if one did, fail fast.
	cfg.RuntimeParams["lock_timeout"] = fmt.Sprint(stmt.Milliseconds())
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 2 * timeout
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wants := opts.Wants
	if wants == nil {
		wants = sources.ViewWants
	}
	return &Source{
		wants:   wants,
		name:    "pg " + opts.Name,
		cfg:     cfg,
		timeout: timeout,
		actIdle: actionIdle,
		log:     log.With("source", "pg "+opts.Name),
		own:     map[int32]bool{},
	}, nil
}

// Name is "pg " + Options.Name.
func (s *Source) Name() string { return s.name }

// Kind is sources.KindPostgres.
func (s *Source) Kind() sources.Kind { return sources.KindPostgres }

// Close closes both connections. The Source must not be used afterwards.
func (s *Source) Close() error {
	s.monMu.Lock()
	s.dropMon()
	s.monMu.Unlock()
	s.actMu.Lock()
	s.dropAct()
	if s.actTimer != nil {
		s.actTimer.Stop()
	}
	s.actMu.Unlock()
	return nil
}

// OwnPIDs returns the pids of the connections this Source has open now.
func (s *Source) OwnPIDs() []int32 {
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	out := make([]int32, 0, len(s.own))
	for pid := range s.own {
		out = append(out, pid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (s *Source) isOwn(pid int32) bool {
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	return s.own[pid]
}

// connect opens a connection and reads the server's fixed settings. The
// whole attempt is bounded by ConnectTimeout (and ctx).
func (s *Source) connect(ctx context.Context) (*session, error) {
	cfg := s.cfg.Copy()
	addr := address(cfg)
	limit := effective(ctx, cfg.ConnectTimeout)
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, humanize(ctx, "connect "+addr, err, limit)
	}
	sess := &session{conn: conn, pid: int32(conn.PgConn().PID())}
	// The simple protocol: this runs once per connection, preparing it
	// would cost a round trip for nothing.
	err = conn.QueryRow(cctx, helloSQL, pgx.QueryExecModeSimpleProtocol).Scan(
		&sess.info.version, &sess.info.role, &sess.info.maxConn, &sess.info.reserved,
		&sess.info.querySize)
	if err != nil {
		_ = conn.Close(context.Background())
		return nil, humanize(ctx, "connect "+addr, err, limit)
	}
	sess.info.readStatsBy = "MEMBER"
	if sess.info.version >= 150000 {
		sess.info.readStatsBy = "USAGE"
	}
	sess.activitySQL = activityQuery(sess.info)
	sess.lookupSQL = lookupQuery(sess.info)
	s.ownMu.Lock()
	s.own[sess.pid] = true
	s.ownMu.Unlock()
	s.log.Debug("connected", "addr", addr, "pid", sess.pid, "server_version_num", sess.info.version, "role", sess.info.role)
	return sess, nil
}

// closeSession closes a connection we no longer trust (or need) and forgets
// its pid.
func (s *Source) closeSession(sess *session) {
	if sess == nil {
		return
	}
	s.ownMu.Lock()
	delete(s.own, sess.pid)
	s.ownMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = sess.conn.Close(ctx)
}

func (s *Source) dropMon() {
	s.closeSession(s.mon)
	s.mon = nil
}

func (s *Source) dropAct() {
	s.closeSession(s.act)
	s.act = nil
}

// Fetch reads one snapshot in one round trip. On any failure other than an
// error the server reported on a healthy connection, it drops the connection;
// the next Fetch reconnects (the Hub paces retries).
func (s *Source) Fetch(ctx context.Context) (sources.Payload, error) {
	s.monMu.Lock()
	defer s.monMu.Unlock()
	if s.mon == nil || s.mon.conn.IsClosed() {
		s.dropMon()
		sess, err := s.connect(ctx)
		if err != nil {
			s.log.Warn("connect failed", "err", err)
			return nil, err
		}
		s.mon = sess
	}
	limit := effective(ctx, s.timeout)
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	act, err := s.readActivity(qctx, s.mon)
	if err != nil {
		err = humanize(ctx, "", err, limit)
		if !serverSideOnly(err) || s.mon.conn.IsClosed() {
			s.log.Warn("dropping monitoring connection", "err", err)
			s.dropMon()
		}
		return nil, err
	}
	if err := s.readViews(ctx, s.mon, act); err != nil {
		err = humanize(ctx, "", err, limit)
		s.log.Warn("dropping monitoring connection", "err", err)
		s.dropMon()
		return nil, err
	}
	return act, nil
}

// effective is the timeout that will apply: ours, or the caller's deadline
// if that comes first. Error messages quote it.
func effective(ctx context.Context, d time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			return left.Round(10 * time.Millisecond)
		}
	}
	return d
}
