package sources

import (
	"sort"
	"time"
	"unicode/utf8"

	"flightdeck/internal/sanitize"
)

// Bounds on the evidence a rollout snapshot carries: a deployment in a bad
// state can have thousands of events and hundreds of pods, and the
// snapshot is copied to every session.
const (
	// MaxWarnings is how many warning events a deployment keeps (newest).
	MaxWarnings = 20
	// MaxPods is how many pods a deployment lists (the unhealthiest first).
	MaxPods = 50
	// MaxEvidenceText is the longest event message or termination message
	// kept, in bytes; longer ones are cut at ingestion.
	MaxEvidenceText = 512
)

// Evidence is what a deployment's pods and Kubernetes events say about
// why things fail: warning events of the deployment, its ReplicaSets and
// its pods, and each pod's restarts and last termination. Sanitized and
// bounded by the source.
type Evidence struct {
	// Warnings are warning events, newest first, at most MaxWarnings,
	// each deduplicated by the API server (Count, FirstSeen, LastSeen).
	Warnings []KubeEvent
	// WarningCount is the number of warning events seen before the cut
	// (the sum of their Counts), for the row's count.
	WarningCount int
	// Pods are the deployment's pods, at most MaxPods, the ones with the
	// most restarts first.
	Pods []PodStatus
	// PodCount is the number of pods before the cut.
	PodCount int
}

// KubeEvent is one Kubernetes event about an object.
type KubeEvent struct {
	// Kind and Name are the object the event is about (Pod, ReplicaSet,
	// Deployment).
	Kind, Name string
	// Type is Warning or Normal.
	Type    string
	Reason  string // BackOff, OOMKilling, FailedScheduling, Unhealthy, FailedMount …
	Message string // sanitized, at most MaxEvidenceText bytes
	// Count is how many times the API server saw it between FirstSeen and
	// LastSeen.
	Count               int32
	FirstSeen, LastSeen time.Time
}

// PodStatus is one pod: phase, restarts and why its containers last ended.
type PodStatus struct {
	Name  string
	Phase string // Pending, Running, Succeeded, Failed, Unknown
	Ready bool
	// Restarts is the sum of the containers' restart counts.
	Restarts int32
	// Waiting is a container's waiting reason (CrashLoopBackOff,
	// ImagePullBackOff), empty when none waits.
	Waiting string
	// Containers are the pod's container names, in spec order.
	Containers []string
	// Labels are the pod's labels (for log selection by selector).
	Labels map[string]string
	// LastTermination is the latest ended container, nil when none has.
	LastTermination *Termination
	// CreatedAt is when the pod was created.
	CreatedAt time.Time
}

// Termination is how a container ended.
type Termination struct {
	Container string
	Reason    string // OOMKilled, Error, Completed …
	ExitCode  int32
	Signal    int32
	Message   string // sanitized, at most MaxEvidenceText bytes
	At        time.Time
}

// SortWarnings orders events newest first and keeps MaxWarnings,
// returning the total count of occurrences before the cut.
func SortWarnings(evs []KubeEvent) ([]KubeEvent, int) {
	total := 0
	for _, e := range evs {
		total += int(max(e.Count, 1))
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].LastSeen.Equal(evs[j].LastSeen) {
			return evs[i].LastSeen.After(evs[j].LastSeen)
		}
		return evs[i].Name < evs[j].Name
	})
	if len(evs) > MaxWarnings {
		evs = evs[:MaxWarnings]
	}
	return evs, total
}

// SortPods orders pods with the most restarts first (then by name) and
// keeps MaxPods.
func SortPods(pods []PodStatus) []PodStatus {
	sort.SliceStable(pods, func(i, j int) bool {
		if pods[i].Restarts != pods[j].Restarts {
			return pods[i].Restarts > pods[j].Restarts
		}
		return pods[i].Name < pods[j].Name
	})
	if len(pods) > MaxPods {
		pods = pods[:MaxPods]
	}
	return pods
}

// ClipText is outside text made safe for the screen and cut to at most
// max bytes: cut first (so a 10 MB line costs a slice, not a scan),
// at a rune boundary, with "…" marking the cut, then sanitized.
func ClipText(s string, max int) string {
	if len(s) > max {
		cut := max
		for cut > 0 && cut > max-4 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return sanitize.Text(s)
}
