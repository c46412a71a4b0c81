package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// The optional views (statements, replication, tables, indexes, databases,
// progress) are read after the activity statement, on the monitoring
// connection, only while sources.ViewWants says someone looks at them, and
// each at its own pace: a tick with every view hidden is the one activity
// round trip it always was.

// viewEvery is how often a wanted view is read. Replication and progress
// move by the second; table and index statistics by the minute.
var viewEvery = map[sources.PGView]time.Duration{
	sources.PGViewStatements:  5 * time.Second,
	sources.PGViewReplication: 2 * time.Second,
	sources.PGViewTables:      30 * time.Second,
	sources.PGViewIndexes:     60 * time.Second,
	sources.PGViewDatabases:   5 * time.Second,
	sources.PGViewProgress:    2 * time.Second,
}

// Row bounds: a server with 50,000 statements or tables costs this much, no
// more.
const (
	statementsPerRank = 250 // top by total time and top by mean time
	tablesMax         = 500
	indexesMax        = 500
	replRowsMax       = 200
	progressMax       = 200
	databasesMax      = 200
)

// viewState is what the Source remembers between view readings; guarded by
// monMu like the monitoring session.
type viewState struct {
	cur    sources.PGViews
	pub    *sources.PGViews // the copy payloads share; replaced when cur changes
	readAt map[sources.PGView]time.Time
	// prev is the previous statements reading, for per-second rates.
	prev   map[stmtKey]sources.Statement
	prevAt time.Time
	// pgss is the schema pg_stat_statements is installed in, once found on
	// this connection; "" means probe again.
	pgss    string
	pgssPID int32 // the connection pgss was found on
	// texts are the statements' texts already read (see StatementsSQL).
	texts map[stmtKey]string
}

type stmtKey struct {
	id         int64
	user, dbid uint32
}

// readViews reads every wanted view that is due, after the activity
// statement, and attaches the latest readings to act. A view's failure is
// the view's (shown in it); only a broken connection fails the tick.
func (s *Source) readViews(ctx context.Context, sess *session, act *sources.PGActivity) error {
	now := time.Now()
	vs := &s.views
	if vs.readAt == nil {
		vs.readAt = map[sources.PGView]time.Time{}
	}
	changed := false
	for _, v := range sources.PGViewOrder[1:] {
		if !s.wants.Wanted(s.name, v, now) || now.Sub(vs.readAt[v]) < s.every(v) {
			continue
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < s.timeout {
			// Not enough of the poll's time left for a whole statement:
			// the rest wait for the next tick rather than cost this one
			// its connection.
			break
		}
		vs.readAt[v] = now
		changed = true
		vctx, cancel := context.WithTimeout(ctx, s.timeout)
		meta, err := s.readView(vctx, sess, v)
		cancel()
		if meta.At.IsZero() {
			// A view with no rows has none to carry the server's clock.
			meta.At = act.Now
		}
		if err == nil {
			continue
		}
		if !serverSideOnly(humanize(ctx, "", err, s.timeout)) || sess.conn.IsClosed() {
			return err
		}
		// Rows read before the error are not the view: show the reason alone.
		s.failView(v, sources.PGViewMeta{At: meta.At, Err: viewError(v, err)})
	}
	if changed || vs.pub == nil && hasAny(&vs.cur) {
		c := vs.cur
		vs.pub = &c
	}
	act.Views = vs.pub
	return nil
}

// every is how often view v is read; Source.viewEvery overrides it (tests).
func (s *Source) every(v sources.PGView) time.Duration {
	if d, ok := s.viewEvery[v]; ok {
		return d
	}
	return viewEvery[v]
}

// failView replaces view v's reading with m alone.
func (s *Source) failView(v sources.PGView, m sources.PGViewMeta) {
	c := &s.views.cur
	switch v {
	case sources.PGViewStatements:
		c.Statements = &sources.PGStatements{PGViewMeta: m}
	case sources.PGViewReplication:
		c.Replication = &sources.PGReplication{PGViewMeta: m}
	case sources.PGViewTables:
		c.Tables = &sources.PGTables{PGViewMeta: m}
	case sources.PGViewIndexes:
		c.Indexes = &sources.PGIndexes{PGViewMeta: m}
	case sources.PGViewDatabases:
		c.Databases = &sources.PGDatabases{PGViewMeta: m}
	case sources.PGViewProgress:
		c.Progress = &sources.PGProgress{PGViewMeta: m}
	}
}

func hasAny(v *sources.PGViews) bool {
	return v.Statements != nil || v.Replication != nil || v.Tables != nil || v.Indexes != nil ||
		v.Databases != nil || v.Progress != nil
}

// readView reads one view into s.views.cur and returns its meta, so the
// caller can record an error on it.
func (s *Source) readView(ctx context.Context, sess *session, v sources.PGView) (*sources.PGViewMeta, error) {
	vs := &s.views
	switch v {
	case sources.PGViewStatements:
		st := &sources.PGStatements{}
		vs.cur.Statements = st
		return &st.PGViewMeta, s.readStatements(ctx, sess, st)
	case sources.PGViewReplication:
		r := &sources.PGReplication{}
		vs.cur.Replication = r
		return &r.PGViewMeta, readReplication(ctx, sess, r)
	case sources.PGViewTables:
		t := &sources.PGTables{}
		vs.cur.Tables = t
		return &t.PGViewMeta, readTables(ctx, sess, t)
	case sources.PGViewIndexes:
		x := &sources.PGIndexes{}
		vs.cur.Indexes = x
		return &x.PGViewMeta, readIndexes(ctx, sess, x)
	case sources.PGViewDatabases:
		d := &sources.PGDatabases{MaxConnections: sess.info.maxConn}
		vs.cur.Databases = d
		return &d.PGViewMeta, readDatabases(ctx, sess, d)
	case sources.PGViewProgress:
		p := &sources.PGProgress{}
		vs.cur.Progress = p
		return &p.PGViewMeta, readProgress(ctx, sess, p)
	}
	return &sources.PGViewMeta{}, fmt.Errorf("unknown view %q", v)
}

// viewError is what a view shows instead of rows: the server's message,
// sanitized, and for a missing privilege what to grant.
func viewError(v sources.PGView, err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := sanitize.Text(pe.Message)
		if pe.Code == "42501" { // insufficient_privilege
			msg += " — the " + string(v) + " view needs pg_monitor: GRANT pg_monitor TO <role>"
		}
		return msg
	}
	return sanitize.Text(err.Error())
}

// text reads a sanitized, bounded string from a nullable text column.
func text(t pgtype.Text, limit int) string {
	if !t.Valid {
		return ""
	}
	s := t.String
	if len(s) > limit {
		s = s[:limit]
	}
	return sanitize.Text(s)
}

// ---------------------------------------------------------------- statements

// pgssProbeSQL says whether pg_stat_statements is installed in this
// database (its schema) and whether it is preloaded; the setting is NULL
// when our role may not read it (pg_read_all_settings, in pg_monitor).
const pgssProbeSQL = `SELECT (SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements'),
       (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'),
       current_database()::text`

// Missing pg_stat_statements, said exactly, with what to set.
const (
	pgssNotLoaded = "pg_stat_statements is not loaded: set shared_preload_libraries = 'pg_stat_statements' " +
		"in postgresql.conf (RDS: the DB parameter group), restart the server, then CREATE EXTENSION pg_stat_statements"
	pgssNotInstalled = "pg_stat_statements is loaded but not installed in database %s: " +
		"CREATE EXTENSION pg_stat_statements (as a superuser or the database owner)"
)

// preloaded reports whether shared_preload_libraries names the module.
func preloaded(setting string) bool {
	for _, lib := range strings.Split(setting, ",") {
		lib = strings.Trim(strings.TrimSpace(lib), `"`)
		if lib == "pg_stat_statements" || strings.HasSuffix(lib, "/pg_stat_statements") {
			return true
		}
	}
	return false
}

// StatementsSQL is the statements view's query for a server version and
// the schema pg_stat_statements lives in: the exec-time columns were
// renamed in 13 (total_time → total_exec_time, mean_time → mean_exec_time,
// max_time → max_exec_time). It reads the top statements by total and by
// mean time, so both orders are right however many the server tracks; the
// pane orders them. It reads no text (pg_stat_statements(false)): loading
// every statement's text from the server's file is most of what the view
// costs, and a statement's text never changes, so StatementTextsSQL reads
// texts only for statements not seen before.
func StatementsSQL(version int, schema string) string {
	total, mean, maxT := "total_exec_time", "mean_exec_time", "max_exec_time"
	if version < 130000 {
		total, mean, maxT = "total_time", "mean_time", "max_time"
	}
	return fmt.Sprintf(`WITH s AS (
  SELECT queryid, userid, dbid, calls, %[1]s AS total, %[2]s AS mean, %[3]s AS maxt, rows,
         shared_blks_hit, shared_blks_read, temp_blks_read, temp_blks_written,
         rank() OVER (ORDER BY %[1]s DESC) AS by_total, rank() OVER (ORDER BY %[2]s DESC) AS by_mean,
         count(*) OVER () AS n
    FROM %[4]s.pg_stat_statements(false))
SELECT s.queryid, s.userid::int8, s.dbid::int8, r.rolname::text, d.datname::text, s.calls,
       s.total, s.mean, s.maxt, s.rows, s.shared_blks_hit, s.shared_blks_read,
       s.temp_blks_read, s.temp_blks_written, s.n, now()
  FROM s LEFT JOIN pg_roles r ON r.oid = s.userid LEFT JOIN pg_database d ON d.oid = s.dbid
 WHERE s.by_total <= %[5]d OR s.by_mean <= %[5]d`, total, mean, maxT, quoteIdent(schema), statementsPerRank)
}

// StatementTextsSQL reads the texts of the statements whose queryid is in
// $1, bounded.
func StatementTextsSQL(schema string) string {
	return fmt.Sprintf(`SELECT queryid, userid::int8, dbid::int8, left(query, %d)
  FROM %s.pg_stat_statements(true) WHERE queryid = ANY($1)`, sources.StatementTextMax, quoteIdent(schema))
}

// textsMax bounds the statement texts kept between readings.
const textsMax = 4 * statementsPerRank

func (s *Source) readStatements(ctx context.Context, sess *session, st *sources.PGStatements) error {
	vs := &s.views
	if vs.pgss == "" || vs.pgssPID != sess.pid {
		var schema, libs pgtype.Text
		var db string
		if err := sess.conn.QueryRow(ctx, pgssProbeSQL).Scan(&schema, &libs, &db); err != nil {
			return err
		}
		switch {
		case libs.Valid && !preloaded(libs.String):
			st.Err = pgssNotLoaded
			return nil
		case !schema.Valid:
			st.Err = fmt.Sprintf(pgssNotInstalled, quoteIdent(db))
			return nil
		}
		vs.pgss, vs.pgssPID = schema.String, sess.pid
		// A new connection may see more (a GRANT pg_read_all_stats in
		// between turns "<insufficient privilege>" into the text).
		vs.texts = nil
	}
	rows, err := sess.conn.Query(ctx, StatementsSQL(sess.info.version, vs.pgss))
	if err != nil {
		return s.statementsErr(st, err)
	}
	var (
		r       sources.Statement
		uid, db int64
		user    pgtype.Text
		dbname  pgtype.Text
		n       int64
		at      time.Time
		qid     pgtype.Int8
	)
	for rows.Next() {
		if err := rows.Scan(&qid, &uid, &db, &user, &dbname, &r.Calls, &r.TotalMs, &r.MeanMs, &r.MaxMs, &r.Rows,
			&r.SharedHit, &r.SharedRead, &r.TempRead, &r.TempWritten, &n, &at); err != nil {
			rows.Close()
			return err
		}
		r.QueryID, r.UserID, r.DBID = qid.Int64, uint32(uid), uint32(db)
		r.User, r.Database = text(user, 256), text(dbname, 256)
		st.Statements = append(st.Statements, r)
		st.At = at
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.statementsErr(st, err)
	}
	st.Truncated = int(n) > len(st.Statements)
	if err := s.statementTexts(ctx, sess, st); err != nil {
		return s.statementsErr(st, err)
	}
	s.rates(st)
	return nil
}

// statementTexts fills in the texts, reading from the server only those
// of statements not seen before.
func (s *Source) statementTexts(ctx context.Context, sess *session, st *sources.PGStatements) error {
	vs := &s.views
	if vs.texts == nil || len(vs.texts) > textsMax {
		vs.texts = make(map[stmtKey]string, len(st.Statements))
	}
	var missing []int64
	for i := range st.Statements {
		r := &st.Statements[i]
		if _, ok := vs.texts[stmtKey{r.QueryID, r.UserID, r.DBID}]; !ok {
			missing = append(missing, r.QueryID)
		}
	}
	if len(missing) > 0 {
		rows, err := sess.conn.Query(ctx, StatementTextsSQL(vs.pgss), missing)
		if err != nil {
			return err
		}
		for rows.Next() {
			var qid, uid, db int64
			var q pgtype.Text
			if err := rows.Scan(&qid, &uid, &db, &q); err != nil {
				rows.Close()
				return err
			}
			vs.texts[stmtKey{qid, uint32(uid), uint32(db)}] = text(q, sources.StatementTextMax)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for i := range st.Statements {
		r := &st.Statements[i]
		r.Query = vs.texts[stmtKey{r.QueryID, r.UserID, r.DBID}]
	}
	return nil
}

// statementsErr turns "must be loaded via shared_preload_libraries" (the
// extension installed, the library not preloaded) into what to set.
func (s *Source) statementsErr(st *sources.PGStatements, err error) error {
	s.views.pgss = ""
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.Contains(pe.Message, "shared_preload_libraries") {
		st.Err = pgssNotLoaded
		return nil
	}
	return err
}

// rates computes per-second figures against the previous reading, on the
// server's clock; a statement whose counters went down was reset.
func (s *Source) rates(st *sources.PGStatements) {
	vs := &s.views
	prevAt := vs.prevAt
	next := make(map[stmtKey]sources.Statement, len(st.Statements))
	dt := st.At.Sub(prevAt).Seconds()
	if !prevAt.IsZero() && dt > 0 {
		st.Interval = st.At.Sub(prevAt)
	}
	for i := range st.Statements {
		r := &st.Statements[i]
		k := stmtKey{r.QueryID, r.UserID, r.DBID}
		if p, ok := vs.prev[k]; ok && dt > 0 && r.Calls >= p.Calls {
			r.HasRates = true
			r.CallsPerSec = float64(r.Calls-p.Calls) / dt
			r.RowsPerSec = float64(r.Rows-p.Rows) / dt
			r.MsPerSec = (r.TotalMs - p.TotalMs) / dt
		}
		next[k] = *r
	}
	vs.prev = next
	vs.prevAt = st.At
}
