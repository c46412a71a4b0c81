package sources

import (
	"math"
	"time"
)

// Denied maps an action kind name (the string value of an ops.Kind, such as
// "terminate" or "undo") to the reason it is not allowed, as learned from the
// backend: a missing privilege, an RBAC rule. Absent means allowed as far as
// the backend knows; the ops Executor still checks policy.
type Denied map[string]string

// ---------------------------------------------------------------- SLOs

// SLOLevel is the multiwindow, multi-burn-rate verdict for an SLO.
type SLOLevel int

// Verdicts, ordered by urgency.
const (
	SLOUnknown SLOLevel = iota
	SLOOK
	SLOTicket
	SLOPage
)

func (l SLOLevel) String() string {
	switch l {
	case SLOOK:
		return "ok"
	case SLOTicket:
		return "ticket"
	case SLOPage:
		return "page"
	}
	return "unknown"
}

// BurnWindows are the windows burn rates are computed over, shortest first.
var BurnWindows = []time.Duration{
	5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	6 * time.Hour, 24 * time.Hour, 72 * time.Hour,
}

// SLOSet is the payload of an SLO source.
type SLOSet struct {
	Scripted // the demo's run; nil Script for a real backend
	SLOs     []SLOStatus
	Warnings []string // e.g. Prometheus warnings; sanitized
	Queries  int      // queries issued for this snapshot
	Bytes    int64    // response bytes read for this snapshot
}

func (*SLOSet) payloadKind() Kind { return KindSLO }

// SLOStatus is one objective as of the snapshot.
type SLOStatus struct {
	Name        string
	Description string
	Objective   float64       // e.g. 0.999
	Window      time.Duration // e.g. 30 days
	// SLI over Window; NaN when unknown (no traffic, query error).
	SLI float64
	// BudgetLeft is the fraction of the error budget left over Window
	// (1 = untouched, 0 = spent, negative = overspent); NaN when unknown.
	BudgetLeft float64
	// BudgetLeftTime is BudgetLeft expressed as time at a 1x burn.
	BudgetLeftTime time.Duration
	// Burn maps each of BurnWindows to the burn rate over it (error ratio
	// divided by the budget 1-Objective); NaN when unknown.
	Burn  map[time.Duration]float64
	Level SLOLevel
	// Reason explains Level ("1h 15.2x ≥ 14.4 and 5m 20.1x ≥ 14.4").
	Reason string
	// Spark is the burn rate over recent time, oldest first, one point per
	// SparkStep; NaN points are gaps.
	Spark     []float64
	SparkStep time.Duration
	// Err is a problem specific to this SLO (a bad expression); sanitized.
	Err string
}

// BurnRate returns the burn over window w, NaN when unknown.
func (s SLOStatus) BurnRate(w time.Duration) float64 {
	if v, ok := s.Burn[w]; ok {
		return v
	}
	return math.NaN()
}

// Multiwindow burn-rate thresholds from the SRE workbook (chapter 5, "Alerting
// on SLOs"), for a 30-day window.
const (
	PageFastBurn   = 14.4 // 1h and 5m: 2% of budget in 1h
	PageSlowBurn   = 6    // 6h and 30m: 5% of budget in 6h
	TicketFastBurn = 3    // 1d and 2h: 10% of budget in 1d
	TicketSlowBurn = 1    // 3d and 6h: 10% of budget in 3d
)

// ErrorBudget is the error budget of an objective, 1 − objective, computed
// in decimal so that round objectives give round budgets: 1 − 0.999 in
// binary floating point is 0.0010000000000000009, which put an error ratio
// of exactly 1.44% at 14.399999999999986× — under the 14.4× page. Objectives
// are written with a few decimals, so rounding at 1e-12 loses nothing.
func ErrorBudget(objective float64) float64 {
	const scale = 1e12
	return (scale - math.Round(objective*scale)) / scale
}

// burnTolerance is the relative slack of a threshold comparison: far below
// any difference that matters (burn rates are shown to two digits), far
// above the rounding of a division.
const burnTolerance = 1e-9

// atLeast reports whether a burn rate meets a threshold, as the SRE
// workbook's rules mean it: a ratio that is the threshold in decimal meets
// it even when binary division lands a hair below.
func atLeast(burn, threshold float64) bool {
	return burn >= threshold*(1-burnTolerance)
}

// EvaluateBurn applies the multiwindow, multi-burn-rate rules to burn rates
// keyed by window and returns the verdict with a human reason. A burn equal
// to a threshold (within rounding) meets it. Unknown (NaN)
// windows never trigger; if every window is unknown the verdict is SLOUnknown.
func EvaluateBurn(burn map[time.Duration]float64) (SLOLevel, string) {
	rules := []struct {
		level         SLOLevel
		long, short   time.Duration
		threshold     float64
		longN, shortN string
	}{
		{SLOPage, time.Hour, 5 * time.Minute, PageFastBurn, "1h", "5m"},
		{SLOPage, 6 * time.Hour, 30 * time.Minute, PageSlowBurn, "6h", "30m"},
		{SLOTicket, 24 * time.Hour, 2 * time.Hour, TicketFastBurn, "1d", "2h"},
		{SLOTicket, 72 * time.Hour, 6 * time.Hour, TicketSlowBurn, "3d", "6h"},
	}
	known := false
	for _, v := range burn {
		if !math.IsNaN(v) {
			known = true
			break
		}
	}
	if !known {
		return SLOUnknown, "no data"
	}
	for _, r := range rules {
		l, okL := burn[r.long]
		s, okS := burn[r.short]
		if okL && okS && atLeast(l, r.threshold) && atLeast(s, r.threshold) {
			return r.level, r.longN + " " + FormatBurn(l) + " and " + r.shortN + " " + FormatBurn(s) +
				" ≥ " + FormatBurn(r.threshold)
		}
	}
	return SLOOK, "no burn-rate rule met"
}

// ---------------------------------------------------------------- Alerts

// AlertState is where an alert stands.
type AlertState string

// Alert states; Suppressed covers silenced and inhibited (see SilencedBy,
// InhibitedBy).
const (
	AlertFiring    AlertState = "firing"
	AlertPending   AlertState = "pending"
	AlertSilenced  AlertState = "silenced"
	AlertInhibited AlertState = "inhibited"
)

// AlertSet is the payload of an alert source.
type AlertSet struct {
	Scripted // the demo's run; nil Script for a real backend
	// Origin is "alertmanager" or "prometheus" (rules API fallback).
	Origin   string
	Alerts   []Alert
	Silences []Silence
	Warnings []string
	Denied   Denied
}

func (*AlertSet) payloadKind() Kind { return KindAlerts }

// Label is one name=value pair; slices of labels are kept sorted by Name.
type Label struct{ Name, Value string }

// Alert is one alert instance (one label set). All text is sanitized.
type Alert struct {
	Fingerprint string
	Name        string // alertname
	Severity    string // critical, warning, info, or ""
	State       AlertState
	StartsAt    time.Time
	UpdatedAt   time.Time
	// EndsAt is when Alertmanager will consider the alert resolved unless
	// Prometheus re-sends it; zero when the source does not know (the
	// Prometheus fallback).
	EndsAt      time.Time
	Labels      []Label
	Annotations []Label
	// GeneratorURL links to the expression that fired the alert in
	// Prometheus's UI; "" when the source does not give it.
	GeneratorURL string
	Summary      string
	Description  string
	RunbookURL   string
	Receivers    []string
	SilencedBy   []string
	InhibitedBy  []string
}

// Label returns the value of label name, "" when absent.
func (a Alert) Label(name string) string { return labelValue(a.Labels, name) }

// Matcher is one Alertmanager silence matcher.
type Matcher struct {
	Name    string
	Value   string
	IsRegex bool
	IsEqual bool // false means != or !~
}

// Silence is an Alertmanager silence.
type Silence struct {
	ID        string
	Matchers  []Matcher
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
	State     string // active, pending, expired
}

// ---------------------------------------------------------------- Postgres

// PGActivity is the payload of a Postgres source: pg_stat_activity and the
// figures around it, read in one round trip.
type PGActivity struct {
	Scripted          // the demo's run; nil Script for a real backend
	ServerVersion int // server_version_num, e.g. 150004
	// MaxConnections and ReservedConnections come from pg_settings;
	// Usable = max_connections - superuser_reserved_connections.
	MaxConnections      int
	ReservedConnections int
	// TrackActivityQuerySize is the byte limit beyond which the server
	// truncates query text.
	TrackActivityQuerySize int
	// Backends lists client backends, or every backend when the source is
	// asked for all types.
	Backends []Backend
	// Connections counts every backend that holds a connection slot.
	Connections  int
	ByState      map[string]int
	ByDatabase   map[string]int
	ByUser       map[string]int
	ByApp        map[string]int
	OldestXact   *Backend // nil when no transaction is open
	LongestIdleX *Backend // longest idle in transaction, nil if none
	// CanSeeAll is false when the monitoring role lacks pg_monitor (or
	// pg_read_all_stats): other roles' query text is hidden.
	CanSeeAll bool
	Denied    Denied
	Now       time.Time // server's now() at the snapshot
	// Views are the optional views (statements, replication, ...) as last
	// read; nil when none was ever wanted. See PGViews and Wants.
	Views *PGViews
}

func (*PGActivity) payloadKind() Kind { return KindPostgres }

// Usable is the number of connections ordinary roles can open.
func (p *PGActivity) Usable() int { return p.MaxConnections - p.ReservedConnections }

// Backend is one row of pg_stat_activity. Text fields are sanitized.
type Backend struct {
	PID          int32
	BackendStart time.Time // with PID, the identity of a backend (pids are reused)
	BackendType  string    // "client backend", "autovacuum worker", ...
	Database     string
	User         string
	Application  string
	ClientAddr   string
	State        string // active, idle, idle in transaction, ...
	WaitType     string
	WaitEvent    string
	XactStart    time.Time // zero when no transaction
	QueryStart   time.Time
	StateChange  time.Time
	Query        string
	// QueryTruncated is true when the text likely hit track_activity_query_size.
	QueryTruncated bool
	// Hidden is true when the server showed "<insufficient privilege>".
	Hidden    bool
	BlockedBy []int32 // pg_blocking_pids, only for backends waiting on a lock
	LeaderPID int32   // parallel worker's leader, 0 if none
	// QueryID is pg_stat_activity.query_id (14+, with compute_query_id):
	// the statement's pg_stat_statements queryid; 0 when unknown.
	QueryID int64
	// Self marks flightdeck's own connections; actions never target them.
	Self bool
}

// IsClient reports whether the backend serves a client connection.
func (b *Backend) IsClient() bool {
	return b.BackendType == "" || b.BackendType == "client backend"
}

// ---------------------------------------------------------------- Rollouts

// RolloutState is a Deployment's rollout status, as kubectl rollout status
// would report it.
type RolloutState string

// Rollout states.
const (
	RolloutComplete    RolloutState = "complete"
	RolloutProgressing RolloutState = "progressing"
	RolloutStalled     RolloutState = "stalled" // ProgressDeadlineExceeded
	RolloutPaused      RolloutState = "paused"
)

// RolloutSet is the payload of a rollout source.
type RolloutSet struct {
	Scripted    // the demo's run; nil Script for a real backend
	Context     string
	Deployments []Deployment
	// Denied maps a namespace to the actions refused there.
	Denied map[string]Denied
	// Protected lists namespaces marked protected by config.
	Protected []string
}

func (*RolloutSet) payloadKind() Kind { return KindRollouts }

// Deployment is one Kubernetes Deployment with its revision history.
type Deployment struct {
	Namespace          string
	Name               string
	UID                string
	ResourceVersion    string
	Generation         int64
	ObservedGeneration int64
	Replicas           int32 // spec.replicas
	Ready              int32
	Updated            int32
	Available          int32
	State              RolloutState
	Message            string // why Stalled or Progressing; sanitized
	Paused             bool
	Revision           int64    // current revision
	Images             []string // current pod template images; sanitized
	// RolledOutAt is when the current revision's ReplicaSet was created, or
	// later, when it was seen becoming current again by a rollback (which
	// reuses the old ReplicaSet): "deployed 4m ago" next to a burning SLO.
	RolledOutAt time.Time
	// History lists revisions newest first.
	History []Revision
	// Selector is the pod selector (matchLabels as key=value, comma
	// separated), for reading the pods' logs.
	Selector string
	// Evidence is the pods' state and warning events (sources/kube).
	Evidence Evidence
}

// Key is namespace/name.
func (d Deployment) Key() string { return d.Namespace + "/" + d.Name }

// Revision is one entry of rollout history (one ReplicaSet).
type Revision struct {
	Number      int64
	ReplicaSet  string
	ChangeCause string // sanitized
	Images      []string
	CreatedAt   time.Time
	Replicas    int32
	Ready       int32
}
