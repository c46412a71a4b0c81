package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"flightdeck/config"
	"flightdeck/internal/testsrv"
	"flightdeck/record"
	"flightdeck/world"
)

// A pod killed with a reason (OOMKilled) on a real kube-apiserver and an
// ECS task stopped with a reason in moto are still in `flightdeck
// timeline` after the upstreams' records are gone: the test deletes the
// pod and wipes moto.
func TestEvidenceOutlivesTheUpstreamInTheTimeline(t *testing.T) {
	k := testsrv.StartKube(t)
	m := testsrv.StartMoto(t)
	awsURL := testsrv.MotoTaskFix(t, m.URL)
	testsrv.IsolateAWS(t, "testing", "testing")
	bg := context.Background()

	k.Kubectl(t, "create", "namespace", "production")
	k.Kubectl(t, "-n", "production", "create", "deployment", "nudgecampaign-api", "--image=nudgecampaign/api:v5.1.0", "--replicas=1")
	var pod string
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) {
		out, _ := k.KubectlAs(k.AdminKubeconfig, "", "-n", "production", "get", "pods", "-l", "app=nudgecampaign-api", "-o", "jsonpath={.items[0].metadata.name}")
		pod = strings.TrimSpace(out)
		return pod != "" && !strings.Contains(pod, "error"), "a pod: " + out
	})
	finished := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	k.Kubectl(t, "-n", "production", "patch", "pod", pod, "--subresource=status", "--type=merge", "-p",
		`{"status":{"containerStatuses":[{"name":"nudgecampaign-api","image":"nudgecampaign/api:v5.1.0","imageID":"","ready":false,"restartCount":2,`+
			`"state":{"waiting":{"reason":"CrashLoopBackOff"}},`+
			`"lastState":{"terminated":{"reason":"OOMKilled","exitCode":137,"finishedAt":"`+finished+`","startedAt":"`+finished+`"}}}]}}`)

	e := testsrv.AdminECS(awsURL, "us-east-1")
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.CreateCluster(bg, &ecs.CreateClusterInput{ClusterName: aws.String("nudgecampaign-production")}))
	must(e.RegisterTaskDefinition(bg, &ecs.RegisterTaskDefinitionInput{Family: aws.String("nudgecampaign-api"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("nudgecampaign/api:v5.1.0"), MemoryReservation: aws.Int32(2048)}}}))
	must(e.CreateService(bg, &ecs.CreateServiceInput{Cluster: aws.String("nudgecampaign-production"), ServiceName: aws.String("api"),
		TaskDefinition: aws.String("nudgecampaign-api:1"), DesiredCount: aws.Int32(1)}))
	run, err := e.RunTask(bg, &ecs.RunTaskInput{Cluster: aws.String("nudgecampaign-production"), TaskDefinition: aws.String("nudgecampaign-api:1"),
		LaunchType: ecstypes.LaunchTypeFargate, Group: aws.String("service:api")})
	if err != nil {
		t.Fatal(err)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)
	must(e.StopTask(bg, &ecs.StopTaskInput{Cluster: aws.String("nudgecampaign-production"), Task: aws.String(task),
		Reason: aws.String("Task failed ELB health checks in (target-group nudgecampaign-api)")}))

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf(`environment: production
audit: {path: %s}
kubernetes: {kubeconfig: %s, namespaces: [production]}
aws:
  region: us-east-1
  endpoint_url: %s
  interval: 1s
  timeout: 10s
  ecs:
    cluster: nudgecampaign-production
    services: [{name: api}]
`, filepath.Join(dir, "audit.jsonl"), k.AdminKubeconfig, awsURL)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	w, err := world.Build(ctx, cfg, world.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	_, eventsPath := world.JournalPaths(cfg, false)
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) {
		evs, _, _ := record.ReadEvents(eventsPath)
		kinds := map[record.EventKind]bool{}
		for _, e := range evs {
			kinds[e.Kind] = true
		}
		return kinds[record.PodTerminated] && kinds[record.ECSTaskStopped], fmt.Sprintf("evidence in the journal: %v", kinds)
	})

	// The upstreams forget: the pod is deleted, moto starts afresh.
	k.Kubectl(t, "-n", "production", "delete", "pod", pod, "--grace-period=0", "--force")
	m.Reset(t)
	time.Sleep(2 * time.Second) // a poll or two of the forgetful upstreams
	cancel()
	w.Wait()
	w.Close()
	if out, _ := k.KubectlAs(k.AdminKubeconfig, "", "-n", "production", "get", "pod", pod); !strings.Contains(out, "NotFound") {
		t.Fatalf("pod still there: %s", out)
	}

	out, errs, code := runCLI(t, "timeline", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("timeline: exit %d %s", code, errs)
	}
	for _, want := range []string{
		"pod " + pod + " container nudgecampaign-api terminated: OOMKilled exit 137 (restarts 2)",
		"task " + task[strings.LastIndexByte(task, '/')+1:] + " stopped: Task failed ELB health checks in (target-group nudgecampaign-api)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("timeline lacks %q:\n%s", want, out)
		}
	}
}
