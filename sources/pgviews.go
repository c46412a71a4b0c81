package sources

import (
	"sync"
	"time"
)

// PGView names one of the Postgres pane's views. Activity comes with every
// tick; the others are read only while someone looks at them (see Wants).
type PGView string

// The Postgres views, in the order the view key cycles through them.
const (
	PGViewActivity    PGView = "activity"
	PGViewStatements  PGView = "statements"
	PGViewReplication PGView = "replication"
	PGViewTables      PGView = "tables"
	PGViewIndexes     PGView = "indexes"
	PGViewDatabases   PGView = "databases"
	PGViewProgress    PGView = "progress"
)

// PGViewOrder is every view, activity first.
var PGViewOrder = []PGView{PGViewActivity, PGViewStatements, PGViewReplication, PGViewTables,
	PGViewIndexes, PGViewDatabases, PGViewProgress}

// PGViewMeta is what every optional view carries besides its rows: when the
// server read it, and why it could not (the view is then empty and the pane
// shows Err instead of an SQL error).
type PGViewMeta struct {
	// At is the server's now() when the view was read; zero if never.
	At time.Time
	// Err says why the view could not be read, sanitized: a missing
	// extension with what to set, a privilege with what to grant, or the
	// server's message.
	Err string
}

// PGViews holds the latest reading of each optional view; nil for a view
// nobody has looked at. A payload's PGViews is shared with later payloads
// until a view is read again, and is never changed.
type PGViews struct {
	Statements  *PGStatements
	Replication *PGReplication
	Tables      *PGTables
	Indexes     *PGIndexes
	Databases   *PGDatabases
	Progress    *PGProgress
}

// PGStatements is pg_stat_statements, bounded to the statements that matter
// most by total and by mean time.
type PGStatements struct {
	PGViewMeta
	// Interval is the time between this reading and the previous one the
	// rates are computed over; zero on the first reading.
	Interval   time.Duration
	Statements []Statement
	// Truncated is true when the server had more statements than were read.
	Truncated bool
}

// SlowMeanMs is the manual's "slow query" line: a mean execution time above
// 100 ms.
const SlowMeanMs = 100.0

// Statement is one row of pg_stat_statements. Times are milliseconds.
type Statement struct {
	QueryID  int64
	UserID   uint32
	DBID     uint32
	User     string
	Database string
	Query    string // sanitized, at most StatementTextMax bytes
	Calls    int64
	TotalMs  float64
	MeanMs   float64
	MaxMs    float64
	Rows     int64
	// Shared buffer hits and reads, temp blocks read and written.
	SharedHit, SharedRead, TempRead, TempWritten int64
	// Per-second rates since the previous reading; valid when HasRates.
	HasRates    bool
	CallsPerSec float64
	RowsPerSec  float64
	// MsPerSec is execution time spent per wall second (1000 = one
	// backend busy the whole time).
	MsPerSec float64
}

// StatementTextMax bounds a statement's text as read.
const StatementTextMax = 2048

// Slow reports whether the statement's mean is over the manual's line.
func (s *Statement) Slow() bool { return s.MeanMs > SlowMeanMs }

// PGReplication is replication seen from this server: its standbys and
// walsenders when it sends, its receiver when it is a standby, its logical
// subscriptions, and its slots.
type PGReplication struct {
	PGViewMeta
	InRecovery bool
	// CurrentLSN is pg_current_wal_lsn on a primary, the last received LSN
	// on a standby.
	CurrentLSN string
	Senders    []WalSender
	// Receiver is set on a standby.
	Receiver      *WalReceiver
	Subscriptions []PGSubscription
	Slots         []ReplicationSlot
}

// WalSender is one row of pg_stat_replication: a streaming standby or a
// logical walsender.
type WalSender struct {
	PID          int32
	BackendStart time.Time
	User         string
	Application  string
	ClientAddr   string
	State        string
	SyncState    string
	SentLSN      string
	ReplayLSN    string
	// Bytes not yet sent, written, flushed, replayed by the receiver.
	SentLagBytes, WriteLagBytes, FlushLagBytes, ReplayLagBytes int64
	// Time lags as the server reports them; zero when null (idle).
	WriteLag, FlushLag, ReplayLag time.Duration
}

// WalReceiver is pg_stat_wal_receiver and the replay position of a standby.
type WalReceiver struct {
	Status      string // streaming, stopping, ... ; "" when no receiver runs
	SenderHost  string
	SenderPort  int
	ReceivedLSN string
	ReplayLSN   string
	// ReplayLagBytes is received but not yet replayed WAL.
	ReplayLagBytes int64
	// ReplayDelay is now() - pg_last_xact_replay_timestamp(); zero if unknown.
	ReplayDelay  time.Duration
	ReplayPaused bool
	LastMsg      time.Time
}

// PGSubscription is one row of pg_stat_subscription (the apply worker).
type PGSubscription struct {
	Name        string
	PID         int32 // 0 when the worker is not running
	ReceivedLSN string
	LatestEnd   string
	LastMsg     time.Time
	// Delay is now() - latest_end_time: how long since the publisher's
	// last reported position was confirmed.
	Delay time.Duration
}

// ReplicationSlot is one row of pg_replication_slots.
type ReplicationSlot struct {
	Name      string
	Type      string // physical, logical
	Plugin    string
	Database  string
	Active    bool
	ActivePID int32
	// RestartLSN is the oldest WAL the slot needs; RetainedBytes is how
	// much WAL it holds back from the current position.
	RestartLSN    string
	RetainedBytes int64
	WALStatus     string // 13+: reserved, extended, unreserved, lost
}

// PGTables is pg_stat_user_tables, the tables with most dead tuples first.
type PGTables struct {
	PGViewMeta
	Tables    []TableStat
	Truncated bool
}

// TableOp is a maintenance statement on one table, as the tables view
// offers it and a Postgres source runs it.
type TableOp int

const (
	// TableAnalyze is ANALYZE: fresh statistics for the planner.
	TableAnalyze TableOp = iota
	// TableVacuum is VACUUM (ANALYZE), never FULL: dead tuples reclaimed
	// for reuse, statistics refreshed.
	TableVacuum
	// TableReindex is REINDEX TABLE CONCURRENTLY (PostgreSQL 12+): every
	// index of the table built again beside the old one and swapped in,
	// reads and writes going on (the manual's nightly REINDEX TABLE, which
	// would block writes for its whole run).
	TableReindex
)

// Statement is the SQL before the table's name.
func (o TableOp) Statement() string {
	switch o {
	case TableVacuum:
		return "VACUUM (ANALYZE)"
	case TableReindex:
		return "REINDEX TABLE CONCURRENTLY"
	}
	return "ANALYZE"
}

// TableStat is one table's vacuum and analyze state.
type TableStat struct {
	RelID  uint32
	Schema string
	Name   string
	Live   int64
	Dead   int64
	// SizeBytes is an estimate from pg_class.relpages (table, toast and
	// indexes) as of the last vacuum or analyze: it takes no lock, which
	// pg_total_relation_size would, and could wait behind a pile-up.
	SizeBytes                    int64
	LastVacuum, LastAutovacuum   time.Time
	LastAnalyze, LastAutoanalyze time.Time
	SeqScan, IdxScan             int64
}

// DeadRatio is dead / (live + dead), 0 for an empty table.
func (t *TableStat) DeadRatio() float64 {
	if t.Live+t.Dead == 0 {
		return 0
	}
	return float64(t.Dead) / float64(t.Live+t.Dead)
}

// QualifiedName is schema.name.
func (t *TableStat) QualifiedName() string { return t.Schema + "." + t.Name }

// PGIndexes is pg_stat_user_indexes, the least used first.
type PGIndexes struct {
	PGViewMeta
	Indexes   []IndexStat
	Truncated bool
}

// IndexStat is one index's use.
type IndexStat struct {
	RelID     uint32
	Schema    string
	Table     string
	Name      string
	Scans     int64
	TupRead   int64
	SizeBytes int64 // from pg_class.relpages, lock-free
	Unique    bool  // unique or primary key: needed even if never scanned
}

// Unused reports an index never scanned that no constraint needs.
func (i *IndexStat) Unused() bool { return i.Scans == 0 && !i.Unique }

// PGDatabases is connections per database against max_connections.
type PGDatabases struct {
	PGViewMeta
	MaxConnections int
	Databases      []DatabaseStat
}

// DatabaseStat is one database's backends and totals from pg_stat_database.
type DatabaseStat struct {
	Name      string
	Backends  int
	ConnLimit int // datconnlimit, -1 for none
	Commits   int64
	Rollbacks int64
	BlksHit   int64
	BlksRead  int64
	Deadlocks int64
	TempBytes int64
}

// PGProgress is every running VACUUM, CREATE INDEX and ANALYZE.
type PGProgress struct {
	PGViewMeta
	Ops []ProgressOp
}

// ProgressOp is one row of a pg_stat_progress_* view.
type ProgressOp struct {
	Command  string // VACUUM, CREATE INDEX, ANALYZE, ...
	PID      int32
	Database string
	Relation string
	Phase    string
	// Done and Total are the phase's blocks (or tuples); Total 0 when unknown.
	Done, Total int64
}

// Wants records which optional views someone is looking at, per source, so
// a source reads a view only while it is on some screen (or a runbook step
// checks it). Many sessions share one; the union is what is read.
type Wants struct {
	mu sync.Mutex
	m  map[string]map[PGView]time.Time
}

// ViewWants is the process's registry: panes and runbook checks write it,
// sources read it. One per process is what serve needs: N sessions looking
// at one view cost the server one query.
var ViewWants = &Wants{}

// Want says view of source is wanted until the given time.
func (w *Wants) Want(source string, view PGView, until time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]map[PGView]time.Time{}
	}
	v := w.m[source]
	if v == nil {
		v = map[PGView]time.Time{}
		w.m[source] = v
	}
	if until.After(v[view]) {
		v[view] = until
	}
}

// Wanted reports whether view of source is wanted at now.
func (w *Wants) Wanted(source string, view PGView, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return now.Before(w.m[source][view])
}

// Thresholds the views mark, in one place (the pane paints them, runbooks
// may quote them).
const (
	// DeadTuplesMin is the manual's floor for a bloat worth a look
	// (WHERE n_dead_tup > 1000).
	DeadTuplesMin = 1000
	// DeadRatioWarn and DeadRatioCrit are dead / (live + dead) past which
	// a table wants a VACUUM.
	DeadRatioWarn = 0.1
	DeadRatioCrit = 0.2
	// ReplicationLagWarnBytes is replay lag worth a warning: a promotion
	// now would have this much WAL still to apply.
	ReplicationLagWarnBytes = 16 << 20
	// SlotRetainedCritBytes is WAL an inactive slot holds back past which
	// the disk is at risk.
	SlotRetainedCritBytes = 1 << 30
)
