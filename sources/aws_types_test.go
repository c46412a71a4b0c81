package sources

import (
	"math"
	"testing"
	"time"
)

func TestRDSThresholdsFollowTheManual(t *testing.T) {
	for _, tc := range []struct {
		cpu  float64
		want Health
	}{
		{math.NaN(), HealthUnknown}, {0, HealthOK}, {69.9, HealthOK}, {70, HealthWarning},
		{90, HealthWarning}, {90.1, HealthCritical}, {100, HealthCritical},
	} {
		if got := (RDSInstance{CPUPercent: tc.cpu}).CPUHealth(); got != tc.want {
			t.Errorf("CPU %v%%: %v, want %v", tc.cpu, got, tc.want)
		}
	}
	for _, tc := range []struct {
		lag  float64
		want Health
	}{
		{math.NaN(), HealthUnknown}, {0.4, HealthOK}, {59, HealthOK}, {60, HealthWarning},
		{3599, HealthWarning}, {3600, HealthCritical},
	} {
		if got := (RDSInstance{ReplicaLag: tc.lag}).LagHealth(); got != tc.want {
			t.Errorf("lag %vs: %v, want %v", tc.lag, got, tc.want)
		}
	}
	for _, tc := range []struct {
		conns float64
		max   int
		want  Health
	}{
		{50, 0, HealthUnknown}, {math.NaN(), 100, HealthUnknown}, {80, 100, HealthOK},
		{81, 100, HealthWarning}, {95, 100, HealthWarning}, {96, 100, HealthCritical},
	} {
		if got := (RDSInstance{Connections: tc.conns, MaxConnections: tc.max}).ConnectionsHealth(); got != tc.want {
			t.Errorf("%v of %d connections: %v, want %v", tc.conns, tc.max, got, tc.want)
		}
	}
}

func TestRDSHealthNamesTheWorstFigure(t *testing.T) {
	i := RDSInstance{Status: "available", CPUPercent: 42, Connections: 91, MaxConnections: 100, ReplicaLag: 75}
	if h, why := i.Health(); h != HealthWarning || why != "replica lag 1m15s" {
		t.Errorf("got %v %q", h, why)
	}
	i.CPUPercent = 96
	if h, why := i.Health(); h != HealthCritical || why != "CPU 96% > 90%" {
		t.Errorf("got %v %q", h, why)
	}
	i.Status = "storage-full"
	if h, why := i.Health(); h != HealthCritical || why != "status storage-full" {
		t.Errorf("status first among equals: %v %q", h, why)
	}
	calm := RDSInstance{Status: "available", CPUPercent: 30, Connections: math.NaN(), ReplicaLag: math.NaN()}
	if h, why := calm.Health(); h != HealthOK || why != "" {
		t.Errorf("calm: %v %q", h, why)
	}
	if h, _ := (RDSInstance{Status: "rebooting", CPUPercent: math.NaN(), Connections: math.NaN(), ReplicaLag: math.NaN()}).Health(); h != HealthWarning {
		t.Errorf("rebooting: %v", h)
	}
}

func TestRolesAndRefs(t *testing.T) {
	if r := ParseRDSRef("arn:aws:rds:us-east-1:123456789012:db:nudgecampaign-prod", "us-west-2"); r != (RDSRef{"us-east-1", "nudgecampaign-prod"}) {
		t.Errorf("ARN: %+v", r)
	}
	if r := ParseRDSRef("nudgecampaign-prod", "us-west-2"); r != (RDSRef{"us-west-2", "nudgecampaign-prod"}) {
		t.Errorf("bare: %+v", r)
	}
	if r := ParseRDSRef("arn:aws:rds:us-east-1:1:cluster:c", "x"); r.ID != "arn:aws:rds:us-east-1:1:cluster:c" {
		t.Errorf("a cluster ARN is not an instance reference: %+v", r)
	}
	cases := []struct {
		i    RDSInstance
		role RDSRole
		text string
	}{
		{RDSInstance{Region: "us-east-1"}, RolePrimary, "primary"},
		{RDSInstance{Region: "us-east-1", Replicas: []RDSRef{{"us-west-2", "dr"}, {"us-east-1", "r"}}}, RolePrimary, "primary (2 replicas)"},
		{RDSInstance{Region: "us-west-2", ReplicaOf: RDSRef{"us-east-1", "prod"}}, RoleReplica, "replica of prod (us-east-1)"},
		{RDSInstance{Region: "us-east-1", ReplicaOf: RDSRef{"us-east-1", "prod"}}, RoleReplica, "replica of prod"},
		{RDSInstance{ClusterID: "c", ClusterWriter: true}, RoleWriter, "writer of c"},
		{RDSInstance{ClusterID: "c"}, RoleReader, "reader of c"},
	}
	for _, tc := range cases {
		if tc.i.Role() != tc.role || tc.i.RoleText() != tc.text {
			t.Errorf("%+v: %v %q, want %v %q", tc.i, tc.i.Role(), tc.i.RoleText(), tc.role, tc.text)
		}
	}
	if d, ok := (RDSInstance{ReplicaLag: 1.5}).Lag(); !ok || d != 1500*time.Millisecond {
		t.Errorf("lag %v %v", d, ok)
	}
}

func TestRefusalsFollowRDSRules(t *testing.T) {
	prod := RDSInstance{ID: "prod", Status: "available", MultiAZ: true}
	if r := prod.RebootRefusal(true); r != "" {
		t.Errorf("multi-AZ failover refused: %s", r)
	}
	single := RDSInstance{ID: "dev", Status: "available"}
	if r := single.RebootRefusal(true); r != "dev is not Multi-AZ: there is no standby to fail over to" {
		t.Errorf("single-AZ failover: %q", r)
	}
	if r := single.RebootRefusal(false); r != "" {
		t.Errorf("plain reboot refused: %s", r)
	}
	if r := (RDSInstance{ID: "a1", Status: "available", ClusterID: "c"}).RebootRefusal(true); r == "" {
		t.Error("reboot with failover of an Aurora member accepted")
	}
	if r := (RDSInstance{ID: "prod", Status: "rebooting"}).RebootRefusal(false); r != "prod is rebooting, not available" {
		t.Errorf("rebooting: %q", r)
	}
	replica := RDSInstance{ID: "dr", Status: "available", ReplicaOf: RDSRef{"us-east-1", "prod"}}
	if r := replica.PromoteRefusal(); r != "" {
		t.Errorf("promote refused: %s", r)
	}
	if r := prod.PromoteRefusal(); r != "prod is not a read replica" {
		t.Errorf("promote a primary: %q", r)
	}
	c := RDSCluster{ID: "c", Status: "available", Members: []RDSClusterMember{{ID: "w", Writer: true}, {ID: "r"}}}
	for target, want := range map[string]string{
		"": "", "r": "", "w": "w is already the writer of c", "x": "x is not a reader of cluster c",
	} {
		if got := c.FailoverRefusal(target); got != want {
			t.Errorf("failover to %q: %q, want %q", target, got, want)
		}
	}
	if got := (RDSCluster{ID: "c", Status: "available", Members: []RDSClusterMember{{ID: "w", Writer: true}}}).FailoverRefusal(""); got != "cluster c has no reader to fail over to" {
		t.Errorf("single member: %q", got)
	}
}

func TestECSDesiredRefusalUsesTheManualBounds(t *testing.T) {
	api := ECSService{Cluster: "nudgecampaign-production", Name: "api", Desired: 4, Protected: true,
		Bounds: DesiredBounds{Min: 2, Max: 10, HasMin: true, HasMax: true}}
	for n, want := range map[int32]string{
		6: "", 2: "", 10: "",
		1:  "1 is below api's minimum of 2",
		11: "11 is above api's maximum of 10",
		0:  "cluster nudgecampaign-production is protected: api is never scaled to zero",
		-1: "the desired count cannot be negative",
		4:  "api already wants 4 tasks",
	} {
		if got := api.DesiredRefusal(n); got != want {
			t.Errorf("desired %d: %q, want %q", n, got, want)
		}
	}
	dr := ECSService{Cluster: "nudgecampaign-dr", Name: "api"}
	if got := dr.DesiredRefusal(4); got != "" {
		t.Errorf("unbounded DR api to 4: %q", got)
	}
}

func TestECSHealthAndSteady(t *testing.T) {
	for _, tc := range []struct {
		s    ECSService
		want Health
		why  string
	}{
		{ECSService{Status: "ACTIVE", Desired: 4, Running: 4}, HealthOK, ""},
		{ECSService{Status: "ACTIVE", Desired: 0, Running: 0}, HealthOK, ""},
		{ECSService{Status: "ACTIVE", Desired: 4, Running: 3}, HealthWarning, "3 of 4 tasks running"},
		{ECSService{Status: "ACTIVE", Desired: 4, Running: 0}, HealthCritical, "0 of 4 tasks running"},
		{ECSService{Status: "ACTIVE", Desired: 4, Running: 4, Rollout: ECSDeployment{RolloutState: ECSRolloutFailed}}, HealthCritical, "rollout failed"},
		{ECSService{Status: "DRAINING", Desired: 4, Running: 4}, HealthCritical, "service draining"},
	} {
		if h, why := tc.s.Health(); h != tc.want || why != tc.why {
			t.Errorf("%+v: %v %q", tc.s, h, why)
		}
	}
	s := ECSService{Desired: 4, Running: 4, Deployments: []ECSDeployment{{Status: "PRIMARY"}, {Status: "ACTIVE"}}}
	if s.Steady() {
		t.Error("two deployments counted as steady")
	}
	s.Deployments = s.Deployments[:1]
	if !s.Steady() {
		t.Error("one deployment, all running: not steady")
	}
	if r := (ECSService{TaskDefinition: TaskDef{Family: "api", Revision: 1}}).RollbackRefusal(); r != "no earlier ACTIVE revision of api to roll back to" {
		t.Errorf("rollback refusal %q", r)
	}
}

func TestParseTaskDef(t *testing.T) {
	for in, want := range map[string]TaskDef{
		"arn:aws:ecs:us-east-1:123456789012:task-definition/nudgecampaign-api:42": {ARN: "arn:aws:ecs:us-east-1:123456789012:task-definition/nudgecampaign-api:42", Family: "nudgecampaign-api", Revision: 42},
		"nudgecampaign-api:7":   {Family: "nudgecampaign-api", Revision: 7},
		"nudgecampaign-api":     {Family: "nudgecampaign-api"},
		"weird:name:3":          {Family: "weird:name", Revision: 3},
		"nudgecampaign-api:rev": {Family: "nudgecampaign-api:rev"},
		"":                      {},
	} {
		if got := ParseTaskDef(in); got != want {
			t.Errorf("%q: %+v, want %+v", in, got, want)
		}
	}
	if s := (TaskDef{Family: "api", Revision: 3}).String(); s != "api:3" {
		t.Errorf("String %q", s)
	}
}
