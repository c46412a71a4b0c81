package runbook

import (
	"fmt"
	"strings"
	"time"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Env is the typed environment every runbook expression is compiled against
// once, at load, and evaluated in on every snapshot. The expr tags are the
// names expressions use: pg.ratio >= 0.8, slo("availability").burn("5m") < 1,
// firing("HighErrorRate"), rollout("production/api").deployed_ago < duration("30m").
//
// An expression that reads a source with no data yet (or an SLO, deployment
// or burn window that is not there) is unknown, never false: see Verdict.
type Env struct {
	// PG is the first Postgres source's snapshot.
	PG PG `expr:"pg"`
	// SLOs lists every objective.
	SLOs []SLO `expr:"slos"`
	// Alerts lists every alert (firing, pending, silenced, inhibited).
	Alerts []Alert `expr:"alerts"`
	// Alert is the alert that opened the run as it is now; its state is
	// "resolved" once the alert source no longer lists it.
	Alert Alert `expr:"alert"`
	// Rollouts lists every deployment.
	Rollouts []Rollout `expr:"rollouts"`
	// AWS is the first AWS source's snapshot: RDS instances and ECS
	// services across its regions.
	AWS AWS `expr:"aws"`

	// SLO returns the objective called name.
	SLO func(name string) SLO `expr:"slo"`
	// Rollout returns the deployment "namespace/name" (or "name" when only
	// one namespace has it).
	Rollout func(key string) Rollout `expr:"rollout"`
	// Logs returns the logs of a deployment "namespace/name" or ECS
	// service "region/cluster/name" (or its last part when only one has
	// it), sampled while asked for: see Logs (env_logs.go).
	Logs func(target string) Logs `expr:"logs"`
	// Firing, Pending and Silenced report whether any alert of that name is
	// in that state; Active whether any is listed at all (firing, pending,
	// silenced or inhibited): a silenced alert has not resolved.
	Firing   func(name string) bool `expr:"firing"`
	Pending  func(name string) bool `expr:"pending"`
	Silenced func(name string) bool `expr:"silenced"`
	Active   func(name string) bool `expr:"active"`

	// Sprintf, Pct and Dur format values for show: lines:
	// sprintf("%d/%d", pg.connections, pg.usable), pct(pg.ratio) = "95%",
	// dur(rollout("production/api").deployed_ago) = "4m12s".
	// sprintf's widths and precisions are bounded (maxFormatWidth).
	Sprintf func(format string, args ...any) string `expr:"sprintf"`
	Pct     func(ratio float64) string              `expr:"pct"`
	Dur     func(d time.Duration) string            `expr:"dur"`

	// Repeat, Join, Replace, Upper, Lower, Split, String, Keys and Values
	// stand in for expr's builtins of those names: what they build counts
	// against the expression's budget (see budget.go).
	Repeat  func(s string, n int) string            `expr:"repeat"`
	Join    func(parts any, sep ...string) string   `expr:"join"`
	Replace func(s, old, replacement string) string `expr:"replace"`
	Upper   func(s string) string                   `expr:"upper"`
	Lower   func(s string) string                   `expr:"lower"`
	Split   func(s, sep string) []string            `expr:"split"`
	String  func(v any) string                      `expr:"string"`
	Keys    func(m any) []any                       `expr:"keys"`
	Values  func(m any) []any                       `expr:"values"`

	// Step, Cat and Add are where the compiler routes an expression's
	// predicate iterations and string joins (budgetPatch): they charge the
	// budget. Expressions do not name them.
	Step func() bool              `expr:"__step"`
	Cat  func(a, b string) string `expr:"__cat"`
	Add  func(a, b any) any       `expr:"__add"`

	budget *budget
}

// PG is a Postgres snapshot as expressions see it.
type PG struct {
	// Source is the source's name ("pg main").
	Source string `expr:"source"`
	// Connections counts the backends holding a connection slot; Usable is
	// max_connections minus the superuser reserve; Ratio is their quotient.
	Connections    int     `expr:"connections"`
	Usable         int     `expr:"usable"`
	MaxConnections int     `expr:"max_connections"`
	Ratio          float64 `expr:"ratio"`
	// ByState counts client backends by state ("active", "idle in transaction").
	ByState           map[string]int `expr:"by_state"`
	Active            int            `expr:"active"`
	Idle              int            `expr:"idle"`
	IdleInTransaction int            `expr:"idle_in_transaction"` // aborted ones included
	// Waiting counts backends waiting on a lock another backend holds;
	// Blockers those holding such a lock; RootBlockers the blockers that
	// wait on nobody: the ones to act on.
	Waiting      int `expr:"waiting"`
	Blockers     int `expr:"blockers"`
	RootBlockers int `expr:"root_blockers"`
	// OldestXact is the age of the oldest open transaction, 0 when none.
	OldestXact time.Duration `expr:"oldest_xact"`
	// Backends lists the client backends.
	Backends []Backend `expr:"backends"`
	// Select returns the client backends matching a Postgres filter
	// ("state:!idle >10m"), as the pane's / and action steps read it;
	// Count is how many there are.
	Select func(filter string) []Backend `expr:"select"`
	Count  func(filter string) int       `expr:"count"`
	// PGViews are the optional views (env_pg.go): pg.statement("…"),
	// pg.replication("…"), pg.slot("…"), pg.table("…") and their lists.
	PGViews
}

// Backend is one client backend as expressions see it.
type Backend struct {
	PID   int    `expr:"pid"`
	User  string `expr:"user"`
	App   string `expr:"app"`
	DB    string `expr:"db"`
	State string `expr:"state"`
	// Wait is "type:event", "" when not waiting.
	Wait  string `expr:"wait"`
	Query string `expr:"query"`
	// Age is how long the backend has been in what matters for its state:
	// the transaction when idle in transaction, the query when active, the
	// state otherwise (the filter's >10m reads the same clock).
	Age        time.Duration `expr:"age"`
	XactAge    time.Duration `expr:"xact_age"` // 0 without a transaction
	BackendAge time.Duration `expr:"backend_age"`
	Blocked    bool          `expr:"blocked"`  // waits on a lock
	Blocking   bool          `expr:"blocking"` // holds a lock someone waits on
	Root       bool          `expr:"root"`     // blocking and not blocked
	BlockedBy  []int         `expr:"blocked_by"`
}

// SLO is one objective as expressions see it.
type SLO struct {
	Name      string  `expr:"name"`
	Objective float64 `expr:"objective"`
	// SLI and BudgetLeft are NaN when unknown (comparisons with NaN are false).
	SLI        float64 `expr:"sli"`
	BudgetLeft float64 `expr:"budget_left"`
	// Level is ok, ticket, page or unknown.
	Level  string `expr:"level"`
	Reason string `expr:"reason"`
	// Burn is the burn rate over a window ("5m", "30m", "1h", "2h", "6h",
	// "1d", "3d"); an unknown rate makes the expression unknown.
	Burn func(window string) float64 `expr:"burn"`
}

// Alert is one alert as expressions see it.
type Alert struct {
	Name     string `expr:"name"`
	Severity string `expr:"severity"`
	// State is firing, pending, silenced, inhibited, or resolved (the run's
	// alert, once gone).
	State    string            `expr:"state"`
	Firing   bool              `expr:"firing"`
	Active   bool              `expr:"active"` // listed: not resolved
	Silenced bool              `expr:"silenced"`
	Resolved bool              `expr:"resolved"`
	Labels   map[string]string `expr:"labels"`
	// Since is how long ago the alert started.
	Since      time.Duration `expr:"since"`
	RunbookURL string        `expr:"runbook_url"`
}

// Rollout is one deployment as expressions see it.
type Rollout struct {
	Namespace string `expr:"namespace"`
	Name      string `expr:"name"`
	Revision  int    `expr:"revision"`
	// PreviousRevision is what an undo returns to, 0 when none.
	PreviousRevision int `expr:"previous_revision"`
	// Status is complete, progressing, stalled or paused; Complete is
	// status == "complete" with every replica updated and available.
	Status   string `expr:"status"`
	Complete bool   `expr:"complete"`
	// DeployedAgo is how long ago the current revision became current.
	DeployedAgo time.Duration `expr:"deployed_ago"`
	Replicas    int           `expr:"replicas"`
	Ready       int           `expr:"ready"`
	Updated     int           `expr:"updated"`
	Available   int           `expr:"available"`
	Image       string        `expr:"image"` // the first container's
	Images      []string      `expr:"images"`
	ChangeCause string        `expr:"change_cause"`
	Paused      bool          `expr:"paused"`
	// Warnings is how many warning events the deployment, its ReplicaSets
	// and pods had recently (the sum of their counts); Restarts the sum of
	// its pods' restarts; OOMKilled how many pods last ended OOMKilled.
	Warnings  int `expr:"warnings"`
	Restarts  int `expr:"restarts"`
	OOMKilled int `expr:"oom_killed"`
}

// AWS is an AWS snapshot as expressions see it:
// aws.instance("us-west-2", "nudgecampaign-dr-db").role,
// aws.service("us-west-2", "nudgecampaign-dr", "api").running.
type AWS struct {
	// Source is the source's name ("aws").
	Source string `expr:"source"`
	// Instances and Services list everything the snapshot holds.
	Instances []RDS `expr:"instances"`
	Services  []ECS `expr:"services"`
	// Instance returns the RDS instance id in region; Service the ECS
	// service of a cluster in region. One that is not there makes the
	// expression unknown.
	Instance func(region, id string) RDS            `expr:"instance"`
	Service  func(region, cluster, name string) ECS `expr:"service"`
}

// RDS is one RDS instance as expressions see it.
type RDS struct {
	Region string `expr:"region"`
	ID     string `expr:"id"`
	// Status is RDS's (available, modifying, rebooting, …); Available is
	// status == "available".
	Status    string `expr:"status"`
	Available bool   `expr:"available"`
	// Role is primary, replica, writer or reader; ReplicaOf the source of a
	// replica ("us-east-1/nudgecampaign-prod"), "" otherwise.
	Role      string `expr:"role"`
	ReplicaOf string `expr:"replica_of"`
	MultiAZ   bool   `expr:"multi_az"`
	// LagSeconds, CPUPercent and Connections are CloudWatch's latest
	// one-minute figures, NaN when unknown (a primary has no lag);
	// comparisons with NaN are false.
	LagSeconds  float64 `expr:"lag_seconds"`
	CPUPercent  float64 `expr:"cpu_percent"`
	Connections float64 `expr:"connections"`
	// Health is the worst grade against the manual's thresholds (ok,
	// warning, critical, unknown).
	Health string `expr:"health"`
}

// ECS is one ECS service as expressions see it.
type ECS struct {
	Region  string `expr:"region"`
	Cluster string `expr:"cluster"`
	Name    string `expr:"name"`
	Status  string `expr:"status"` // ACTIVE, DRAINING, INACTIVE
	Desired int    `expr:"desired"`
	Running int    `expr:"running"`
	Pending int    `expr:"pending"`
	// Steady is the SDK waiter's "services stable": one deployment and as
	// many tasks running as desired.
	Steady bool `expr:"steady"`
	// TaskDefinition is family:revision; RolloutState the primary
	// deployment's (COMPLETED, IN_PROGRESS, FAILED, "").
	TaskDefinition string `expr:"task_definition"`
	RolloutState   string `expr:"rollout_state"`
}

// missing is what an expression reads that is not there: it makes the
// verdict unknown with this reason instead of false.
type missing struct{ what string }

func (m *missing) Error() string { return m.what }

// need is a bit set of the sources an expression reads.
type need uint8

const (
	needPG need = 1 << iota
	needSLO
	needAlerts
	needRollouts
	needOpener // the alert that opened the run
	needAWS
	needLogs
)

// world is the latest snapshot of each kind, as of one Observe.
type world struct {
	now  time.Time
	pg   *sources.PGActivity
	slo  *sources.SLOSet
	am   *sources.AlertSet
	kube *sources.RolloutSet
	aws  *sources.AWSSet
	logs *sources.LogCounts
	// snaps keep the names, ages and errors for messages.
	pgSnap, sloSnap, amSnap, kubeSnap, awsSnap, logsSnap sources.Snapshot
	snaps                                                []sources.Snapshot
}

// newWorld picks, for each kind, the first snapshot with data.
func newWorld(snaps []sources.Snapshot, now time.Time) *world {
	w := &world{now: now, snaps: snaps}
	for _, s := range snaps {
		switch d := s.Data.(type) {
		case *sources.PGActivity:
			if w.pg == nil && d != nil {
				w.pg, w.pgSnap = d, s
			}
		case *sources.SLOSet:
			if w.slo == nil && d != nil {
				w.slo, w.sloSnap = d, s
			}
		case *sources.AlertSet:
			if w.am == nil && d != nil {
				w.am, w.amSnap = d, s
			}
		case *sources.RolloutSet:
			if w.kube == nil && d != nil {
				w.kube, w.kubeSnap = d, s
			}
		case *sources.AWSSet:
			if w.aws == nil && d != nil {
				w.aws, w.awsSnap = d, s
			}
		case *sources.LogCounts:
			if w.logs == nil && d != nil {
				w.logs, w.logsSnap = d, s
			}
		}
	}
	return w
}

// snapshot returns the snapshot of the named source with data, or the first
// of kind k with data when name is "".
func (w *world) snapshot(k sources.Kind, name string) (sources.Snapshot, bool) {
	for _, s := range w.snaps {
		if s.Kind == k && s.Data != nil && (name == "" || s.Source == name) {
			return s, true
		}
	}
	return sources.Snapshot{}, false
}

// missingFor names the first source n needs that has no data, "" if none.
func (w *world) missingFor(n need, opener *sources.Alert) string {
	switch {
	case n&needPG != 0 && w.pg == nil:
		return "no postgres data"
	case n&needSLO != 0 && w.slo == nil:
		return "no SLO data"
	case n&(needAlerts|needOpener) != 0 && w.am == nil:
		return "no alert data"
	case n&needRollouts != 0 && w.kube == nil:
		return "no rollout data"
	case n&needAWS != 0 && w.aws == nil:
		return "no AWS data"
	case n&needLogs != 0 && w.logs == nil:
		return "no log counts (the log sampler has not run)"
	case n&needOpener != 0 && opener == nil:
		return "no alert opened this run"
	}
	return ""
}

// olderThan names the first source n reads whose data was fetched before
// after, "" if none (or after is zero).
func (w *world) olderThan(n need, after time.Time) string {
	if after.IsZero() {
		return ""
	}
	for _, c := range []struct {
		bit  need
		snap sources.Snapshot
		what string
	}{{needPG, w.pgSnap, "postgres"}, {needSLO, w.sloSnap, "SLO"}, {needAlerts | needOpener, w.amSnap, "alert"}, {needRollouts, w.kubeSnap, "rollout"}, {needAWS, w.awsSnap, "AWS"}, {needLogs, w.logsSnap, "log count"}} {
		if n&c.bit != 0 && !c.snap.FetchedAt.After(after) {
			return "waiting for " + c.what + " data newer than the action"
		}
	}
	return ""
}

// staleFor describes the sources n reads whose latest poll failed: the
// values shown are their last good data.
func (w *world) staleFor(n need) []string {
	var out []string
	add := func(s sources.Snapshot, what string) {
		if s.Stale && s.Err != nil {
			out = append(out, fmt.Sprintf("%s data %s old (%s)", what, shortDur(s.Age(w.now)), sanitize.Text(s.Err.Error())))
		}
	}
	if n&needPG != 0 && w.pg != nil {
		add(w.pgSnap, "postgres")
	}
	if n&needSLO != 0 && w.slo != nil {
		add(w.sloSnap, "SLO")
	}
	if n&(needAlerts|needOpener) != 0 && w.am != nil {
		add(w.amSnap, "alert")
	}
	if n&needRollouts != 0 && w.kube != nil {
		add(w.kubeSnap, "rollout")
	}
	if n&needAWS != 0 && w.aws != nil {
		add(w.awsSnap, "AWS")
	}
	if n&needLogs != 0 && w.logs != nil {
		add(w.logsSnap, "log count")
	}
	return out
}

// env builds the expression environment; opener is the run's alert.
func (w *world) env(opener *sources.Alert) Env {
	e := Env{
		Pct: func(r float64) string { return pct(r) },
		Dur: func(d time.Duration) string { return shortDur(d) },
	}
	if w.pg != nil {
		e.PG = pgEnv(w.pg, w.pgSnap.Source, w.now)
	}
	if w.slo != nil {
		for _, s := range w.slo.SLOs {
			e.SLOs = append(e.SLOs, sloEnv(s))
		}
	}
	e.SLO = func(name string) SLO {
		for _, s := range e.SLOs {
			if s.Name == name {
				return s
			}
		}
		panic(&missing{fmt.Sprintf("no SLO named %q", name)})
	}
	if w.am != nil {
		for _, a := range w.am.Alerts {
			e.Alerts = append(e.Alerts, alertEnv(a, w.now))
		}
		if opener != nil {
			e.Alert = alertEnv(*opener, w.now)
			e.Alert.State, e.Alert.Firing, e.Alert.Active, e.Alert.Silenced = "resolved", false, false, false
			e.Alert.Resolved = true
			for _, a := range w.am.Alerts {
				if sameLabels(a.Labels, opener.Labels) {
					e.Alert = alertEnv(a, w.now)
					break
				}
			}
		}
	}
	inState := func(name string, ok func(Alert) bool) bool {
		for _, a := range e.Alerts {
			if a.Name == name && ok(a) {
				return true
			}
		}
		return false
	}
	e.Firing = func(n string) bool { return inState(n, func(a Alert) bool { return a.Firing }) }
	e.Pending = func(n string) bool {
		return inState(n, func(a Alert) bool { return a.State == string(sources.AlertPending) })
	}
	e.Silenced = func(n string) bool { return inState(n, func(a Alert) bool { return a.Silenced }) }
	e.Active = func(n string) bool { return inState(n, func(a Alert) bool { return a.Active }) }
	if w.kube != nil {
		for _, d := range w.kube.Deployments {
			e.Rollouts = append(e.Rollouts, rolloutEnv(d, w.now))
		}
	}
	e.Rollout = func(key string) Rollout {
		var found []Rollout
		for _, r := range e.Rollouts {
			if r.Namespace+"/"+r.Name == key {
				return r
			}
			if !strings.Contains(key, "/") && r.Name == key {
				found = append(found, r)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
		if len(found) > 1 {
			panic(&missing{fmt.Sprintf("deployment %q is in several namespaces: say namespace/name", key)})
		}
		panic(&missing{fmt.Sprintf("no deployment %s", key)})
	}
	e.AWS = awsEnv(w.aws, w.awsSnap.Source)
	e.Logs = w.logsEnv()
	e.bindBudget(&budget{}) // last: it wraps what builds lists, too
	return e
}
