package demo

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// A source; the ops capability interfaces are asserted in world/backends.go.
var _ sources.Source = (*AWSSource)(nil)

func awsAt(t *testing.T, w *World) *sources.AWSSet {
	t.Helper()
	p, err := w.AWS().Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sources.AWSSet)
}

func mustInstance(t *testing.T, set *sources.AWSSet, region, id string) sources.RDSInstance {
	t.Helper()
	i, ok := set.Instance(region, id)
	if !ok {
		t.Fatalf("no instance %s/%s", region, id)
	}
	return i
}

func mustService(t *testing.T, set *sources.AWSSet, region, cluster, name string) sources.ECSService {
	t.Helper()
	s, ok := set.Service(region, cluster, name)
	if !ok {
		t.Fatalf("no service %s/%s/%s", region, cluster, name)
	}
	return s
}

func TestAWSCalm(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 5)
	set := awsAt(t, w)
	if len(set.Regions) != 2 || set.Regions[0].Name != awsPrimary || set.Regions[1].Name != awsDR || set.CredentialSource != "demo" {
		t.Errorf("regions %+v", set.Regions)
	}
	prod := mustInstance(t, set, awsPrimary, prodDB)
	if prod.Class != "db.r6g.xlarge" || !prod.MultiAZ || prod.Engine != "postgres" || prod.RoleText() != "primary (1 replica)" {
		t.Errorf("prod %+v", prod)
	}
	if h, why := prod.Health(); h != sources.HealthOK {
		t.Errorf("calm prod %v %q (cpu %.0f, conns %.0f)", h, why, prod.CPUPercent, prod.Connections)
	}
	dr := mustInstance(t, set, awsDR, drDB)
	lag, ok := dr.Lag()
	if dr.RoleText() != "replica of nudgecampaign-prod (us-east-1)" || !ok || lag <= 0 || lag > 5*time.Second {
		t.Errorf("dr %q lag %v", dr.RoleText(), lag)
	}
	if c, ok := set.Cluster(awsPrimary, analytics); !ok || c.Writer() != "analytics-1" {
		t.Errorf("cluster %+v", c)
	}
	api := mustService(t, set, awsPrimary, prodECS, "api")
	if api.Desired != 4 || api.Running != 4 || api.TaskDefinition.String() != "nudgecampaign-api:57" ||
		api.PreviousTaskDefinition.String() != "nudgecampaign-api:56" || api.Rollout.RolloutState != sources.ECSRolloutCompleted || !api.Steady() {
		t.Errorf("api %+v", api)
	}
	if api.DesiredRefusal(0) == "" || api.DesiredRefusal(11) == "" || api.DesiredRefusal(6) != "" {
		t.Errorf("api bounds: 0 %q, 11 %q, 6 %q", api.DesiredRefusal(0), api.DesiredRefusal(11), api.DesiredRefusal(6))
	}
	worker := mustService(t, set, awsPrimary, prodECS, "worker")
	if worker.Desired != 3 || worker.Running != 3 || worker.Bounds.Max != 6 {
		t.Errorf("worker %+v", worker)
	}
	if drAPI := mustService(t, set, awsDR, drECS, "api"); drAPI.Desired != 0 || drAPI.Protected {
		t.Errorf("dr api %+v", drAPI)
	}
}

func TestAWSFollowsTheIncident(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 150)
	set := awsAt(t, w)
	prod := mustInstance(t, set, awsPrimary, prodDB)
	if prod.CPUHealth() != sources.HealthCritical {
		t.Errorf("CPU at the height of the incident %.1f%% (%v)", prod.CPUPercent, prod.CPUHealth())
	}
	dr := mustInstance(t, set, awsDR, drDB)
	if dr.LagHealth() != sources.HealthWarning {
		t.Errorf("replica lag %.0fs (%v)", dr.ReplicaLag, dr.LagHealth())
	}
	pg := pgAt(t, w)
	if int(prod.Connections) < pg.Connections {
		t.Errorf("RDS connections %.0f below Postgres's %d", prod.Connections, pg.Connections)
	}
	at(c, healthCheckAt+1)
	api := mustService(t, awsAt(t, w), awsPrimary, prodECS, "api")
	if api.Running != 3 || !strings.Contains(api.Events[0].Message, "failed container health checks") {
		t.Errorf("health-check failure: running %d, events %+v", api.Running, api.Events)
	}
	if h, _ := api.Health(); h != sources.HealthWarning {
		t.Errorf("api health %v", h)
	}
	at(c, healthCheckAt+healthCheckFor+1)
	if api := mustService(t, awsAt(t, w), awsPrimary, prodECS, "api"); api.Running != 4 {
		t.Errorf("the task did not come back: %d", api.Running)
	}
}

// The manual's failover.sh: promote the DR replica, set the DR api to 4.
func TestAWSFailoverToDR(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 10)
	a := w.AWS()
	if err := a.PromoteReadReplica(ctx, awsPrimary, prodDB); err == nil || !strings.Contains(err.Error(), "not a read replica") {
		t.Errorf("promote the primary: %v", err)
	}
	before, err := a.DescribeDBInstance(ctx, awsDR, drDB)
	if err != nil || before.PromoteRefusal() != "" || !math.IsNaN(before.CPUPercent) {
		t.Fatalf("before: %v %q", err, before.PromoteRefusal())
	}
	if err := a.PromoteReadReplica(ctx, awsDR, drDB); err != nil {
		t.Fatal(err)
	}
	set := awsAt(t, w)
	dr := mustInstance(t, set, awsDR, drDB)
	if dr.Status != "modifying" || dr.Role() != sources.RolePrimary || !math.IsNaN(dr.ReplicaLag) {
		t.Errorf("just promoted: %s %v lag %v", dr.Status, dr.Role(), dr.ReplicaLag)
	}
	if prod := mustInstance(t, set, awsPrimary, prodDB); prod.RoleText() != "primary" {
		t.Errorf("old primary still lists the replica: %q", prod.RoleText())
	}
	if err := a.SetDesiredCount(ctx, awsDR, drECS, "api", 4); err != nil {
		t.Fatal(err)
	}
	at(c, 13)
	drAPI := mustService(t, awsAt(t, w), awsDR, drECS, "api")
	if drAPI.Running == 0 || drAPI.Running == 4 || drAPI.Steady() {
		t.Errorf("tasks start one at a time: %d running", drAPI.Running)
	}
	at(c, 10+promoteSecs+1)
	if dr := mustInstance(t, awsAt(t, w), awsDR, drDB); dr.Status != "available" {
		t.Errorf("after %ds: %s", promoteSecs+1, dr.Status)
	}
	at(c, 30)
	drAPI = mustService(t, awsAt(t, w), awsDR, drECS, "api")
	if drAPI.Desired != 4 || drAPI.Running != 4 || !drAPI.Steady() || !strings.Contains(drAPI.Events[0].Message, "has started 1 tasks") {
		t.Errorf("dr api %+v", drAPI)
	}
}

func TestAWSRebootDeploymentsRollback(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 10)
	a := w.AWS()
	if err := a.RebootDBInstance(ctx, awsDR, drDB, true); err == nil || !strings.Contains(err.Error(), "Multi-AZ") {
		t.Errorf("failover of a single-AZ replica: %v", err)
	}
	if err := a.RebootDBInstance(ctx, awsPrimary, prodDB, true); err != nil {
		t.Fatal(err)
	}
	if err := a.RebootDBInstance(ctx, awsPrimary, prodDB, false); err == nil {
		t.Error("a rebooting instance rebooted again")
	}
	prod := mustInstance(t, awsAt(t, w), awsPrimary, prodDB)
	if prod.Status != "rebooting" || prod.Connections != 0 {
		t.Errorf("rebooting: %s, %v connections", prod.Status, prod.Connections)
	}
	at(c, 10+rebootSecs)
	prod = mustInstance(t, awsAt(t, w), awsPrimary, prodDB)
	if prod.Status != "available" || prod.AZ != "us-east-1b" || prod.SecondaryAZ != "us-east-1a" {
		t.Errorf("after failover: %s in %s (standby %s)", prod.Status, prod.AZ, prod.SecondaryAZ)
	}

	if err := a.ForceNewDeployment(ctx, awsPrimary, prodECS, "worker"); err != nil {
		t.Fatal(err)
	}
	at(c, 20)
	wk := mustService(t, awsAt(t, w), awsPrimary, prodECS, "worker")
	if len(wk.Deployments) != 2 || wk.Rollout.RolloutState != sources.ECSRolloutInProgress || wk.Steady() {
		t.Errorf("during the deployment: %+v", wk.Deployments)
	}
	at(c, 40)
	wk = mustService(t, awsAt(t, w), awsPrimary, prodECS, "worker")
	if len(wk.Deployments) != 1 || wk.Rollout.RolloutState != sources.ECSRolloutCompleted || !wk.Steady() {
		t.Errorf("after the deployment: %+v", wk.Deployments)
	}

	diff, err := a.PreviewRollback(ctx, awsPrimary, prodECS, "api", "nudgecampaign-api:56")
	if err != nil || len(diff) != 1 || diff[0] != "container api: image nudgecampaign/api:v5.0.0 → nudgecampaign/api:v4.9.2" {
		t.Errorf("preview %q %v", diff, err)
	}
	for _, bad := range []string{"nudgecampaign-worker:22", "nudgecampaign-api:57", "nudgecampaign-api:12"} {
		if err := a.RollbackTaskDefinition(ctx, awsPrimary, prodECS, "api", bad); err == nil {
			t.Errorf("rollback to %s accepted", bad)
		}
	}
	if err := a.RollbackTaskDefinition(ctx, awsPrimary, prodECS, "api", "nudgecampaign-api:56"); err != nil {
		t.Fatal(err)
	}
	api, err := a.DescribeService(ctx, awsPrimary, prodECS, "api")
	if err != nil || api.TaskDefinition.String() != "nudgecampaign-api:56" || api.PreviousTaskDefinition.String() != "nudgecampaign-api:55" {
		t.Errorf("after rollback %s (previous %s) %v", api.TaskDefinition, api.PreviousTaskDefinition, err)
	}

	if err := a.FailoverDBCluster(ctx, awsPrimary, analytics, "analytics-1"); err == nil {
		t.Error("failover to the writer accepted")
	}
	if err := a.FailoverDBCluster(ctx, awsPrimary, analytics, ""); err != nil {
		t.Fatal(err)
	}
	at(c, 40+clusterFOSecs)
	cl, err := a.DescribeDBCluster(ctx, awsPrimary, analytics)
	if err != nil || cl.Writer() != "analytics-2" || cl.Status != "available" {
		t.Errorf("cluster after failover %+v %v", cl, err)
	}
	if _, err := a.DescribeService(ctx, "eu-west-1", prodECS, "api"); err == nil {
		t.Error("an unconfigured region answered")
	}
}

func TestAWSWaitersFollowTheClock(t *testing.T) {
	c := opstest.NewClock(epoch)
	w := NewWorld(Options{Now: c.Now, Seed: 42, Speed: 1})
	a := w.AWS()
	if err := a.SetDesiredCount(ctx, awsDR, drECS, "api", 2); err != nil {
		t.Fatal(err)
	}
	// The clock does not move: the waiter gives up in time and says why.
	err := a.WaitServicesStable(ctx, awsDR, drECS, []string{"api"}, 600*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "api: 0 of 2 running") {
		t.Errorf("stuck wait: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.WaitServicesStable(ctx, awsDR, drECS, []string{"api"}, 10*time.Second) }()
	for i := 0; i < 4; i++ {
		time.Sleep(100 * time.Millisecond)
		c.Advance(2 * time.Second)
	}
	if err := <-done; err != nil {
		t.Errorf("wait: %v", err)
	}
	if err := a.RebootDBInstance(ctx, awsPrimary, prodDB, false); err != nil {
		t.Fatal(err)
	}
	go func() { done <- a.WaitDBInstanceAvailable(ctx, awsPrimary, prodDB, time.Second, 10*time.Second) }()
	time.Sleep(300 * time.Millisecond)
	c.Advance(rebootSecs * time.Second)
	if err := <-done; err != nil {
		t.Errorf("wait available: %v", err)
	}
}

// Fetching AWS (or acting on it) never changes the rest of the script: it
// reads the world but not its random sources.
func TestAWSLeavesTheScriptAlone(t *testing.T) {
	w1, c1 := newTestWorld(t)
	w2, c2 := newTestWorld(t)
	for s := 1; s <= 200; s += 3 {
		at(c2, s)
		awsAt(t, w2)
		if s == 61 {
			if err := w2.AWS().ForceNewDeployment(ctx, awsPrimary, prodECS, "api"); err != nil {
				t.Fatal(err)
			}
		}
	}
	at(c1, 200)
	at(c2, 200)
	if !reflect.DeepEqual(pgAt(t, w1), pgAt(t, w2)) || !reflect.DeepEqual(kubeAt(t, w1), kubeAt(t, w2)) {
		t.Error("fetching AWS changed the course of events")
	}
	a1, a2 := awsAt(t, w1), awsAt(t, w2)
	if p1, p2 := mustInstance(t, a1, awsPrimary, prodDB), mustInstance(t, a2, awsPrimary, prodDB); p1.CPUPercent != p2.CPUPercent {
		t.Errorf("CPU depends on how often it is read: %v vs %v", p1.CPUPercent, p2.CPUPercent)
	}
}

func TestAWSActionsForgottenWhenTheWorldLoops(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 10)
	if err := w.AWS().PromoteReadReplica(ctx, awsDR, drDB); err != nil {
		t.Fatal(err)
	}
	for s := 11; s <= maxLoop+5; s++ {
		at(c, s)
		awsAt(t, w)
	}
	if dr := mustInstance(t, awsAt(t, w), awsDR, drDB); dr.Role() != sources.RoleReplica {
		t.Errorf("after the loop the DR instance is %v", dr.Role())
	}
}
