package kube

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/tools/cache"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Evidence: the pods of each deployment (restarts, last termination) and
// warning events about the deployment, its ReplicaSets and its pods. The
// informers for them are best-effort: a Role without list/watch on pods or
// events leaves the evidence empty and logs why, but never holds back or
// fails the rollouts snapshot.

// warningSelector keeps only warning events in the cache: normal events are
// most of the traffic and say nothing about why something died.
const warningSelector = "type=Warning"

// podInfo is what the pod cache holds: the pod as the evidence shows it and
// the ReplicaSet that controls it.
type podInfo struct {
	metav1.ObjectMeta
	rs  string // controlling ReplicaSet's name, "" when none
	pod sources.PodStatus
}

// eventInfo is what the event cache holds.
type eventInfo struct {
	metav1.ObjectMeta
	ev sources.KubeEvent
}

func newPodInfo(p *corev1.Pod) *podInfo {
	out := &podInfo{ObjectMeta: keyMeta(&p.ObjectMeta)}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.Kind == "ReplicaSet" {
		out.rs = ref.Name
	}
	st := sources.PodStatus{
		Name:      p.Name,
		Phase:     string(p.Status.Phase),
		CreatedAt: p.CreationTimestamp.Time,
		Ready:     podReady(p),
	}
	for _, c := range p.Spec.Containers {
		st.Containers = append(st.Containers, sanitize.Text(c.Name))
	}
	if len(p.Labels) > 0 {
		st.Labels = make(map[string]string, len(p.Labels))
		for k, v := range p.Labels {
			st.Labels[k] = v
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		st.Restarts += cs.RestartCount
		if w := cs.State.Waiting; w != nil && w.Reason != "" && st.Waiting == "" {
			st.Waiting = sources.ClipText(w.Reason, 64)
		}
		for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if t == nil {
				continue
			}
			if st.LastTermination == nil || t.FinishedAt.Time.After(st.LastTermination.At) {
				st.LastTermination = &sources.Termination{
					Container: sanitize.Text(cs.Name),
					Reason:    sources.ClipText(t.Reason, 64),
					ExitCode:  t.ExitCode,
					Signal:    t.Signal,
					Message:   sources.ClipText(t.Message, sources.MaxEvidenceText),
					At:        t.FinishedAt.Time,
				}
			}
		}
	}
	out.pod = st
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func newEventInfo(e *corev1.Event) *eventInfo {
	ev := sources.KubeEvent{
		Kind:      sanitize.Text(e.InvolvedObject.Kind),
		Name:      sanitize.Text(e.InvolvedObject.Name),
		Type:      sanitize.Text(e.Type),
		Reason:    sources.ClipText(e.Reason, 64),
		Message:   sources.ClipText(e.Message, sources.MaxEvidenceText),
		Count:     e.Count,
		FirstSeen: e.FirstTimestamp.Time,
		LastSeen:  e.LastTimestamp.Time,
	}
	// Events written through events.k8s.io/v1 carry a series instead of
	// count and timestamps.
	if e.Series != nil {
		ev.Count = max(ev.Count, e.Series.Count)
		if t := e.Series.LastObservedTime.Time; t.After(ev.LastSeen) {
			ev.LastSeen = t
		}
	}
	if ev.FirstSeen.IsZero() {
		ev.FirstSeen = e.EventTime.Time
	}
	if ev.LastSeen.IsZero() {
		ev.LastSeen = ev.FirstSeen
	}
	if ev.Count == 0 {
		ev.Count = 1
	}
	m := keyMeta(&e.ObjectMeta)
	// The object's namespace is the event's; keep it for grouping.
	m.Namespace = e.InvolvedObject.Namespace
	if m.Namespace == "" {
		m.Namespace = e.Namespace
	}
	return &eventInfo{ObjectMeta: m, ev: ev}
}

// evidenceTransform is the pod and event informers' TransformFunc: like
// stripTransform, the cache holds the small sanitized view only.
func evidenceTransform(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return newPodInfo(o), nil
	case *corev1.Event:
		return newEventInfo(o), nil
	}
	return obj, nil
}

// evidenceInformers are the pod and warning-event informers of one
// namespace.
type evidenceInformers struct {
	pods, events cache.SharedIndexInformer
}

func (s *Source) evidenceInformers(st *runState) []evidenceInformers {
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { st.notify() },
		UpdateFunc: func(any, any) { st.notify() },
		DeleteFunc: func(any) { st.notify() },
	}
	out := make([]evidenceInformers, 0, len(s.namespaces))
	for _, ns := range s.namespaces {
		e := evidenceInformers{
			pods: coreinformers.NewFilteredPodInformer(s.cs, ns, 0, cache.Indexers{}, nil),
			events: coreinformers.NewFilteredEventInformer(s.cs, ns, 0, cache.Indexers{},
				func(o *metav1.ListOptions) { o.FieldSelector = warningSelector }),
		}
		for what, inf := range map[string]cache.SharedIndexInformer{"pods": e.pods, "events": e.events} {
			_ = inf.SetTransform(evidenceTransform)
			_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
				// Not published: evidence is optional (RBAC may not
				// allow it) and the rollouts themselves are fine.
				if !routineWatchEnd(err) {
					s.log.Warn("evidence watch failed", "resource", what, "namespace", ns, "err", redact.Error(err))
				}
			})
			_, _ = inf.AddEventHandler(handler)
		}
		out = append(out, e)
	}
	return out
}

// cachedEvidence reads the pod and event stores.
func cachedEvidence(infs []evidenceInformers) ([]*podInfo, []*eventInfo) {
	var pods []*podInfo
	var evs []*eventInfo
	for _, e := range infs {
		for _, o := range e.pods.GetStore().List() {
			if p, ok := o.(*podInfo); ok {
				pods = append(pods, p)
			}
		}
		for _, o := range e.events.GetStore().List() {
			if ev, ok := o.(*eventInfo); ok {
				evs = append(evs, ev)
			}
		}
	}
	return pods, evs
}

// fetchEvidence lists pods and warning events once (Fetch's path). Errors
// leave the evidence empty: it is optional.
func (s *Source) fetchEvidence(ctx context.Context) ([]*podInfo, []*eventInfo) {
	var pods []*podInfo
	var evs []*eventInfo
	for _, ns := range s.namespaces {
		if pl, err := s.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
			for i := range pl.Items {
				pods = append(pods, newPodInfo(&pl.Items[i]))
			}
		} else {
			s.log.Debug("list pods for evidence", "namespace", ns, "err", redact.Error(err))
		}
		if el, err := s.cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: warningSelector}); err == nil {
			for i := range el.Items {
				evs = append(evs, newEventInfo(&el.Items[i]))
			}
		} else {
			s.log.Debug("list events for evidence", "namespace", ns, "err", redact.Error(err))
		}
	}
	return pods, evs
}

// attachEvidence fills each deployment's Evidence: pods through their
// ReplicaSet's controller, events through the object they are about (the
// deployment itself, one of its ReplicaSets, or one of its pods).
func attachEvidence(set *sources.RolloutSet, rss []*rsInfo, pods []*podInfo, evs []*eventInfo) {
	type nsName struct{ ns, name string }
	depOf := make(map[types.UID]int, len(set.Deployments))
	byName := make(map[nsName]int, len(set.Deployments))
	for i, d := range set.Deployments {
		depOf[types.UID(d.UID)] = i
		byName[nsName{d.Namespace, d.Name}] = i
	}
	rsDep := make(map[nsName]int, len(rss))
	for _, rs := range rss {
		if i, ok := depOf[rs.owner]; ok && rs.owner != "" {
			rsDep[nsName{rs.Namespace, rs.Name}] = i
		}
	}
	podDep := make(map[nsName]int, len(pods))
	podsOf := make([][]sources.PodStatus, len(set.Deployments))
	for _, p := range pods {
		if i, ok := rsDep[nsName{p.Namespace, p.rs}]; ok && p.rs != "" {
			podDep[nsName{p.Namespace, p.Name}] = i
			podsOf[i] = append(podsOf[i], p.pod)
		}
	}
	evsOf := make([][]sources.KubeEvent, len(set.Deployments))
	for _, e := range evs {
		k := nsName{e.Namespace, e.ev.Name}
		i, ok := -1, false
		switch e.ev.Kind {
		case "Deployment":
			i, ok = byName[k]
		case "ReplicaSet":
			i, ok = rsDep[k]
		case "Pod":
			i, ok = podDep[k]
			if !ok {
				// A pod already gone (OOMKilled and replaced, rolled
				// out): its name is its ReplicaSet's and a suffix.
				if cut := strings.LastIndexByte(k.name, '-'); cut > 0 {
					i, ok = rsDep[nsName{k.ns, k.name[:cut]}]
				}
			}
		}
		if ok {
			evsOf[i] = append(evsOf[i], e.ev)
		}
	}
	for i := range set.Deployments {
		d := &set.Deployments[i]
		var ev sources.Evidence
		ev.PodCount = len(podsOf[i])
		ev.Pods = sources.SortPods(podsOf[i])
		ev.Warnings, ev.WarningCount = sources.SortWarnings(evsOf[i])
		d.Evidence = ev
	}
}
