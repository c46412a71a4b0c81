package runbook

import (
	"math"
	"strings"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/sources"
)

// The AWS action templates are validated at load like the others: each
// problem is file:line: step N "title": field: problem.
func TestLoadAWSTemplateErrors(t *testing.T) {
	const kill = "action: terminate\n    backends: state:!idle >10m"
	cases := []struct {
		name, new string
		want      string
	}{
		{"promote without instance", "action: promote_read_replica\n    region: us-west-2",
			`bad.yaml:16: step 3 "Kill": instance: required for promote_read_replica: the RDS instance identifier, e.g. nudgecampaign-dr-db`},
		{"promote without region", "action: promote_read_replica\n    instance: nudgecampaign-dr-db",
			`bad.yaml:16: step 3 "Kill": region: required for promote_read_replica: the AWS region, e.g. us-west-2`},
		{"bad region", "action: promote_read_replica\n    region: oregon\n    instance: nudgecampaign-dr-db",
			`bad.yaml:19: step 3 "Kill": region: not an AWS region (e.g. us-west-2); got "oregon"`},
		{"bad instance id", "action: reboot_db_failover\n    region: us-east-1\n    instance: 1-db--x",
			`bad.yaml:20: step 3 "Kill": instance: not an RDS instance identifier (a letter, then letters, digits and single hyphens); got "1-db--x"`},
		{"desired count without desired", "action: set_desired_count\n    region: us-west-2\n    cluster: nudgecampaign-dr\n    service: api",
			`bad.yaml:16: step 3 "Kill": desired: required for set_desired_count: the new desired count`},
		{"negative desired", "action: set_desired_count\n    region: us-west-2\n    cluster: nudgecampaign-dr\n    service: api\n    desired: -1",
			`bad.yaml:22: step 3 "Kill": desired: cannot be negative`},
		{"desired not a number", "action: set_desired_count\n    region: us-west-2\n    cluster: nudgecampaign-dr\n    service: api\n    desired: four",
			`bad.yaml:22: step 3 "Kill": desired: expected a whole number, got "four"`},
		{"bad service name", "action: force_deployment\n    region: us-west-2\n    cluster: nudgecampaign-dr\n    service: api/v2",
			`bad.yaml:21: step 3 "Kill": service: not an ECS service name (letters, digits, - and _); got "api/v2"`},
		{"key of another AWS action", "action: promote_read_replica\n    region: us-west-2\n    instance: nudgecampaign-dr-db\n    desired: 4",
			`bad.yaml:21: step 3 "Kill": desired: does not apply to promote_read_replica (it takes source, region, instance)`},
		{"misspelt AWS key", "action: promote_read_replica\n    region: us-west-2\n    instanse: nudgecampaign-dr-db",
			`bad.yaml:16: step 3 "Kill": instance: required for promote_read_replica: the RDS instance identifier, e.g. nudgecampaign-dr-db
bad.yaml:20: step 3 "Kill": instanse: unknown key (did you mean "instance"?)`},
		{"bad task definition", "action: rollback_task_definition\n    region: us-east-1\n    cluster: c\n    service: api\n    task_definition: api-56",
			`bad.yaml:22: step 3 "Kill": task_definition: give family:revision, e.g. nudgecampaign-api:56 (leave it out for the previous revision); got "api-56"`},
		{"failover cluster without db_cluster", "action: failover_db_cluster\n    region: us-east-1",
			`bad.yaml:16: step 3 "Kill": db_cluster: required for failover_db_cluster: the Aurora cluster identifier`},
		{"unknown AWS kind", "action: promote_replica\n    region: us-west-2",
			`bad.yaml:18: step 3 "Kill": action: unknown action kind "promote_replica" (one of cancel, failover_db_cluster, force_deployment, pause, promote_read_replica, reboot_db, reboot_db_failover, restart, resume, rollback_task_definition, scale, set_desired_count, silence, terminate, undo)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("bad.yaml", []byte(edit(t, kill, c.new)))
			if err == nil {
				t.Fatal("loaded")
			}
			if err.Error() != c.want {
				t.Errorf("\n got %s\nwant %s", err, c.want)
			}
		})
	}
}

func TestLoadAWSTemplates(t *testing.T) {
	cases := []struct {
		src  string
		want ActionTemplate
	}{
		{"action: promote_read_replica\n    region: us-west-2\n    instance: nudgecampaign-dr-db\n    source: aws",
			ActionTemplate{Kind: ops.PromoteReplica, Source: "aws", Region: "us-west-2", Instance: "nudgecampaign-dr-db"}},
		{"action: set_desired_count\n    region: us-west-2\n    cluster: nudgecampaign-dr\n    service: api\n    desired: 4\n    override: true",
			ActionTemplate{Kind: ops.SetDesiredCount, Region: "us-west-2", Cluster: "nudgecampaign-dr", Service: "api", Desired: 4, Override: true}},
		{"action: failover_db_cluster\n    region: us-east-1\n    db_cluster: analytics\n    failover_target: analytics-2",
			ActionTemplate{Kind: ops.FailoverCluster, Region: "us-east-1", DBCluster: "analytics", FailoverTarget: "analytics-2"}},
		{"action: rollback_task_definition\n    region: us-east-1\n    cluster: prod\n    service: api\n    task_definition: nudgecampaign-api:56",
			ActionTemplate{Kind: ops.RollbackTaskDef, Region: "us-east-1", Cluster: "prod", Service: "api", TaskDefinition: "nudgecampaign-api:56"}},
	}
	for _, c := range cases {
		b, err := Load("ok.yaml", []byte(edit(t, "action: terminate\n    backends: state:!idle >10m", c.src)))
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got := *b.Steps[2].Act; got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.src, got, c.want)
		}
	}
}

func awsWorld(now time.Time) *world {
	set := &sources.AWSSet{
		RDS: []sources.RDSInstance{
			{Region: "us-east-1", ID: "prod", Status: "available", MultiAZ: true, ReplicaLag: math.NaN(), CPUPercent: 40, Connections: 10,
				Replicas: []sources.RDSRef{{Region: "us-west-2", ID: "dr"}}},
			{Region: "us-west-2", ID: "dr", Status: "available", ReplicaOf: sources.RDSRef{Region: "us-east-1", ID: "prod"}, ReplicaLag: 42, CPUPercent: 5},
		},
		ECS: []sources.ECSService{{Region: "us-west-2", Cluster: "dr", Name: "api", Status: "ACTIVE", Desired: 0, Running: 0,
			Bounds: sources.DesiredBounds{Min: 0, Max: 10, HasMin: true, HasMax: true}}},
	}
	return newWorld([]sources.Snapshot{{Source: "aws", Kind: sources.KindAWS, Data: set, FetchedAt: now}}, now)
}

// Expressions read AWS state; a missing instance is unknown, not false.
func TestAWSExpressions(t *testing.T) {
	now := time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)
	w := awsWorld(now)
	env := w.env(nil)
	cases := []struct {
		src  string
		want Verdict
		why  string
	}{
		{`aws.instance("us-west-2", "dr").role == "replica" && aws.instance("us-west-2", "dr").lag_seconds < 3600`, True, ""},
		{`aws.instance("us-east-1", "prod").role == "primary" && aws.instance("us-east-1", "prod").available`, True, ""},
		{`aws.instance("us-east-1", "prod").lag_seconds < 3600`, False, ""}, // NaN: a primary has no lag
		{`aws.service("us-west-2", "dr", "api").running >= 4`, False, ""},
		{`aws.service("us-west-2", "dr", "api").steady`, True, ""},
		{`aws.instance("us-west-2", "nope").available`, Unknown, "no RDS instance nope in us-west-2"},
		{`aws.service("us-west-2", "dr", "worker").running > 0`, Unknown, "no ECS service worker in cluster dr (us-west-2)"},
	}
	for _, c := range cases {
		cond, err := compileCond(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		v, why, _ := evalCond(cond, nil, w, nil, &env, time.Time{})
		if v != c.want || why != c.why {
			t.Errorf("%s: %s %q, want %s %q", c.src, v, why, c.want, c.why)
		}
	}
	// Without an AWS snapshot every AWS expression is unknown.
	cond, _ := compileCond(`aws.instance("us-west-2", "dr").available`)
	empty := newWorld(nil, now)
	eenv := empty.env(nil)
	if v, why, _ := evalCond(cond, nil, empty, nil, &eenv, time.Time{}); v != Unknown || why != "no AWS data" {
		t.Errorf("no data: %s %q", v, why)
	}
	// A misspelt field is a load error speaking the runbook's names.
	if _, err := compileCond(`aws.instance("us-west-2", "dr").lag < 10`); err == nil ||
		!strings.Contains(err.Error(), `aws.instance(...) has no field lag`) || !strings.Contains(err.Error(), "lag_seconds") {
		t.Errorf("misspelt field: %v", err)
	}
}

// An AWS template resolves to the request the pane would build; a target
// that is not in the snapshot says so.
func TestResolveAWS(t *testing.T) {
	now := time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)
	w := awsWorld(now)
	pol := ops.DefaultPolicy()
	res := resolve(&ActionTemplate{Kind: ops.PromoteReplica, Region: "us-west-2", Instance: "dr"}, w, nil, pol, "rb", nil)
	if res.req == nil || res.req.Action != ops.PromoteReplica || res.req.Source != "aws" || res.req.RDSInstance == nil ||
		res.req.RDSInstance.Key() != "us-west-2/dr" || len(res.lines) != 1 ||
		res.lines[0] != "target promote dr (us-west-2, replica of prod (us-east-1), available), replica lag 42s" {
		t.Errorf("promote: %+v %q", res.req, res.lines)
	}
	res = resolve(&ActionTemplate{Kind: ops.SetDesiredCount, Region: "us-west-2", Cluster: "dr", Service: "api", Desired: 4}, w, nil, pol, "rb", nil)
	if res.req == nil || res.req.ECSService == nil || res.req.ECSService.Key() != "us-west-2/dr/api" || res.req.Params.Desired != 4 ||
		len(res.lines) != 1 || res.lines[0] != "target set desired count of us-west-2/dr/api 0 → 4 (0 running)" {
		t.Errorf("desired: %+v %q", res.req, res.lines)
	}
	// The policy's verdict shows before anything is planned.
	res = resolve(&ActionTemplate{Kind: ops.PromoteReplica, Region: "us-east-1", Instance: "prod"}, w, nil, pol, "rb", nil)
	if res.req == nil || len(res.lines) != 2 || res.lines[1] != "policy: prod is not a read replica" {
		t.Errorf("promote a primary: %q", res.lines)
	}
	res = resolve(&ActionTemplate{Kind: ops.PromoteReplica, Region: "us-west-2", Instance: "gone"}, w, nil, pol, "rb", nil)
	if res.req != nil || res.unknown != "no RDS instance gone in us-west-2 (source aws)" {
		t.Errorf("missing instance: %+v", res)
	}
	res = resolve(&ActionTemplate{Kind: ops.ForceDeployment, Region: "us-west-2", Cluster: "dr", Service: "worker"}, w, nil, pol, "rb", nil)
	if res.req != nil || res.unknown != "no ECS service worker in cluster dr (us-west-2, source aws)" {
		t.Errorf("missing service: %+v", res)
	}
	if res := resolve(&ActionTemplate{Kind: ops.PromoteReplica, Region: "us-west-2", Instance: "dr"}, newWorld(nil, now), nil, pol, "rb", nil); res.unknown != "no AWS data" {
		t.Errorf("no data: %+v", res)
	}
}
