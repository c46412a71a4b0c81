package aws

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// TestMotoEvidence: a service's tasks (one stopped with a reason, another
// service's task left out), its awslogs group from the task definition,
// RDS's events, and the group's logs read and followed — against moto.
func TestMotoEvidence(t *testing.T) {
	m := testsrv.StartMoto(t)
	url := testsrv.MotoTaskFix(t, m.URL)
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rc := adminRDS(url, "us-east-1")
	must(rc.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("nudgecampaign-prod"), DBInstanceClass: aws.String("db.r6g.xlarge"),
		Engine: aws.String("postgres"), MultiAZ: aws.Bool(true), AllocatedStorage: aws.Int32(100),
		MasterUsername: aws.String("nudge"), MasterUserPassword: aws.String("not-a-secret-1"),
	}))
	e := adminECS(url, "us-east-1")
	must(e.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("evidence")}))
	// A memory reservation, not a limit: moto 5.2.1 answers a container's
	// memory limit as a number where ECS (and the SDK) have a string.
	must(e.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("nudgecampaign-api"), Cpu: aws.String("1024"), Memory: aws.String("2048"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("nudgecampaign/api:v5.1.0"), MemoryReservation: aws.Int32(2048),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/nudgecampaign-api", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}}}}))
	must(e.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("evidence"), ServiceName: aws.String("api"),
		TaskDefinition: aws.String("nudgecampaign-api:1"), DesiredCount: aws.Int32(2)}))
	run := func(group string) string {
		t.Helper()
		out, err := e.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("evidence"), TaskDefinition: aws.String("nudgecampaign-api:1"),
			LaunchType: ecstypes.LaunchTypeFargate, Group: aws.String(group), Count: aws.Int32(1)})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("run task: %v", err)
		}
		return aws.ToString(out.Tasks[0].TaskArn)
	}
	keep, victim := run("service:api"), run("service:api")
	run("service:someone-else")
	must(e.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("evidence"), Task: aws.String(victim),
		Reason: aws.String("Essential container in task exited \x1b[31m(OutOfMemoryError)")}))

	lc := cloudwatchlogs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: adminCreds}, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(url) })
	must(lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/ecs/nudgecampaign-api")}))
	put := func(task string, at time.Time, lines ...string) {
		t.Helper()
		stream := "ecs/api/" + arnName(task)
		_, _ = lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/ecs/nudgecampaign-api"), LogStreamName: aws.String(stream)})
		var evs []cwltypes.InputLogEvent
		for i, l := range lines {
			evs = append(evs, cwltypes.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(at.Add(time.Duration(i) * time.Millisecond).UnixMilli())})
		}
		must(lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/ecs/nudgecampaign-api"), LogStreamName: aws.String(stream), LogEvents: evs}))
	}
	now := time.Now()
	put(keep, now.Add(-2*time.Minute), "GET /api/campaigns 200 12ms", "POST /api/contacts/import 500 error: pool exhausted")
	put(victim, now.Add(-90*time.Second), "\x1b]0;owned\x07FATAL ERROR: JavaScript heap out of memory \xff"+strings.Repeat("x", 100000))

	src, err := New(Options{Regions: []Region{{Name: "us-east-1", Instances: []string{"nudgecampaign-prod"}, ECSCluster: "evidence", Services: []Service{{Name: "api"}}}},
		EndpointURL: url, Credentials: adminCreds, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	set := fetch(t, src)
	if len(set.Warnings) != 0 {
		t.Errorf("warnings %q", set.Warnings)
	}
	svc, ok := set.Service("us-east-1", "evidence", "api")
	if !ok {
		t.Fatal("no service")
	}
	if len(svc.Tasks) != 2 || svc.Tasks[0].Stopped() || !svc.Tasks[1].Stopped() || svc.Tasks[1].ARN != victim {
		t.Fatalf("tasks %+v", svc.Tasks)
	}
	if r := svc.Tasks[1].StoppedReason; r != "Essential container in task exited (OutOfMemoryError)" {
		t.Errorf("stopped reason %q", r)
	}
	if svc.Logs != (sources.ECSLogs{Region: "us-east-1", Group: "/ecs/nudgecampaign-api", Prefix: "ecs"}) {
		t.Errorf("logs %+v", svc.Logs)
	}
	prod, _ := set.Instance("us-east-1", "nudgecampaign-prod")
	if len(prod.Events) == 0 || prod.Events[0].SourceID != "nudgecampaign-prod" || prod.Events[0].At.IsZero() {
		t.Errorf("RDS events %+v", prod.Events)
	}

	q := sources.LogQuery{Source: "aws", Region: svc.Logs.Region, Group: svc.Logs.Group, Prefix: svc.Logs.Prefix, Target: svc.Key(), Tail: 10}
	var tail []sources.LogLine
	done := false
	if err := src.ReadLogs(ctx, q, func(b sources.LogBatch) { tail = append(tail, b.Lines...); done = done || b.Done }); err != nil {
		t.Fatal(err)
	}
	if !done || len(tail) != 3 || tail[0].Pod != arnName(keep) || tail[0].Container != "api" || tail[2].Pod != arnName(victim) {
		t.Fatalf("tail %+v", tail)
	}
	if h := tail[2].Text; strings.ContainsAny(h, "\x1b\x07") || len(h) > sources.MaxLogLineBytes+8 || !strings.Contains(h, "heap out of memory") {
		t.Errorf("hostile line: %d bytes %q", len(h), h[:min(50, len(h))])
	}

	// Following: a new event arrives once, old ones are not repeated.
	fctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var fol []sources.LogLine
	fq := q
	fq.Follow = true
	fdone := make(chan struct{})
	go func() {
		defer close(fdone)
		_ = src.ReadLogs(fctx, fq, func(b sources.LogBatch) { mu.Lock(); fol = append(fol, b.Lines...); mu.Unlock() })
	}()
	defer func() { cancel(); <-fdone }()
	testsrv.WaitFor(t, 20*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(fol) == 3, fmt.Sprint(len(fol), " lines")
	})
	put(keep, time.Now(), "GET /api/campaigns 503 5001ms upstream timeout")
	testsrv.WaitFor(t, 20*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(fol) >= 4 && strings.Contains(fol[len(fol)-1].Text, "503"), fmt.Sprint(len(fol), " lines")
	})
	time.Sleep(2 * logPoll) // another poll or two: nothing repeats
	mu.Lock()
	if len(fol) != 4 {
		t.Errorf("following repeated lines: %d", len(fol))
	}
	mu.Unlock()
}

func TestConvertTaskKeepsExitCodes(t *testing.T) {
	tk := convertTask(ecstypes.Task{TaskArn: aws.String("arn:aws:ecs:us-east-1:1:task/c/abc123"), LastStatus: aws.String("STOPPED"),
		StopCode: ecstypes.TaskStopCodeEssentialContainerExited, StoppedReason: aws.String("Essential container in task exited"),
		Containers: []ecstypes.Container{{Name: aws.String("api"), ExitCode: aws.Int32(137), Reason: aws.String("OutOfMemoryError: Container killed due to memory usage")},
			{Name: aws.String("sidecar")}}})
	if tk.ID != "abc123" || !tk.Stopped() || tk.StopCode != "EssentialContainerExited" {
		t.Errorf("task %+v", tk)
	}
	if c := tk.Containers[0]; !c.HasExit || c.ExitCode != 137 || !strings.HasPrefix(c.Reason, "OutOfMemoryError") {
		t.Errorf("container %+v", c)
	}
	if tk.Containers[1].HasExit {
		t.Error("a container that did not exit has an exit code")
	}
}
