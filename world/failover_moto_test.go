package world

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/runbook"
	"flightdeck/sources"
	awssrc "flightdeck/sources/aws"
)

// The built-in Failover to DR against moto: its action steps, resolved on
// the AWS source's snapshot and sent through a real Executor, change moto's
// state as failover.sh's `aws rds promote-read-replica` and `aws ecs
// update-service --desired-count 4` would. (The verify after the promotion
// is proven on the demo, runbook.TestDemoFailoverToDR: moto 5.2.1 keeps a
// promoted instance's old source field, so the role never reads primary.)
func TestFailoverRunbookAgainstMoto(t *testing.T) {
	m := testsrv.StartMoto(t)
	testsrv.BuildAWSEstate(t, m.URL)
	testsrv.IsolateAWS(t, "", "")
	cfg := awsConfig(t, m.URL)
	o := awsOptions(cfg.AWS, nil)
	o.Credentials, o.WaitPoll = testsrv.MotoAdminCreds, 200*time.Millisecond
	src, err := awssrc.New(o)
	if err != nil {
		t.Fatal(err)
	}
	j, path := opstest.Journal(t)
	ex := ops.NewExecutor(ops.Config{Environment: "test", Policy: ops.DefaultPolicy(), Caps: ops.Capabilities{src.Name(): src},
		Journal: j, Operator: "oncall@test", Now: time.Now})
	set, err := runbook.LoadAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	rb := set.Get("failover-to-dr")
	run, recs := runbook.Start(rb, nil, "oncall@test", ex.Policy(), time.Now())
	write := func(recs []ops.Record) {
		t.Helper()
		if err := runbook.Write(j, recs); err != nil {
			t.Fatal(err)
		}
	}
	write(recs)
	bg := context.Background()
	observe := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(bg, 20*time.Second)
		p, err := src.Fetch(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		write(run.Observe([]sources.Snapshot{{Source: src.Name(), Kind: sources.KindAWS, Data: p, FetchedAt: time.Now()}}, time.Now()))
	}
	do := func(i int) ops.Result {
		t.Helper()
		observe()
		dir, recs := run.Do(i, time.Now())
		write(recs)
		if dir.Kind != runbook.DoRequest {
			t.Fatalf("step %d: %+v", i+1, dir)
		}
		plan, err := ex.Plan(bg, dir.Request)
		if err != nil {
			t.Fatalf("step %d plan: %v", i+1, err)
		}
		res := ex.Execute(bg, plan, plan.Phrase)
		outcome, err := runbook.ResultOutcome(res)
		write(run.ActionResult(i, plan.ID, outcome, err, time.Now()))
		return res
	}
	find := func(title string) int {
		for i, s := range rb.Steps {
			if s.Title == title {
				return i
			}
		}
		t.Fatalf("no step %q", title)
		return -1
	}

	// The checks hold on moto's estate (the replica's lag is 42 s).
	observe()
	for _, i := range []int{0, 1} {
		dir, recs := run.Do(i, time.Now())
		write(recs)
		if v := run.Steps(time.Now())[i]; v.State != runbook.OK {
			t.Errorf("check %d: %s %s %v (%s)", i+1, v.State, v.Reason, v.Values, dir.Message)
		}
	}

	// moto refuses to stop a read replica: whether it stops is where its
	// state shows the promotion.
	west := testsrv.AdminRDS(m.URL, "us-west-2")
	stop := func() error {
		_, err := west.StopDBInstance(bg, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("nudgecampaign-dr-db")})
		return err
	}
	if stop() == nil {
		t.Fatal("moto stopped a read replica: the probe proves nothing")
	}
	res := do(find("Promote the DR replica"))
	if !res.OK || res.Plan.Action != ops.PromoteReplica || res.Plan.Phrase != "nudgecampaign-dr-db" {
		t.Fatalf("promote: %+v", res)
	}
	if err := stop(); err != nil {
		t.Errorf("moto still treats nudgecampaign-dr-db as a replica after the step: %v", err)
	}

	res = do(find("Scale up the DR api service to 4"))
	if !res.OK || res.Plan.Params.Desired != 4 || res.Plan.Phrase != "api" {
		t.Fatalf("desired count: %+v", res)
	}
	out, err := testsrv.AdminECS(m.URL, "us-west-2").DescribeServices(bg, &ecs.DescribeServicesInput{
		Cluster: aws.String("nudgecampaign-dr"), Services: []string{"api"}})
	if err != nil || len(out.Services) != 1 || out.Services[0].DesiredCount != 4 {
		t.Fatalf("moto's DR api after the step: %+v %v", out, err)
	}
	// The verify sees it on a snapshot fetched after the action.
	verify := find("4 DR api tasks are running")
	dir, recs := run.Do(verify, time.Now())
	write(recs)
	for n := 0; run.Steps(time.Now())[verify].State == runbook.Waiting; n++ {
		if n == 20 {
			t.Fatalf("verify still waiting: %+v (%s)", run.Steps(time.Now())[verify], dir.Message)
		}
		time.Sleep(100 * time.Millisecond)
		observe()
	}
	if v := run.Steps(time.Now())[verify]; v.State != runbook.OK {
		t.Errorf("verify: %+v", v)
	}
	var got []string
	for _, r := range opstest.Records(t, path) {
		if r.Run == nil {
			got = append(got, string(r.Action)+":"+r.Phase+":"+r.Outcome)
		}
	}
	want := "[promote_read_replica:intent: promote_read_replica:outcome:ok set_desired_count:intent: set_desired_count:outcome:ok]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("journal %s, want %s", s, want)
	}
}
