package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// helloSQL runs once per connection. These settings all have postmaster
// context: changing them needs a restart, which drops our connection and
// makes us read them again. reserved_connections (16+) is added to
// superuser_reserved_connections because ordinary roles cannot use either.
const helloSQL = `SELECT current_setting('server_version_num')::int,
       current_user::text,
       current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
         + COALESCE(current_setting('reserved_connections', true)::int, 0),
       (SELECT setting::int FROM pg_settings WHERE name = 'track_activity_query_size')`

// hiddenQuery is what pg_stat_activity shows instead of another role's
// query text when we lack pg_read_all_stats.
const hiddenQuery = "<insufficient privilege>"

// unknownType is the BackendType of a hidden row that cannot be a client
// backend.
const unknownType = "unknown (hidden)"

// Header flags, computed by the server each tick: grants can change in the
// middle of an incident (someone runs GRANT pg_monitor), so they are not
// cached per connection.
const (
	flagSeeAll = 1 << iota
	flagSignal
	flagSuper
)

// activityColumns is the per-backend select list; scanRow reads it in this
// order. pg_blocking_pids walks the lock manager, so it runs only for the
// backends that actually wait on a heavyweight lock.
func activityColumns(info serverInfo) string {
	leader := "NULL::int"
	if info.version >= 130000 {
		leader = "a.leader_pid"
	}
	// query_id (14+) is pg_stat_statements' queryid of the running
	// statement, when compute_query_id is on (auto turns it on with the
	// extension loaded): the link from a backend to its statement's figures.
	queryID := "NULL::bigint"
	if info.version >= 140000 {
		queryID = "a.query_id"
	}
	return fmt.Sprintf(`a.pid, a.backend_start, a.backend_type, a.datname::text, a.usename::text, a.application_name,
       CASE WHEN a.client_port = -1 THEN 'local' ELSE host(a.client_addr) END,
       a.state, a.wait_event_type, a.wait_event, a.xact_start, a.query_start, a.state_change,
       a.query, octet_length(a.query) >= %d,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END,
       %s, %s`, info.querySize-1, leader, queryID)
}

// activityQuery is the one statement of a tick: every backend, then one
// header row (pid NULL) with the server's clock and what our role may see
// and do. A header row instead of header columns keeps the per-backend rows
// small: the NULLs cost 4 bytes each.
func activityQuery(info serverInfo) string {
	return fmt.Sprintf(`SELECT %s,
       NULL::timestamptz AS now, NULL::int AS flags
  FROM pg_stat_activity a
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       now(),
       CASE WHEN pg_has_role('pg_read_all_stats', '%s') THEN %d ELSE 0 END
     | CASE WHEN pg_has_role('pg_signal_backend', 'USAGE') THEN %d ELSE 0 END
     | CASE WHEN current_setting('is_superuser')::bool THEN %d ELSE 0 END`,
		activityColumns(info), info.readStatsBy, flagSeeAll, flagSignal, flagSuper)
}

// lookupQuery re-reads given pids for the Executor's target check.
func lookupQuery(info serverInfo) string {
	return fmt.Sprintf(`SELECT %s, NULL::timestamptz, NULL::int
  FROM pg_stat_activity a
 WHERE a.pid = ANY($1::int4[])`, activityColumns(info))
}

// Text columns of the select list, by position. They are read from the
// raw row rather than scanned (see interner).
const (
	colBackendType = 2
	colDatname     = 3
	colUsename     = 4
	colApp         = 5
	colClient      = 6
	colState       = 7
	colWaitType    = 8
	colWaitEvent   = 9
	colQuery       = 13
)

// rowScan holds the scan targets of one row, reused across rows.
type rowScan struct {
	pid                                pgtype.Int4
	backendStart                       pgtype.Timestamptz
	xactStart, queryStart, stateChange pgtype.Timestamptz
	truncated                          pgtype.Bool
	blockedBy                          []int32
	leader                             pgtype.Int4
	queryID                            pgtype.Int8
	now                                pgtype.Timestamptz
	flags                              pgtype.Int4
	dest                               []any
}

// targets are the Scan destinations; nil skips a text column, read raw.
func (r *rowScan) targets() []any {
	if r.dest == nil {
		r.dest = []any{&r.pid, &r.backendStart, nil, nil, nil, nil,
			nil, nil, nil, nil, &r.xactStart, &r.queryStart, &r.stateChange,
			nil, &r.truncated, &r.blockedBy, &r.leader, &r.queryID, &r.now, &r.flags}
	}
	return r.dest
}

// interner maps the raw bytes of a text column to its sanitized string.
// Most text in pg_stat_activity repeats from row to row and tick to tick
// (backend types, states, wait events, roles, application names, the same
// few statements of an application), so a tick mostly allocates nothing for
// text and sanitizes only what it has not seen. Text and name columns have
// the same bytes in the binary and text formats: their UTF-8.
type interner struct{ m map[string]string }

// internMax bounds the interner; past it, it starts over.
const internMax = 8192

func (in *interner) get(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if s, ok := in.m[string(raw)]; ok { // no allocation for the lookup
		return s
	}
	if in.m == nil || len(in.m) >= internMax {
		in.m = make(map[string]string, 256)
	}
	key := string(raw)
	s := sanitize.Text(key)
	in.m[key] = s
	return s
}

// backend converts the scanned row, sanitizing every text that a client
// controls (application_name, query) or that could carry odd bytes (names).
func (r *rowScan) backend(raw [][]byte, in *interner, own map[int32]bool) sources.Backend {
	b := sources.Backend{
		PID:            r.pid.Int32,
		BackendStart:   r.backendStart.Time,
		BackendType:    in.get(raw[colBackendType]),
		Database:       in.get(raw[colDatname]),
		User:           in.get(raw[colUsename]),
		Application:    in.get(raw[colApp]),
		ClientAddr:     in.get(raw[colClient]),
		State:          in.get(raw[colState]),
		WaitType:       in.get(raw[colWaitType]),
		WaitEvent:      in.get(raw[colWaitEvent]),
		XactStart:      validTime(r.xactStart),
		QueryStart:     validTime(r.queryStart),
		StateChange:    validTime(r.stateChange),
		Query:          in.get(raw[colQuery]),
		QueryTruncated: r.truncated.Valid && r.truncated.Bool,
		LeaderPID:      r.leader.Int32,
		QueryID:        r.queryID.Int64,
		Self:           own[r.pid.Int32],
	}
	if !r.backendStart.Valid {
		// Hidden rows have no backend_start: such a backend cannot be
		// targeted, since its identity is unknown.
		b.BackendStart = time.Time{}
	}
	b.Hidden = b.Query == hiddenQuery
	if b.BackendType == "" && (b.Database == "" || b.User == "") {
		// Hidden rows have no backend_type either. A client backend always
		// has a database and a role; without one this is a background
		// process (checkpointer, launcher...) and must not count as a
		// connection or be offered as a target.
		b.BackendType = unknownType
	}
	if len(r.blockedBy) > 0 {
		b.BlockedBy = r.blockedBy
	}
	// pgx may reuse the slice for the next row; give this row its own.
	r.blockedBy = nil
	return b
}

func validTime(t pgtype.Timestamptz) time.Time {
	if t.Valid && t.InfinityModifier == pgtype.Finite {
		return t.Time
	}
	return time.Time{}
}

// readActivity runs the tick's statement and builds the payload.
func (s *Source) readActivity(ctx context.Context, sess *session) (*sources.PGActivity, error) {
	own := s.ownSet()
	rows, err := sess.conn.Query(ctx, sess.activitySQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	act := &sources.PGActivity{
		ServerVersion:          sess.info.version,
		MaxConnections:         sess.info.maxConn,
		ReservedConnections:    sess.info.reserved,
		TrackActivityQuerySize: sess.info.querySize,
		Backends:               make([]sources.Backend, 0, s.lastRows.Load()+8),
	}
	var r rowScan
	header := false
	for rows.Next() {
		if err := rows.Scan(r.targets()...); err != nil {
			return nil, err
		}
		if !r.pid.Valid {
			header = true
			act.Now = r.now.Time
			flags := r.flags.Int32
			act.CanSeeAll = flags&flagSeeAll != 0
			if flags&flagSignal == 0 {
				act.Denied = deniedSignal(sess.info.role)
			}
			continue
		}
		act.Backends = append(act.Backends, r.backend(rows.RawValues(), &sess.intern, own))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !header {
		return nil, errors.New("activity query returned no header row")
	}
	s.lastRows.Store(int64(len(act.Backends)))
	summarize(act)
	return act, nil
}

// deniedSignal explains why cancel and terminate will fail on other roles'
// backends. Without pg_signal_backend a role can still signal backends of
// roles whose privileges it has (its own), so the UI shows the reason
// rather than hiding the action.
func deniedSignal(role string) sources.Denied {
	r := quoteIdent(role)
	why := fmt.Sprintf("role %s lacks pg_signal_backend: GRANT pg_signal_backend TO %s", r, r)
	return sources.Denied{"cancel": why, "terminate": why}
}

// quoteIdent quotes a role name for a GRANT the operator can paste, only
// when it needs quoting.
func quoteIdent(name string) string {
	plain := name != ""
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c == '_' || (i > 0 && (c >= '0' && c <= '9' || c == '$'))) {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// summarize computes the counts and the oldest transactions from the rows,
// in Go: the server does one cheap scan, the aggregates cost microseconds
// here. Counts are over client backends (the ones that take a slot of
// max_connections); flightdeck's own connections are counted, since they
// hold slots too, but never picked as the oldest transaction.
func summarize(act *sources.PGActivity) {
	slices.SortFunc(act.Backends, func(a, b sources.Backend) int { return int(a.PID) - int(b.PID) })
	act.ByState = map[string]int{}
	act.ByDatabase = map[string]int{}
	act.ByUser = map[string]int{}
	act.ByApp = map[string]int{}
	for i := range act.Backends {
		b := &act.Backends[i]
		if !b.IsClient() {
			continue
		}
		act.Connections++
		act.ByState[orUnknown(b.State)]++
		act.ByDatabase[orUnknown(b.Database)]++
		act.ByUser[orUnknown(b.User)]++
		app := b.Application
		if app == "" {
			app = "(none)"
		}
		act.ByApp[app]++
		if b.Self {
			continue
		}
		if !b.XactStart.IsZero() && (act.OldestXact == nil || b.XactStart.Before(act.OldestXact.XactStart)) {
			act.OldestXact = b
		}
		if strings.HasPrefix(b.State, "idle in transaction") && !b.StateChange.IsZero() &&
			(act.LongestIdleX == nil || b.StateChange.Before(act.LongestIdleX.StateChange)) {
			act.LongestIdleX = b
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ownSet copies the set of our own pids for one scan.
func (s *Source) ownSet() map[int32]bool {
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	m := make(map[int32]bool, len(s.own))
	for pid := range s.own {
		m[pid] = true
	}
	return m
}
