package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"flightdeck/sources"
)

// The maintenance actions (ops.PGMaintainer): dropping an inactive slot,
// ANALYZE, VACUUM (ANALYZE) and REINDEX TABLE CONCURRENTLY of one table,
// cancelling an autovacuum worker. Each check and its act are one statement where the server
// allows it, so nothing slips in between.

// maintainWait is how long MaintainTable waits for its ANALYZE or VACUUM
// before leaving it to run in the background (the Executor's call is
// bounded; a VACUUM of a large table is not).
var maintainWait = 5 * time.Second

// maintainMax bounds a background VACUUM or ANALYZE.
const maintainMax = 6 * time.Hour

const slotSQL = `SELECT s.slot_name::text, s.slot_type, s.plugin::text, s.database::text, s.active, s.active_pid,
       s.restart_lsn::text, pg_wal_lsn_diff(` + curLSN + `, s.restart_lsn)::int8
  FROM pg_replication_slots s WHERE s.slot_name = $1`

// dropSlotSQL drops $1 only while it is inactive at restart_lsn $2; the
// server refuses an active slot itself too.
const dropSlotSQL = `SELECT pg_drop_replication_slot(slot_name) IS NULL
  FROM pg_replication_slots WHERE slot_name = $1 AND NOT active AND restart_lsn::text IS NOT DISTINCT FROM $2`

const tableSQL = `SELECT c.oid::int8, n.nspname::text, c.relname::text, COALESCE(s.n_live_tup, 0), COALESCE(s.n_dead_tup, 0)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.oid = $1 AND c.relkind IN ('r', 'm', 'p')`

// cancelAutovacuumSQL cancels $1 only if it is the autovacuum worker that
// started at $2.
const cancelAutovacuumSQL = `SELECT pg_cancel_backend(a.pid)
  FROM pg_stat_activity a
 WHERE a.pid = $1 AND a.backend_start = $2 AND a.backend_type = 'autovacuum worker'`

// withAction runs f on the action connection.
func (s *Source) withAction(ctx context.Context, what string, f func(context.Context, *session) error) error {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	sess, err := s.actionSession(ctx)
	if err != nil {
		return humanize(ctx, what, err, s.timeout)
	}
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err = f(qctx, sess)
	s.actDone(err)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return humanize(ctx, what, err, s.timeout)
	}
	return err
}

// LookupSlot reads one replication slot.
func (s *Source) LookupSlot(ctx context.Context, name string) (sources.ReplicationSlot, bool, error) {
	var sl sources.ReplicationSlot
	err := s.withAction(ctx, "look up slot "+name, func(ctx context.Context, sess *session) error {
		var n, typ, plugin, db, restart pgtype.Text
		var active pgtype.Bool
		var pid pgtype.Int4
		var kept pgtype.Int8
		if err := sess.conn.QueryRow(ctx, slotSQL, name).Scan(&n, &typ, &plugin, &db, &active, &pid, &restart, &kept); err != nil {
			return err
		}
		sl = sources.ReplicationSlot{Name: text(n, 256), Type: text(typ, 32), Plugin: text(plugin, 256), Database: text(db, 256),
			Active: active.Bool, ActivePID: pid.Int32, RestartLSN: restart.String, RetainedBytes: kept.Int64}
		return nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return sl, false, nil
	}
	return sl, err == nil, err
}

// DropInactiveSlot drops name if it is still inactive at restartLSN.
func (s *Source) DropInactiveSlot(ctx context.Context, name, restartLSN string) (bool, error) {
	err := s.withAction(ctx, "drop slot "+name, func(ctx context.Context, sess *session) error {
		var ignored bool
		return sess.conn.QueryRow(ctx, dropSlotSQL, name, restartLSN).Scan(&ignored)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// LookupTable reads a table by oid.
func (s *Source) LookupTable(ctx context.Context, relid uint32) (sources.TableStat, bool, error) {
	var t sources.TableStat
	err := s.withAction(ctx, fmt.Sprintf("look up table %d", relid), func(ctx context.Context, sess *session) error {
		var oid int64
		var schema, name pgtype.Text
		if err := sess.conn.QueryRow(ctx, tableSQL, int64(relid)).Scan(&oid, &schema, &name, &t.Live, &t.Dead); err != nil {
			return err
		}
		t.RelID, t.Schema, t.Name = uint32(oid), text(schema, 256), text(name, 256)
		return nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	return t, err == nil, err
}

// leftBehind adds to a failed REINDEX CONCURRENTLY's error the invalid
// indexes it left on the table (…_ccnew: built, never swapped in), which
// cost every write until dropped. They are named, not dropped: an invalid
// index is also what another session's REINDEX CONCURRENTLY or CREATE
// INDEX CONCURRENTLY looks like while it runs.
func (s *Source) leftBehind(conn *pgx.Conn, relid uint32, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	rows, qerr := conn.Query(ctx, leftBehindSQL, int64(relid))
	if qerr != nil {
		return err
	}
	names, qerr := pgx.CollectRows(rows, pgx.RowTo[string])
	if qerr != nil || len(names) == 0 {
		return err
	}
	for i, n := range names {
		names[i] = text(pgtype.Text{String: n, Valid: true}, 256)
	}
	return &Error{msg: fmt.Sprintf("%v; left behind, INVALID: %s (drop with DROP INDEX CONCURRENTLY)", err, strings.Join(names, ", "))}
}

// leftBehindSQL lists a table's invalid indexes a REINDEX CONCURRENTLY
// leaves (the suffix is the server's: _ccnew, _ccnew1, …).
const leftBehindSQL = `SELECT format('%I.%I', n.nspname, c.relname)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.indrelid = $1 AND NOT i.indisvalid AND c.relname ~ '_ccnew[0-9]*$' ORDER BY 1 LIMIT 20`

// CancelAutovacuum cancels pid if it is still the autovacuum worker
// started at start.
func (s *Source) CancelAutovacuum(ctx context.Context, pid int32, start time.Time) (bool, error) {
	var ok bool
	err := s.withAction(ctx, fmt.Sprintf("cancel autovacuum pid %d", pid), func(ctx context.Context, sess *session) error {
		return sess.conn.QueryRow(ctx, cancelAutovacuumSQL, pid, start.Truncate(time.Microsecond)).Scan(&ok)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return ok, err
}

// MaintainTable runs op on relid if it is still schema.name. It runs on a
// connection of its own, without a statement timeout (a VACUUM takes what
// it takes, up to maintainMax). ANALYZE and VACUUM keep the source's
// lock_timeout, so they never queue behind a lock and become part of a
// pile-up. REINDEX CONCURRENTLY does not: its lock blocks no read or write,
// and it waits for every older transaction to end after building the new
// indexes, where a timeout would leave them behind, invalid; it needs
// PostgreSQL 12. If it has not finished after maintainWait it goes on in
// the background; the progress view follows it.
func (s *Source) MaintainTable(ctx context.Context, relid uint32, schema, name string, op sources.TableOp) (string, error) {
	verb := op.Statement()
	what := fmt.Sprintf("%s %s.%s", verb, schema, name)
	cfg := s.cfg.Copy()
	cfg.RuntimeParams["statement_timeout"] = "0"
	if op == sources.TableReindex {
		cfg.RuntimeParams["lock_timeout"] = "0"
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return "", humanize(ctx, what, err, cfg.ConnectTimeout)
	}
	s.ownMu.Lock()
	pid := int32(conn.PgConn().PID())
	s.own[pid] = true
	s.ownMu.Unlock()
	release := func() {
		s.ownMu.Lock()
		delete(s.own, pid)
		s.ownMu.Unlock()
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}
	// The name is the server's own quoting of the oid's name now: if the
	// oid no longer names schema.name, nothing runs.
	// VACUUM and ANALYZE of a table the role does not own only warn
	// ("skipping") and succeed: say so instead of reporting a no-op done.
	// REINDEX would fail; the same rule says why first.
	var ident pgtype.Text
	var owns bool
	var version int
	qctx, qcancel := context.WithTimeout(ctx, s.timeout)
	err = conn.QueryRow(qctx, `SELECT format('%I.%I', n.nspname, c.relname),
       pg_has_role(c.relowner, 'USAGE') OR current_setting('is_superuser')::bool, current_setting('server_version_num')::int
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1 AND n.nspname = $2 AND c.relname = $3`,
		int64(relid), schema, name).Scan(&ident, &owns, &version)
	qcancel()
	if err == nil && !owns {
		release()
		return "", &Error{msg: fmt.Sprintf("%s: refused: role %s does not own the table (%s needs its owner, a member of the owning role, or a superuser)",
			what, quoteIdent(cfg.User), verb)}
	}
	if err == nil && op == sources.TableReindex && version < 120000 {
		release()
		return "", &Error{msg: fmt.Sprintf("%s: refused: the server is PostgreSQL %d.%d; REINDEX CONCURRENTLY needs 12 (the blocking REINDEX TABLE is not offered during an incident)",
			what, version/10000, version%10000)}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		release()
		return "", &Error{msg: what + ": refused: the table is no longer oid " + fmt.Sprint(relid)}
	}
	if err != nil {
		release()
		return "", humanize(ctx, what, err, s.timeout)
	}
	done := make(chan error, 1)
	go func() {
		defer release()
		rctx, cancel := context.WithTimeout(context.Background(), maintainMax)
		defer cancel()
		_, err := conn.Exec(rctx, verb+" "+ident.String)
		if err != nil {
			err = humanize(rctx, what, err, maintainMax)
			if op == sources.TableReindex {
				err = s.leftBehind(conn, relid, err)
			}
			s.log.Warn("maintenance failed", "what", what, "err", err)
		} else {
			s.log.Info("maintenance done", "what", what)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return "", err
		}
		return what + " done", nil
	case <-time.After(maintainWait):
		return fmt.Sprintf("%s running in the background (pid %d): the progress view follows it", what, pid), nil
	case <-ctx.Done():
		return fmt.Sprintf("%s running in the background (pid %d): the progress view follows it", what, pid), nil
	}
}
