package demo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"flightdeck/sources"
)

// The demo's AWS estate, from the manual's Terraform and failover.sh: the
// production primary in us-east-1 with its DR read replica in us-west-2,
// an Aurora cluster for analytics, and the ECS services (api desired 4,
// worker 3 in production; api at 0 on the DR side until a failover).
const (
	awsPrimary     = "us-east-1"
	awsDR          = "us-west-2"
	prodDB         = "nudgecampaign-prod"
	drDB           = "nudgecampaign-dr-db"
	analytics      = "nudgecampaign-analytics"
	prodECS        = "nudgecampaign-production"
	drECS          = "nudgecampaign-dr"
	rebootSecs     = 8  // rebooting → available
	promoteSecs    = 12 // modifying → available after a promotion
	clusterFOSecs  = 10 // failing-over → available
	taskStartSecs  = 2  // one task starts or stops every taskStartSecs
	taskReplSecs   = 3  // a deployment replaces one task every taskReplSecs
	healthCheckAt  = 180
	healthCheckFor = 6
)

// Scripted figures: CPU and replica lag follow the incident's intensity
// (the failing build's retries hammer the database), connections follow
// the Postgres world.
const (
	calmCPU     = 31.0
	incidentCPU = 63.0 // added at full intensity: 94 % is past the manual's 90 % critical
	calmLag     = 1.6  // seconds
	incidentLag = 72.0 // added at full intensity: past the one-minute warning
)

// AWSSource is the demo's "aws" source: RDS, CloudWatch and ECS as the
// real sources/aws reads them, with the same action, re-read and wait
// methods, so every AWS action works in the demo.
type AWSSource struct {
	w *World

	// State of the current loop; rebuilt when the world loops.
	loop     uint64
	ready    bool
	lastTick int64
	insts    []*demoInstance
	clusters []*demoCluster
	services []*demoService
	seq      int64 // for deployment and event ids
}

type demoInstance struct {
	region, id, class, engine, version string
	multiAZ                            bool
	az, secondaryAZ                    string
	replicaOf                          sources.RDSRef
	replicas                           []sources.RDSRef
	clusterID                          string
	status                             string
	busyUntil                          int64 // tick the current status ends, 0 if none
	failover                           bool  // swap AZs when the reboot ends
	created                            time.Time
	events                             []sources.RDSEvent // newest first (aws_evidence.go)
}

type demoCluster struct {
	region, id string
	writer     string
	readers    []string
	status     string
	busyUntil  int64
	target     string // writer-to-be during a failover
	events     []sources.RDSEvent
}

type demoService struct {
	region, cluster, name string
	desired, running      int32
	family                string
	revision              int32
	active                []int32 // ACTIVE revisions of the family
	deployments           []*demoDeployment
	events                []sources.ECSEvent // newest first
	nextTask              int64
	bounds                sources.DesiredBounds
	protected             bool
	created               time.Time
	down                  int32             // tasks stopped by the script's health-check failure
	stopped               []sources.ECSTask // newest first (aws_evidence.go)
}

type demoDeployment struct {
	id       string
	revision int32
	started  int64
	replaced int32 // tasks of this deployment running
	created  time.Time
	updated  time.Time
}

// taskImages are the images of the demo's task definition revisions, for
// PreviewRollback.
var taskImages = map[string]string{
	"nudgecampaign-api:55":    "nudgecampaign/api:v4.9.0",
	"nudgecampaign-api:56":    "nudgecampaign/api:v4.9.2",
	"nudgecampaign-api:57":    "nudgecampaign/api:v5.0.0",
	"nudgecampaign-worker:22": "nudgecampaign/worker:v3.4.0",
	"nudgecampaign-worker:23": "nudgecampaign/worker:v3.4.1",
}

// Name is "aws".
func (s *AWSSource) Name() string { return "aws" }

// Kind is sources.KindAWS.
func (s *AWSSource) Kind() sources.Kind { return sources.KindAWS }

// lock takes the world's lock synced to the clock and brings the AWS state
// up to the current tick. The caller defers s.w.mu.Unlock.
func (s *AWSSource) lock(ctx context.Context) error {
	if err := s.w.lockSynced(ctx); err != nil {
		return err
	}
	s.advance()
	return nil
}

// advance rebuilds the estate when the world looped and steps it second by
// second to the world's tick. It reads the world but never its random
// sources, so fetching AWS does not change the rest of the script. The
// caller holds w.mu.
func (s *AWSSource) advance() {
	w := s.w
	if !s.ready || s.loop != w.loop {
		s.init()
	}
	for s.lastTick < w.tick {
		s.lastTick++
		s.step(s.lastTick)
	}
}

func (s *AWSSource) init() {
	w := s.w
	s.loop, s.ready, s.lastTick, s.seq = w.loop, true, w.loopStart, 0
	base := w.wall(w.loopStart)
	ago := func(h float64) time.Time {
		return base.Add(-time.Duration(h * float64(time.Hour))).Truncate(time.Second)
	}
	s.insts = []*demoInstance{
		{region: awsPrimary, id: prodDB, class: "db.r6g.xlarge", engine: "postgres", version: "14.9", multiAZ: true,
			az: "us-east-1a", secondaryAZ: "us-east-1b", status: "available", created: ago(24 * 410),
			replicas: []sources.RDSRef{{Region: awsDR, ID: drDB}}},
		{region: awsDR, id: drDB, class: "db.r6g.xlarge", engine: "postgres", version: "14.9",
			az: "us-west-2a", status: "available", created: ago(24 * 380), replicaOf: sources.RDSRef{Region: awsPrimary, ID: prodDB}},
		{region: awsPrimary, id: "analytics-1", class: "db.r6g.large", engine: "aurora-postgresql", version: "14.9",
			az: "us-east-1a", status: "available", created: ago(24 * 200), clusterID: analytics},
		{region: awsPrimary, id: "analytics-2", class: "db.r6g.large", engine: "aurora-postgresql", version: "14.9",
			az: "us-east-1c", status: "available", created: ago(24 * 200), clusterID: analytics},
	}
	s.clusters = []*demoCluster{{region: awsPrimary, id: analytics, writer: "analytics-1", readers: []string{"analytics-2"}, status: "available"}}
	b := func(lo, hi int32) sources.DesiredBounds {
		return sources.DesiredBounds{Min: lo, Max: hi, HasMin: true, HasMax: true}
	}
	steady := func(name string, at time.Time) sources.ECSEvent {
		return sources.ECSEvent{ID: "ev-" + strconv.FormatInt(at.Unix(), 36), At: at, Message: "(service " + name + ") has reached a steady state."}
	}
	mk := func(region, cluster, name, family string, rev, desired int32, active []int32, bounds sources.DesiredBounds, protected bool, deployedH float64) *demoService {
		sv := &demoService{region: region, cluster: cluster, name: name, desired: desired, running: desired, family: family,
			revision: rev, active: active, bounds: bounds, protected: protected, created: ago(24 * 300)}
		at := ago(deployedH)
		sv.deployments = []*demoDeployment{{id: s.nextID("ecs-svc/"), revision: rev, replaced: desired, created: at, updated: at.Add(4 * time.Minute)}}
		sv.events = []sources.ECSEvent{steady(name, ago(0.3)), steady(name, ago(6.3)), steady(name, ago(12.3))}
		return sv
	}
	s.services = []*demoService{
		mk(awsPrimary, prodECS, "api", "nudgecampaign-api", 57, 4, []int32{55, 56, 57}, b(2, 10), true, 51.3),
		mk(awsPrimary, prodECS, "worker", "nudgecampaign-worker", 23, 3, []int32{22, 23}, b(1, 6), true, 19.5),
		mk(awsDR, drECS, "api", "nudgecampaign-api", 57, 0, []int32{55, 56, 57}, b(0, 10), false, 51.2),
	}
	s.seedEvidence(ago)
}

func (s *AWSSource) nextID(prefix string) string {
	s.seq++
	return prefix + strconv.FormatInt(7_301_448_126_000_000_000+s.seq*7919, 10)
}

// step advances the estate one simulated second.
func (s *AWSSource) step(tick int64) {
	w := s.w
	now := w.wall(tick)
	for _, in := range s.insts {
		if in.busyUntil != 0 && tick >= in.busyUntil {
			in.busyUntil, in.status = 0, "available"
			if in.failover {
				in.az, in.secondaryAZ, in.failover = in.secondaryAZ, in.az, false
				in.events = rdsEvent(in.events, now, in.id, "db-instance", "failover", "Multi-AZ instance failover completed.")
			}
			in.events = rdsEvent(in.events, now, in.id, "db-instance", "availability", "DB instance restarted")
		}
	}
	for _, c := range s.clusters {
		if c.busyUntil != 0 && tick >= c.busyUntil {
			c.busyUntil, c.status = 0, "available"
			old := c.writer
			c.writer = c.target
			c.readers = slices.DeleteFunc(c.readers, func(r string) bool { return r == c.target })
			c.readers = append(c.readers, old)
			c.events = rdsEvent(c.events, now, c.id, "db-cluster", "failover", "Completed failover to DB instance: "+c.writer)
			c.target = ""
		}
	}
	t := tick - w.loopStart
	for _, sv := range s.services {
		// The script: while connections run out, one api task fails its
		// load balancer health check and is replaced.
		if sv.region == awsPrimary && sv.name == "api" && sv.running > 0 {
			switch t {
			case healthCheckAt:
				sv.down++
				sv.event(now, fmt.Sprintf("(service api) (task %s) failed container health checks.", taskID(tick)))
				sv.taskStopped(sources.ECSTask{ID: taskID(tick), LastStatus: "STOPPED", DesiredStatus: "STOPPED", StartedAt: sv.deployments[0].created,
					StoppedAt: now, StopCode: "ServiceSchedulerInitiated", StoppedReason: "Task failed container health checks",
					Containers: []sources.ECSContainer{{Name: "api", LastStatus: "STOPPED", ExitCode: 143, HasExit: true}}})
			case healthCheckAt + healthCheckFor:
				if sv.down > 0 {
					sv.down--
					sv.event(now, fmt.Sprintf("(service api) has started 1 tasks: (task %s).", taskID(tick)))
				}
			}
		}
		s.stepService(sv, tick, now)
	}
}

func taskID(tick int64) string {
	return fmt.Sprintf("%032x", uint64(tick)*0x9e3779b97f4a7c15)[:32]
}

func (sv *demoService) event(at time.Time, msg string) {
	sv.events = append([]sources.ECSEvent{{ID: "ev-" + strconv.FormatInt(at.UnixNano(), 36), At: at, Message: msg}}, sv.events...)
	if len(sv.events) > sources.MaxECSEvents {
		sv.events = sv.events[:sources.MaxECSEvents]
	}
}

// stepService moves running towards desired one task at a time and lets
// the newest deployment replace the older ones.
func (s *AWSSource) stepService(sv *demoService, tick int64, now time.Time) {
	if tick < sv.nextTask {
		return
	}
	primary := sv.deployments[0]
	switch {
	case sv.running < sv.desired:
		sv.running++
		primary.replaced = min(primary.replaced+1, sv.desired)
		sv.nextTask = tick + taskStartSecs
		sv.event(now, fmt.Sprintf("(service %s) has started 1 tasks: (task %s).", sv.name, taskID(tick)))
	case sv.running > sv.desired:
		sv.running--
		primary.replaced = min(primary.replaced, sv.running)
		sv.nextTask = tick + taskStartSecs
		sv.event(now, fmt.Sprintf("(service %s) has stopped 1 running tasks: (task %s).", sv.name, taskID(tick)))
	case len(sv.deployments) > 1 && primary.replaced < sv.desired:
		primary.replaced++
		sv.nextTask = tick + taskReplSecs
		sv.event(now, fmt.Sprintf("(service %s) has started 1 tasks: (task %s).", sv.name, taskID(tick)))
	case len(sv.deployments) > 1:
		sv.deployments = sv.deployments[:1]
		primary.updated = now
		sv.event(now, fmt.Sprintf("(service %s) deployment %s deployment completed.", sv.name, primary.id))
		sv.event(now, fmt.Sprintf("(service %s) has reached a steady state.", sv.name))
	}
}

// figures are the CloudWatch values of an instance at the current tick:
// CPU and lag follow the incident, connections the Postgres world. The
// wobble is a function of the tick, not the world's random source.
func (s *AWSSource) figures(in *demoInstance) (cpu, conns, lag float64) {
	w := s.w
	x := float64(w.tick)
	wobble := 1.8*math.Sin(x*0.61) + 1.1*math.Sin(x*0.173)
	lag = math.NaN()
	switch {
	case in.id == prodDB:
		cpu = calmCPU + incidentCPU*w.intensity + wobble
		conns = float64(w.clients() + 4) // + replication, monitoring, RDS's own
	case in.id == drDB:
		cpu = 7 + 9*w.intensity + wobble/3
		conns = 2
		if !in.replicaOf.IsZero() {
			lag = math.Max(0.2, calmLag+incidentLag*w.intensity+wobble/2)
		}
	default:
		cpu, conns = 22+wobble, 14
	}
	if in.status == "rebooting" {
		conns = 0
	}
	return math.Min(100, math.Max(0, cpu)), conns, lag
}

func (s *AWSSource) snapshotInstance(in *demoInstance) sources.RDSInstance {
	out := sources.RDSInstance{
		Region: in.region, ID: in.id, RawID: in.id, ARN: "arn:aws:rds:" + in.region + ":111122223333:db:" + in.id,
		Engine: in.engine, EngineVersion: in.version, Class: in.class, Status: in.status, MultiAZ: in.multiAZ,
		AZ: in.az, SecondaryAZ: in.secondaryAZ, ClusterID: in.clusterID, ReplicaOf: in.replicaOf,
		Replicas: slices.Clone(in.replicas), CreatedAt: in.created,
		Endpoint: in.id + ".c9akciq32.rds." + in.region + ".amazonaws.com:5432",
		Events:   slices.Clone(in.events),
	}
	out.CPUPercent, out.Connections, out.ReplicaLag = s.figures(in)
	out.MetricsAt = s.w.wall(s.w.tick).Truncate(time.Minute)
	switch in.engine {
	case "postgres":
		out.MaxConnections = maxConns // the Postgres world's max_connections
	default:
		out.MaxConnections = 1802 // RDS's default for a db.r6g.large
	}
	if c := s.cluster(in.region, in.clusterID); c != nil {
		out.ClusterWriter = c.writer == in.id
	}
	return out
}

func (s *AWSSource) snapshotCluster(c *demoCluster) sources.RDSCluster {
	out := sources.RDSCluster{Region: c.region, ID: c.id, RawID: c.id, ARN: "arn:aws:rds:" + c.region + ":111122223333:cluster:" + c.id,
		Engine: "aurora-postgresql", EngineVersion: "14.9", Status: c.status, MultiAZ: true,
		Endpoint:       c.id + ".cluster-c9akciq32." + c.region + ".rds.amazonaws.com",
		ReaderEndpoint: c.id + ".cluster-ro-c9akciq32." + c.region + ".rds.amazonaws.com", Events: slices.Clone(c.events)}
	out.Members = append(out.Members, sources.RDSClusterMember{ID: c.writer, Writer: true, PromotionTier: 1})
	for _, r := range c.readers {
		out.Members = append(out.Members, sources.RDSClusterMember{ID: r, PromotionTier: 1})
	}
	return out
}

func (s *AWSSource) snapshotService(sv *demoService) sources.ECSService {
	td := func(rev int32) sources.TaskDef {
		return sources.TaskDef{ARN: fmt.Sprintf("arn:aws:ecs:%s:111122223333:task-definition/%s:%d", sv.region, sv.family, rev), Family: sv.family, Revision: rev}
	}
	running := max(0, sv.running-sv.down)
	out := sources.ECSService{
		Region: sv.region, Cluster: sv.cluster, Name: sv.name,
		ARN:    serviceARN(sv),
		RawARN: serviceARN(sv),
		Status: "ACTIVE", LaunchType: "FARGATE", Desired: sv.desired, Running: running,
		Pending:        max(0, sv.desired-running),
		TaskDefinition: td(sv.revision), Events: slices.Clone(sv.events), Bounds: sv.bounds, Protected: sv.protected,
		CreatedAt: sv.created,
		Logs:      sources.ECSLogs{Region: sv.region, Group: "/ecs/" + sv.family, Prefix: "ecs"},
	}
	for i, d := range sv.deployments {
		cd := sources.ECSDeployment{ID: d.id, TaskDefinition: td(d.revision), Desired: sv.desired, CreatedAt: d.created, UpdatedAt: d.updated}
		if i == 0 {
			cd.Status, cd.Running = "PRIMARY", min(d.replaced, running)
			cd.RolloutState, cd.RolloutReason = sources.ECSRolloutCompleted, "ECS deployment "+d.id+" completed."
			if len(sv.deployments) > 1 || running != sv.desired {
				cd.RolloutState, cd.RolloutReason = sources.ECSRolloutInProgress, "ECS deployment "+d.id+" in progress."
			}
			out.Rollout = cd
		} else {
			cd.Status, cd.Running, cd.Desired = "ACTIVE", max(0, running-sv.deployments[0].replaced), 0
			cd.RolloutState = sources.ECSRolloutCompleted
		}
		cd.Pending = max(0, cd.Desired-cd.Running)
		out.Deployments = append(out.Deployments, cd)
	}
	out.Tasks = s.tasks(sv, td, running)
	for _, r := range slices.Backward(sv.active) {
		if r < sv.revision {
			out.PreviousTaskDefinition = td(r)
			break
		}
	}
	return out
}

// Fetch returns the estate as the real source would read it.
func (s *AWSSource) Fetch(ctx context.Context) (sources.Payload, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.w.mu.Unlock()
	set := &sources.AWSSet{Scripted: s.w.scripted(), CredentialSource: "demo",
		Regions: []sources.AWSRegion{{Name: awsPrimary}, {Name: awsDR}}}
	for _, region := range []string{awsPrimary, awsDR} {
		for _, in := range s.insts {
			if in.region == region {
				set.RDS = append(set.RDS, s.snapshotInstance(in))
			}
		}
		for _, c := range s.clusters {
			if c.region == region {
				set.Clusters = append(set.Clusters, s.snapshotCluster(c))
			}
		}
		for _, sv := range s.services {
			if sv.region == region {
				set.ECS = append(set.ECS, s.snapshotService(sv))
			}
		}
	}
	// By region (primary first), then identifier, as the real source.
	order := map[string]int{awsPrimary: 0, awsDR: 1}
	sort.SliceStable(set.RDS, func(i, j int) bool {
		a, b := set.RDS[i], set.RDS[j]
		if a.Region != b.Region {
			return order[a.Region] < order[b.Region]
		}
		return a.ID < b.ID
	})
	return set, nil
}

// ---------------------------------------------------------------- lookups

func checkRegion(region string) error {
	if region != awsPrimary && region != awsDR {
		return fmt.Errorf("region %q is not configured (configured: %s, %s)", region, awsPrimary, awsDR)
	}
	return nil
}

func (s *AWSSource) instance(region, id string) (*demoInstance, error) {
	if err := checkRegion(region); err != nil {
		return nil, err
	}
	for _, in := range s.insts {
		if in.region == region && in.id == id {
			return in, nil
		}
	}
	return nil, fmt.Errorf("rds:DescribeDBInstances in %s: DBInstanceNotFound: DBInstance %s not found.", region, id)
}

func (s *AWSSource) cluster(region, id string) *demoCluster {
	for _, c := range s.clusters {
		if c.region == region && c.id == id {
			return c
		}
	}
	return nil
}

// serviceARN is the demo service's ARN, as ECS would give it.
func serviceARN(sv *demoService) string {
	return "arn:aws:ecs:" + sv.region + ":111122223333:service/" + sv.cluster + "/" + sv.name
}

func (s *AWSSource) service(region, cluster, name string) (*demoService, error) {
	if err := checkRegion(region); err != nil {
		return nil, err
	}
	if (region == awsPrimary && cluster != prodECS) || (region == awsDR && cluster != drECS) {
		return nil, fmt.Errorf("ecs in %s: ECS cluster %q is not configured in %s", region, cluster, region)
	}
	for _, sv := range s.services {
		// ECS finds a service by name or ARN; ops names it by ARN.
		if sv.region == region && sv.cluster == cluster && (sv.name == name || serviceARN(sv) == name) {
			return sv, nil
		}
	}
	return nil, fmt.Errorf("ecs:DescribeServices in %s: service %s in %s: missing", region, name, cluster)
}

// ---------------------------------------------------------------- ECS actions
