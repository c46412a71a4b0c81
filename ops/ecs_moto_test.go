package ops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"flightdeck/internal/testsrv"
	. "flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
	awssrc "flightdeck/sources/aws"
)

// Issue 16.10: a service named svc plus escape and bidi characters beside a
// plain svc. Both sanitize to "svc", so both rows read evilcl/svc; acting on
// one must reach that one, never the other. moto accepts such names (real
// ECS allows [A-Za-z0-9_-]), so this runs against moto through the real AWS
// backend and a real Executor.
func TestECSActionsHitTheSelectedServiceWhenNamesLookAlike(t *testing.T) {
	m := testsrv.StartMoto(t)
	ctx := context.Background()
	const region, cluster = "us-east-1", "evilcl"
	const evilName = "svc\x1b[2K\u202e"
	admin := testsrv.AdminECS(m.URL, region)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(admin.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))
	must(admin.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("web:1"), Memory: aws.Int32(512)}}}))
	for _, name := range []string{"svc", evilName} {
		must(admin.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(2)}))
	}

	src, err := awssrc.New(awssrc.Options{Regions: []awssrc.Region{{Name: region, ECSCluster: cluster}},
		EndpointURL: m.URL, Credentials: testsrv.MotoAdminCreds, Timeout: 20 * time.Second, WaitPoll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := src.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set := payload.(*sources.AWSSet)
	var evil, plain *sources.ECSService
	for i, s := range set.ECS {
		if s.Key() != region+"/"+cluster+"/svc" {
			t.Fatalf("service %q: want both to display as svc", s.Key())
		}
		if strings.HasSuffix(s.RawARN, "/"+evilName) {
			evil = &set.ECS[i]
		} else {
			plain = &set.ECS[i]
		}
	}
	if len(set.ECS) != 2 || evil == nil || plain == nil {
		t.Fatalf("services %+v: want the escape-named one and the plain one", set.ECS)
	}

	// desired count and primary deployment as moto has them, by raw name
	type svcState struct {
		desired int32
		primary string
	}
	state := func() map[string]svcState {
		t.Helper()
		out, err := admin.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"svc", evilName}})
		if err != nil || len(out.Services) != 2 {
			t.Fatalf("describe: %v (%d services)", err, len(out.Services))
		}
		st := map[string]svcState{}
		for _, s := range out.Services {
			v := svcState{desired: s.DesiredCount}
			for _, d := range s.Deployments {
				if aws.ToString(d.Status) == "PRIMARY" {
					v.primary = aws.ToString(d.Id)
				}
			}
			st[aws.ToString(s.ServiceName)] = v
		}
		return st
	}
	before := state()

	j, _ := opstest.Journal(t)
	ex := NewExecutor(Config{Environment: "staging", Policy: DefaultPolicy(), Journal: j, Operator: "oncall@bastion",
		Caps: Capabilities{"aws": src}})
	run := func(req Request) {
		t.Helper()
		p, err := ex.Plan(ctx, req)
		if err != nil {
			t.Fatalf("plan %s: %v", req.Action, err)
		}
		if r := ex.Execute(ctx, p, p.Phrase); !r.OK {
			t.Fatalf("%s: %v", req.Action, r.Err)
		}
	}
	// The confirmation tells the two apart: its command names the raw ARN.
	p, err := ex.Plan(ctx, Request{Action: ForceDeployment, Source: "aws", ECSService: evil})
	if err != nil || !strings.Contains(strings.Join(p.Preview, "\n"), `--service "arn:aws:ecs:`+region+`:`) ||
		!strings.Contains(strings.Join(p.Preview, "\n"), `svc\x1b[2K\u202e"`) {
		t.Errorf("preview %q (%v): want the escaped raw ARN in the command", p.Preview, err)
	}
	run(Request{Action: ForceDeployment, Source: "aws", ECSService: evil})
	run(Request{Action: SetDesiredCount, Source: "aws", ECSService: evil, Params: Params{Desired: 3}})

	after := state()
	if after["svc"] != before["svc"] {
		t.Errorf("the plain svc was touched: %+v → %+v", before["svc"], after["svc"])
	}
	if got := after[evilName]; got.desired != 3 || got.primary == before[evilName].primary {
		t.Errorf("the selected service: %+v → %+v, want desired 3 and a new primary deployment", before[evilName], got)
	}

	// A plan made for the plain service, re-checked after its lookalike
	// changed, still reads the plain one: nothing changed, so it runs.
	run(Request{Action: SetDesiredCount, Source: "aws", ECSService: plain, Params: Params{Desired: 1}})
	if got := state(); got["svc"].desired != 1 || got[evilName].desired != 3 {
		t.Errorf("after scaling the plain svc: %v", got)
	}
}
