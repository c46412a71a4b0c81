package aws

import (
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// TestMoto runs the Source against moto_server, the AWS emulator: the
// manual's estate is created through the SDK, then the snapshot and every
// action's effect are checked in moto's state through separate admin
// clients. One server for all steps (Python starts slowly); the steps run
// in order because the actions change the world.
func TestMoto(t *testing.T) {
	m := testsrv.StartMoto(t)
	buildWorld(t, m.URL)
	rec := newRecorder(t, m.URL)
	src, err := New(Options{Regions: manualRegions(), EndpointURL: rec.URL, Credentials: adminCreds,
		Timeout: 20 * time.Second, WaitPoll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	east, west := adminRDS(m.URL, "us-east-1"), adminRDS(m.URL, "us-west-2")
	ecsEast, ecsWest := adminECS(m.URL, "us-east-1"), adminECS(m.URL, "us-west-2")

	t.Run("snapshot", func(t *testing.T) {
		start := time.Now()
		set := fetch(t, src)
		t.Logf("first Fetch (2 regions, credentials, clients) took %s", time.Since(start).Round(time.Millisecond))
		calls := rec.Take()
		// One GetMetricData per region per tick, whatever the number of
		// instances.
		if n := count(calls, "GetMetricData"); n != 2 {
			t.Errorf("GetMetricData calls = %d, want 2 (one per region)", n)
		}
		for _, r := range set.Regions {
			if r.Err() != "" {
				t.Errorf("region %s: %s", r.Name, r.Err())
			}
		}
		if len(set.Warnings) != 0 {
			t.Errorf("warnings: %q", set.Warnings)
		}
		if set.Endpoint != rec.URL || set.CredentialSource == "" {
			t.Errorf("endpoint %q, credential source %q", set.Endpoint, set.CredentialSource)
		}
		ids := []string{}
		for _, i := range set.RDS {
			ids = append(ids, i.Key())
		}
		want := []string{"us-east-1/analytics-1", "us-east-1/analytics-2", "us-east-1/nudgecampaign-prod", "us-west-2/nudgecampaign-dr-db"}
		if !slices.Equal(ids, want) {
			t.Errorf("instances %v, want %v (scratch-db is not configured)", ids, want)
		}
		prod, _ := set.Instance("us-east-1", "nudgecampaign-prod")
		if prod.Engine != "postgres" || prod.EngineVersion != "14.9" || prod.Class != "db.r6g.xlarge" || !prod.MultiAZ ||
			prod.Status != "available" || prod.Role() != sources.RolePrimary {
			t.Errorf("prod = %+v", prod)
		}
		if prod.RoleText() != "primary (1 replica)" || prod.Replicas[0] != (sources.RDSRef{Region: "us-west-2", ID: "nudgecampaign-dr-db"}) {
			t.Errorf("prod role %q replicas %v", prod.RoleText(), prod.Replicas)
		}
		if prod.CPUPercent != 93.5 || prod.Connections != 412 || !math.IsNaN(prod.ReplicaLag) || prod.MetricsAt.IsZero() {
			t.Errorf("prod metrics cpu %v conn %v lag %v at %v", prod.CPUPercent, prod.Connections, prod.ReplicaLag, prod.MetricsAt)
		}
		if h, why := prod.Health(); h != sources.HealthCritical || why != "CPU 94% > 90%" {
			t.Errorf("prod health %v %q", h, why)
		}
		if prod.MaxConnections < 3000 || prod.ConnectionsHealth() != sources.HealthOK {
			t.Errorf("prod max connections %d (%v)", prod.MaxConnections, prod.ConnectionsHealth())
		}
		dr, _ := set.Instance("us-west-2", "nudgecampaign-dr-db")
		if dr.Role() != sources.RoleReplica || dr.RoleText() != "replica of nudgecampaign-prod (us-east-1)" {
			t.Errorf("dr role %v %q (replica of %v)", dr.Role(), dr.RoleText(), dr.ReplicaOf)
		}
		if lag, ok := dr.Lag(); !ok || lag != 42*time.Second || dr.LagHealth() != sources.HealthOK || dr.CPUPercent != 12 {
			t.Errorf("dr lag %v %v cpu %v", lag, ok, dr.CPUPercent)
		}
		a1, _ := set.Instance("us-east-1", "analytics-1")
		a2, _ := set.Instance("us-east-1", "analytics-2")
		if a1.RoleText() != "writer of nudgecampaign-analytics" || a2.RoleText() != "reader of nudgecampaign-analytics" {
			t.Errorf("aurora roles %q %q", a1.RoleText(), a2.RoleText())
		}
		cl, ok := set.Cluster("us-east-1", "nudgecampaign-analytics")
		if !ok || cl.Engine != "aurora-postgresql" || cl.Writer() != "analytics-1" || !slices.Equal(cl.Readers(), []string{"analytics-2"}) {
			t.Errorf("cluster %+v", cl)
		}

		api, ok := set.Service("us-east-1", "nudgecampaign-production", "api")
		if !ok || api.Desired != 4 || api.TaskDefinition.String() != "nudgecampaign-api:3" || api.Status != "ACTIVE" {
			t.Fatalf("api = %+v", api)
		}
		// Actions name targets by what AWS gave, raw (issue 16.10).
		if !strings.HasSuffix(api.RawARN, ":service/nudgecampaign-production/api") || prod.RawID != "nudgecampaign-prod" || cl.RawID != "nudgecampaign-analytics" {
			t.Errorf("raw identities: api %q, prod %q, cluster %q", api.RawARN, prod.RawID, cl.RawID)
		}
		if api.PreviousTaskDefinition.String() != "nudgecampaign-api:2" {
			t.Errorf("api previous revision = %q, want nudgecampaign-api:2 (never the canary family)", api.PreviousTaskDefinition)
		}
		if api.Rollout.Status != "PRIMARY" || api.Rollout.TaskDefinition.String() != "nudgecampaign-api:3" || api.Rollout.RolloutState == "" {
			t.Errorf("api rollout = %+v", api.Rollout)
		}
		if !api.Protected || api.Bounds != (sources.DesiredBounds{Min: 2, Max: 10, HasMin: true, HasMax: true}) {
			t.Errorf("api bounds %+v protected %v", api.Bounds, api.Protected)
		}
		worker, _ := set.Service("us-east-1", "nudgecampaign-production", "worker")
		if worker.Desired != 3 || worker.TaskDefinition.String() != "nudgecampaign-worker:2" || worker.PreviousTaskDefinition.String() != "nudgecampaign-worker:1" {
			t.Errorf("worker = %+v", worker)
		}
		drAPI, _ := set.Service("us-west-2", "nudgecampaign-dr", "api")
		if drAPI.Desired != 0 || drAPI.Protected || drAPI.DesiredRefusal(4) != "" {
			t.Errorf("dr api = %+v (refusal %q)", drAPI, drAPI.DesiredRefusal(4))
		}
		t.Logf("moto ECS: api running %d pending %d, rollout %s", api.Running, api.Pending, api.Rollout.RolloutState)

		// The next tick asks ListTaskDefinitions nothing: previous revisions
		// are cached per current revision.
		fetch(t, src)
		if n := count(rec.Take(), "ListTaskDefinitions"); n != 0 {
			t.Errorf("second Fetch listed task definitions %d times", n)
		}
	})

	t.Run("set desired count: DR api to 4 (failover.sh step 3)", func(t *testing.T) {
		if err := src.SetDesiredCount(bg, "us-west-2", "nudgecampaign-dr", "api", 4); err != nil {
			t.Fatal(err)
		}
		out, err := ecsWest.DescribeServices(bg, &ecs.DescribeServicesInput{Cluster: aws.String("nudgecampaign-dr"), Services: []string{"api"}})
		if err != nil || out.Services[0].DesiredCount != 4 {
			t.Fatalf("moto says desired %v (%v)", out, err)
		}
		got, err := src.DescribeService(bg, "us-west-2", "nudgecampaign-dr", "api")
		if err != nil || got.Desired != 4 {
			t.Errorf("DescribeService = %+v, %v", got, err)
		}
		if err := src.SetDesiredCount(bg, "us-west-2", "nudgecampaign-dr", "api", -1); err == nil {
			t.Error("negative desired count accepted")
		}
		if err := src.SetDesiredCount(bg, "us-west-2", "nudgecampaign-production", "api", 4); err == nil || !strings.Contains(err.Error(), "not configured in us-west-2") {
			t.Errorf("a cluster of another region: %v", err)
		}
	})

	t.Run("force new deployment", func(t *testing.T) {
		before := primaryDeployment(t, ecsEast, "api")
		if err := src.ForceNewDeployment(bg, "us-east-1", "nudgecampaign-production", "api"); err != nil {
			t.Fatal(err)
		}
		if after := primaryDeployment(t, ecsEast, "api"); after == before {
			t.Errorf("primary deployment still %s", after)
		}
		calls := rec.Take()
		if !slices.ContainsFunc(calls, func(c call) bool {
			return c.Action == "UpdateService" && strings.Contains(c.Body, `"forceNewDeployment":true`)
		}) {
			t.Errorf("no UpdateService with forceNewDeployment in %v", calls)
		}
	})

	t.Run("roll back the task definition", func(t *testing.T) {
		diff, err := src.PreviewRollback(bg, "us-east-1", "nudgecampaign-production", "api", "nudgecampaign-api:2")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"container api: image nudgecampaign/api:v5.1.0 → nudgecampaign/api:v5.0.0",
			"container api: memory 3072 → 2048 MiB", "container api: env -FEATURE_BULK_IMPORT"} {
			if !slices.Contains(diff, want) {
				t.Errorf("preview lacks %q: %q", want, diff)
			}
		}
		for _, bad := range []string{"nudgecampaign-api-canary:1", "nudgecampaign-api:3", "nudgecampaign-api:9", "nudgecampaign-worker:1"} {
			if err := src.RollbackTaskDefinition(bg, "us-east-1", "nudgecampaign-production", "api", bad); err == nil {
				t.Errorf("rollback to %s accepted", bad)
			}
		}
		if err := src.RollbackTaskDefinition(bg, "us-east-1", "nudgecampaign-production", "api", "nudgecampaign-api:2"); err != nil {
			t.Fatal(err)
		}
		out, err := ecsEast.DescribeServices(bg, &ecs.DescribeServicesInput{Cluster: aws.String("nudgecampaign-production"), Services: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		if td := sources.ParseTaskDef(aws.ToString(out.Services[0].TaskDefinition)); td.String() != "nudgecampaign-api:2" {
			t.Errorf("moto runs %s after the rollback", td)
		}
		got, err := src.DescribeService(bg, "us-east-1", "nudgecampaign-production", "api")
		if err != nil || got.TaskDefinition.String() != "nudgecampaign-api:2" || got.PreviousTaskDefinition.String() != "nudgecampaign-api:1" {
			t.Errorf("after rollback: %s (previous %s), %v", got.TaskDefinition, got.PreviousTaskDefinition, err)
		}
	})

	t.Run("reboot with failover", func(t *testing.T) {
		rec.Take()
		if err := src.RebootDBInstance(bg, "us-east-1", "nudgecampaign-prod", true); err != nil {
			t.Fatal(err)
		}
		// moto keeps no trace of a reboot (statuses change instantly): the
		// request it accepted is the evidence.
		calls := rec.Take()
		if len(calls) != 1 || calls[0].Action != "RebootDBInstance" ||
			!strings.Contains(calls[0].Body, "ForceFailover=true") || !strings.Contains(calls[0].Body, "DBInstanceIdentifier=nudgecampaign-prod") {
			t.Errorf("requests: %+v", calls)
		}
		if err := src.WaitDBInstanceAvailable(bg, "us-east-1", "nudgecampaign-prod", 300*time.Millisecond, 10*time.Second); err != nil {
			t.Errorf("wait available: %v", err)
		}
		if n := count(rec.Take(), "DescribeDBInstances"); n < 2 {
			t.Errorf("the waiter polled %d times; it must not trust the first 'available' within the settle time", n)
		}
		err := src.RebootDBInstance(bg, "us-east-1", "no-such-db", false)
		if err == nil || !strings.Contains(err.Error(), "DBInstanceNotFound") {
			t.Errorf("reboot of a missing instance: %v", err)
		}
	})

	t.Run("failover the Aurora cluster", func(t *testing.T) {
		if err := src.FailoverDBCluster(bg, "us-east-1", "nudgecampaign-analytics", "analytics-2"); err != nil {
			t.Fatal(err)
		}
		out, err := east.DescribeDBClusters(bg, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("nudgecampaign-analytics")})
		if err != nil {
			t.Fatal(err)
		}
		for _, mem := range out.DBClusters[0].DBClusterMembers {
			if writer := aws.ToBool(mem.IsClusterWriter); writer != (aws.ToString(mem.DBInstanceIdentifier) == "analytics-2") {
				t.Errorf("moto: %s writer=%v", aws.ToString(mem.DBInstanceIdentifier), writer)
			}
		}
		cl, err := src.DescribeDBCluster(bg, "us-east-1", "nudgecampaign-analytics")
		if err != nil || cl.Writer() != "analytics-2" {
			t.Errorf("DescribeDBCluster writer %q, %v", cl.Writer(), err)
		}
		inst, err := src.DescribeDBInstance(bg, "us-east-1", "analytics-2")
		if err != nil || inst.Role() != sources.RoleWriter {
			t.Errorf("DescribeDBInstance analytics-2 role %v, %v", inst.Role(), err)
		}
		if err := src.WaitDBClusterAvailable(bg, "us-east-1", "nudgecampaign-analytics", 0, 10*time.Second); err != nil {
			t.Errorf("wait cluster: %v", err)
		}
	})

	t.Run("promote the DR replica (failover.sh step 1)", func(t *testing.T) {
		// moto refuses to stop a read replica and keeps ReplicaSource set
		// after a promotion; whether StopDBInstance is refused is the one
		// place its state shows the difference.
		stop := func() error {
			_, err := west.StopDBInstance(bg, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("nudgecampaign-dr-db")})
			return err
		}
		if err := stop(); err == nil {
			t.Fatal("moto stopped a read replica: the probe below would prove nothing")
		}
		before, err := src.DescribeDBInstance(bg, "us-west-2", "nudgecampaign-dr-db")
		if err != nil || before.PromoteRefusal() != "" {
			t.Fatalf("before promote: %v %q", err, before.PromoteRefusal())
		}
		if err := src.PromoteReadReplica(bg, "us-west-2", "nudgecampaign-dr-db"); err != nil {
			t.Fatal(err)
		}
		if err := stop(); err != nil {
			t.Errorf("moto still treats nudgecampaign-dr-db as a replica: %v", err)
		}
		after, _ := src.DescribeDBInstance(bg, "us-west-2", "nudgecampaign-dr-db")
		t.Logf("moto after promote: status %s, replica of %q (moto 5.2.1 keeps the old source)", after.Status, after.ReplicaOf)
	})

	t.Run("waiting for ECS services stable is bounded", func(t *testing.T) {
		start := time.Now()
		err := src.WaitServicesStable(bg, "us-east-1", "nudgecampaign-production", []string{"worker"}, 1500*time.Millisecond)
		took := time.Since(start)
		set := fetch(t, src)
		w, _ := set.Service("us-east-1", "nudgecampaign-production", "worker")
		if w.Steady() {
			if err != nil {
				t.Errorf("worker is steady (%d of %d) but the waiter said %v", w.Running, w.Desired, err)
			}
			return
		}
		// moto 5.2.1 never starts tasks without container instances: the
		// waiter must give up in time and say what it saw.
		if err == nil || !strings.Contains(err.Error(), "not stable within 1.5s: worker: ") || took > 5*time.Second {
			t.Errorf("after %s: %v", took, err)
		}
	})

	t.Run("CloudWatch protocols on moto", func(t *testing.T) {
		q := &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now()),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("cpu"), MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/RDS"), MetricName: aws.String("CPUUtilization"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String("nudgecampaign-prod")}}},
				Period: aws.Int32(60), Stat: aws.String("Average")}}},
		}
		out, err := adminCW(m.URL, "us-east-1").GetMetricData(bg, q)
		if err != nil || len(out.MetricDataResults) != 1 || len(out.MetricDataResults[0].Values) == 0 {
			t.Errorf("awsQuery GetMetricData: %v, %+v", err, out)
		}
		cbor := cloudwatch.New(cloudwatch.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL), Credentials: adminCreds, RetryMaxAttempts: 1})
		_, err = cbor.GetMetricData(bg, q)
		t.Logf("the SDK's default rpc-v2-CBOR against moto 5.2.1: %v", err)
	})

	t.Run("IAM: the documented read policy reads, denied actions are not retried", func(t *testing.T) {
		readPolicy, err := os.ReadFile("testdata/iam-read.json")
		if err != nil {
			t.Fatal(err)
		}
		actPolicy, _ := os.ReadFile("testdata/iam-act.json")
		// moto 5.2.1 checks CloudWatch calls as monitoring:* (the
		// endpoint prefix) where AWS uses cloudwatch:*; grant both here.
		readPolicy = []byte(strings.Replace(string(readPolicy), `"cloudwatch:GetMetricData"`,
			`"cloudwatch:GetMetricData", "monitoring:GetMetricData"`, 1))
		reader := iamUser(t, m, "flightdeck-read", string(readPolicy))
		actor := iamUser(t, m, "flightdeck-act", mergePolicies(t, readPolicy, actPolicy))
		noMetrics := iamUser(t, m, "flightdeck-nometrics", strings.Replace(string(readPolicy),
			`"cloudwatch:GetMetricData", "monitoring:GetMetricData"`, `"cloudwatch:ListMetrics"`, 1))
		m.EnforceIAM(t, 0)
		t.Cleanup(func() { m.EnforceIAM(t, -1) })
		as := func(p aws.CredentialsProvider) *Source {
			s, err := New(Options{Regions: manualRegions(), EndpointURL: rec.URL, Credentials: p, Timeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}

		set := fetch(t, as(reader))
		for _, r := range set.Regions {
			if r.Err() != "" {
				t.Errorf("read policy is not enough in %s: %s", r.Name, r.Err())
			}
		}
		if len(set.RDS) != 4 || len(set.ECS) != 3 {
			t.Errorf("read policy sees %d instances, %d services", len(set.RDS), len(set.ECS))
		}

		// A missing cloudwatch permission shows in the pane, next to the
		// data that could be read.
		set = fetch(t, as(noMetrics))
		if e := set.Regions[0].MetricsErr; !strings.Contains(e, "access denied") || !strings.Contains(e, "cloudwatch:GetMetricData") {
			t.Errorf("metrics error %q", e)
		}
		if len(set.RDS) != 4 || !math.IsNaN(set.RDS[0].CPUPercent) {
			t.Errorf("without metrics: %d instances, cpu %v", len(set.RDS), set.RDS[0].CPUPercent)
		}

		ro := as(reader)
		rec.Take()
		for name, act := range map[string]func() error{
			"rds:RebootDBInstance": func() error { return ro.RebootDBInstance(bg, "us-east-1", "nudgecampaign-prod", true) },
			"ecs:UpdateService":    func() error { return ro.SetDesiredCount(bg, "us-east-1", "nudgecampaign-production", "api", 5) },
			"rds:FailoverDBCluster": func() error {
				return ro.FailoverDBCluster(bg, "us-east-1", "nudgecampaign-analytics", "analytics-1")
			},
		} {
			err := act()
			if !errors.Is(err, sources.ErrAccessDenied) || !strings.Contains(err.Error(), "access denied: User: arn:aws:iam::"+motoAccount+":user/flightdeck-read is not authorized to perform: "+name) {
				t.Errorf("%s as reader: %v", name, err)
			}
			op := name[strings.IndexByte(name, ':')+1:]
			if n := count(rec.Take(), op); n != 1 {
				t.Errorf("%s: %d attempts, want 1 (AccessDenied is never retried)", name, n)
			}
			t.Logf("%s as reader: %v", name, err)
		}
		if err := ro.RebootDBInstance(bg, "us-east-1", "nudgecampaign-prod", false); err == nil ||
			!strings.Contains(err.Error(), "is not authorized to perform: rds:RebootDBInstance") {
			t.Errorf("AWS's reason is not in the error: %v", err)
		}

		rw := as(actor)
		if err := rw.SetDesiredCount(bg, "us-east-1", "nudgecampaign-production", "api", 5); err != nil {
			t.Errorf("act policy: %v", err)
		}
		if err := rw.RebootDBInstance(bg, "us-east-1", "nudgecampaign-prod", false); err != nil {
			t.Errorf("act policy: %v", err)
		}

		// Keys moto does not know: the credentials were rejected.
		bogus := as(credentials.NewStaticCredentialsProvider("AKIAFLIGHTDECKBOGUS", "nope", ""))
		_, err = bogus.Fetch(bg)
		if !errors.Is(err, sources.ErrCredentials) || !strings.Contains(err.Error(), "AWS rejected the credentials") {
			t.Errorf("bogus keys: %v", err)
		}
	})
}

func fetch(t *testing.T, s *Source) *sources.AWSSet {
	t.Helper()
	p, err := s.Fetch(bg)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sources.AWSSet)
}

func primaryDeployment(t *testing.T, c *ecs.Client, service string) string {
	t.Helper()
	out, err := c.DescribeServices(bg, &ecs.DescribeServicesInput{Cluster: aws.String("nudgecampaign-production"), Services: []string{service}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Services[0].Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.Id)
		}
	}
	t.Fatal("no primary deployment")
	return ""
}
