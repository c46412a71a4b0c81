package ops_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	. "flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// awsRig is an Executor over the manual's AWS estate (opstest.AWSEstate) in
// a fake, with a real journal.
type awsRig struct {
	ex      *Executor
	aws     *opstest.FakeAWS
	set     *sources.AWSSet
	clock   *opstest.Clock
	journal string
}

func newAWSRig(t *testing.T, mut func(*Config)) *awsRig {
	t.Helper()
	r := &awsRig{clock: opstest.NewClock(t0), set: opstest.AWSEstate(t0)}
	r.aws = opstest.NewFakeAWS(r.set)
	j, path := opstest.Journal(t)
	r.journal = path
	cfg := Config{Environment: "staging", Policy: DefaultPolicy(), Journal: j, Operator: "oncall@bastion", Now: r.clock.Now,
		Caps: Capabilities{"aws": r.aws}}
	if mut != nil {
		mut(&cfg)
	}
	r.ex = NewExecutor(cfg)
	return r
}

func (r *awsRig) service(t *testing.T, region, cluster, name string) *sources.ECSService {
	t.Helper()
	s, ok := r.set.Service(region, cluster, name)
	if !ok {
		t.Fatalf("no service %s/%s/%s", region, cluster, name)
	}
	return &s
}

func (r *awsRig) instance(t *testing.T, region, id string) *sources.RDSInstance {
	t.Helper()
	i, ok := r.set.Instance(region, id)
	if !ok {
		t.Fatalf("no instance %s/%s", region, id)
	}
	return &i
}

// run plans req and executes it with typed.
func (r *awsRig) run(t *testing.T, req Request, typed string) (Plan, Result) {
	t.Helper()
	p, err := r.ex.Plan(context.Background(), req)
	if err != nil {
		t.Fatalf("plan %s: %v", req.Action, err)
	}
	return p, r.ex.Execute(context.Background(), p, typed)
}

func drAPI(r *awsRig, t *testing.T) *sources.ECSService {
	return r.service(t, "us-west-2", "nudgecampaign-dr", "api")
}

func prodAPI(r *awsRig, t *testing.T) *sources.ECSService {
	return r.service(t, "us-east-1", "nudgecampaign-production", "api")
}

// The manual's failover.sh step 3: the DR api from 0 to 4 tasks, confirmed
// by typing the service name, journaled with what the plan saw.
func TestSetDesiredCountDRAPI(t *testing.T) {
	r := newAWSRig(t, nil)
	req := Request{Action: SetDesiredCount, Source: "aws", ECSService: drAPI(r, t), Params: Params{Desired: 4}}
	p, res := r.run(t, req, "api")
	if p.Risk != High || p.Phrase != "api" || p.Targets[0].ID != "us-west-2/nudgecampaign-dr/api" {
		t.Errorf("plan risk %v phrase %q target %q", p.Risk, p.Phrase, p.Targets[0].ID)
	}
	if !strings.Contains(strings.Join(p.Preview, "\n"), "aws ecs update-service --region us-west-2 --cluster nudgecampaign-dr --service api --desired-count 4") {
		t.Errorf("preview lacks the CLI equivalent: %q", p.Preview)
	}
	if !res.OK {
		t.Fatalf("result %+v", res)
	}
	if got, _ := r.aws.Service("us-west-2/nudgecampaign-dr/api"); got.Desired != 4 {
		t.Errorf("desired now %d", got.Desired)
	}
	recs := opstest.Records(t, r.journal)
	if len(recs) != 2 || recs[0].Phase != "intent" || recs[1].Outcome != "ok" || recs[0].Params.Desired != 4 {
		t.Fatalf("journal %+v", recs)
	}
	seen := recs[0].Details[0]
	for _, want := range []string{"us-west-2/nudgecampaign-dr/api", "task_definition=nudgecampaign-api:57", "desired=0", "to_desired=4"} {
		if !strings.Contains(seen, want) {
			t.Errorf("intent's seen line %q lacks %q", seen, want)
		}
	}
}

// Desired-count bounds: config's min and max where configured,
// scale_max_change otherwise, never zero in a protected cluster.
func TestDesiredCountBounds(t *testing.T) {
	r := newAWSRig(t, nil)
	pol := r.ex.Policy()
	api := *prodAPI(r, t) // desired 4, min 2, max 10, protected
	free := api
	free.Bounds, free.Protected = sources.DesiredBounds{}, false
	onlyMax := api
	onlyMax.Bounds = sources.DesiredBounds{Max: 5, HasMax: true}
	for _, c := range []struct {
		name     string
		svc      sources.ECSService
		n        int32
		override bool
		kind     error
		reason   string
	}{
		{"config max allows more than scale_max_change", api, 10, false, nil, ""},
		{"config min", api, 1, false, ErrPolicy, "1 is below api's minimum of 2"},
		{"config max", api, 11, false, ErrPolicy, "11 is above api's maximum of 10"},
		{"override does not lift config bounds", api, 11, true, ErrPolicy, "maximum of 10"},
		{"protected cluster never to zero", api, 0, true, ErrPolicy, "cluster nudgecampaign-production is protected: api is never scaled to zero"},
		{"same count", api, 4, false, ErrInvalid, "already wants 4"},
		{"negative", api, -1, false, ErrInvalid, "cannot be negative"},
		{"no config: scale_max_change", free, 7, false, ErrPolicy, "api 4→7 is outside 2–6 (scale_max_change ±50%)"},
		{"no config: override", free, 7, true, nil, ""},
		{"no config: to zero when unprotected", free, 0, true, nil, ""},
		{"max only: scale_max_change below", onlyMax, 1, false, ErrPolicy, "outside 2–5 (max 5 from config, scale_max_change ±50%)"},
		{"max only: max", onlyMax, 5, false, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.svc
			err := pol.Check(Request{Action: SetDesiredCount, Source: "aws", ECSService: &s, Params: Params{Desired: c.n, Override: c.override}})
			if c.kind == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("err %v, want %v with %q", err, c.kind, c.reason)
			}
		})
	}
	if lo, hi, why := pol.DesiredBounds(api, false); lo != 2 || hi != 10 || why != "min 2 from config, max 10 from config" {
		t.Errorf("bounds of api: %d–%d (%s)", lo, hi, why)
	}
	// From zero there is no relative change to measure: only the
	// scale_max_replicas ceiling holds.
	dr := *drAPI(r, t)
	dr.Bounds = sources.DesiredBounds{}
	if lo, hi, _ := pol.DesiredBounds(dr, false); lo != 0 || hi != DefaultScaleMaxReplicas {
		t.Errorf("bounds from zero: %d–%d", lo, hi)
	}
	// The menu asks before the count is known: the target alone passes.
	if err := pol.CheckTarget(Request{Action: SetDesiredCount, ECSService: &api}); err != nil {
		t.Errorf("CheckTarget: %v", err)
	}
}

// The re-check at execution: a service someone else changed is refused,
// one that cannot be read is refused too, and nothing is written.
func TestECSRecheck(t *testing.T) {
	r := newAWSRig(t, nil)
	req := Request{Action: ForceDeployment, Source: "aws", ECSService: prodAPI(r, t)}
	p, err := r.ex.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	changed := *prodAPI(r, t)
	changed.Desired = 6
	r.aws.PutService(changed)
	res := r.ex.Execute(context.Background(), p, "api")
	if !errors.Is(res.Err, ErrTargetChanged) || !strings.Contains(res.Err.Error(), "desired=4") || !strings.Contains(res.Err.Error(), "desired=6") {
		t.Errorf("changed service: %v", res.Err)
	}
	r.aws.PutService(*prodAPI(r, t))
	r.aws.FailReads(errors.New("ecs:DescribeServices in us-east-1: operation error: context deadline exceeded"))
	res = r.ex.Execute(context.Background(), p, "api")
	if !errors.Is(res.Err, ErrRecheck) || !strings.Contains(res.Err.Error(), "deadline exceeded") {
		t.Errorf("unreadable service: %v", res.Err)
	}
	if calls := r.aws.Calls(); len(calls) != 0 {
		t.Errorf("writes after refusals: %v", calls)
	}
	r.aws.FailReads(nil)
	if res := r.ex.Execute(context.Background(), p, "api"); !res.OK {
		t.Fatalf("unchanged service: %v", res.Err)
	}
	if got, _ := r.aws.Service(changed.Key()); len(got.Deployments) != 2 || got.Deployments[0].Status != "PRIMARY" || got.Deployments[1].Status != "ACTIVE" {
		t.Errorf("deployments after force: %+v", got.Deployments)
	}
}

// AccessDenied is the reason the action failed, sent once: the handler
// never retries a write, and the journal says why.
func TestAWSAccessDeniedIsTheReasonNeverRetried(t *testing.T) {
	r := newAWSRig(t, nil)
	denied := fmt.Errorf("rds:RebootDBInstance in us-east-1: %w: User: arn:aws:sts::111122223333:assumed-role/oncall-readonly/jane is not authorized to perform: rds:RebootDBInstance", sources.ErrAccessDenied)
	r.aws.FailWrites(denied)
	_, res := r.run(t, Request{Action: RebootDBFailover, Source: "aws", RDSInstance: r.instance(t, "us-east-1", "nudgecampaign-prod")}, "nudgecampaign-prod")
	if res.OK || res.Refused || !errors.Is(res.Err, sources.ErrAccessDenied) {
		t.Fatalf("result ok=%v refused=%v err=%v", res.OK, res.Refused, res.Err)
	}
	if !strings.Contains(res.Summary, "failed: rds:RebootDBInstance in us-east-1: access denied: User: arn:aws:sts::111122223333:assumed-role/oncall-readonly/jane is not authorized") {
		t.Errorf("summary %q", res.Summary)
	}
	if calls := r.aws.Calls(); len(calls) != 1 {
		t.Errorf("calls %v: AccessDenied must be sent once", calls)
	}
	recs := opstest.Records(t, r.journal)
	last := recs[len(recs)-1]
	if last.Outcome != "failed" || !strings.Contains(last.Error, "not authorized to perform: rds:RebootDBInstance") {
		t.Errorf("journal outcome %+v", last)
	}
}

func TestRollbackTaskDefinition(t *testing.T) {
	r := newAWSRig(t, nil)
	api := prodAPI(r, t)
	r.aws.SetPreview(api.Key(), "nudgecampaign-api:56", "container api: image nudgecampaign/api:v5.0.0 → nudgecampaign/api:v4.9.2")
	p, res := r.run(t, Request{Action: RollbackTaskDef, Source: "aws", ECSService: api}, "api")
	if p.Params.TaskDefinition != "nudgecampaign-api:56" || p.Title != "Roll back api (nudgecampaign-production, us-east-1) to nudgecampaign-api:56" {
		t.Errorf("plan resolved %q, title %q", p.Params.TaskDefinition, p.Title)
	}
	if !slices.Contains(p.Preview, "container api: image nudgecampaign/api:v5.0.0 → nudgecampaign/api:v4.9.2") {
		t.Errorf("preview %q", p.Preview)
	}
	if !res.OK {
		t.Fatal(res.Err)
	}
	if got, _ := r.aws.Service(api.Key()); got.TaskDefinition.String() != "nudgecampaign-api:56" {
		t.Errorf("runs %s", got.TaskDefinition)
	}
	pol := r.ex.Policy()
	for to, want := range map[string]string{
		"nudgecampaign-api:57":        "is not older than the current nudgecampaign-api:57",
		"nudgecampaign-api:60":        "is not older",
		"nudgecampaign-api-canary:12": "is not a revision of nudgecampaign-api",
		"nudgecampaign-api":           "names no revision",
	} {
		err := pol.Check(Request{Action: RollbackTaskDef, ECSService: api, Params: Params{TaskDefinition: to}})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("rollback to %s: %v", to, err)
		}
	}
	none := *api
	none.PreviousTaskDefinition = sources.TaskDef{}
	if err := pol.CheckTarget(Request{Action: RollbackTaskDef, ECSService: &none}); err == nil || !strings.Contains(err.Error(), "no earlier ACTIVE revision") {
		t.Errorf("no previous revision: %v", err)
	}
	// A preview that cannot be made is no plan.
	r.aws.FailReads(errors.New("ecs:DescribeTaskDefinition in us-east-1: access denied"))
	if _, err := r.ex.Plan(context.Background(), Request{Action: RollbackTaskDef, Source: "aws", ECSService: &none, Params: Params{TaskDefinition: "nudgecampaign-api:55"}}); err == nil || !strings.Contains(err.Error(), "preview: ") {
		t.Errorf("plan without preview: %v", err)
	}
}

func TestRDSRefusalsAreTheMenuReasons(t *testing.T) {
	r := newAWSRig(t, nil)
	pol := r.ex.Policy()
	dr, prod, a2 := r.instance(t, "us-west-2", "nudgecampaign-dr-db"), r.instance(t, "us-east-1", "nudgecampaign-prod"), r.instance(t, "us-east-1", "analytics-2")
	rebooting := *prod
	rebooting.Status = "rebooting"
	for _, c := range []struct {
		kind Kind
		in   *sources.RDSInstance
		want string // "" = allowed
	}{
		{RebootDB, prod, ""},
		{RebootDBFailover, prod, ""},
		{RebootDBFailover, dr, "nudgecampaign-dr-db is not Multi-AZ: there is no standby to fail over to"},
		{RebootDBFailover, a2, "is in Aurora cluster nudgecampaign-analytics: fail over the cluster instead"},
		{RebootDB, &rebooting, "nudgecampaign-prod is rebooting, not available"},
		{PromoteReplica, dr, ""},
		{PromoteReplica, prod, "nudgecampaign-prod is not a read replica"},
		{PromoteReplica, a2, "promotion is per cluster"},
		{FailoverCluster, prod, "nudgecampaign-prod is not in an Aurora cluster"},
	} {
		err := pol.CheckTarget(Request{Action: c.kind, RDSInstance: c.in})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %s: %v", c.kind, c.in.ID, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %s: %v, want %q", c.kind, c.in.ID, err, c.want)
		}
	}
	cl, _ := r.set.Cluster("us-east-1", "nudgecampaign-analytics")
	if err := pol.CheckTarget(Request{Action: FailoverCluster, RDSCluster: &cl, Params: Params{FailoverTarget: "analytics-1"}}); err == nil || !strings.Contains(err.Error(), "analytics-1 is already the writer") {
		t.Errorf("failover to the writer: %v", err)
	}
}

// The manual's failover.sh step 1, high risk, typed identifier; a wrong
// phrase changes nothing.
func TestPromoteReadReplica(t *testing.T) {
	r := newAWSRig(t, nil)
	dr := r.instance(t, "us-west-2", "nudgecampaign-dr-db")
	p, err := r.ex.Plan(context.Background(), Request{Action: PromoteReplica, Source: "aws", RDSInstance: dr})
	if err != nil {
		t.Fatal(err)
	}
	if p.Risk != High || p.Phrase != "nudgecampaign-dr-db" {
		t.Errorf("risk %v phrase %q", p.Risk, p.Phrase)
	}
	preview := strings.Join(p.Preview, "\n")
	for _, want := range []string{"stops replicating from nudgecampaign-prod (us-east-1) for good", "replica lag when planned: 1m12s",
		"aws rds promote-read-replica --region us-west-2 --db-instance-identifier nudgecampaign-dr-db"} {
		if !strings.Contains(preview, want) {
			t.Errorf("preview lacks %q:\n%s", want, preview)
		}
	}
	if res := r.ex.Execute(context.Background(), p, "nudgecampaign-dr"); !errors.Is(res.Err, ErrConfirmation) || len(r.aws.Calls()) != 0 {
		t.Fatalf("wrong phrase: %v, calls %v", res.Err, r.aws.Calls())
	}
	res := r.ex.Execute(context.Background(), p, "nudgecampaign-dr-db")
	if !res.OK {
		t.Fatal(res.Err)
	}
	got, _ := r.aws.Instance("us-west-2/nudgecampaign-dr-db")
	if got.Role() != sources.RolePrimary || got.Status != "modifying" {
		t.Errorf("after promote: role %s status %s", got.Role(), got.Status)
	}
	recs := opstest.Records(t, r.journal)
	intent := recs[len(recs)-2]
	if intent.Phase != "intent" || !strings.Contains(intent.Details[0], `role="replica of nudgecampaign-prod (us-east-1)"`) || !strings.Contains(intent.Details[0], "replica_lag=1m12s") {
		t.Errorf("intent %+v", intent)
	}
	// Promoted, it is no longer what the plan saw.
	p2, err := r.ex.Plan(context.Background(), Request{Action: RebootDB, Source: "aws", RDSInstance: dr})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.ex.Execute(context.Background(), p2, "nudgecampaign-dr-db"); !errors.Is(res.Err, ErrTargetChanged) {
		t.Errorf("reboot of the promoted replica planned before: %v", res.Err)
	}
}

func TestRebootWithFailoverAndClusterFailover(t *testing.T) {
	r := newAWSRig(t, nil)
	prod := r.instance(t, "us-east-1", "nudgecampaign-prod")
	p, res := r.run(t, Request{Action: RebootDBFailover, Source: "aws", RDSInstance: prod}, "nudgecampaign-prod")
	if !res.OK || !strings.Contains(strings.Join(p.Preview, "\n"), "the standby in us-east-1b becomes primary") {
		t.Fatalf("reboot: %v %q", res.Err, p.Preview)
	}
	if calls := r.aws.Calls(); !slices.Equal(calls, []string{"reboot us-east-1/nudgecampaign-prod failover=true"}) {
		t.Errorf("calls %v", calls)
	}

	cl, _ := r.set.Cluster("us-east-1", "nudgecampaign-analytics")
	req := Request{Action: FailoverCluster, Source: "aws", RDSCluster: &cl, RDSInstance: r.instance(t, "us-east-1", "analytics-2"),
		Params: Params{FailoverTarget: "analytics-2"}}
	p, err := r.ex.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Phrase != "nudgecampaign-analytics" || p.Targets[0].Identity != "status=available writer=analytics-1 readers=analytics-2" {
		t.Errorf("phrase %q identity %q", p.Phrase, p.Targets[0].Identity)
	}
	if res := r.ex.Execute(context.Background(), p, "nudgecampaign-analytics"); !res.OK {
		t.Fatal(res.Err)
	}
	got, _ := r.aws.Cluster("us-east-1/nudgecampaign-analytics")
	if got.Writer() != "analytics-2" {
		t.Errorf("writer %s", got.Writer())
	}
	// The same plan again: the writer moved since.
	p2, _ := r.ex.Plan(context.Background(), req)
	if res := r.ex.Execute(context.Background(), p2, "nudgecampaign-analytics"); !errors.Is(res.Err, ErrTargetChanged) {
		t.Errorf("second failover: %v", res.Err)
	}
}

// After the result the cockpit waits for the effect with the source's
// waiter, bounded by Config.Waits.
func TestEffectWaitUsesTheWaiters(t *testing.T) {
	r := newAWSRig(t, func(c *Config) {
		c.Waits = Waits{ServicesStable: 3 * time.Minute, DBAvailable: 7 * time.Minute, DBSettle: -1}
	})
	p, res := r.run(t, Request{Action: SetDesiredCount, Source: "aws", ECSService: drAPI(r, t), Params: Params{Desired: 4}}, "api")
	if !res.OK {
		t.Fatal(res.Err)
	}
	f, ok := r.ex.EffectWait(p)
	if !ok || f.What != "services stable: api in nudgecampaign-dr" || f.Limit != 3*time.Minute {
		t.Fatalf("follow %+v %v", f, ok)
	}
	if err := f.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.aws.Service("us-west-2/nudgecampaign-dr/api"); got.Running != 4 {
		t.Errorf("running %d after the wait", got.Running)
	}
	p, res = r.run(t, Request{Action: PromoteReplica, Source: "aws", RDSInstance: r.instance(t, "us-west-2", "nudgecampaign-dr-db")}, "nudgecampaign-dr-db")
	if !res.OK {
		t.Fatal(res.Err)
	}
	f, _ = r.ex.EffectWait(p)
	r.aws.FailWaits(errors.New("wait for nudgecampaign-dr-db available in us-west-2: not available within 7m0s (last status modifying)"))
	if err := f.Wait(context.Background()); err == nil || f.What != "nudgecampaign-dr-db available" {
		t.Errorf("%q: %v", f.What, err)
	}
	want := []string{"stable us-west-2/nudgecampaign-dr [api] 3m0s", "available us-west-2/nudgecampaign-dr-db 0s 7m0s"}
	if got := r.aws.Waits(); !slices.Equal(got, want) {
		t.Errorf("waits %q, want %q", got, want)
	}
	// Actions that take effect at once have nothing to follow.
	if _, ok := r.ex.EffectWait(Plan{Action: Cancel}); ok {
		t.Error("cancel has an EffectWait")
	}
}

func TestAWSActionsNeedTheCapability(t *testing.T) {
	r := newAWSRig(t, func(c *Config) { c.Caps = Capabilities{"aws": struct{}{}} })
	_, err := r.ex.Plan(context.Background(), Request{Action: SetDesiredCount, Source: "aws", ECSService: drAPI(r, t), Params: Params{Desired: 2}})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `source "aws" cannot act on ECS services`) {
		t.Errorf("ECS: %v", err)
	}
	_, err = r.ex.Plan(context.Background(), Request{Action: RebootDB, Source: "aws", RDSInstance: r.instance(t, "us-east-1", "nudgecampaign-prod")})
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("RDS: %v", err)
	}
	ro := newAWSRig(t, func(c *Config) { c.ReadOnly = true })
	if _, err := ro.ex.Plan(context.Background(), Request{Action: RebootDB, Source: "aws", RDSInstance: ro.instance(t, "us-east-1", "nudgecampaign-prod")}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only: %v", err)
	}
}

// A service or instance whose source gave no raw identifier is never acted
// on by its display name, which two targets may share.
func TestNoRawIdentityNoPlan(t *testing.T) {
	r := newAWSRig(t, nil)
	s := drAPI(r, t)
	s.RawARN = ""
	if _, err := r.ex.Plan(context.Background(), Request{Action: ForceDeployment, Source: "aws", ECSService: s}); !errors.Is(err, ErrInvalid) {
		t.Errorf("ECS plan without a raw ARN: %v, want ErrInvalid", err)
	}
	in := r.instance(t, "us-east-1", "nudgecampaign-prod")
	in.RawID = ""
	if _, err := r.ex.Plan(context.Background(), Request{Action: RebootDB, Source: "aws", RDSInstance: in}); !errors.Is(err, ErrInvalid) {
		t.Errorf("RDS plan without a raw identifier: %v, want ErrInvalid", err)
	}
	if got := r.aws.Calls(); len(got) != 0 {
		t.Errorf("calls %v", got)
	}
}
