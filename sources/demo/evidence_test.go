package demo

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/sources"
)

// The bad deploy's pods run out of memory: the rollout's evidence has an
// OOMKilled termination, a crash-looping pod, and the warning events.
func TestDemoEvidenceOfTheBadDeploy(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 10)
	calm := findDep(t, kubeAt(t, w), "nudgecampaign-api")
	if calm.Evidence.WarningCount != 0 || calm.Evidence.PodCount != 3 || calm.Selector != "app=nudgecampaign-api" {
		t.Fatalf("calm evidence %+v selector %q", calm.Evidence, calm.Selector)
	}
	at(c, deployAt+100)
	ev := findDep(t, kubeAt(t, w), "nudgecampaign-api").Evidence
	p := ev.Pods[0]
	if p.Restarts == 0 || p.LastTermination == nil || p.LastTermination.Reason != "OOMKilled" || p.LastTermination.ExitCode != 137 {
		t.Fatalf("pod %+v termination %+v", p, p.LastTermination)
	}
	reasons := map[string]int32{}
	for _, e := range ev.Warnings {
		reasons[e.Reason] += e.Count
	}
	if reasons["OOMKilling"] == 0 || reasons["BackOff"] == 0 || reasons["Unhealthy"] == 0 {
		t.Errorf("warnings %v", reasons)
	}
	crashing := false
	for s := deployAt + 100; s < deployAt+150 && !crashing; s++ {
		at(c, s)
		for _, p := range findDep(t, kubeAt(t, w), "nudgecampaign-api").Evidence.Pods {
			crashing = crashing || p.Waiting == "CrashLoopBackOff"
		}
	}
	if !crashing {
		t.Error("no pod crash-looped")
	}
	if w := findDep(t, kubeAt(t, w), "nudgecampaign-worker").Evidence; w.WarningCount != 0 {
		t.Errorf("worker warnings %+v", w.Warnings)
	}
}

type sink struct {
	mu sync.Mutex
	bs []sources.LogBatch
}

func (s *sink) emit(b sources.LogBatch) {
	s.mu.Lock()
	s.bs = append(s.bs, b)
	s.mu.Unlock()
}

func (s *sink) lines() []sources.LogLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sources.LogLine
	for _, b := range s.bs {
		out = append(out, b.Lines...)
	}
	return out
}

func countText(ls []sources.LogLine, sub string) int {
	n := 0
	for _, l := range ls {
		if strings.Contains(l.Text, sub) {
			n++
		}
	}
	return n
}

// The logs show the bad deploy's errors, the previous container its OOM,
// and following brings new lines.
func TestDemoLogs(t *testing.T) {
	w, c := newTestWorld(t)
	k := w.Rollouts()
	q := sources.LogQuery{Source: "kube", Namespace: "production", Selector: "app=nudgecampaign-api", Tail: 100}
	at(c, 20)
	var calm sink
	if err := k.ReadLogs(context.Background(), q, calm.emit); err != nil {
		t.Fatal(err)
	}
	if ls := calm.lines(); len(ls) < 100 || countText(ls, " 500 ") != 0 {
		t.Errorf("calm: %d lines, %d errors", len(ls), countText(ls, " 500 "))
	}
	at(c, deployAt+100)
	var tail sink
	if err := k.ReadLogs(context.Background(), q, tail.emit); err != nil {
		t.Fatal(err)
	}
	ls := tail.lines()
	if countText(ls, "error") < 10 || len(ls) > 3*100 {
		t.Errorf("bad deploy: %d lines, %d errors", len(ls), countText(ls, "error"))
	}
	for i := 1; i < len(ls); i++ {
		if ls[i].At.Before(ls[i-1].At) {
			t.Fatalf("not merged by time at %d", i)
		}
	}
	pq := q
	pq.Previous = true
	var prev sink
	if err := k.ReadLogs(context.Background(), pq, prev.emit); err != nil {
		t.Fatal(err)
	}
	if pl := prev.lines(); countText(pl, "JavaScript heap out of memory") == 0 || !pl[0].Previous {
		t.Errorf("previous: %d lines, no OOM", len(pl))
	}

	fq := q
	fq.Follow = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var fol sink
	go func() { defer close(done); _ = k.ReadLogs(ctx, fq, fol.emit) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	first := 0
	for time.Now().Before(deadline) && first == 0 {
		first = len(fol.lines())
		time.Sleep(10 * time.Millisecond)
	}
	at(c, deployAt+105)
	for time.Now().Before(deadline) && len(fol.lines()) == first {
		time.Sleep(20 * time.Millisecond)
	}
	if len(fol.lines()) == first {
		t.Error("following brought no new lines")
	}
}

// The AWS demo: an ECS task stopped with its reason in the last hour,
// last night's Multi-AZ failover in RDS's events and a new one when the
// operator reboots with failover, the health-check failure's stopped task,
// and the service's logs.
func TestDemoAWSEvidence(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, 10)
	set := awsAt(t, w)
	api, _ := set.Service(awsPrimary, prodECS, "api")
	var stopped []sources.ECSTask
	for _, tk := range api.Tasks {
		if tk.Stopped() {
			stopped = append(stopped, tk)
		}
	}
	if len(api.Tasks) != 5 || len(stopped) != 1 || stopped[0].StoppedReason != "Essential container in task exited" ||
		!stopped[0].Containers[0].HasExit || stopped[0].Containers[0].ExitCode != 137 {
		t.Fatalf("tasks %+v", api.Tasks)
	}
	if api.Logs.Group != "/ecs/nudgecampaign-api" {
		t.Errorf("logs %+v", api.Logs)
	}
	prod := mustInstance(t, set, awsPrimary, prodDB)
	if len(prod.Events) == 0 || !strings.Contains(prod.Events[len(prod.Events)-1].Message, "failover started") {
		t.Errorf("RDS events %+v", prod.Events)
	}
	if err := w.AWS().RebootDBInstance(context.Background(), awsPrimary, prodDB, true); err != nil {
		t.Fatal(err)
	}
	at(c, 10+rebootSecs+1)
	prod = mustInstance(t, awsAt(t, w), awsPrimary, prodDB)
	if prod.Events[0].Message != "DB instance restarted" || prod.Events[1].Message != "Multi-AZ instance failover completed." {
		t.Errorf("after reboot with failover: %+v", prod.Events[:3])
	}
	at(c, healthCheckAt+1)
	api, _ = awsAt(t, w).Service(awsPrimary, prodECS, "api")
	if tk := api.Tasks[len(api.Tasks)-2]; tk.StoppedReason != "Task failed container health checks" {
		t.Errorf("health-check task: %+v", api.Tasks)
	}
	var s sink
	q := sources.LogQuery{Source: "aws", Region: api.Logs.Region, Group: api.Logs.Group, Prefix: api.Logs.Prefix, Tail: 20}
	if err := w.AWS().ReadLogs(context.Background(), q, s.emit); err != nil {
		t.Fatal(err)
	}
	if ls := s.lines(); len(ls) < 20 || countText(ls, " 500 ") == 0 {
		t.Errorf("service logs: %d lines, %d errors", len(ls), countText(ls, " 500 "))
	}
}
