package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"flightdeck/sources"
)

// Unit tests of edge cases; behaviour against a cluster is proven in
// integration_test.go against a real API server.

func ptr[T any](v T) *T { return &v }

func TestRolloutStatusFollowsKubectl(t *testing.T) {
	base := func(mut func(*appsv1.Deployment)) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(3))},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3}}
		mut(d)
		return d
	}
	cases := []struct {
		name  string
		d     *appsv1.Deployment
		state sources.RolloutState
		msg   string
	}{
		{"complete", base(func(*appsv1.Deployment) {}), sources.RolloutComplete, "successfully rolled out"},
		{"paused wins", base(func(d *appsv1.Deployment) { d.Spec.Paused = true; d.Status.UpdatedReplicas = 0 }), sources.RolloutPaused, "paused"},
		{"not observed", base(func(d *appsv1.Deployment) { d.Generation = 3 }), sources.RolloutProgressing, "spec update to be observed"},
		{"stalled", base(func(d *appsv1.Deployment) {
			d.Status.UpdatedReplicas = 1
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: reasonTimedOut,
				Message: `ReplicaSet "api-5d4" has timed out progressing.`}}
		}), sources.RolloutStalled, `progress deadline: ReplicaSet "api-5d4" has timed out progressing.`},
		{"updating", base(func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 }), sources.RolloutProgressing, "1 out of 3 new replicas have been updated"},
		{"old pending", base(func(d *appsv1.Deployment) { d.Status.Replicas = 4 }), sources.RolloutProgressing, "1 old replicas are pending termination"},
		{"unavailable", base(func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 2 }), sources.RolloutProgressing, "2 of 3 updated replicas are available"},
	}
	for _, c := range cases {
		st, msg := rolloutStatus(c.d)
		if st != c.state || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %s %q, want %s containing %q", c.name, st, msg, c.state, c.msg)
		}
	}
}

func rsWith(name string, rev string, image string) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{}}}
	if rev != "" {
		rs.Annotations[annRevision] = rev
	}
	rs.Spec.Template.Labels = map[string]string{"app": "api", appsv1.DefaultDeploymentUniqueLabelKey: "abc"}
	rs.Spec.Template.Spec.Containers = []corev1.Container{{Name: "api", Image: image}}
	return rs
}

func TestRollbackTargetLikeKubectl(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api"}}
	rss := []*appsv1.ReplicaSet{rsWith("a", "1", "v1"), rsWith("c", "3", "v3"), rsWith("b", "2", "v2"), rsWith("x", "bad", "vx")}
	if rs, err := rollbackTarget(d, rss, 0); err != nil || rs.Name != "b" {
		t.Errorf("previous: %v %v, want b", rs, err)
	}
	if rs, err := rollbackTarget(d, rss, 1); err != nil || rs.Name != "a" {
		t.Errorf("to 1: %v %v", rs, err)
	}
	if _, err := rollbackTarget(d, rss, 7); err == nil || !strings.Contains(err.Error(), "revision 7") {
		t.Errorf("to 7: %v", err)
	}
	if _, err := rollbackTarget(d, rss[:1], 0); err == nil || !strings.Contains(err.Error(), "no rollout history") {
		t.Errorf("single revision: %v", err)
	}
	if _, err := rollbackTarget(d, rss, -1); err == nil {
		t.Error("negative revision accepted")
	}
}

func TestUndoPatchIsKubectls(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Annotations: map[string]string{
		annRevision: "3", corev1.LastAppliedConfigAnnotation: "{}", annChangeCause: "deploy v3", "team": "payments",
	}}}
	rs := rsWith("b", "2", "v2")
	rs.Annotations[annChangeCause] = "deploy v2"
	rs.Annotations["deployment.kubernetes.io/desired-replicas"] = "3"
	rs.Annotations["team"] = "core"
	b, err := undoPatch(d, rs)
	if err != nil {
		t.Fatal(err)
	}
	var ops []struct {
		Op, Path string
		Value    json.RawMessage
	}
	if err := json.Unmarshal(b, &ops); err != nil || len(ops) != 2 {
		t.Fatalf("%s: %v", b, err)
	}
	if ops[0].Op != "replace" || ops[0].Path != "/spec/template" || strings.Contains(string(ops[0].Value), "pod-template-hash") ||
		!strings.Contains(string(ops[0].Value), `"image":"v2"`) {
		t.Errorf("template op: %s %s %s", ops[0].Op, ops[0].Path, ops[0].Value)
	}
	var ann map[string]string
	_ = json.Unmarshal(ops[1].Value, &ann)
	want := map[string]string{annRevision: "3", corev1.LastAppliedConfigAnnotation: "{}", annChangeCause: "deploy v2", "team": "core"}
	if ops[1].Path != "/metadata/annotations" || fmt.Sprint(ann) != fmt.Sprint(want) {
		t.Errorf("annotations %v, want %v", ann, want)
	}
	// The ReplicaSet itself is not modified (it may be a cache object).
	if rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == "" {
		t.Error("undoPatch mutated the ReplicaSet")
	}
}

func TestStripTransformKeepsOnlyWhatThePaneShows(t *testing.T) {
	rs := rsWith("api-1", "4", "nudgecampaign/api:v5\x1b[2J")
	rs.Namespace, rs.UID, rs.ResourceVersion = "production", "u1", "77"
	rs.Annotations[annChangeCause] = "deploy \u202eevil\u009b31m"
	rs.Annotations[corev1.LastAppliedConfigAnnotation] = strings.Repeat("x", 4096)
	rs.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", FieldsV1: &metav1.FieldsV1{Raw: []byte(strings.Repeat("{}", 1000))}}}
	rs.OwnerReferences = []metav1.OwnerReference{{Kind: "Other", UID: "o"}, {Kind: "Deployment", Name: "api", UID: "d1", Controller: ptr(true)}}
	rs.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "SECRET", Value: "hunter2"}}
	out, err := stripTransform(rs)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*rsInfo)
	if len(s.ManagedFields) != 0 || len(s.Annotations) != 0 || s.owner != "d1" || !s.ok || s.rev.Number != 4 {
		t.Errorf("not stripped: %+v", s)
	}
	if s.rev.ChangeCause != "deploy evil" || s.rev.Images[0] != "nudgecampaign/api:v5" {
		t.Errorf("not sanitized: %q %q", s.rev.ChangeCause, s.rev.Images)
	}
	// The store's key function must still work on what the cache holds.
	if key, err := cache.MetaNamespaceKeyFunc(out); err != nil || key != "production/api-1" {
		t.Errorf("key %q %v", key, err)
	}
	if strings.Contains(fmt.Sprintf("%+v", s), "hunter2") {
		t.Error("env value kept in cache")
	}
	// Tombstones pass through untouched.
	tomb := cache.DeletedFinalStateUnknown{Key: "k"}
	if got, _ := stripTransform(tomb); got != tomb {
		t.Error("tombstone changed")
	}
	// Deployments: status message sanitized, images from the template.
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "production", Annotations: map[string]string{annRevision: "4"}}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "api", Image: "api:v4"}}
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: reasonTimedOut, Message: "stuck\x1b]0;pwned\x07"}}
	di, _ := stripTransform(d)
	dep := di.(*depInfo).dep
	if dep.State != sources.RolloutStalled || strings.ContainsAny(dep.Message, "\x1b\x07") || dep.Revision != 4 || dep.Images[0] != "api:v4" {
		t.Errorf("deployment info: %+v", dep)
	}
}

func TestTemplateDiff(t *testing.T) {
	cur := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "api", Image: "api:v2", Env: []corev1.EnvVar{{Name: "A"}, {Name: "NEW"}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("3Gi")}}},
		{Name: "sidecar", Image: "envoy:1"},
	}}}
	tgt := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "api", Image: "api:v1", Env: []corev1.EnvVar{{Name: "A"}, {Name: "OLD", Value: "secret-value"}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}},
	}}}
	got := strings.Join(TemplateDiff(cur, tgt), "\n")
	for _, want := range []string{"- container sidecar (envoy:1)", "container api: image api:v2 → api:v1", "env +OLD", "env -NEW",
		"requests.cpu unset → 500m", "limits.memory 3Gi → 2Gi"} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "secret-value") {
		t.Error("env value leaked into the preview")
	}
	if d := TemplateDiff(cur, cur); len(d) != 1 || !strings.Contains(d[0], "unchanged") {
		t.Errorf("same template: %v", d)
	}
}

func TestForbiddenErrorsAreClear(t *testing.T) {
	cs := fake.NewSimpleClientset(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "production"}})
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "api",
		fmt.Errorf("User \"bob\" cannot patch resource"))
	cs.PrependReactor("patch", "deployments", func(k8stesting.Action) (bool, k8sruntime.Object, error) { return true, nil, forbidden })
	cs.PrependReactor("list", "*", func(k8stesting.Action) (bool, k8sruntime.Object, error) { return true, nil, forbidden })
	s := newSource(cs, Options{Namespaces: []string{"production"}})
	if err := s.SetPaused(context.Background(), "production", "api", true); err == nil || !strings.HasPrefix(err.Error(), "forbidden: ") {
		t.Errorf("pause: %v", err)
	}
	if _, err := s.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "list deployments in production: forbidden") {
		t.Errorf("fetch: %v", err)
	}
}

// BenchmarkBuildSnapshot measures one snapshot of 500 deployments × 10
// revisions built from informer caches (filled through stripTransform, as
// the informers do), and reports what the caches hold.
func BenchmarkBuildSnapshot(b *testing.B) {
	const nDeps, nRevs = 500, 10
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	depStore := cache.NewStore(cache.MetaNamespaceKeyFunc)
	rsStore := cache.NewStore(cache.MetaNamespaceKeyFunc)
	for i := 0; i < nDeps; i++ {
		d := fullDeployment(i, nRevs)
		sd, _ := stripTransform(d)
		_ = depStore.Add(sd)
		for r := 1; r <= nRevs; r++ {
			rs := fullReplicaSet(d, r)
			srs, _ := stripTransform(rs)
			_ = rsStore.Add(srs)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	cacheMiB := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)

	deps := make([]*depInfo, 0, nDeps)
	for _, o := range depStore.List() {
		deps = append(deps, o.(*depInfo))
	}
	rss := make([]*rsInfo, 0, nDeps*nRevs)
	for _, o := range rsStore.List() {
		rss = append(rss, o.(*rsInfo))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var set *sources.RolloutSet
	for i := 0; i < b.N; i++ {
		set = buildSet(deps, rss, nil)
	}
	b.StopTimer()
	// After the loop: ResetTimer drops metrics reported before it.
	b.ReportMetric(cacheMiB, "cache-MiB")
	if len(set.Deployments) != nDeps || len(set.Deployments[0].History) != nRevs {
		b.Fatalf("built %d deployments, %d revisions", len(set.Deployments), len(set.Deployments[0].History))
	}
}

// fullDeployment is a realistic object as the API returns it, managedFields
// and last-applied-configuration included.
func fullDeployment(i, revs int) *appsv1.Deployment {
	name := fmt.Sprintf("svc-%03d", i)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "production", UID: types.UID("uid-" + name), ResourceVersion: "1000",
			Generation: int64(revs), Annotations: map[string]string{annRevision: fmt.Sprint(revs),
				corev1.LastAppliedConfigAnnotation: strings.Repeat("x", 3000)},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", FieldsV1: &metav1.FieldsV1{Raw: []byte(strings.Repeat("{}", 1500))}}}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Template: template(name, revs)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: int64(revs), Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "NewReplicaSetAvailable", Message: "ok"}}},
	}
	return d
}

func template(name string, rev int) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: fmt.Sprintf("registry.example.com/%s:v1.%d", name, rev),
				Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "C", Value: "3"}}},
			{Name: "envoy", Image: "envoyproxy/envoy:v1.30"},
		}},
	}
}

func fullReplicaSet(d *appsv1.Deployment, rev int) *appsv1.ReplicaSet {
	name := fmt.Sprintf("%s-%d", d.Name, rev)
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace, UID: types.UID("uid-" + name),
			Annotations:     map[string]string{annRevision: fmt.Sprint(rev), annChangeCause: "deploy " + name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr(true)}},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", FieldsV1: &metav1.FieldsV1{Raw: []byte(strings.Repeat("{}", 1000))}}}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr(int32(0)), Template: template(d.Name, rev)},
		Status: appsv1.ReplicaSetStatus{},
	}
}

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: staging
  context: {cluster: c, user: u, namespace: staging}
- name: prod
  context: {cluster: c, user: u, namespace: production}
current-context: staging
`

func TestNewFollowsKubeconfigLoadingRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		env     string
		o       Options
		context string
		ns      []string
	}{
		{"explicit path, current context", "", Options{Kubeconfig: path}, "staging", []string{"staging"}},
		{"context override", "", Options{Kubeconfig: path, Context: "prod"}, "prod", []string{"production"}},
		{"$KUBECONFIG", path, Options{}, "staging", []string{"staging"}},
		{"explicit namespaces", path, Options{Namespaces: []string{"b", "a", "b"}}, "staging", []string{"a", "b"}},
		{"all namespaces", path, Options{Namespaces: []string{"production", AllNamespaces}}, "staging", []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", c.env)
			s, err := New(c.o)
			if err != nil {
				t.Fatal(err)
			}
			if s.Context() != c.context || fmt.Sprint(s.Namespaces()) != fmt.Sprint(c.ns) {
				t.Errorf("context %q namespaces %q, want %q %q", s.Context(), s.Namespaces(), c.context, c.ns)
			}
			if s.Name() != "kube" || s.Kind() != sources.KindRollouts {
				t.Errorf("name %q kind %q", s.Name(), s.Kind())
			}
		})
	}
	t.Setenv("KUBECONFIG", path)
	if _, err := New(Options{Context: "nope"}); err == nil {
		t.Error("unknown context accepted")
	}
}

// TestNoKubeconfigSaysWhereItLooked is issue 17.15: with no kubeconfig,
// client-go advises setting KUBERNETES_MASTER; the error instead names each
// path tried, what was wrong with it, and the config key that sets one.
func TestNoKubeconfigSaysWhereItLooked(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a cluster
	home := clientcmd.RecommendedHomeFile   // fixed when client-go loads
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	os.WriteFile(empty, []byte("apiVersion: v1\nkind: Config\n"), 0o600)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name, env, explicit string
		want                []string
	}{
		{"default", "", "", []string{"$KUBECONFIG is unset, so tried the default " + home + " (does not exist)"}},
		{"KUBECONFIG", missing + string(os.PathListSeparator) + empty, "",
			[]string{"$KUBECONFIG names " + missing + " (does not exist), " + empty + " (has no cluster or context)"}},
		{"config key, missing", "", missing, []string{"kubernetes.kubeconfig names " + missing + " (does not exist)"}},
		{"config key, empty", "", empty, []string{"kubernetes.kubeconfig names " + empty + " (has no cluster or context)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(home); tc.env == "" && tc.explicit == "" && err == nil {
				t.Skipf("%s exists on this machine", home)
			}
			t.Setenv("KUBECONFIG", tc.env)
			_, err := New(Options{Kubeconfig: tc.explicit})
			if err == nil {
				t.Fatal("no error without a kubeconfig")
			}
			msg := err.Error()
			for _, want := range append(tc.want, "not running inside a cluster", "set kubernetes.kubeconfig in flightdeck's config") {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "KUBERNETES_MASTER") {
				t.Errorf("client-go's advice leaked: %s", msg)
			}
		})
	}
}
