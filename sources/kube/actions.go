package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// The methods in this file have exactly the signatures of
// ops.RolloutController. Each write is one request, never retried by us: a
// 403 comes back as "forbidden: …" for the status bar.

// GetDeployment reads the deployment as it is now (a fresh GET, not the
// cache: the Executor uses it to verify the target did not change), with its
// history from the ReplicaSets it controls.
func (s *Source) GetDeployment(ctx context.Context, namespace, name string) (sources.Deployment, error) {
	d, rss, err := s.readWithHistory(ctx, namespace, name)
	if err != nil {
		return sources.Deployment{}, err
	}
	return buildDeployment(d, rss), nil
}

// readWithHistory GETs the deployment and lists the ReplicaSets it controls
// the way kubectl does (deployment selector, then controller UID).
func (s *Source) readWithHistory(ctx context.Context, namespace, name string) (*appsv1.Deployment, []*appsv1.ReplicaSet, error) {
	d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("deployment %s/%s not found", namespace, name)
		}
		return nil, nil, actionError("get deployment "+namespace+"/"+name, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, nil, fmt.Errorf("deployment %s/%s: bad selector: %s", namespace, name, outside(err))
	}
	list, err := s.cs.AppsV1().ReplicaSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, nil, actionError("list replicasets in "+namespace, err)
	}
	var owned []*appsv1.ReplicaSet
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], d) {
			owned = append(owned, &list.Items[i])
		}
	}
	return d, owned, nil
}

// rollbackTarget picks the ReplicaSet to roll back to exactly like kubectl's
// deploymentRevision: toRevision, or for 0 the second-highest revision.
func rollbackTarget(d *appsv1.Deployment, rss []*appsv1.ReplicaSet, toRevision int64) (*appsv1.ReplicaSet, error) {
	if toRevision < 0 {
		return nil, fmt.Errorf("unable to find specified revision %d in history", toRevision)
	}
	var latest, previous *appsv1.ReplicaSet
	latestRev, previousRev := int64(-1), int64(-1)
	for _, rs := range rss {
		v, ok := kubectlRevision(rs)
		if !ok {
			continue // unparsable annotation: kubectl skips the ReplicaSet
		}
		if toRevision == 0 {
			if latestRev < v {
				previousRev, previous = latestRev, latest
				latestRev, latest = v, rs
			} else if previousRev < v {
				previousRev, previous = v, rs
			}
		} else if v == toRevision {
			return rs, nil
		}
	}
	if toRevision > 0 {
		return nil, fmt.Errorf("unable to find specified revision %d in history", toRevision)
	}
	if previous == nil {
		return nil, fmt.Errorf("no rollout history found for deployment %q", d.Name)
	}
	return previous, nil
}

// kubectlRevision is deploymentutil.Revision: a missing annotation is
// revision 0, an unparsable one is skipped.
func kubectlRevision(rs *appsv1.ReplicaSet) (int64, bool) {
	v, ok := rs.Annotations[annRevision]
	if !ok {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// equalIgnoreHash is kubectl's: templates equal but for pod-template-hash.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return apiequality.Semantic.DeepEqual(a, b)
}

// annotationsToSkip are kept from the deployment and never copied from the
// ReplicaSet on rollback (kubectl's list).
var annotationsToSkip = map[string]bool{
	corev1.LastAppliedConfigAnnotation:          true,
	annRevision:                                 true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	appsv1.DeprecatedRollbackTo:                 true,
}

// undoPatch is the JSON patch `kubectl rollout undo` sends: replace
// spec.template with the target ReplicaSet's template minus the
// pod-template-hash label, and metadata.annotations with the deployment's
// skip-listed annotations plus the ReplicaSet's others (so the change-cause
// of the restored revision comes back).
func undoPatch(d *appsv1.Deployment, target *appsv1.ReplicaSet) ([]byte, error) {
	tmpl := target.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	ann := map[string]string{}
	for k := range annotationsToSkip {
		if v, ok := d.Annotations[k]; ok {
			ann[k] = v
		}
	}
	for k, v := range target.Annotations {
		if !annotationsToSkip[k] {
			ann[k] = v
		}
	}
	return json.Marshal([]any{
		map[string]any{"op": "replace", "path": "/spec/template", "value": tmpl},
		map[string]any{"op": "replace", "path": "/metadata/annotations", "value": ann},
	})
}

// prepareUndo reads the deployment and the target revision and refuses the
// cases kubectl refuses.
func (s *Source) prepareUndo(ctx context.Context, namespace, name string, toRevision int64) (*appsv1.Deployment, *appsv1.ReplicaSet, error) {
	d, rss, err := s.readWithHistory(ctx, namespace, name)
	if err != nil {
		return nil, nil, err
	}
	target, err := rollbackTarget(d, rss, toRevision)
	if err != nil {
		return nil, nil, err
	}
	if d.Spec.Paused {
		return nil, nil, errors.New("you cannot rollback a paused deployment; resume it first and try again")
	}
	if equalIgnoreHash(&target.Spec.Template, &d.Spec.Template) {
		return nil, nil, fmt.Errorf("skipped rollback: current template already matches revision %d", revisionOf(&target.ObjectMeta))
	}
	return d, target, nil
}

// PreviewUndo describes rolling back to toRevision (0 = previous): the pod
// template difference and the outcome of a server-side dry run of the exact
// patch Undo would send (admission, validation and RBAC all run; nothing is
// stored).
func (s *Source) PreviewUndo(ctx context.Context, namespace, name string, toRevision int64) (diff, dryRun []string, err error) {
	d, target, err := s.prepareUndo(ctx, namespace, name, toRevision)
	if err != nil {
		return nil, nil, err
	}
	rev := revisionOf(&target.ObjectMeta)
	diff = TemplateDiff(&d.Spec.Template, &target.Spec.Template)
	patch, err := undoPatch(d, target)
	if err != nil {
		return diff, nil, err
	}
	res, err := s.cs.AppsV1().Deployments(namespace).Patch(ctx, name, types.JSONPatchType, patch,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return diff, nil, actionError("server dry run rejected the rollback", err)
	}
	dryRun = []string{fmt.Sprintf("server dry run: accepted; template would become revision %d's (%s)",
		rev, strings.Join(sanitize.All(imagesOf(&res.Spec.Template)), ", "))}
	if !equalIgnoreHash(&res.Spec.Template, &target.Spec.Template) {
		// Defaulting or a mutating webhook changed what would be stored.
		dryRun = append(dryRun, "note: the server would store a template that differs from the revision (defaulting or a mutating webhook)")
	}
	return diff, dryRun, nil
}

// Undo rolls back like `kubectl rollout undo --to-revision`: the same
// target choice, the same refusals (paused, already current) and the same
// JSON patch, so the deployment ends up exactly as kubectl would leave it.
func (s *Source) Undo(ctx context.Context, namespace, name string, toRevision int64) error {
	d, target, err := s.prepareUndo(ctx, namespace, name, toRevision)
	if err != nil {
		return err
	}
	patch, err := undoPatch(d, target)
	if err != nil {
		return err
	}
	if _, err := s.cs.AppsV1().Deployments(namespace).Patch(ctx, name, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		return actionError(fmt.Sprintf("restore revision %d", revisionOf(&target.ObjectMeta)), err)
	}
	return nil
}

// Restart sets the pod template annotation kubectl.kubernetes.io/restartedAt
// to at (RFC 3339), as `kubectl rollout restart` does, which makes the
// controller replace every pod. Like kubectl it refuses a paused deployment,
// where the change would silently wait.
func (s *Source) Restart(ctx context.Context, namespace, name string, at time.Time) error {
	d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return actionError("get deployment "+namespace+"/"+name, err)
	}
	if d.Spec.Paused {
		return errors.New("can't restart paused deployment (resume it first)")
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{annRestartedAt: at.Format(time.RFC3339)}}}}})
	if _, err := s.cs.AppsV1().Deployments(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return actionError("restart", err)
	}
	return nil
}

// Scale sets spec.replicas through the scale subresource with a merge
// patch, as `kubectl scale` does (needs patch on deployments/scale, not on
// deployments).
func (s *Source) Scale(ctx context.Context, namespace, name string, replicas int32) error {
	if replicas < 0 {
		return fmt.Errorf("replicas cannot be negative")
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"replicas": replicas}})
	// The typed client has no PatchScale; the REST client sends the same
	// request kubectl's scaler does, and we need no decoded body.
	err := s.cs.AppsV1().RESTClient().Patch(types.MergePatchType).
		Namespace(namespace).Resource("deployments").Name(name).SubResource("scale").
		Body(patch).Do(ctx).Error()
	if err != nil {
		return actionError("scale", err)
	}
	return nil
}

// SetPaused pauses or resumes the rollout like `kubectl rollout pause|resume`.
func (s *Source) SetPaused(ctx context.Context, namespace, name string, paused bool) error {
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"paused": paused}})
	if _, err := s.cs.AppsV1().Deployments(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		verb := "resume"
		if paused {
			verb = "pause"
		}
		return actionError(verb, err)
	}
	return nil
}

// TemplateDiff lists what rolling from cur to target changes in the pod
// template, in the terms an operator checks at 3 a.m.: containers added or
// removed, images, environment variable names (never values: they may be
// secrets), resource requests and limits. Text is sanitized.
func TemplateDiff(cur, target *corev1.PodTemplateSpec) []string {
	var out []string
	out = append(out, containersDiff("container", cur.Spec.Containers, target.Spec.Containers)...)
	out = append(out, containersDiff("init container", cur.Spec.InitContainers, target.Spec.InitContainers)...)
	if len(out) == 0 {
		out = []string{"images, env and resources are unchanged; the template differs elsewhere (annotations, probes, volumes…)"}
	}
	return out
}

func containersDiff(kind string, cur, target []corev1.Container) []string {
	var out []string
	byName := func(cs []corev1.Container, n string) *corev1.Container {
		for i := range cs {
			if cs[i].Name == n {
				return &cs[i]
			}
		}
		return nil
	}
	san := sanitize.Text
	for _, c := range cur {
		if byName(target, c.Name) == nil {
			out = append(out, fmt.Sprintf("- %s %s (%s)", kind, san(c.Name), san(c.Image)))
		}
	}
	for _, t := range target {
		c := byName(cur, t.Name)
		if c == nil {
			out = append(out, fmt.Sprintf("+ %s %s (%s)", kind, san(t.Name), san(t.Image)))
			continue
		}
		p := kind + " " + san(t.Name) + ": "
		if c.Image != t.Image {
			out = append(out, p+"image "+san(c.Image)+" → "+san(t.Image))
		}
		curEnv, tgtEnv := envNames(c.Env), envNames(t.Env)
		for _, n := range tgtEnv {
			if !slices.Contains(curEnv, n) {
				out = append(out, p+"env +"+san(n))
			}
		}
		for _, n := range curEnv {
			if !slices.Contains(tgtEnv, n) {
				out = append(out, p+"env -"+san(n))
			}
		}
		out = append(out, resourceDiff(p+"requests.", c.Resources.Requests, t.Resources.Requests)...)
		out = append(out, resourceDiff(p+"limits.", c.Resources.Limits, t.Resources.Limits)...)
	}
	return out
}

func envNames(env []corev1.EnvVar) []string {
	out := make([]string, len(env))
	for i, e := range env {
		out[i] = e.Name
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func resourceDiff(prefix string, cur, target corev1.ResourceList) []string {
	names := make([]string, 0, len(cur)+len(target))
	for n := range cur {
		names = append(names, string(n))
	}
	for n := range target {
		names = append(names, string(n))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var out []string
	for _, n := range names {
		a, okA := cur[corev1.ResourceName(n)]
		b, okB := target[corev1.ResourceName(n)]
		if okA && okB && a.Cmp(b) == 0 {
			continue
		}
		as, bs := "unset", "unset"
		if okA {
			as = a.String()
		}
		if okB {
			bs = b.String()
		}
		out = append(out, prefix+sanitize.Text(n)+" "+as+" → "+bs)
	}
	return out
}
