package kube

import (
	"time"

	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Annotations kubectl and the deployment controller use.
const (
	annRevision    = "deployment.kubernetes.io/revision"
	annChangeCause = "kubernetes.io/change-cause"
	annRestartedAt = "kubectl.kubernetes.io/restartedAt"
	// reasonTimedOut is the Progressing condition reason once
	// progressDeadlineSeconds passed without progress.
	reasonTimedOut = "ProgressDeadlineExceeded"
)

// stripTransform is the informers' TransformFunc. The caches hold, instead
// of full objects (managedFields and last-applied-configuration are often
// several KiB each), a depInfo or rsInfo: the pane's view of the object,
// converted and sanitized once, at ingestion, so building a snapshot is
// grouping and copying, not re-parsing annotations and pod templates.
func stripTransform(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return newDepInfo(o), nil
	case *appsv1.ReplicaSet:
		return newRSInfo(o), nil
	}
	// cache.DeletedFinalStateUnknown and anything else pass through.
	return obj, nil
}

var _ cache.TransformFunc = stripTransform

// keyMeta keeps what the informer store's key function and the reflector's
// bookkeeping read: name, namespace, UID, resourceVersion.
func keyMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
}

// depInfo is what the Deployment cache holds: the Deployment as the pane
// shows it, without history. It implements metav1.Object through the
// embedded ObjectMeta, which is all cache stores need.
type depInfo struct {
	metav1.ObjectMeta
	dep sources.Deployment
}

// rsInfo is what the ReplicaSet cache holds: its controlling Deployment and
// its history entry. ok is false when it has no usable revision (kubectl
// skips such ReplicaSets).
type rsInfo struct {
	metav1.ObjectMeta
	owner types.UID
	rev   sources.Revision
	ok    bool
}

func newDepInfo(d *appsv1.Deployment) *depInfo {
	out := sources.Deployment{
		Namespace:          d.Namespace,
		Name:               d.Name,
		UID:                string(d.UID),
		ResourceVersion:    d.ResourceVersion,
		Generation:         d.Generation,
		ObservedGeneration: d.Status.ObservedGeneration,
		Replicas:           replicas(d.Spec.Replicas),
		Ready:              d.Status.ReadyReplicas,
		Updated:            d.Status.UpdatedReplicas,
		Available:          d.Status.AvailableReplicas,
		Paused:             d.Spec.Paused,
		Revision:           revisionOf(&d.ObjectMeta),
		Images:             imagesOf(&d.Spec.Template),
		Selector:           selectorOf(d),
	}
	out.State, out.Message = rolloutStatus(d)
	out.Message = sanitize.Text(out.Message) // condition messages come from controllers and webhooks
	return &depInfo{ObjectMeta: keyMeta(&d.ObjectMeta), dep: out}
}

func newRSInfo(rs *appsv1.ReplicaSet) *rsInfo {
	out := &rsInfo{ObjectMeta: keyMeta(&rs.ObjectMeta)}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.Kind == "Deployment" {
		out.owner = ref.UID
	}
	n := revisionOf(&rs.ObjectMeta)
	out.ok = n > 0
	out.rev = sources.Revision{
		Number:      n,
		ReplicaSet:  rs.Name,
		ChangeCause: sanitize.Text(rs.Annotations[annChangeCause]),
		Images:      imagesOf(&rs.Spec.Template),
		CreatedAt:   rs.CreationTimestamp.Time,
		Replicas:    rs.Status.Replicas,
		Ready:       rs.Status.ReadyReplicas,
	}
	return out
}

// buildSet turns the cached infos into a RolloutSet: deployments sorted by
// namespace/name, each with its history from the ReplicaSets it controls.
// Slices inside (Images) are shared with the cache and between snapshots;
// payloads are read-only. Context, Denied and Protected are the caller's.
//
// revisedAt says when a ReplicaSet was seen taking a newer revision (a
// rollback); nil or zero means never, and its creation time stands.
func buildSet(deps []*depInfo, rss []*rsInfo, revisedAt func(types.UID) time.Time) *sources.RolloutSet {
	owned := make(map[types.UID][]*rsInfo, len(deps))
	for _, rs := range rss {
		if rs.owner != "" && rs.ok {
			owned[rs.owner] = append(owned[rs.owner], rs)
		}
	}
	set := &sources.RolloutSet{Deployments: make([]sources.Deployment, 0, len(deps))}
	for _, d := range deps {
		set.Deployments = append(set.Deployments, assemble(d, owned[types.UID(d.dep.UID)], revisedAt))
	}
	slices.SortFunc(set.Deployments, func(a, b sources.Deployment) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return set
}

// assemble attaches history (newest first) and RolledOutAt to a deployment:
// when the current revision's ReplicaSet was created, or later, when it was
// seen becoming current again by a rollback.
func assemble(d *depInfo, rss []*rsInfo, revisedAt func(types.UID) time.Time) sources.Deployment {
	out := d.dep
	if len(rss) == 0 {
		return out
	}
	out.History = make([]sources.Revision, 0, len(rss))
	for _, rs := range rss {
		if !rs.ok {
			continue
		}
		if rs.rev.Number == out.Revision {
			out.RolledOutAt = rs.rev.CreatedAt
			if revisedAt != nil {
				if t := revisedAt(rs.UID); t.After(out.RolledOutAt) {
					out.RolledOutAt = t
				}
			}
		}
		out.History = append(out.History, rs.rev)
	}
	slices.SortFunc(out.History, func(a, b sources.Revision) int {
		switch {
		case a.Number > b.Number:
			return -1
		case a.Number < b.Number:
			return 1
		}
		return 0
	})
	return out
}

// buildDeployment converts a Deployment and the ReplicaSets it controls, as
// read by a fresh GET and LIST.
func buildDeployment(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) sources.Deployment {
	infos := make([]*rsInfo, len(rss))
	for i, rs := range rss {
		infos[i] = newRSInfo(rs)
	}
	return assemble(newDepInfo(d), infos, nil)
}

// revisionOf parses deployment.kubernetes.io/revision; 0 when absent or bad.
func revisionOf(m *metav1.ObjectMeta) int64 {
	v, err := strconv.ParseInt(m.Annotations[annRevision], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// imagesOf lists the containers' images, sanitized.
func imagesOf(t *corev1.PodTemplateSpec) []string {
	out := make([]string, len(t.Spec.Containers))
	for i, c := range t.Spec.Containers {
		out[i] = sanitize.Text(c.Image)
	}
	return out
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1 // the API server's default
	}
	return *p
}

// rolloutStatus follows kubectl's DeploymentStatusViewer
// (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), with paused
// reported as its own state because a paused rollout never finishes.
func rolloutStatus(d *appsv1.Deployment) (sources.RolloutState, string) {
	if d.Spec.Paused {
		return sources.RolloutPaused, "rollout paused (kubectl rollout resume to continue)"
	}
	if d.Generation > d.Status.ObservedGeneration {
		return sources.RolloutProgressing, "waiting for deployment spec update to be observed"
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == reasonTimedOut {
			msg := "exceeded its progress deadline"
			if c.Message != "" {
				msg += ": " + c.Message
			}
			return sources.RolloutStalled, msg
		}
	}
	want := replicas(d.Spec.Replicas)
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return sources.RolloutProgressing, fmt.Sprintf("%d out of %d new replicas have been updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return sources.RolloutProgressing, fmt.Sprintf("%d old replicas are pending termination", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		return sources.RolloutProgressing, fmt.Sprintf("%d of %d updated replicas are available", st.AvailableReplicas, st.UpdatedReplicas)
	}
	return sources.RolloutComplete, "successfully rolled out"
}

// selectorOf is the Deployment's pod selector as a label selector string
// ("app=api"), empty when it has none or it does not parse.
func selectorOf(d *appsv1.Deployment) string {
	if d.Spec.Selector == nil {
		return ""
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return ""
	}
	return sanitize.Text(sel.String())
}
