package kube_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// podsOf waits for the ReplicaSet controller to have made n pods of app.
func (e *env) podsOf(t *testing.T, app string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) {
		pl, err := e.cs.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, err.Error()
		}
		pods = pl.Items
		return len(pods) >= n, fmt.Sprintf("%d pods of %s", len(pods), app)
	})
	return pods
}

// warn records a warning event about obj as a kubelet or controller would.
func (e *env) warn(t *testing.T, kind, name, reason, msg string, count int32) {
	t.Helper()
	now := metav1.Now()
	_, err := e.cs.CoreV1().Events(e.ns).Create(ctxT(t), &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: name + "-"},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: e.ns},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: msg, Count: count,
		FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "kubelet"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEvidenceFromRealEvents: warning events about a deployment's pods and
// ReplicaSet, and a pod's OOMKilled termination, reach the snapshot through
// the API server — in Fetch and in Run's informers — sanitized and cut,
// for a user bound to the README's read-only role.
func TestEvidenceFromRealEvents(t *testing.T) {
	e := newEnv(t)
	e.create(t, apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	e.create(t, apiDeployment("worker", "nudgecampaign/worker:v1", "deploy worker"))
	pods := e.podsOf(t, "api", 3)
	victim := pods[0]
	victim.Status.Phase = corev1.PodRunning
	victim.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "api", Image: "nudgecampaign/api:v5.0.0", RestartCount: 3,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: "OOMKilled", ExitCode: 137, FinishedAt: metav1.Now()}},
	}}
	if _, err := e.cs.CoreV1().Pods(e.ns).UpdateStatus(ctxT(t), &victim, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rs := victim.OwnerReferences[0].Name
	e.warn(t, "Pod", victim.Name, "BackOff", "Back-off restarting failed container api", 14)
	e.warn(t, "Pod", pods[1].Name, "Unhealthy", "Readiness probe failed: \x1b[2J\x1b]0;owned\x07HTTP 503 \xff"+strings.Repeat("x", 100000), 2)
	e.warn(t, "ReplicaSet", rs, "FailedCreate", "exceeded quota", 1)
	e.warn(t, "Pod", "unrelated-pod", "FailedScheduling", "0/3 nodes are available", 1)

	check := func(t *testing.T, set *sources.RolloutSet) bool {
		t.Helper()
		var api, worker *sources.Deployment
		for i := range set.Deployments {
			switch set.Deployments[i].Name {
			case "api":
				api = &set.Deployments[i]
			case "worker":
				worker = &set.Deployments[i]
			}
		}
		if api == nil || worker == nil {
			return false
		}
		ev := api.Evidence
		if ev.PodCount != 3 || ev.WarningCount != 14+2+1 || len(ev.Warnings) != 3 {
			return false
		}
		if api.Selector != "app=api" {
			t.Errorf("selector %q", api.Selector)
		}
		p := ev.Pods[0]
		if p.Name != victim.Name || p.Restarts != 3 || p.Waiting != "CrashLoopBackOff" || p.LastTermination == nil ||
			p.LastTermination.Reason != "OOMKilled" || p.LastTermination.ExitCode != 137 {
			t.Errorf("victim pod %+v (termination %+v)", p, p.LastTermination)
		}
		for _, w := range ev.Warnings {
			if strings.ContainsAny(w.Message, "\x1b\x07") || len(w.Message) > sources.MaxEvidenceText+8 {
				t.Errorf("event message not sanitized or cut: %d bytes %q", len(w.Message), w.Message[:min(60, len(w.Message))])
			}
			if w.Reason == "Unhealthy" && (!strings.Contains(w.Message, "HTTP 503") || !strings.Contains(w.Message, "\ufffd")) {
				t.Errorf("Unhealthy message %q", w.Message[:min(60, len(w.Message))])
			}
		}
		if worker.Evidence.WarningCount != 0 {
			t.Errorf("worker got someone else's warnings: %+v", worker.Evidence.Warnings)
		}
		return true
	}

	e.bindLimited(t, "flightdeck-read")
	src := e.source(t, e.k.LimitedKubeconfig)
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		p, err := src.Fetch(ctxT(t))
		if err != nil {
			return false, err.Error()
		}
		return check(t, p.(*sources.RolloutSet)), "fetch with evidence"
	})

	run := e.source(t, e.k.LimitedKubeconfig)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var c collector
	go func() { defer close(done); run.Run(ctx, c.publish) }()
	t.Cleanup(func() { cancel(); <-done })
	c.waitPub(t, 0, 30*time.Second, func(p published) bool { return p.set != nil && check(t, p.set) }, "evidence in Run")
	// A new warning is pushed, not polled.
	c.mu.Lock() // Run publishes from its own goroutine
	n := len(c.pubs)
	c.mu.Unlock()
	e.warn(t, "Deployment", "api", "ProgressDeadlineExceeded", "deadline", 1)
	c.waitPub(t, n, 30*time.Second, func(p published) bool {
		if p.set == nil {
			return false
		}
		for _, d := range p.set.Deployments {
			if d.Name == "api" && d.Evidence.WarningCount == 18 {
				return true
			}
		}
		return false
	}, "the new warning")
}

// TestEvidenceWithoutRightsLeavesRolloutsWorking: a role without pods and
// events still gets its rollouts; the evidence is empty.
func TestEvidenceWithoutRightsLeavesRolloutsWorking(t *testing.T) {
	e := newEnv(t)
	e.create(t, apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	e.k.Kubectl(t, "-n", e.ns, "create", "role", "apps-only", "--verb=get,list,watch", "--resource=deployments.apps,replicasets.apps")
	e.k.Kubectl(t, "-n", e.ns, "create", "rolebinding", "limited-apps-only", "--role=apps-only", "--user="+testsrv.KubeLimitedUser)
	src := e.source(t, e.k.LimitedKubeconfig)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var c collector
	go func() { defer close(done); src.Run(ctx, c.publish) }()
	t.Cleanup(func() { cancel(); <-done })
	c.waitPub(t, 0, 30*time.Second, hasDeployment("api", 1), "api without evidence rights")
}
