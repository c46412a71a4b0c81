package ops

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"flightdeck/internal/bytesize"
	"flightdeck/sources"
)

// The Postgres maintenance actions an incident calls for. Each acts on
// what the plan pinned (a slot's name and restart_lsn, a table's oid and
// name, an autovacuum worker's pid and start), re-checks it at execution
// and refuses what would make things worse: an active slot, VACUUM FULL
// (never offered), a worker that is not autovacuum.
const (
	DropSlot         Kind = "drop_slot"         // pg_drop_replication_slot of an inactive slot
	AnalyzeTable     Kind = "analyze"           // ANALYZE one table
	VacuumTable      Kind = "vacuum"            // VACUUM (ANALYZE) one table, never FULL
	ReindexTable     Kind = "reindex"           // REINDEX TABLE CONCURRENTLY one table, never the blocking kind
	CancelAutovacuum Kind = "cancel_autovacuum" // pg_cancel_backend of an autovacuum worker
)

// PGMaintainer is what the maintenance actions need from a Postgres
// source.
type PGMaintainer interface {
	// LookupSlot reads the slot named name; ok is false when there is none.
	LookupSlot(ctx context.Context, name string) (slot sources.ReplicationSlot, ok bool, err error)
	// DropInactiveSlot drops the slot only if it is inactive and its
	// restart_lsn is still restartLSN, checked in the same statement;
	// matched is false when it was not.
	DropInactiveSlot(ctx context.Context, name, restartLSN string) (matched bool, err error)
	// LookupTable reads the table whose oid is relid; ok is false when
	// there is none.
	LookupTable(ctx context.Context, relid uint32) (t sources.TableStat, ok bool, err error)
	// MaintainTable runs op (ANALYZE, VACUUM (ANALYZE), REINDEX TABLE
	// CONCURRENTLY) on the table relid if it is still schema.name; a long
	// run continues in the background and the returned line says so.
	MaintainTable(ctx context.Context, relid uint32, schema, name string, op sources.TableOp) (detail string, err error)
	// CancelAutovacuum cancels pid only if it is still the autovacuum
	// worker that started at start, checked in the same statement.
	CancelAutovacuum(ctx context.Context, pid int32, start time.Time) (matched bool, err error)
}

// pgMaintHandler is the maintenance area; its request's Subject is the
// row the pane's view showed: a sources.ReplicationSlot, a
// sources.TableStat or a sources.Backend (an autovacuum worker).
type pgMaintHandler struct{}

func init() { Register(pgMaintHandler{}) }

func (pgMaintHandler) Area() sources.Kind { return sources.KindPostgres }

func (pgMaintHandler) Kinds() []KindSpec {
	return []KindSpec{{DropSlot, "Drop replication slot"}, {AnalyzeTable, "ANALYZE table"},
		{VacuumTable, "VACUUM (ANALYZE) table"}, {ReindexTable, "REINDEX table concurrently"}, {CancelAutovacuum, "Cancel autovacuum worker"}}
}

func (pgMaintHandler) Check(pol Policy, req Request, _ CheckScope) error {
	switch req.Action {
	case DropSlot:
		s, ok := req.Subject.(sources.ReplicationSlot)
		if !ok || s.Name == "" {
			return refuse(ErrInvalid, "no replication slot selected")
		}
		if s.Active {
			return refuse(ErrPolicy, fmt.Sprintf("slot %q is active (pid %d): a consumer is using it", s.Name, s.ActivePID))
		}
	case AnalyzeTable, VacuumTable, ReindexTable:
		t, ok := req.Subject.(sources.TableStat)
		if !ok || t.RelID == 0 || t.Name == "" {
			return refuse(ErrInvalid, "no table selected")
		}
	case CancelAutovacuum:
		b, ok := req.Subject.(sources.Backend)
		if !ok || b.PID == 0 {
			return refuse(ErrInvalid, "no autovacuum worker selected")
		}
		if b.BackendType != "autovacuum worker" {
			return refuse(ErrPolicy, fmt.Sprintf("pid %d is a %s, not an autovacuum worker", b.PID, b.BackendType))
		}
		if b.BackendStart.IsZero() {
			return refuse(ErrPolicy, fmt.Sprintf("pid %d is hidden from this role (needs pg_monitor): its identity cannot be checked", b.PID))
		}
	default:
		return refuse(ErrInvalid, fmt.Sprintf("unknown action %q", req.Action))
	}
	return pol.CheckTargetCount(1)
}

// tableOp is the statement a table action runs.
func tableOp(k Kind) sources.TableOp {
	switch k {
	case VacuumTable:
		return sources.TableVacuum
	case ReindexTable:
		return sources.TableReindex
	}
	return sources.TableAnalyze
}

func slotIdentity(s sources.ReplicationSlot) string {
	return s.Name + "@" + s.RestartLSN + " " + s.Type + " " + s.Database
}

func tableIdentity(t sources.TableStat) string {
	return strconv.FormatUint(uint64(t.RelID), 10) + " " + t.QualifiedName()
}

func (pgMaintHandler) Plan(_ context.Context, env Env, req Request, p *Plan) error {
	if _, err := Capability[PGMaintainer](env, "run Postgres maintenance"); err != nil {
		return err
	}
	switch req.Action {
	case DropSlot:
		s := req.Subject.(sources.ReplicationSlot)
		var sn seen
		sn.head("slot " + s.Name)
		sn.add("type", s.Type)
		sn.add("plugin", s.Plugin)
		sn.add("database", s.Database)
		sn.add("restart_lsn", s.RestartLSN)
		sn.add("retained_bytes", strconv.FormatInt(s.RetainedBytes, 10))
		sn.add("wal_status", s.WALStatus)
		p.Targets = []Target{{ID: "slot " + s.Name, Identity: slotIdentity(s), Seen: sn.String(), Subject: s,
			Detail: fmt.Sprintf("slot %s  %s %s  inactive  retains %s of WAL", s.Name, s.Type, s.Database, bytesize.Format(s.RetainedBytes))}}
		p.Title = "Drop replication slot " + s.Name
		p.Phrase = s.Name
		p.Risk = High
		p.Preview = []string{
			fmt.Sprintf("pg_drop_replication_slot('%s'): frees the %s of WAL it retains", s.Name, bytesize.Format(s.RetainedBytes)),
			"whatever consumed it (a replica, a subscription, a CDC job) can never resume from it: it must be rebuilt",
			"only if it is still inactive with restart_lsn " + s.RestartLSN + ", checked in the same statement",
		}
	case AnalyzeTable, VacuumTable, ReindexTable:
		t := req.Subject.(sources.TableStat)
		verb := tableOp(req.Action).Statement()
		p.Risk = Low
		p.Phrase = t.QualifiedName()
		var sn seen
		sn.head("table " + t.QualifiedName())
		sn.add("oid", strconv.FormatUint(uint64(t.RelID), 10))
		sn.add("live", strconv.FormatInt(t.Live, 10))
		sn.add("dead", strconv.FormatInt(t.Dead, 10))
		p.Targets = []Target{{ID: "table " + t.QualifiedName(), Identity: tableIdentity(t), Seen: sn.String(), Subject: t,
			Detail: fmt.Sprintf("%s  live %d dead %d (%.1f%%)", t.QualifiedName(), t.Live, t.Dead, 100*t.DeadRatio())}}
		p.Title = verb + " " + t.QualifiedName()
		p.Preview = []string{
			verb + " " + t.QualifiedName() + ": never FULL, so reads and writes go on; it conflicts only with DDL on the table",
			"it does not wait for a lock someone else holds (lock_timeout): during a pile-up it fails rather than queue",
			"the table must still be oid " + strconv.FormatUint(uint64(t.RelID), 10) + "; a long run continues in the background (progress view)",
		}
		if req.Action == ReindexTable {
			// Reads and writes go on, but it reads the whole table and
			// writes every index again, and a failure leaves work behind.
			p.Risk = High
			p.Preview = []string{
				verb + " " + t.QualifiedName() + ": each index is built again beside the old one and swapped in; reads and writes go on (PostgreSQL 12+)",
				fmt.Sprintf("it reads the whole table (about %s) and writes every index again: heavy I/O on a server already in trouble", bytesize.Format(t.SizeBytes)),
				"it waits for the transactions older than it to end, blocking nobody meanwhile (it conflicts only with VACUUM and DDL on the table)",
				"if it fails or is cancelled, a new index is left INVALID (named …_ccnew): the result names it, drop it with DROP INDEX CONCURRENTLY",
				"the table must still be oid " + strconv.FormatUint(uint64(t.RelID), 10) + "; a long run continues in the background (progress view, CREATE INDEX)",
			}
		}
	case CancelAutovacuum:
		b := req.Subject.(sources.Backend)
		pid := strconv.Itoa(int(b.PID))
		p.Targets = []Target{{ID: "pid " + pid, Identity: backendIdentity(b), Detail: describeBackend(b, env.Now()),
			Seen: seenBackend(b), Subject: b}}
		p.Title = "Cancel autovacuum worker " + pid
		p.Phrase = pid
		p.Risk = Low
		p.Preview = []string{
			"pg_cancel_backend(" + pid + "): the autovacuum run stops; the launcher starts it again later",
			"the DDL queued behind its lock can proceed; the table's dead tuples stay until the next run",
			"only if pid " + pid + " is still that autovacuum worker (same backend_start), checked in the same statement",
		}
	}
	return nil
}

func (pgMaintHandler) Recheck(ctx context.Context, env Env, p Plan) error {
	m, err := Capability[PGMaintainer](env, "run Postgres maintenance")
	if err != nil {
		return err
	}
	if len(p.Targets) != 1 {
		return refuse(ErrTampered, "a maintenance plan has one target")
	}
	t := p.Targets[0]
	req := Request{Action: p.Action, Source: p.Source, Subject: t.Subject}
	// Policy again on what the plan resolved, then the target as it is now.
	check := func() error { return (pgMaintHandler{}).Check(env.Policy, req, WholeRequest) }
	switch s := t.Subject.(type) {
	case sources.ReplicationSlot:
		var cur sources.ReplicationSlot
		if err := recheckOne(p, t.ID, check, func() (sources.ReplicationSlot, error) {
			c, ok, err := m.LookupSlot(ctx, s.Name)
			if err == nil && !ok {
				return c, fmt.Errorf("slot %s is gone", s.Name)
			}
			cur = c
			return c, err
		}, slotIdentity); err != nil {
			return err
		}
		if cur.Active {
			return refuse(ErrTargetChanged, fmt.Sprintf("slot %q became active (pid %d)", s.Name, cur.ActivePID))
		}
	case sources.TableStat:
		return recheckOne(p, t.ID, check, func() (sources.TableStat, error) {
			cur, ok, err := m.LookupTable(ctx, s.RelID)
			if err == nil && !ok {
				return cur, fmt.Errorf("table oid %d is gone", s.RelID)
			}
			return cur, err
		}, tableIdentity)
	case sources.Backend:
		// The identity check is the signal's own statement (Act): a
		// separate read would leave a gap between look and shot.
		return check()
	default:
		return refuse(ErrTampered, t.ID+" is not a slot, table or backend")
	}
	return nil
}

func (pgMaintHandler) Act(ctx context.Context, env Env, p Plan) ([]string, error) {
	m, err := Capability[PGMaintainer](env, "run Postgres maintenance")
	if err != nil {
		return nil, err
	}
	t := p.Targets[0]
	switch s := t.Subject.(type) {
	case sources.ReplicationSlot:
		ok, err := m.DropInactiveSlot(ctx, s.Name, s.RestartLSN)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refuse(ErrTargetChanged, fmt.Sprintf("slot %q is active, gone or moved: not dropped", s.Name))
		}
		return []string{fmt.Sprintf("slot %s dropped; %s of WAL can be recycled", s.Name, bytesize.Format(s.RetainedBytes))}, nil
	case sources.TableStat:
		d, err := m.MaintainTable(ctx, s.RelID, s.Schema, s.Name, tableOp(p.Action))
		if err != nil {
			return nil, err
		}
		return []string{d}, nil
	case sources.Backend:
		ok, err := m.CancelAutovacuum(ctx, s.PID, s.BackendStart)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refuse(ErrTargetChanged, fmt.Sprintf("pid %d is no longer that autovacuum worker: nothing sent", s.PID))
		}
		return []string{fmt.Sprintf("pid %d: autovacuum cancelled", s.PID)}, nil
	}
	return nil, refuse(ErrTampered, t.ID+" is not a slot, table or backend")
}
