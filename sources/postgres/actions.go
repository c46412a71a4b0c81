package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"flightdeck/sources"
)

// signalSQL signals $1 only if it is still the same backend: same pid, same
// backend_start (pids are reused), a client backend, and not this very
// connection. The check and the signal are one statement, so nothing can
// slip in between our look and our shot. CASE evaluates the signal only when
// the identity matches; hidden tells apart "not ours to see" from "gone".
const signalSQL = `SELECT a.backend_start IS NULL AS hidden,
       CASE WHEN a.backend_start = $2 AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
            THEN CASE WHEN $3::bool THEN pg_terminate_backend(a.pid) ELSE pg_cancel_backend(a.pid) END
       END AS signalled
  FROM pg_stat_activity a
 WHERE a.pid = $1`

// LookupBackends returns the live rows of these pids (absent when gone),
// with Self set for this Source's own connections. It runs on the action
// connection, opened on demand.
func (s *Source) LookupBackends(ctx context.Context, pids []int32) ([]sources.Backend, error) {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	sess, err := s.actionSession(ctx)
	if err != nil {
		return nil, err
	}
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.lookup(qctx, sess, pids)
	s.actDone(err)
	if err != nil {
		return nil, humanize(ctx, "look up backends", err, s.timeout)
	}
	return out, nil
}

func (s *Source) lookup(ctx context.Context, sess *session, pids []int32) ([]sources.Backend, error) {
	own := s.ownSet()
	rows, err := sess.conn.Query(ctx, sess.lookupSQL, pids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sources.Backend
	var r rowScan
	var in interner
	for rows.Next() {
		if err := rows.Scan(r.targets()...); err != nil {
			return nil, err
		}
		out = append(out, r.backend(rows.RawValues(), &in, own))
	}
	return out, rows.Err()
}

// SignalBackend cancels (terminate=false) or terminates pid if its
// backend_start still equals start, checked in the same statement.
// matched=false means the pid is gone or now belongs to another backend.
//
// It is never retried, here or by the driver: a signal is not idempotent
// (a second cancel may hit the next query). An error after the statement
// was sent is reported as such: the signal may have been delivered.
func (s *Source) SignalBackend(ctx context.Context, pid int32, start time.Time, terminate bool) (bool, error) {
	verb := "cancel"
	if terminate {
		verb = "terminate"
	}
	what := fmt.Sprintf("%s pid %d", verb, pid)
	if s.isOwn(pid) {
		return false, &Error{msg: what + ": refused: it is flightdeck's own connection"}
	}
	if start.IsZero() {
		return false, &Error{msg: what + ": refused: backend_start unknown (the role cannot see this session; it needs pg_read_all_stats or pg_monitor)"}
	}
	// The server keeps microseconds; so does the value we read from it.
	// Truncating a caller's finer time makes the comparison exact rather
	// than a silent mismatch.
	start = start.Truncate(time.Microsecond)

	s.actMu.Lock()
	defer s.actMu.Unlock()
	sess, err := s.actionSession(ctx)
	if err != nil {
		return false, humanize(ctx, what, err, s.timeout)
	}
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var hidden bool
	var signalled pgtype.Bool
	err = sess.conn.QueryRow(qctx, signalSQL, pid, start, terminate).Scan(&hidden, &signalled)
	s.actDone(err)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		herr := humanize(ctx, what, err, s.timeout).(*Error)
		if herr.Code == codeInsufficientPrivilege {
			// Only superusers may signal superusers' sessions, and no GRANT
			// changes that; otherwise say which GRANT would.
			if !strings.Contains(strings.ToLower(herr.msg), "superuser") {
				herr.msg += fmt.Sprintf(" (to act on other roles' sessions: GRANT pg_signal_backend TO %s)", quoteIdent(sess.info.role))
			}
		} else if !herr.Server && !pgconn.SafeToRetry(err) {
			herr.msg += " (the request may have reached the server: check before acting again)"
		}
		return false, herr
	case hidden:
		return false, &Error{msg: what + ": refused: the role cannot see this session (it needs pg_read_all_stats or pg_monitor)"}
	}
	// NULL: identity mismatch. false: the process exited between the
	// check and the signal. Either way nothing was signalled.
	return signalled.Valid && signalled.Bool, nil
}

// actionSession returns the action connection, opening it if needed.
// Caller holds actMu.
func (s *Source) actionSession(ctx context.Context) (*session, error) {
	if s.act != nil && !s.act.conn.IsClosed() {
		return s.act, nil
	}
	s.dropAct()
	sess, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	s.act = sess
	return sess, nil
}

// actDone records a use of the action connection: after an error its state
// is unknown and it is closed; otherwise it is closed once idle for
// actionIdle. Caller holds actMu.
func (s *Source) actDone(err error) {
	if err != nil && !serverSideOnly(err) && !errors.Is(err, pgx.ErrNoRows) {
		s.dropAct()
		return
	}
	s.actUsed = time.Now()
	if s.actTimer == nil {
		s.actTimer = time.AfterFunc(s.actIdle, s.closeIdleAction)
	} else {
		s.actTimer.Reset(s.actIdle)
	}
}

func (s *Source) closeIdleAction() {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	if s.act != nil && time.Since(s.actUsed) >= s.actIdle-time.Millisecond {
		s.dropAct()
	}
}
