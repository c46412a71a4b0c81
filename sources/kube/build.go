package kube

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

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

// stripTransform is the informers' TransformFunc: it keeps only what a
// snapshot needs, so the caches hold a few hundred bytes per object instead
// of full objects with managedFields and last-applied-configuration (often
// several KiB each). Text that reaches the screen (images, change-cause) is
// sanitized here, once, at ingestion.
func stripTransform(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return slimDeployment(o), nil
	case *appsv1.ReplicaSet:
		return slimReplicaSet(o), nil
	}
	// cache.DeletedFinalStateUnknown and anything else pass through.
	return obj, nil
}

var _ cache.TransformFunc = stripTransform

// slimMeta keeps identity, creation time, the controller owner reference and
// the two annotations history needs (change-cause sanitized).
func slimMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		Generation:        m.Generation,
		CreationTimestamp: m.CreationTimestamp,
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: ref.APIVersion, Kind: ref.Kind, Name: ref.Name, UID: ref.UID, Controller: ref.Controller,
		}}
	}
	rev, hasRev := m.Annotations[annRevision]
	cause, hasCause := m.Annotations[annChangeCause]
	if hasRev || hasCause {
		out.Annotations = make(map[string]string, 2)
		if hasRev {
			out.Annotations[annRevision] = rev
		}
		if hasCause {
			out.Annotations[annChangeCause] = sources.Sanitize(cause)
		}
	}
	return out
}

// slimTemplate keeps container names and (sanitized) images.
func slimTemplate(t *corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	cs := make([]corev1.Container, len(t.Spec.Containers))
	for i, c := range t.Spec.Containers {
		cs[i] = corev1.Container{Name: sources.Sanitize(c.Name), Image: sources.Sanitize(c.Image)}
	}
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: cs}}
}

func slimDeployment(d *appsv1.Deployment) *appsv1.Deployment {
	out := &appsv1.Deployment{
		ObjectMeta: slimMeta(&d.ObjectMeta),
		Spec: appsv1.DeploymentSpec{
			Replicas:                d.Spec.Replicas,
			Paused:                  d.Spec.Paused,
			ProgressDeadlineSeconds: d.Spec.ProgressDeadlineSeconds,
			Template:                slimTemplate(&d.Spec.Template),
		},
		Status: d.Status,
	}
	// Condition messages reach the screen.
	out.Status.Conditions = slices.Clone(d.Status.Conditions)
	for i := range out.Status.Conditions {
		out.Status.Conditions[i].Message = sources.Sanitize(out.Status.Conditions[i].Message)
	}
	return out
}

func slimReplicaSet(rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: slimMeta(&rs.ObjectMeta),
		Spec:       appsv1.ReplicaSetSpec{Replicas: rs.Spec.Replicas, Template: slimTemplate(&rs.Spec.Template)},
		Status: appsv1.ReplicaSetStatus{
			Replicas:          rs.Status.Replicas,
			ReadyReplicas:     rs.Status.ReadyReplicas,
			AvailableReplicas: rs.Status.AvailableReplicas,
		},
	}
}

// BuildSet turns slim Deployments and ReplicaSets (as held by the informer
// caches) into a RolloutSet: deployments sorted by namespace/name, each with
// its history from the ReplicaSets it controls. Context, Denied and
// Protected are left to the caller.
func BuildSet(deps []*appsv1.Deployment, rss []*appsv1.ReplicaSet) *sources.RolloutSet {
	owned := make(map[types.UID][]*appsv1.ReplicaSet, len(deps))
	for _, rs := range rss {
		if len(rs.OwnerReferences) == 0 {
			continue
		}
		ref := metav1.GetControllerOfNoCopy(rs)
		if ref == nil || ref.Kind != "Deployment" {
			continue
		}
		owned[ref.UID] = append(owned[ref.UID], rs)
	}
	set := &sources.RolloutSet{Deployments: make([]sources.Deployment, 0, len(deps))}
	for _, d := range deps {
		set.Deployments = append(set.Deployments, buildDeployment(d, owned[d.UID]))
	}
	slices.SortFunc(set.Deployments, func(a, b sources.Deployment) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return set
}

// revisionOf parses deployment.kubernetes.io/revision; 0 when absent or bad
// (kubectl skips such ReplicaSets in history, so do we).
func revisionOf(m *metav1.ObjectMeta) int64 {
	v, err := strconv.ParseInt(m.Annotations[annRevision], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func imagesOf(t *corev1.PodTemplateSpec) []string {
	out := make([]string, len(t.Spec.Containers))
	for i, c := range t.Spec.Containers {
		out[i] = c.Image
	}
	return out
}

// buildDeployment converts one slim Deployment with the ReplicaSets it
// controls. History is newest first, like the pane shows it.
func buildDeployment(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) sources.Deployment {
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
	}
	out.State, out.Message = rolloutStatus(d)
	if len(rss) > 0 {
		out.History = make([]sources.Revision, 0, len(rss))
	}
	for _, rs := range rss {
		n := revisionOf(&rs.ObjectMeta)
		if n == 0 {
			continue
		}
		r := sources.Revision{
			Number:      n,
			ReplicaSet:  rs.Name,
			ChangeCause: rs.Annotations[annChangeCause],
			Images:      imagesOf(&rs.Spec.Template),
			CreatedAt:   rs.CreationTimestamp.Time,
			Replicas:    rs.Status.Replicas,
			Ready:       rs.Status.ReadyReplicas,
		}
		if n == out.Revision {
			out.RolledOutAt = r.CreatedAt
		}
		out.History = append(out.History, r)
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
