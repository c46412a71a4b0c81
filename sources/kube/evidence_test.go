package kube

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"flightdeck/sources"
)

// hostile is an event message or termination message written by someone
// who wants the operator's terminal: escapes, invalid UTF-8 and a size no
// screen needs.
var hostile = "\x1b]0;pwned\x07boom \x1b[31mred\x1b[0m \xff\xfe" + strings.Repeat("A", 10<<20)

func TestPodInfoKeepsRestartsAndLastTerminationSanitized(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "api-7d9f-x2k4p", Namespace: "production",
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api-7d9f", Controller: ptr(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api"}, {Name: "proxy"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "api", RestartCount: 4,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, Message: hostile, FinishedAt: metav1.NewTime(at)}}},
			{Name: "proxy", RestartCount: 1,
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1, FinishedAt: metav1.NewTime(at.Add(-time.Hour))}}},
		}},
	}
	pi := newPodInfo(p)
	if pi.rs != "api-7d9f" || pi.pod.Restarts != 5 || pi.pod.Waiting != "CrashLoopBackOff" || len(pi.pod.Containers) != 2 {
		t.Fatalf("pod info %+v", pi)
	}
	lt := pi.pod.LastTermination
	if lt == nil || lt.Reason != "OOMKilled" || lt.ExitCode != 137 || lt.Container != "api" || !lt.At.Equal(at) {
		t.Fatalf("last termination %+v", lt)
	}
	checkClean(t, "termination message", lt.Message)
}

func checkClean(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\x07") || !strings.Contains(s, "boom") || !strings.Contains(s, "\ufffd") {
		t.Errorf("%s not sanitized: %q", what, s[:min(len(s), 80)])
	}
	if len(s) > sources.MaxEvidenceText+8 {
		t.Errorf("%s kept %d bytes, want at most about %d", what, len(s), sources.MaxEvidenceText)
	}
}

func TestEventInfoFromSeriesAndLegacyCounts(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	legacy := newEventInfo(&corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e1", Namespace: "production"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-1"},
		Type:           "Warning", Reason: "BackOff", Message: hostile, Count: 7,
		FirstTimestamp: metav1.NewTime(t0), LastTimestamp: metav1.NewTime(t0.Add(5 * time.Minute)),
	})
	if legacy.ev.Count != 7 || !legacy.ev.LastSeen.Equal(t0.Add(5*time.Minute)) || legacy.Namespace != "production" {
		t.Errorf("legacy event %+v", legacy.ev)
	}
	checkClean(t, "event message", legacy.ev.Message)
	series := newEventInfo(&corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e2", Namespace: "production"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-1"},
		Type:           "Warning", Reason: "Unhealthy", Message: "Readiness probe failed",
		EventTime: metav1.NewMicroTime(t0),
		Series:    &corev1.EventSeries{Count: 12, LastObservedTime: metav1.NewMicroTime(t0.Add(time.Minute))},
	})
	if series.ev.Count != 12 || !series.ev.FirstSeen.Equal(t0) || !series.ev.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Errorf("series event %+v", series.ev)
	}
}

func TestAttachEvidenceFollowsOwnersAndBounds(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	dep := &depInfo{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "production", UID: "dep-uid"},
		dep: sources.Deployment{Namespace: "production", Name: "api", UID: "dep-uid"}}
	other := &depInfo{ObjectMeta: metav1.ObjectMeta{Name: "worker", Namespace: "production", UID: "w-uid"},
		dep: sources.Deployment{Namespace: "production", Name: "worker", UID: "w-uid"}}
	rss := []*rsInfo{
		{ObjectMeta: metav1.ObjectMeta{Name: "api-7d9f", Namespace: "production"}, owner: types.UID("dep-uid"), ok: true},
		{ObjectMeta: metav1.ObjectMeta{Name: "worker-1", Namespace: "production"}, owner: types.UID("w-uid"), ok: true},
	}
	var pods []*podInfo
	for i := 0; i < sources.MaxPods+5; i++ {
		pods = append(pods, &podInfo{ObjectMeta: metav1.ObjectMeta{Name: "api-7d9f-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Namespace: "production"},
			rs: "api-7d9f", pod: sources.PodStatus{Name: "p", Restarts: int32(i)}})
	}
	pods[0].Name, pods[0].pod.Name = "api-7d9f-first", "api-7d9f-first"
	ev := func(kind, name, reason string, ago time.Duration, count int32) *eventInfo {
		return &eventInfo{ObjectMeta: metav1.ObjectMeta{Name: reason + name, Namespace: "production"},
			ev: sources.KubeEvent{Kind: kind, Name: name, Type: "Warning", Reason: reason, Count: count, LastSeen: t0.Add(-ago)}}
	}
	evs := []*eventInfo{
		ev("Pod", "api-7d9f-first", "BackOff", time.Minute, 9),
		ev("ReplicaSet", "api-7d9f", "FailedCreate", 2*time.Minute, 1),
		ev("Deployment", "api", "ProgressDeadlineExceeded", 3*time.Minute, 1),
		ev("Pod", "someone-else", "FailedScheduling", 0, 1),
		ev("Pod", "api-7d9f-gone1", "OOMKilling", 90*time.Second, 1), // a pod already replaced
		ev("ReplicaSet", "worker-1", "FailedCreate", 0, 2),
	}
	for i := 0; i < sources.MaxWarnings; i++ {
		evs = append(evs, ev("Deployment", "api", "Old", time.Hour+time.Duration(i)*time.Minute, 1))
	}
	set := buildSet([]*depInfo{dep, other}, rss, nil)
	attachEvidence(set, rss, pods, evs)
	a := set.Deployments[0].Evidence
	if a.PodCount != sources.MaxPods+5 || len(a.Pods) != sources.MaxPods || a.Pods[0].Restarts != int32(sources.MaxPods+4) {
		t.Errorf("pods: count %d kept %d first %+v", a.PodCount, len(a.Pods), a.Pods[0])
	}
	if len(a.Warnings) != sources.MaxWarnings || a.WarningCount != 9+1+1+1+sources.MaxWarnings {
		t.Fatalf("warnings: kept %d count %d", len(a.Warnings), a.WarningCount)
	}
	if a.Warnings[0].Reason != "BackOff" || a.Warnings[1].Reason != "OOMKilling" || a.Warnings[2].Reason != "FailedCreate" || a.Warnings[3].Reason != "ProgressDeadlineExceeded" {
		t.Errorf("newest first: %+v", a.Warnings[:4])
	}
	if w := set.Deployments[1].Evidence; w.WarningCount != 2 || w.PodCount != 0 {
		t.Errorf("worker evidence %+v", w)
	}
}

func TestSelectorOf(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api", "tier": "web"}}}}
	if got := selectorOf(d); got != "app=api,tier=web" {
		t.Errorf("selector %q", got)
	}
}

// A container's output as the kubelet streams it, hostile: escapes,
// invalid UTF-8 and a 10 MB line between two ordinary ones. Each line
// comes out sanitized and cut; the long one costs MaxLogLineBytes.
func TestReadLogLinesSanitizesAndCuts(t *testing.T) {
	ts := "2026-03-01T10:00:00.123456789Z "
	in := ts + "first\n" +
		ts + "\x1b]0;owned\x07\x1b[31mred\x1b[0m \xff" + strings.Repeat("A", 10<<20) + "\n" +
		ts + "last\r\n" +
		"no timestamp and no newline"
	out := make(chan sources.LogLine, 8)
	var last time.Time
	n, err := readLogLines(t.Context(), strings.NewReader(in), streamKey{"api-1", "api"}, false, time.Time{}, &last, out)
	if err != nil || n != 4 {
		t.Fatalf("read %d lines, err %v", n, err)
	}
	close(out)
	var got []sources.LogLine
	for l := range out {
		got = append(got, l)
	}
	want := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	if got[0].Text != "first" || !got[0].At.Equal(want) || got[0].Pod != "api-1" || got[2].Text != "last" || got[3].Text != "no timestamp and no newline" {
		t.Errorf("lines %+v", got)
	}
	long := got[1].Text
	if strings.ContainsAny(long, "\x1b\x07") || !strings.HasPrefix(long, "red \ufffdAAA") || !strings.HasSuffix(long, "…") || len(long) > sources.MaxLogLineBytes+8 {
		t.Errorf("long line: %d bytes, %q…%q", len(long), long[:20], long[len(long)-10:])
	}
}
