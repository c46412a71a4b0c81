package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"flightdeck/sources"
)

// curLSN is where WAL is now: pg_current_wal_lsn on a primary, the last
// received position on a standby (where the former is an error).
const curLSN = `CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END`

// ReplicationSQL is the replication view's statements for a server
// version, sent as one batch (one round trip): the header, the
// walsenders, the receiver (on a standby only), the subscriptions, the
// slots. pg_stat_wal_receiver's received_lsn became flushed_lsn in 13, and
// pg_replication_slots gained wal_status in 13.
func ReplicationSQL(version int) []string {
	flushed, walStatus := "flushed_lsn", "wal_status"
	if version < 130000 {
		flushed, walStatus = "received_lsn", "NULL::text"
	}
	return []string{
		`SELECT now(), pg_is_in_recovery(), (` + curLSN + `)::text`,
		fmt.Sprintf(`SELECT r.pid, r.backend_start, r.usename::text, r.application_name,
       CASE WHEN r.client_port = -1 THEN 'local' ELSE host(r.client_addr) END, r.state, r.sync_state,
       r.sent_lsn::text, r.replay_lsn::text,
       pg_wal_lsn_diff(c.lsn, r.sent_lsn)::int8, pg_wal_lsn_diff(c.lsn, r.write_lsn)::int8,
       pg_wal_lsn_diff(c.lsn, r.flush_lsn)::int8, pg_wal_lsn_diff(c.lsn, r.replay_lsn)::int8,
       extract(epoch FROM r.write_lag)::float8, extract(epoch FROM r.flush_lag)::float8,
       extract(epoch FROM r.replay_lag)::float8
  FROM pg_stat_replication r, (SELECT %s AS lsn) c
 ORDER BY r.application_name, r.pid LIMIT %d`, curLSN, replRowsMax),
		// A SELECT whose WHERE is false evaluates nothing of its list, so
		// pg_is_wal_replay_paused (an error on a primary) runs only on a
		// standby.
		fmt.Sprintf(`SELECT w.status, w.sender_host, w.sender_port, w.%s::text, pg_last_wal_replay_lsn()::text,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::int8,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
       pg_is_wal_replay_paused(), w.last_msg_receipt_time
  FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver w ON true
 WHERE pg_is_in_recovery()`, flushed),
		fmt.Sprintf(`SELECT subname::text, pid, received_lsn::text, latest_end_lsn::text, last_msg_receipt_time,
       extract(epoch FROM now() - latest_end_time)::float8
  FROM pg_stat_subscription WHERE relid IS NULL ORDER BY subname LIMIT %d`, replRowsMax),
		fmt.Sprintf(`SELECT s.slot_name::text, s.slot_type, s.plugin::text, s.database::text, s.active, s.active_pid,
       s.restart_lsn::text, pg_wal_lsn_diff(c.lsn, s.restart_lsn)::int8, %s
  FROM pg_replication_slots s, (SELECT %s AS lsn) c
 ORDER BY s.slot_name LIMIT %d`, walStatus, curLSN, replRowsMax),
	}
}

func secs(f pgtype.Float8) time.Duration {
	if !f.Valid {
		return 0
	}
	return time.Duration(f.Float64 * float64(time.Second))
}

func readReplication(ctx context.Context, sess *session, r *sources.PGReplication) error {
	if sess.info.version < 100000 {
		r.Err = "the replication view needs PostgreSQL 10 or later"
		return nil
	}
	qs := ReplicationSQL(sess.info.version)
	b := &pgx.Batch{}
	for _, q := range qs {
		b.Queue(q)
	}
	br := sess.conn.SendBatch(ctx, b)
	defer br.Close()
	var cur pgtype.Text
	if err := br.QueryRow().Scan(&r.At, &r.InRecovery, &cur); err != nil {
		return err
	}
	r.CurrentLSN = cur.String
	rows, err := br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var w sources.WalSender
		var user, app, addr, state, sync, sent, replay pgtype.Text
		var pid pgtype.Int4
		var start pgtype.Timestamptz
		var dSent, dWrite, dFlush, dReplay pgtype.Int8
		var lw, lf, lr pgtype.Float8
		if err := rows.Scan(&pid, &start, &user, &app, &addr, &state, &sync, &sent, &replay,
			&dSent, &dWrite, &dFlush, &dReplay, &lw, &lf, &lr); err != nil {
			rows.Close()
			return err
		}
		w.PID, w.BackendStart = pid.Int32, start.Time
		w.User, w.Application, w.ClientAddr = text(user, 256), text(app, 256), text(addr, 64)
		w.State, w.SyncState, w.SentLSN, w.ReplayLSN = text(state, 64), text(sync, 64), sent.String, replay.String
		w.SentLagBytes, w.WriteLagBytes, w.FlushLagBytes, w.ReplayLagBytes = dSent.Int64, dWrite.Int64, dFlush.Int64, dReplay.Int64
		w.WriteLag, w.FlushLag, w.ReplayLag = secs(lw), secs(lf), secs(lr)
		r.Senders = append(r.Senders, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var status, host, recv, replay pgtype.Text
		var port pgtype.Int4
		var lag pgtype.Int8
		var delay pgtype.Float8
		var paused pgtype.Bool
		var last pgtype.Timestamptz
		if err := rows.Scan(&status, &host, &port, &recv, &replay, &lag, &delay, &paused, &last); err != nil {
			rows.Close()
			return err
		}
		r.Receiver = &sources.WalReceiver{Status: text(status, 64), SenderHost: text(host, 256), SenderPort: int(port.Int32),
			ReceivedLSN: recv.String, ReplayLSN: replay.String, ReplayLagBytes: lag.Int64, ReplayDelay: secs(delay),
			ReplayPaused: paused.Bool, LastMsg: validTime(last)}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var name, recv, end pgtype.Text
		var pid pgtype.Int4
		var last pgtype.Timestamptz
		var delay pgtype.Float8
		if err := rows.Scan(&name, &pid, &recv, &end, &last, &delay); err != nil {
			rows.Close()
			return err
		}
		r.Subscriptions = append(r.Subscriptions, sources.PGSubscription{Name: text(name, 256), PID: pid.Int32,
			ReceivedLSN: recv.String, LatestEnd: end.String, LastMsg: validTime(last), Delay: secs(delay)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var name, typ, plugin, db, restart, walStatus pgtype.Text
		var active pgtype.Bool
		var pid pgtype.Int4
		var retained pgtype.Int8
		if err := rows.Scan(&name, &typ, &plugin, &db, &active, &pid, &restart, &retained, &walStatus); err != nil {
			rows.Close()
			return err
		}
		r.Slots = append(r.Slots, sources.ReplicationSlot{Name: text(name, 256), Type: text(typ, 32), Plugin: text(plugin, 256),
			Database: text(db, 256), Active: active.Bool, ActivePID: pid.Int32, RestartLSN: restart.String,
			RetainedBytes: retained.Int64, WALStatus: text(walStatus, 32)})
	}
	rows.Close()
	return rows.Err()
}

// TablesSQL reads pg_stat_user_tables, most dead tuples first. Sizes come
// from pg_class.relpages (table, toast, indexes): pg_total_relation_size
// would take a lock and could queue behind the very pile-up being watched.
const TablesSQL = `SELECT s.relid::int8, s.schemaname::text, s.relname::text, s.n_live_tup, s.n_dead_tup,
       (c.relpages::int8 + COALESCE(t.relpages, 0)
        + COALESCE((SELECT sum(i.relpages) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                     WHERE x.indrelid = s.relid), 0)) * current_setting('block_size')::int8,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze, s.seq_scan,
       COALESCE(s.idx_scan, 0), count(*) OVER (), now()
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
 ORDER BY s.n_dead_tup DESC, s.schemaname, s.relname LIMIT 500`

func readTables(ctx context.Context, sess *session, t *sources.PGTables) error {
	rows, err := sess.conn.Query(ctx, TablesSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var x sources.TableStat
		var relid, size int64
		var schema, name pgtype.Text
		var lv, lav, la, laa pgtype.Timestamptz
		if err := rows.Scan(&relid, &schema, &name, &x.Live, &x.Dead, &size, &lv, &lav, &la, &laa,
			&x.SeqScan, &x.IdxScan, &n, &t.At); err != nil {
			return err
		}
		x.RelID, x.Schema, x.Name, x.SizeBytes = uint32(relid), text(schema, 256), text(name, 256), size
		x.LastVacuum, x.LastAutovacuum, x.LastAnalyze, x.LastAutoanalyze = validTime(lv), validTime(lav), validTime(la), validTime(laa)
		t.Tables = append(t.Tables, x)
	}
	t.Truncated = int(n) > len(t.Tables)
	return rows.Err()
}

// IndexesSQL reads pg_stat_user_indexes, least scanned first (the manual's
// order), largest first among equals.
const IndexesSQL = `SELECT s.indexrelid::int8, s.schemaname::text, s.relname::text, s.indexrelname::text, s.idx_scan,
       s.idx_tup_read, c.relpages::int8 * current_setting('block_size')::int8, x.indisunique OR x.indisprimary,
       count(*) OVER (), now()
  FROM pg_stat_user_indexes s JOIN pg_class c ON c.oid = s.indexrelid JOIN pg_index x ON x.indexrelid = s.indexrelid
 ORDER BY s.idx_scan, c.relpages DESC, s.indexrelname LIMIT 500`

func readIndexes(ctx context.Context, sess *session, x *sources.PGIndexes) error {
	rows, err := sess.conn.Query(ctx, IndexesSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var i sources.IndexStat
		var relid int64
		var schema, table, name pgtype.Text
		if err := rows.Scan(&relid, &schema, &table, &name, &i.Scans, &i.TupRead, &i.SizeBytes, &i.Unique, &n, &x.At); err != nil {
			return err
		}
		i.RelID, i.Schema, i.Table, i.Name = uint32(relid), text(schema, 256), text(table, 256), text(name, 256)
		x.Indexes = append(x.Indexes, i)
	}
	x.Truncated = int(n) > len(x.Indexes)
	return rows.Err()
}

// DatabasesSQL is backends per database (from pg_stat_database, as the
// manual's connection usage query) with its limit and totals.
const DatabasesSQL = `SELECT d.datname::text, s.numbackends, d.datconnlimit, s.xact_commit, s.xact_rollback,
       s.blks_hit, s.blks_read, s.deadlocks, s.temp_bytes, now()
  FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
 WHERE d.datallowconn
 ORDER BY s.numbackends DESC, d.datname LIMIT 200`

func readDatabases(ctx context.Context, sess *session, d *sources.PGDatabases) error {
	rows, err := sess.conn.Query(ctx, DatabasesSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var x sources.DatabaseStat
		var name pgtype.Text
		var backends, limit int32
		if err := rows.Scan(&name, &backends, &limit, &x.Commits, &x.Rollbacks, &x.BlksHit, &x.BlksRead,
			&x.Deadlocks, &x.TempBytes, &d.At); err != nil {
			return err
		}
		x.Name, x.Backends, x.ConnLimit = text(name, 256), int(backends), int(limit)
		d.Databases = append(d.Databases, x)
	}
	return rows.Err()
}

// ProgressSQL unites the progress views the server has: vacuum (9.6+),
// create index (12+), analyze (13+). relid::regclass reads the catalog
// cache and takes no lock.
func ProgressSQL(version int) string {
	q := `SELECT 'VACUUM'::text, pid, datname::text, relid::regclass::text, phase, heap_blks_scanned, heap_blks_total, now()
  FROM pg_stat_progress_vacuum`
	if version >= 120000 {
		q += `
UNION ALL
SELECT command, pid, datname::text, relid::regclass::text, phase, blocks_done, blocks_total, now()
  FROM pg_stat_progress_create_index`
	}
	if version >= 130000 {
		q += `
UNION ALL
SELECT 'ANALYZE', pid, datname::text, relid::regclass::text, phase, sample_blks_scanned, sample_blks_total, now()
  FROM pg_stat_progress_analyze`
	}
	return q + fmt.Sprintf("\nLIMIT %d", progressMax)
}

func readProgress(ctx context.Context, sess *session, p *sources.PGProgress) error {
	rows, err := sess.conn.Query(ctx, ProgressSQL(sess.info.version))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var o sources.ProgressOp
		var cmd, db, rel, phase pgtype.Text
		var done, total pgtype.Int8
		if err := rows.Scan(&cmd, &o.PID, &db, &rel, &phase, &done, &total, &p.At); err != nil {
			return err
		}
		o.Command, o.Database, o.Relation, o.Phase = text(cmd, 64), text(db, 256), text(rel, 512), text(phase, 128)
		o.Done, o.Total = done.Int64, total.Int64
		p.Ops = append(p.Ops, o)
	}
	return rows.Err()
}
