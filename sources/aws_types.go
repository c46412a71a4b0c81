package sources

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------- AWS

// Errors a backend wraps so callers that must not import it (ops, ui) can
// still tell the cases apart with errors.Is. The AWS backend uses them.
var (
	// ErrAccessDenied: the server refused the caller's permission (AWS
	// AccessDenied, AccessDeniedException, UnauthorizedOperation). Never
	// retried: asking again changes nothing; the message names the missing
	// permission.
	ErrAccessDenied = errors.New("access denied")
	// ErrCredentials: no credentials were found, or the server rejected
	// them (expired session, unknown key, bad signature).
	ErrCredentials = errors.New("credentials missing or rejected")
	// ErrThrottled: the server kept throttling after the SDK's backoff.
	ErrThrottled = errors.New("throttled")
)

// Health grades a figure or a resource against the ops manual's thresholds,
// so every pane and runbook check colours the same number the same way.
type Health int

// Grades, ordered by urgency.
const (
	HealthUnknown Health = iota
	HealthOK
	HealthWarning
	HealthCritical
)

func (h Health) String() string {
	switch h {
	case HealthOK:
		return "ok"
	case HealthWarning:
		return "warning"
	case HealthCritical:
		return "critical"
	}
	return "unknown"
}

// Thresholds. The manual ("Key Operational Metrics") gives Database CPU a
// target below 70 % and a critical threshold above 90 %; its alert
// DatabaseConnectionPoolExhausted fires at 80 % of max_connections; its
// recovery script states an RPO of one hour, which is what a DR replica's lag
// must stay well under. The lag warning and the connections critical level
// are flightdeck's own.
const (
	DBCPUWarnPercent           = 70.0
	DBCPUCriticalPercent       = 90.0
	DBConnectionsWarnRatio     = 0.8
	DBConnectionsCriticalRatio = 0.95
	ReplicaLagWarn             = time.Minute
	ReplicaLagCritical         = time.Hour
)

// Bounds on an AWS snapshot: what a region or a service may contribute.
// Backends truncate to them and say so in AWSSet.Warnings.
const (
	MaxRDSInstances   = 100 // per region
	MaxRDSClusters    = 50  // per region
	MaxECSServices    = 100 // per cluster
	MaxECSEvents      = 5   // per service, newest first
	MaxECSDeployments = 5   // per service
)

// AWSSet is the payload of an AWS source: RDS instances and Aurora clusters
// with their CloudWatch figures, and ECS services, across every configured
// region (the DR side lives in another region than production).
//
// A region that could not be read does not fail the snapshot: its errors are
// in Regions and the other regions' data is still shown. All text is
// sanitized.
type AWSSet struct {
	Scripted // the demo's run; nil Script for a real backend
	// Regions lists every region looked at, in config order (the first is
	// the primary), with the errors of its reads.
	Regions  []AWSRegion
	RDS      []RDSInstance // by region (config order), then identifier
	Clusters []RDSCluster  // by region, then identifier
	ECS      []ECSService  // by region, cluster, service name
	// CredentialSource says where the SDK found credentials
	// ("EnvConfigCredentials", "SSOProvider", …); "demo" in the demo.
	CredentialSource string
	// Endpoint is the endpoint override ("" when talking to AWS), shown so
	// nobody mistakes an emulator for production.
	Endpoint string
	Warnings []string
}

func (*AWSSet) payloadKind() Kind { return KindAWS }

// Instance finds an RDS instance by region and identifier. The identifier
// (from config or a runbook) is compared with the raw one where the source
// gave it, so an instance whose identifier only sanitizes to id is not it.
func (s *AWSSet) Instance(region, id string) (RDSInstance, bool) {
	for _, i := range s.RDS {
		if i.Region == region && rawOr(i.RawID, i.ID) == id {
			return i, true
		}
	}
	return RDSInstance{}, false
}

// Cluster finds an Aurora cluster by region and identifier, raw where
// known, like Instance.
func (s *AWSSet) Cluster(region, id string) (RDSCluster, bool) {
	for _, c := range s.Clusters {
		if c.Region == region && rawOr(c.RawID, c.ID) == id {
			return c, true
		}
	}
	return RDSCluster{}, false
}

// Service finds an ECS service by region, cluster and name. The name is
// compared with the one in the raw ARN where the source gave it, so of a
// plain svc and a svc plus escape characters (both shown as svc) only the
// plain one is "svc".
func (s *AWSSet) Service(region, cluster, name string) (ECSService, bool) {
	for _, e := range s.ECS {
		if e.Region == region && e.Cluster == cluster && e.RawName() == name {
			return e, true
		}
	}
	return ECSService{}, false
}

// rawOr is raw, or shown when the source gave no raw value.
func rawOr(raw, shown string) string {
	if raw != "" {
		return raw
	}
	return shown
}

// AWSRegion is one region of an AWSSet and what went wrong reading it.
type AWSRegion struct {
	Name string
	// One-line errors of this region's reads, "" when the read succeeded
	// (or was not configured). Sanitized.
	RDSErr, ECSErr, MetricsErr string
}

// Err joins the region's errors, "" when every read succeeded.
func (r AWSRegion) Err() string {
	var parts []string
	for _, e := range []string{r.RDSErr, r.ECSErr, r.MetricsErr} {
		if e != "" {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, "; ")
}

// RDSRef names an RDS instance: identifiers are unique per region only.
type RDSRef struct{ Region, ID string }

// IsZero reports whether the reference names nothing.
func (r RDSRef) IsZero() bool { return r.ID == "" }

// String is "id (region)", or "id" when the region is unknown.
func (r RDSRef) String() string {
	if r.Region == "" {
		return r.ID
	}
	return r.ID + " (" + r.Region + ")"
}

// ParseRDSRef reads an instance reference as RDS gives it: a bare
// identifier (same region as home) or an ARN
// (arn:aws:rds:us-east-1:123456789012:db:name) for a cross-region one.
func ParseRDSRef(s, home string) RDSRef {
	if rest, ok := strings.CutPrefix(s, "arn:"); ok {
		// partition:rds:region:account:db:name
		f := strings.SplitN(rest, ":", 6)
		if len(f) == 6 && f[1] == "rds" && f[4] == "db" {
			return RDSRef{Region: f[2], ID: f[5]}
		}
	}
	return RDSRef{Region: home, ID: s}
}

// RDSRole is an instance's place in replication.
type RDSRole string

// Roles. A standalone instance without replicas is a primary too.
const (
	RolePrimary RDSRole = "primary"
	RoleReplica RDSRole = "replica"
	RoleWriter  RDSRole = "writer" // Aurora cluster writer
	RoleReader  RDSRole = "reader" // Aurora cluster reader
)

// RDSInstance is one DB instance with its latest CloudWatch figures.
type RDSInstance struct {
	Region string
	ID     string
	// RawID is the identifier exactly as RDS gave it, not sanitized: what
	// actions and their re-checks name the instance by (ID is sanitized for
	// display, and two identifiers may then look alike). Never render it.
	RawID         string
	ARN           string
	Engine        string // postgres, aurora-postgresql, mysql, …
	EngineVersion string
	Class         string // db.r6g.xlarge
	Status        string // available, rebooting, modifying, …
	MultiAZ       bool
	AZ            string
	SecondaryAZ   string // the Multi-AZ standby's zone, when RDS reports it
	Endpoint      string // address:port, "" while creating
	// ClusterID is the Aurora cluster the instance belongs to, "" if none;
	// ClusterWriter says whether it is the cluster's writer.
	ClusterID     string
	ClusterWriter bool
	// ReplicaOf is the source of a read replica (zero for a primary), with
	// its region: a cross-region replica names its source by ARN.
	ReplicaOf RDSRef
	Replicas  []RDSRef
	// Latest one-minute averages from CloudWatch (AWS/RDS); NaN when
	// unknown. ReplicaLag is in seconds and only exists on replicas.
	CPUPercent  float64
	Connections float64
	ReplicaLag  float64
	MetricsAt   time.Time // timestamp of the newest datapoint, zero if none
	// MaxConnections is max_connections as far as flightdeck knows: the
	// engine's default for the class (RDS's formula on the class memory);
	// a custom parameter group may differ. 0 when unknown.
	MaxConnections int
	CreatedAt      time.Time
	// Events are RDS's events about the instance, newest first, at most
	// MaxRDSEvents from the last RDSEventWindow.
	Events []RDSEvent
}

// Ref is the instance's reference.
func (i RDSInstance) Ref() RDSRef { return RDSRef{Region: i.Region, ID: i.ID} }

// Key is region/id, unique within an AWSSet.
func (i RDSInstance) Key() string { return i.Region + "/" + i.ID }

// Role says primary, replica, or Aurora writer/reader.
func (i RDSInstance) Role() RDSRole {
	switch {
	case i.ClusterID != "" && i.ClusterWriter:
		return RoleWriter
	case i.ClusterID != "":
		return RoleReader
	case !i.ReplicaOf.IsZero():
		return RoleReplica
	}
	return RolePrimary
}

// RoleText is the role for a table cell: "primary", "primary (1 replica)",
// "replica of db-1 (us-east-1)", "writer of cluster-1".
func (i RDSInstance) RoleText() string {
	switch r := i.Role(); r {
	case RoleWriter, RoleReader:
		return string(r) + " of " + i.ClusterID
	case RoleReplica:
		if i.ReplicaOf.Region == i.Region {
			return "replica of " + i.ReplicaOf.ID
		}
		return "replica of " + i.ReplicaOf.String()
	}
	switch n := len(i.Replicas); n {
	case 0:
		return "primary"
	case 1:
		return "primary (1 replica)"
	default:
		return "primary (" + strconv.Itoa(n) + " replicas)"
	}
}

// Lag is ReplicaLag as a duration; ok is false when unknown.
func (i RDSInstance) Lag() (d time.Duration, ok bool) {
	if math.IsNaN(i.ReplicaLag) {
		return 0, false
	}
	return time.Duration(i.ReplicaLag * float64(time.Second)), true
}

// CPUHealth grades CPUPercent: below 70 % ok, up to 90 % warning, above
// critical (the manual's Database CPU row).
func (i RDSInstance) CPUHealth() Health {
	switch v := i.CPUPercent; {
	case math.IsNaN(v):
		return HealthUnknown
	case v > DBCPUCriticalPercent:
		return HealthCritical
	case v >= DBCPUWarnPercent:
		return HealthWarning
	}
	return HealthOK
}

// LagHealth grades ReplicaLag: a minute is a warning, the one-hour RPO
// critical. Unknown on a primary.
func (i RDSInstance) LagHealth() Health {
	d, ok := i.Lag()
	switch {
	case !ok:
		return HealthUnknown
	case d >= ReplicaLagCritical:
		return HealthCritical
	case d >= ReplicaLagWarn:
		return HealthWarning
	}
	return HealthOK
}

// ConnectionsHealth grades Connections against MaxConnections: above 80 %
// (the manual's DatabaseConnectionPoolExhausted) a warning, above 95 %
// critical. Unknown without both figures.
func (i RDSInstance) ConnectionsHealth() Health {
	if math.IsNaN(i.Connections) || i.MaxConnections <= 0 {
		return HealthUnknown
	}
	switch r := i.Connections / float64(i.MaxConnections); {
	case r > DBConnectionsCriticalRatio:
		return HealthCritical
	case r > DBConnectionsWarnRatio:
		return HealthWarning
	}
	return HealthOK
}

// StatusHealth grades the instance status: available is ok, a status that
// passes on its own (rebooting, modifying, backing-up, …) a warning, and one
// that needs a human (failed, storage-full, stopped, …) critical.
func (i RDSInstance) StatusHealth() Health { return rdsStatusHealth(i.Status) }

func rdsStatusHealth(status string) Health {
	switch status {
	case "":
		return HealthUnknown
	case "available":
		return HealthOK
	case "failed", "storage-full", "stopped", "stopping", "inaccessible-encryption-credentials",
		"inaccessible-encryption-credentials-recoverable", "incompatible-network", "incompatible-option-group",
		"incompatible-parameters", "incompatible-restore", "insufficient-capacity", "restore-error",
		"deleting", "deleted":
		return HealthCritical
	}
	return HealthWarning
}

// Health is the worst of the instance's grades, with the figure that set it
// ("CPU 93% > 90%"); "" reason when all is well.
func (i RDSInstance) Health() (Health, string) {
	worst, why := HealthUnknown, ""
	consider := func(h Health, reason string) {
		if h > worst {
			worst, why = h, reason
			if h == HealthOK {
				why = ""
			}
		}
	}
	consider(i.StatusHealth(), "status "+i.Status)
	consider(i.CPUHealth(), fmt.Sprintf("CPU %.0f%% %s", i.CPUPercent, cpuBound(i.CPUPercent)))
	if d, ok := i.Lag(); ok {
		consider(i.LagHealth(), "replica lag "+roundDur(d))
	}
	if i.MaxConnections > 0 && !math.IsNaN(i.Connections) {
		consider(i.ConnectionsHealth(), fmt.Sprintf("connections %.0f of %d", i.Connections, i.MaxConnections))
	}
	return worst, why
}

// roundDur renders a lag: 850ms, 42s, 3m12s, 1h5m.
func roundDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func cpuBound(v float64) string {
	switch {
	case v > DBCPUCriticalPercent:
		return "> 90%"
	case v >= DBCPUWarnPercent:
		return "≥ 70%"
	}
	return "< 70%"
}

// RebootRefusal says why RebootDBInstance would be refused ("" when it
// would not be), following RDS's own rules: only an available instance
// reboots, and a reboot with failover needs a Multi-AZ instance outside
// Aurora (Aurora fails over at the cluster).
func (i RDSInstance) RebootRefusal(forceFailover bool) string {
	if i.Status != "available" {
		return fmt.Sprintf("%s is %s, not available", i.ID, i.Status)
	}
	if forceFailover && i.ClusterID != "" {
		return fmt.Sprintf("%s is in Aurora cluster %s: fail over the cluster instead", i.ID, i.ClusterID)
	}
	if forceFailover && !i.MultiAZ {
		return fmt.Sprintf("%s is not Multi-AZ: there is no standby to fail over to", i.ID)
	}
	return ""
}

// PromoteRefusal says why PromoteReadReplica would be refused, "" if not.
func (i RDSInstance) PromoteRefusal() string {
	switch {
	case i.ClusterID != "":
		return fmt.Sprintf("%s is in Aurora cluster %s: promotion is per cluster", i.ID, i.ClusterID)
	case i.ReplicaOf.IsZero():
		return fmt.Sprintf("%s is not a read replica", i.ID)
	case i.Status != "available":
		return fmt.Sprintf("%s is %s, not available", i.ID, i.Status)
	}
	return ""
}

// RDSCluster is an Aurora DB cluster.
type RDSCluster struct {
	Region string
	ID     string
	// RawID is the identifier exactly as RDS gave it, not sanitized: what
	// a failover names the cluster by. Never render it.
	RawID          string
	ARN            string
	Engine         string
	EngineVersion  string
	Status         string
	MultiAZ        bool
	Endpoint       string // the writer endpoint
	ReaderEndpoint string
	// Members are the cluster's instances, writer first.
	Members []RDSClusterMember
	// Events are RDS's events about the cluster (failovers), newest first.
	Events []RDSEvent
}

// RDSClusterMember is one instance of an Aurora cluster.
type RDSClusterMember struct {
	ID            string
	Writer        bool
	PromotionTier int32
}

// Key is region/id.
func (c RDSCluster) Key() string { return c.Region + "/" + c.ID }

// Writer is the writer's identifier, "" when the cluster has none.
func (c RDSCluster) Writer() string {
	for _, m := range c.Members {
		if m.Writer {
			return m.ID
		}
	}
	return ""
}

// Readers are the identifiers of the reader instances.
func (c RDSCluster) Readers() []string {
	var out []string
	for _, m := range c.Members {
		if !m.Writer {
			out = append(out, m.ID)
		}
	}
	return out
}

// StatusHealth grades the cluster status like an instance's.
func (c RDSCluster) StatusHealth() Health { return rdsStatusHealth(c.Status) }

// FailoverRefusal says why FailoverDBCluster to target ("" = let RDS
// choose) would be refused: the cluster must be available and have a reader,
// and a named target must be one of its readers.
func (c RDSCluster) FailoverRefusal(target string) string {
	switch {
	case c.Status != "available":
		return fmt.Sprintf("cluster %s is %s, not available", c.ID, c.Status)
	case len(c.Readers()) == 0:
		return fmt.Sprintf("cluster %s has no reader to fail over to", c.ID)
	case target == "":
		return ""
	case target == c.Writer():
		return fmt.Sprintf("%s is already the writer of %s", target, c.ID)
	}
	for _, r := range c.Readers() {
		if r == target {
			return ""
		}
	}
	return fmt.Sprintf("%s is not a reader of cluster %s", target, c.ID)
}

// TaskDef names an ECS task definition revision.
type TaskDef struct {
	ARN      string // "" when only family:revision is known
	Family   string
	Revision int32
}

// ParseTaskDef reads a task definition as ECS gives it: an ARN
// (arn:aws:ecs:region:account:task-definition/family:3) or family:revision.
// A string it cannot read becomes a TaskDef with just the Family.
func ParseTaskDef(s string) TaskDef {
	t := TaskDef{}
	name := s
	if strings.HasPrefix(s, "arn:") {
		t.ARN = s
		if i := strings.LastIndex(s, "task-definition/"); i >= 0 {
			name = s[i+len("task-definition/"):]
		}
	}
	if i := strings.LastIndexByte(name, ':'); i > 0 {
		if n, err := strconv.ParseInt(name[i+1:], 10, 32); err == nil {
			t.Family, t.Revision = name[:i], int32(n)
			return t
		}
	}
	t.Family = name
	return t
}

// IsZero reports whether t names nothing.
func (t TaskDef) IsZero() bool { return t.Family == "" }

// String is family:revision ("" for none).
func (t TaskDef) String() string {
	if t.Family == "" {
		return ""
	}
	if t.Revision == 0 {
		return t.Family
	}
	return t.Family + ":" + strconv.Itoa(int(t.Revision))
}

// ECSRolloutState is a deployment's rollout state as ECS reports it.
type ECSRolloutState string

// Rollout states.
const (
	ECSRolloutCompleted  ECSRolloutState = "COMPLETED"
	ECSRolloutInProgress ECSRolloutState = "IN_PROGRESS"
	ECSRolloutFailed     ECSRolloutState = "FAILED"
)

// ECSDeployment is one deployment of a service.
type ECSDeployment struct {
	ID             string
	Status         string // PRIMARY, ACTIVE (being replaced), INACTIVE
	TaskDefinition TaskDef
	Desired        int32
	Running        int32
	Pending        int32
	Failed         int32
	RolloutState   ECSRolloutState // "" when ECS does not say
	RolloutReason  string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ECSEvent is one entry of a service's event log.
type ECSEvent struct {
	ID      string
	At      time.Time
	Message string
}

// DesiredBounds are the configured limits of a service's desired count (the
// manual's Terraform min_count / max_count).
type DesiredBounds struct {
	Min, Max       int32
	HasMin, HasMax bool
}

// ECSService is one ECS service.
type ECSService struct {
	Region  string
	Cluster string // cluster name
	Name    string
	ARN     string
	// RawARN is the service's ARN exactly as ECS gave it, not sanitized:
	// the identity actions and their re-checks name the service by. Name
	// and ARN are sanitized for display, so two services (an emulator
	// accepts control characters in names) may look alike; RawARN never
	// does. Never render it.
	RawARN     string
	Status     string // ACTIVE, DRAINING, INACTIVE
	LaunchType string
	Desired    int32
	Running    int32
	Pending    int32
	// TaskDefinition is what the service runs (or is rolling out).
	TaskDefinition TaskDef
	// Rollout is the PRIMARY deployment (zero ID when ECS lists none).
	Rollout ECSDeployment
	// Deployments lists every deployment, PRIMARY first (at most
	// MaxECSDeployments).
	Deployments []ECSDeployment
	// PreviousTaskDefinition is the newest ACTIVE revision of the same
	// family older than TaskDefinition: where a rollback goes. Zero when
	// there is none (or it is not known yet).
	PreviousTaskDefinition TaskDef
	// Events are the newest service events, newest first (at most
	// MaxECSEvents).
	Events []ECSEvent
	// Bounds and Protected come from config: desired-count limits, and
	// whether the cluster must never be scaled to zero.
	Bounds    DesiredBounds
	Protected bool
	CreatedAt time.Time
	// Tasks are the service's tasks, running then recently stopped, at
	// most MaxECSTasks of each.
	Tasks []ECSTask
	// Logs is where its containers log (zero when not awslogs).
	Logs ECSLogs
}

// Key is region/cluster/name: what the service is called on screen. Names
// are sanitized, so two services' Keys may be equal; RawARN never is.
func (s ECSService) Key() string { return s.Region + "/" + s.Cluster + "/" + s.Name }

// RawName is the service name in RawARN (the last path element), as ECS
// knows it: for matching a name from config or a runbook, never for
// display. Without a RawARN it is Name.
func (s ECSService) RawName() string {
	if s.RawARN == "" {
		return s.Name
	}
	return s.RawARN[strings.LastIndexByte(s.RawARN, '/')+1:]
}

// Steady is the SDK waiter's "services stable": one deployment and as many
// tasks running as desired.
func (s ECSService) Steady() bool {
	return len(s.Deployments) <= 1 && s.Running == s.Desired
}

// Health grades the service: no task running while some are desired, or a
// failed rollout, is critical; fewer running than desired a warning.
func (s ECSService) Health() (Health, string) {
	switch {
	case s.Status != "" && s.Status != "ACTIVE":
		return HealthCritical, "service " + strings.ToLower(s.Status)
	case s.Rollout.RolloutState == ECSRolloutFailed:
		return HealthCritical, "rollout failed"
	case s.Desired > 0 && s.Running == 0:
		return HealthCritical, fmt.Sprintf("0 of %d tasks running", s.Desired)
	case s.Running < s.Desired:
		return HealthWarning, fmt.Sprintf("%d of %d tasks running", s.Running, s.Desired)
	}
	return HealthOK, ""
}

// DesiredRefusal says why setting the desired count to n would be refused by
// the configured bounds ("" when it would not): never negative, within
// min/max, never zero in a protected cluster. Policy limits on the size of
// the change (scale_max_change) are the ops Executor's.
func (s ECSService) DesiredRefusal(n int32) string {
	switch {
	case n < 0:
		return "the desired count cannot be negative"
	case n == 0 && s.Protected:
		return fmt.Sprintf("cluster %s is protected: %s is never scaled to zero", s.Cluster, s.Name)
	case s.Bounds.HasMin && n < s.Bounds.Min:
		return fmt.Sprintf("%d is below %s's minimum of %d", n, s.Name, s.Bounds.Min)
	case s.Bounds.HasMax && n > s.Bounds.Max:
		return fmt.Sprintf("%d is above %s's maximum of %d", n, s.Name, s.Bounds.Max)
	case n == s.Desired:
		return fmt.Sprintf("%s already wants %d tasks", s.Name, n)
	}
	return ""
}

// RollbackRefusal says why rolling back to PreviousTaskDefinition is not
// possible, "" when it is.
func (s ECSService) RollbackRefusal() string {
	if s.PreviousTaskDefinition.IsZero() {
		return fmt.Sprintf("no earlier ACTIVE revision of %s to roll back to", s.TaskDefinition.Family)
	}
	return ""
}
