package kube_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// kwokEnv is env with kwok running the pods and serving their logs.
type kwokEnv struct {
	*env
	kw *testsrv.Kwok
}

// newKwokEnv runs on a control plane of its own, not the package's shared
// one: TestHubKeepsDataWhileAPIServerIsDownAndRecovers restarts the shared
// API server, after which the shared controller-manager was seen to stop
// replacing deleted pods for minutes (its pod watch stale), and replacing
// a pod mid-follow is what this test is about.
func newKwokEnv(t *testing.T) *kwokEnv {
	t.Helper()
	e := envOn(t, testsrv.StartKube(t))
	return &kwokEnv{env: e, kw: testsrv.StartKwok(t, e.k)}
}

// runningPods waits until n pods of app run on kwok's node and returns
// them.
func (e *kwokEnv) runningPods(t *testing.T, app string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	testsrv.WaitFor(t, 3*time.Minute, func() (bool, string) {
		pl, err := e.cs.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, err.Error()
		}
		pods = pods[:0]
		for _, p := range pl.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				pods = append(pods, p)
			}
		}
		return len(pods) == n, fmt.Sprintf("%d of %d pods running\n%s", len(pods), n, e.kw.LogTail())
	})
	return pods
}

// logFile is where pod's current (or previous) log lives.
func (e *kwokEnv) logFile(pod string, previous bool) string {
	if previous {
		return filepath.Join(e.kw.Dir, pod+".previous.log")
	}
	return filepath.Join(e.kw.Dir, pod+".log")
}

// serveLogs points kwok at pod's log files (a Logs resource), creating
// them empty.
func (e *kwokEnv) serveLogs(t *testing.T, pod string) {
	t.Helper()
	for _, prev := range []bool{false, true} {
		if err := os.WriteFile(e.logFile(pod, prev), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	y := fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata: {name: %s, namespace: %s}
spec:
  logs:
  - containers: [api]
    logsFile: %s
    previousLogsFile: %s
    follow: true
`, pod, e.ns, e.logFile(pod, false), e.logFile(pod, true))
	if out, err := e.k.KubectlAs(e.k.AdminKubeconfig, y, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply Logs: %v\n%s", err, out)
	}
}

// write appends lines to pod's log in the container runtime's format.
func (e *kwokEnv) write(t *testing.T, pod string, previous bool, at time.Time, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(e.logFile(pod, previous), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, l := range lines {
		fmt.Fprintf(f, "%s stdout F %s\n", at.Add(time.Duration(i)*time.Millisecond).UTC().Format(time.RFC3339Nano), l)
	}
}

// logSink collects what ReadLogs hands on.
type logSink struct {
	mu      sync.Mutex
	lines   []sources.LogLine
	notices []string
	done    bool
}

func (s *logSink) emit(b sources.LogBatch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, b.Lines...)
	s.notices = append(s.notices, b.Notices...)
	if b.Err != nil {
		s.notices = append(s.notices, "ERR "+b.Err.Error())
	}
	s.done = s.done || b.Done
}

func (s *logSink) wait(t *testing.T, what string, ok func(lines []sources.LogLine) bool) {
	t.Helper()
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return ok(s.lines), fmt.Sprintf("%s: %d lines, notices %q", what, len(s.lines), s.notices)
	})
}

func hasText(text string) func([]sources.LogLine) bool {
	return func(ls []sources.LogLine) bool {
		for _, l := range ls {
			if strings.Contains(l.Text, text) {
				return true
			}
		}
		return false
	}
}

// TestLogsThroughKwok reads a deployment's pod logs the way the log view
// does, through the API server's pods/log and kwok's kubelet endpoint:
// the tail of every pod merged by time and tagged, a hostile line made
// safe, following new lines and a pod replaced mid-follow, and the
// previous container — as a user bound to the README's read-only role.
func TestLogsThroughKwok(t *testing.T) {
	e := newKwokEnv(t)
	d := apiDeployment("api", "nudgecampaign/api:v5.1.0", "deploy v5.1.0")
	two := int32(2)
	d.Spec.Replicas = &two
	d.Spec.Template.Spec.NodeName = testsrv.KwokNode
	e.create(t, d)
	pods := e.runningPods(t, "api", 2)
	a, b := pods[0].Name, pods[1].Name
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	for _, p := range []string{a, b} {
		e.serveLogs(t, p)
	}
	e.write(t, a, false, t0, "GET /api/campaigns 200", "POST /api/contacts/import 500 error: batch too large")
	e.write(t, b, false, t0.Add(500*time.Microsecond), "GET /healthz 200",
		"\x1b]0;owned\x07\x1b[31mpanic: runtime error\x1b[0m \xff"+strings.Repeat("x", 1<<20))
	e.write(t, a, true, t0.Add(-time.Hour), "FATAL: JavaScript heap out of memory")

	e.bindLimited(t, "flightdeck-read")
	src := e.source(t, e.k.LimitedKubeconfig)
	q := sources.LogQuery{Source: "kube", Namespace: e.ns, Selector: "app=api", Target: e.ns + "/api", Tail: 10}

	// The tail, merged by time across pods.
	var tail logSink
	if err := src.ReadLogs(ctxT(t), q, tail.emit); err != nil {
		t.Fatal(err)
	}
	if !tail.done || len(tail.lines) != 4 {
		t.Fatalf("tail: done %v, %d lines %+v, notices %q", tail.done, len(tail.lines), tail.lines, tail.notices)
	}
	order := []string{"GET /api/campaigns", "GET /healthz", "POST /api/contacts", "panic: runtime error"}
	for i, l := range tail.lines {
		if !strings.Contains(l.Text, order[i]) {
			t.Errorf("line %d = %q (pod %s), want %q: not merged by time", i, l.Text[:min(40, len(l.Text))], l.Pod, order[i])
		}
		if l.Container != "api" || (l.Pod != a && l.Pod != b) || l.At.IsZero() {
			t.Errorf("line %d tagged %s/%s at %v", i, l.Pod, l.Container, l.At)
		}
	}
	hostile := tail.lines[3].Text
	if strings.ContainsAny(hostile, "\x1b\x07") || len(hostile) > sources.MaxLogLineBytes+8 || !strings.Contains(hostile, "\ufffd") {
		t.Errorf("hostile line not sanitized and cut: %d bytes %q", len(hostile), hostile[:min(60, len(hostile))])
	}

	// Follow: new lines arrive; a pod deleted is replaced and its
	// replacement's lines arrive too.
	ctx, cancel := context.WithCancel(context.Background())
	var fol logSink
	done := make(chan struct{})
	fq := q
	fq.Follow = true
	go func() { defer close(done); _ = src.ReadLogs(ctx, fq, fol.emit) }()
	t.Cleanup(func() { cancel(); <-done })
	fol.wait(t, "tail before following", hasText("panic: runtime error"))
	e.write(t, a, false, time.Now(), "POST /api/contacts/import 503 upstream timeout")
	fol.wait(t, "a line written while following", hasText("503 upstream timeout"))

	if err := e.cs.CoreV1().Pods(e.ns).Delete(ctxT(t), b, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The ReplicaSet controller makes a replacement, kwok runs it (a
	// generous deadline: both are slow on a loaded machine).
	var c string
	testsrv.WaitFor(t, 3*time.Minute, func() (bool, string) {
		pl, err := e.cs.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=api"})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, p := range pl.Items {
			seen = append(seen, p.Name+" "+string(p.Status.Phase))
			if p.Name != a && p.Name != b && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				c = p.Name
			}
		}
		return c != "", fmt.Sprintf("a replacement pod running: %v\n%s", seen, e.kw.LogTail())
	})
	e.serveLogs(t, c)
	e.write(t, c, false, time.Now(), "listening on :3000 (replacement)")
	fol.wait(t, "the replacement pod's line", func(ls []sources.LogLine) bool {
		for _, l := range ls {
			if l.Pod == c && strings.Contains(l.Text, "replacement") {
				return true
			}
		}
		return false
	})
	fol.mu.Lock()
	gone := strings.Contains(strings.Join(fol.notices, "\n"), "pod "+b+" gone")
	fol.mu.Unlock()
	if !gone {
		t.Errorf("no notice that %s went: %q", b, fol.notices)
	}

	// Previous: the container of a that restarted (its status says so, as
	// the kubelet's would).
	pa, err := e.cs.CoreV1().Pods(e.ns).Get(ctxT(t), a, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pa.Status.ContainerStatuses {
		pa.Status.ContainerStatuses[i].RestartCount = 1
		pa.Status.ContainerStatuses[i].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}
	}
	if _, err := e.cs.CoreV1().Pods(e.ns).UpdateStatus(ctxT(t), pa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pq := q
	pq.Previous = true
	var prev logSink
	if err := src.ReadLogs(ctxT(t), pq, prev.emit); err != nil {
		t.Fatal(err)
	}
	if len(prev.lines) != 1 || prev.lines[0].Pod != a || !prev.lines[0].Previous || !strings.Contains(prev.lines[0].Text, "heap out of memory") {
		t.Errorf("previous: %+v notices %q", prev.lines, prev.notices)
	}
}
