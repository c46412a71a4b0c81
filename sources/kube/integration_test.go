package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"flightdeck/internal/kubefixture"
	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/kube"
)

// One control plane per test binary: start-up costs seconds.
func TestMain(m *testing.M) {
	code := m.Run()
	testsrv.StopSharedKube()
	os.Exit(code)
}

const (
	annChangeCause = kubefixture.ChangeCause
	annRevision    = "deployment.kubernetes.io/revision"
	annRestartedAt = "kubectl.kubernetes.io/restartedAt"
)

// env is a fresh namespace on the shared control plane with an admin client.
type env struct {
	k  *testsrv.Kube
	cs kubernetes.Interface
	ns string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return envOn(t, testsrv.SharedKube(t))
}

// envOn is env in a new namespace of control plane k.
func envOn(t *testing.T, k *testsrv.Kube) *env {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", k.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "fd-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{k: k, cs: cs, ns: ns.Name}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// source makes a kube.Source for kubeconfig watching e.ns.
func (e *env) source(t *testing.T, kubeconfig string, mod ...func(*kube.Options)) *kube.Source {
	t.Helper()
	o := kube.Options{Kubeconfig: kubeconfig, Namespaces: []string{e.ns}}
	for _, f := range mod {
		f(&o)
	}
	src, err := kube.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// apiDeployment is the ops manual's nudgecampaign-api spec (k8s/production/deployment.yaml).
func apiDeployment(name, image, cause string) *appsv1.Deployment {
	d := kubefixture.Deployment(name, image, cause)
	c := &d.Spec.Template.Spec.Containers[0]
	c.Ports = []corev1.ContainerPort{{ContainerPort: 3000}}
	c.Env = []corev1.EnvVar{{Name: "NODE_ENV", Value: "production"}}
	c.Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi"), corev1.ResourceCPU: resource.MustParse("500m")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi"), corev1.ResourceCPU: resource.MustParse("1000m")},
	}
	return d
}

// create makes the deployment and waits for revision 1.
func (e *env) create(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if _, err := e.cs.AppsV1().Deployments(e.ns).Create(ctxT(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitRevision(t, d.Name, 1)
}

// rollout changes the pod template (mutate) with a change-cause, as a CI
// pipeline would, and waits until the controller made the new revision.
func (e *env) rollout(t *testing.T, name, cause string, want int64, mutate func(*corev1.PodSpec)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := e.cs.AppsV1().Deployments(e.ns).Get(ctxT(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(&d.Spec.Template.Spec)
		d.Annotations[annChangeCause] = cause
		_, err = e.cs.AppsV1().Deployments(e.ns).Update(ctxT(t), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitRevision(t, name, want)
}

func setImage(img string) func(*corev1.PodSpec) {
	return func(p *corev1.PodSpec) { p.Containers[0].Image = img }
}

// waitRevision waits until the deployment controller has observed the
// latest spec and the deployment is at revision want.
func (e *env) waitRevision(t *testing.T, name string, want int64) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) {
		var err error
		d, err = e.cs.AppsV1().Deployments(e.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		got := d.Annotations[annRevision]
		return got == fmt.Sprint(want) && d.Status.ObservedGeneration >= d.Generation,
			fmt.Sprintf("%s: revision %q (want %d), generation %d observed %d", name, got, want, d.Generation, d.Status.ObservedGeneration)
	})
	return d
}

// threeRevisions creates name with the ops manual's history: v5.0.0, v5.0.1
// (adds an env var and more memory), v5.0.2.
func (e *env) threeRevisions(t *testing.T, name string) {
	t.Helper()
	e.create(t, apiDeployment(name, "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	e.rollout(t, name, "deploy v5.0.1", 2, func(p *corev1.PodSpec) {
		p.Containers[0].Image = "nudgecampaign/api:v5.0.1"
		p.Containers[0].Env = append(p.Containers[0].Env, corev1.EnvVar{Name: "FEATURE_FLAGS", Value: "x"})
		p.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("3Gi")
	})
	e.rollout(t, name, "deploy v5.0.2 \x1b]8;;http://evil\x07click\x1b]8;;\x07", 3, setImage("nudgecampaign/api:v5.0.2"))
}

func TestHistoryAndStatus(t *testing.T) {
	e := newEnv(t)
	e.threeRevisions(t, "nudgecampaign-api")
	src := e.source(t, e.k.AdminKubeconfig)

	d, err := src.GetDeployment(ctxT(t), e.ns, "nudgecampaign-api")
	if err != nil {
		t.Fatal(err)
	}
	if d.Revision != 3 || d.Replicas != 3 || len(d.History) != 3 {
		t.Fatalf("revision %d replicas %d history %d, want 3/3/3: %+v", d.Revision, d.Replicas, len(d.History), d)
	}
	wantCauses := []string{"deploy v5.0.2 click", "deploy v5.0.1", "deploy v5.0.0"}
	wantImages := []string{"nudgecampaign/api:v5.0.2", "nudgecampaign/api:v5.0.1", "nudgecampaign/api:v5.0.0"}
	for i, r := range d.History {
		if r.Number != int64(3-i) || r.ChangeCause != wantCauses[i] || len(r.Images) != 1 || r.Images[0] != wantImages[i] {
			t.Errorf("history[%d] = %d %q %v, want %d %q %s", i, r.Number, r.ChangeCause, r.Images, 3-i, wantCauses[i], wantImages[i])
		}
		if r.ReplicaSet == "" || r.CreatedAt.IsZero() {
			t.Errorf("history[%d] lacks replicaset/creation: %+v", i, r)
		}
	}
	if !d.RolledOutAt.Equal(d.History[0].CreatedAt) {
		t.Errorf("RolledOutAt %v, want creation of revision 3's RS %v", d.RolledOutAt, d.History[0].CreatedAt)
	}
	if len(d.Images) != 1 || d.Images[0] != "nudgecampaign/api:v5.0.2" {
		t.Errorf("images %v", d.Images)
	}
	// No kubelet: nothing becomes ready, so the rollout is still progressing.
	if d.State != sources.RolloutProgressing || d.Ready != 0 || d.Message == "" {
		t.Errorf("state %s ready %d message %q, want progressing/0/some message", d.State, d.Ready, d.Message)
	}

	// The same history through Fetch, and in agreement with kubectl.
	p, err := src.Fetch(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	set := p.(*sources.RolloutSet)
	if len(set.Deployments) != 1 || set.Deployments[0].Revision != 3 || len(set.Deployments[0].History) != 3 {
		t.Fatalf("fetch: %+v", set)
	}
	if len(set.Denied) != 0 {
		t.Errorf("admin is denied: %v", set.Denied)
	}
	hist := e.k.Kubectl(t, "-n", e.ns, "rollout", "history", "deployment/nudgecampaign-api")
	for _, c := range []string{"deploy v5.0.0", "deploy v5.0.1"} {
		if !strings.Contains(hist, c) {
			t.Errorf("kubectl history lacks %q:\n%s", c, hist)
		}
	}

	// A short progress deadline stalls the rollout (pods never become
	// available); a paused deployment reports paused.
	stuck := apiDeployment("stuck", "nudgecampaign/api:v5.0.0", "")
	one := int32(1)
	stuck.Spec.ProgressDeadlineSeconds = &one
	e.create(t, stuck)
	paused := apiDeployment("paused", "nudgecampaign/api:v5.0.0", "")
	e.create(t, paused)
	if err := src.SetPaused(ctxT(t), e.ns, "paused", true); err != nil {
		t.Fatal(err)
	}
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) {
		d, err := src.GetDeployment(ctxT(t), e.ns, "stuck")
		if err != nil {
			return false, err.Error()
		}
		return d.State == sources.RolloutStalled && strings.Contains(d.Message, "progress deadline"), string(d.State) + ": " + d.Message
	})
	pd, err := src.GetDeployment(ctxT(t), e.ns, "paused")
	if err != nil {
		t.Fatal(err)
	}
	if pd.State != sources.RolloutPaused || !pd.Paused {
		t.Errorf("paused deployment: state %s paused %t", pd.State, pd.Paused)
	}
}

// executor drives the real ops Executor with src as the "kube" capability.
func executor(t *testing.T, src *kube.Source, pol ops.Policy) *ops.Executor {
	t.Helper()
	j, err := ops.OpenJournal(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	if pol.ScaleMaxChange == 0 {
		pol.ScaleMaxChange = 0.5
	}
	return ops.NewExecutor(ops.Config{
		Environment: "test", Policy: pol, Journal: j, Operator: "test@flightdeck",
		Caps: ops.Capabilities{"kube": src},
	})
}

// act plans and executes an action through the cockpit, typing the phrase.
func act(t *testing.T, ex *ops.Executor, src *kube.Source, ns, name string, kind ops.Kind, params ops.Params) (ops.Plan, ops.Result) {
	t.Helper()
	d, err := src.GetDeployment(ctxT(t), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctxT(t), ops.Request{Action: kind, Source: "kube", Deployment: &d, Params: params})
	if err != nil {
		t.Fatalf("plan %s: %v", kind, err)
	}
	return plan, ex.Execute(ctxT(t), plan, plan.Phrase)
}

// comparable is what must agree between the cockpit's twin and kubectl's:
// the pod template (labels aside: they carry each twin's name), the
// deployment annotations and the revision numbers of the history.
type comparable struct {
	template    corev1.PodTemplateSpec
	annotations map[string]string
	revisions   map[string]string // image → revision annotation of its RS
	history     map[string]string // image → revision-history annotation
	replicas    int32
}

func (e *env) snapshotOf(t *testing.T, name string) comparable {
	t.Helper()
	d, err := e.cs.AppsV1().Deployments(e.ns).Get(ctxT(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := comparable{template: *d.Spec.Template.DeepCopy(), annotations: d.Annotations,
		revisions: map[string]string{}, history: map[string]string{}, replicas: *d.Spec.Replicas}
	c.template.Labels = nil
	delete(c.template.Annotations, annRestartedAt) // compared separately
	rss, err := e.cs.AppsV1().ReplicaSets(e.ns).List(ctxT(t), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		key := rs.Spec.Template.Spec.Containers[0].Image + " " + rs.Spec.Template.Annotations[annRestartedAt]
		if rs.Spec.Template.Annotations[annRestartedAt] != "" {
			key = rs.Spec.Template.Spec.Containers[0].Image + " restarted"
		}
		c.revisions[key] = rs.Annotations[annRevision]
		c.history[key] = rs.Annotations["deployment.kubernetes.io/revision-history"]
	}
	return c
}

func diffComparable(t *testing.T, what string, got, want comparable) {
	t.Helper()
	gt, _ := json.Marshal(got.template)
	wt, _ := json.Marshal(want.template)
	if string(gt) != string(wt) {
		t.Errorf("%s: template differs from kubectl's:\ncockpit %s\nkubectl %s", what, gt, wt)
	}
	if fmt.Sprint(got.annotations) != fmt.Sprint(want.annotations) {
		t.Errorf("%s: annotations differ:\ncockpit %v\nkubectl %v", what, got.annotations, want.annotations)
	}
	if fmt.Sprint(got.revisions) != fmt.Sprint(want.revisions) || fmt.Sprint(got.history) != fmt.Sprint(want.history) {
		t.Errorf("%s: revisions differ:\ncockpit %v %v\nkubectl %v %v", what, got.revisions, got.history, want.revisions, want.history)
	}
	if got.replicas != want.replicas {
		t.Errorf("%s: replicas %d, kubectl %d", what, got.replicas, want.replicas)
	}
}

func TestUndoThroughCockpitMatchesKubectl(t *testing.T) {
	e := newEnv(t)
	e.threeRevisions(t, "api-cockpit")
	e.threeRevisions(t, "api-kubectl")
	src := e.source(t, e.k.AdminKubeconfig)
	ex := executor(t, src, ops.Policy{})

	// Preview: the template diff and a server-side dry run that stores nothing.
	before, _ := e.cs.AppsV1().Deployments(e.ns).Get(ctxT(t), "api-cockpit", metav1.GetOptions{})
	diff, dry, err := src.PreviewUndo(ctxT(t), e.ns, "api-cockpit", 0)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(diff, "\n")
	for _, want := range []string{"image nudgecampaign/api:v5.0.2 → nudgecampaign/api:v5.0.1"} {
		if !strings.Contains(joined, want) {
			t.Errorf("diff lacks %q:\n%s", want, joined)
		}
	}
	if len(dry) == 0 || !strings.Contains(dry[0], "accepted") || !strings.Contains(dry[0], "v5.0.1") {
		t.Errorf("dry run: %q", dry)
	}
	after, _ := e.cs.AppsV1().Deployments(e.ns).Get(ctxT(t), "api-cockpit", metav1.GetOptions{})
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("dry run changed the deployment: rv %s → %s", before.ResourceVersion, after.ResourceVersion)
	}
	// Rolling back two revisions shows env and resource differences too.
	diff1, _, err := src.PreviewUndo(ctxT(t), e.ns, "api-cockpit", 1)
	if err != nil {
		t.Fatal(err)
	}
	joined = strings.Join(diff1, "\n")
	for _, want := range []string{"image nudgecampaign/api:v5.0.2 → nudgecampaign/api:v5.0.0", "env -FEATURE_FLAGS", "limits.memory 3Gi → 2Gi"} {
		if !strings.Contains(joined, want) {
			t.Errorf("diff to 1 lacks %q:\n%s", want, joined)
		}
	}

	// undo (previous), through the Executor vs kubectl.
	plan, res := act(t, ex, src, e.ns, "api-cockpit", ops.Undo, ops.Params{})
	if !res.OK {
		t.Fatalf("undo: %s", res.Summary)
	}
	if plan.Params.ToRevision != 2 || plan.Phrase != "api-cockpit" || len(plan.DryRun) == 0 {
		t.Errorf("plan: to %d phrase %q dry %v", plan.Params.ToRevision, plan.Phrase, plan.DryRun)
	}
	e.k.Kubectl(t, "-n", e.ns, "rollout", "undo", "deployment/api-kubectl")
	e.waitRevision(t, "api-cockpit", 4)
	e.waitRevision(t, "api-kubectl", 4)
	diffComparable(t, "undo", e.snapshotOf(t, "api-cockpit"), e.snapshotOf(t, "api-kubectl"))
	d, _ := src.GetDeployment(ctxT(t), e.ns, "api-cockpit")
	if d.Images[0] != "nudgecampaign/api:v5.0.1" || d.History[0].ChangeCause != "deploy v5.0.1" {
		t.Errorf("after undo: images %v cause %q", d.Images, d.History[0].ChangeCause)
	}

	// undo --to-revision=1.
	if _, res := act(t, ex, src, e.ns, "api-cockpit", ops.Undo, ops.Params{ToRevision: 1}); !res.OK {
		t.Fatalf("undo to 1: %s", res.Summary)
	}
	e.k.Kubectl(t, "-n", e.ns, "rollout", "undo", "deployment/api-kubectl", "--to-revision=1")
	e.waitRevision(t, "api-cockpit", 5)
	e.waitRevision(t, "api-kubectl", 5)
	diffComparable(t, "undo --to-revision=1", e.snapshotOf(t, "api-cockpit"), e.snapshotOf(t, "api-kubectl"))

	// Both histories read the same through kubectl.
	norm := func(s string) string { return strings.ReplaceAll(s, "api-kubectl", "api-cockpit") }
	hc := e.k.Kubectl(t, "-n", e.ns, "rollout", "history", "deployment/api-cockpit")
	hk := e.k.Kubectl(t, "-n", e.ns, "rollout", "history", "deployment/api-kubectl")
	if hc != norm(hk) {
		t.Errorf("rollout history differs:\ncockpit\n%s\nkubectl\n%s", hc, hk)
	}

	// kubectl's refusals hold: a paused deployment cannot be rolled back.
	if err := src.SetPaused(ctxT(t), e.ns, "api-cockpit", true); err != nil {
		t.Fatal(err)
	}
	if err := src.Undo(ctxT(t), e.ns, "api-cockpit", 0); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Errorf("undo of paused deployment: %v", err)
	}
}

var rfc3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$`)

func TestRestartAndScaleMatchKubectl(t *testing.T) {
	e := newEnv(t)
	e.create(t, apiDeployment("api-cockpit", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	e.create(t, apiDeployment("api-kubectl", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	src := e.source(t, e.k.AdminKubeconfig)
	ex := executor(t, src, ops.Policy{ProtectedNamespaces: []string{e.ns}})

	if _, res := act(t, ex, src, e.ns, "api-cockpit", ops.Restart, ops.Params{}); !res.OK {
		t.Fatalf("restart: %s", res.Summary)
	}
	e.k.Kubectl(t, "-n", e.ns, "rollout", "restart", "deployment/api-kubectl")
	e.waitRevision(t, "api-cockpit", 2)
	e.waitRevision(t, "api-kubectl", 2)
	diffComparable(t, "restart", e.snapshotOf(t, "api-cockpit"), e.snapshotOf(t, "api-kubectl"))
	for _, n := range []string{"api-cockpit", "api-kubectl"} {
		d, _ := e.cs.AppsV1().Deployments(e.ns).Get(ctxT(t), n, metav1.GetOptions{})
		at := d.Spec.Template.Annotations[annRestartedAt]
		ts, err := time.Parse(time.RFC3339, at)
		if !rfc3339.MatchString(at) || err != nil || time.Since(ts).Abs() > 10*time.Minute {
			t.Errorf("%s restartedAt %q is not an RFC 3339 time of now (%v)", n, at, err)
		}
	}

	// Scale 3 → 4 (within ±50%) like kubectl scale.
	if _, res := act(t, ex, src, e.ns, "api-cockpit", ops.Scale, ops.Params{Replicas: 4}); !res.OK {
		t.Fatalf("scale: %s", res.Summary)
	}
	e.k.Kubectl(t, "-n", e.ns, "scale", "deployment/api-kubectl", "--replicas=4")
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		a, b := e.snapshotOf(t, "api-cockpit"), e.snapshotOf(t, "api-kubectl")
		return a.replicas == 4 && b.replicas == 4, fmt.Sprintf("replicas %d / %d", a.replicas, b.replicas)
	})
	diffComparable(t, "scale", e.snapshotOf(t, "api-cockpit"), e.snapshotOf(t, "api-kubectl"))

	// Policy: 4 → 8 is +100% (scale_max_change 0.5), 4 → 0 in a protected
	// namespace never, not even with override.
	d, _ := src.GetDeployment(ctxT(t), e.ns, "api-cockpit")
	for _, params := range []ops.Params{{Replicas: 8}, {Replicas: 0, Override: true}} {
		_, err := ex.Plan(ctxT(t), ops.Request{Action: ops.Scale, Source: "kube", Deployment: &d, Params: params})
		if !errors.Is(err, ops.ErrPolicy) {
			t.Errorf("scale to %d (override %t): %v, want policy refusal", params.Replicas, params.Override, err)
		}
	}
	if cur, _ := src.GetDeployment(ctxT(t), e.ns, "api-cockpit"); cur.Replicas != 4 {
		t.Errorf("replicas %d after refusals", cur.Replicas)
	}
}

func TestTargetChangedAfterPlan(t *testing.T) {
	e := newEnv(t)
	e.create(t, apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	e.rollout(t, "api", "deploy v5.0.1", 2, setImage("nudgecampaign/api:v5.0.1"))
	src := e.source(t, e.k.AdminKubeconfig)
	ex := executor(t, src, ops.Policy{})

	d, err := src.GetDeployment(ctxT(t), e.ns, "api")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctxT(t), ops.Request{Action: ops.Undo, Source: "kube", Deployment: &d})
	if err != nil {
		t.Fatal(err)
	}
	// Someone deploys between the plan and the confirmation.
	e.rollout(t, "api", "deploy v5.0.2", 3, setImage("nudgecampaign/api:v5.0.2"))
	res := ex.Execute(ctxT(t), plan, plan.Phrase)
	if !errors.Is(res.Err, ops.ErrTargetChanged) || !res.Refused {
		t.Fatalf("execute after change: %v (refused %t), want ErrTargetChanged", res.Err, res.Refused)
	}
	if cur, _ := src.GetDeployment(ctxT(t), e.ns, "api"); cur.Revision != 3 || cur.Images[0] != "nudgecampaign/api:v5.0.2" {
		t.Errorf("deployment was touched: revision %d images %v", cur.Revision, cur.Images)
	}
}

// docRoles returns the ClusterRole YAML blocks of the README, so the test
// proves the documented RBAC is what the source needs.
func docRoles(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "kind: ClusterRole") {
			name := regexp.MustCompile(`name: (\S+)`).FindStringSubmatch(m[1])[1]
			out[name] = m[1]
		}
	}
	if out["flightdeck-read"] == "" || out["flightdeck-operate"] == "" {
		t.Fatalf("README.md lacks the flightdeck-read / flightdeck-operate ClusterRoles: %v", out)
	}
	return out
}

func (e *env) bindLimited(t *testing.T, role string) {
	t.Helper()
	roles := docRoles(t)
	if out, err := e.k.KubectlAs(e.k.AdminKubeconfig, roles[role], "apply", "-f", "-"); err != nil {
		t.Fatalf("apply %s: %v\n%s", role, err, out)
	}
	e.k.Kubectl(t, "-n", e.ns, "create", "rolebinding", "limited-"+role, "--clusterrole="+role, "--user="+testsrv.KubeLimitedUser)
}

func TestLimitedUserDeniedAndForbidden(t *testing.T) {
	e := newEnv(t)
	e.create(t, apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	e.rollout(t, "api", "deploy v5.0.1", 2, setImage("nudgecampaign/api:v5.0.1"))
	src := e.source(t, e.k.LimitedKubeconfig)

	// No binding at all: the read fails with a clear 403.
	if _, err := src.Fetch(ctxT(t)); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("fetch without rights: %v, want forbidden", err)
	}

	// Read-only: the pane works, every action is denied with the reason.
	e.bindLimited(t, "flightdeck-read")
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) { // RBAC caches settle within a moment
		_, err := src.Fetch(ctxT(t))
		return err == nil, fmt.Sprint(err)
	})
	p, err := src.Fetch(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	set := p.(*sources.RolloutSet)
	if len(set.Deployments) != 1 {
		t.Fatalf("deployments: %+v", set.Deployments)
	}
	denied := set.Denied[e.ns]
	for _, a := range []string{"undo", "restart", "scale", "pause", "resume"} {
		if denied[a] == "" {
			t.Errorf("action %s not denied: %v", a, denied)
		}
	}
	want := "forbidden: user limited cannot patch deployments in namespace " + e.ns
	if denied["restart"] != want {
		t.Errorf("restart denied %q, want %q", denied["restart"], want)
	}
	if !strings.Contains(denied["scale"], "patch deployments/scale") {
		t.Errorf("scale denied %q", denied["scale"])
	}

	// An execution attempt anyway: the API server's 403, as a clear failure.
	ex := executor(t, src, ops.Policy{})
	_, res := act(t, ex, src, e.ns, "api", ops.Restart, ops.Params{})
	if res.OK || res.Refused || res.Err == nil || !strings.HasPrefix(res.Err.Error(), "forbidden: ") {
		t.Fatalf("restart as limited: ok %t refused %t err %v", res.OK, res.Refused, res.Err)
	}
	if err := src.Scale(ctxT(t), e.ns, "api", 4); err == nil || !strings.HasPrefix(err.Error(), "forbidden: ") {
		t.Errorf("scale as limited: %v", err)
	}
	d, _ := src.GetDeployment(ctxT(t), e.ns, "api")
	if _, err := ex.Plan(ctxT(t), ops.Request{Action: ops.Undo, Source: "kube", Deployment: &d}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("undo plan (dry run) as limited: %v, want forbidden", err)
	}

	// The documented acting role is enough for every action.
	e.bindLimited(t, "flightdeck-operate")
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		p, err := src.Fetch(ctxT(t))
		if err != nil {
			return false, err.Error()
		}
		d := p.(*sources.RolloutSet).Denied[e.ns]
		return len(d) == 0, fmt.Sprint(d)
	})
	if _, res := act(t, ex, src, e.ns, "api", ops.Undo, ops.Params{}); !res.OK {
		t.Errorf("undo with flightdeck-operate: %s", res.Summary)
	}
	// Until the controller stamps revision 3, a new plan would see revision
	// 2 and (rightly) be refused as changed at execution.
	e.waitRevision(t, "api", 3)
	if _, res := act(t, ex, src, e.ns, "api", ops.Scale, ops.Params{Replicas: 4}); !res.OK {
		t.Errorf("scale with flightdeck-operate: %s", res.Summary)
	}
}

// collector records what Run publishes.
type collector struct {
	mu   sync.Mutex
	pubs []published
}

type published struct {
	set *sources.RolloutSet
	err error
}

func (c *collector) publish(p sources.Payload, err error) {
	var set *sources.RolloutSet
	if p != nil {
		set = p.(*sources.RolloutSet)
	}
	c.mu.Lock()
	c.pubs = append(c.pubs, published{set, err})
	c.mu.Unlock()
}

// waitPub waits for a publish after index from that satisfies ok; it
// returns the index after the match.
func (c *collector) waitPub(t *testing.T, from int, timeout time.Duration, ok func(published) bool, what string) int {
	t.Helper()
	idx := -1
	testsrv.WaitFor(t, timeout, func() (bool, string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i := from; i < len(c.pubs); i++ {
			if ok(c.pubs[i]) {
				idx = i + 1
				return true, ""
			}
		}
		return false, fmt.Sprintf("no publish with %s among %d", what, len(c.pubs))
	})
	return idx
}

func hasDeployment(name string, rev int64) func(published) bool {
	return func(p published) bool {
		if p.set == nil {
			return false
		}
		for _, d := range p.set.Deployments {
			if d.Name == name && d.Revision == rev && len(d.History) == int(rev) {
				return true
			}
		}
		return false
	}
}

func TestRunPublishesChanges(t *testing.T) {
	e := newEnv(t)
	e.create(t, apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	src := e.source(t, e.k.AdminKubeconfig, func(o *kube.Options) { o.ProtectedNamespaces = []string{e.ns} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var c collector
	go func() { defer close(done); src.Run(ctx, c.publish) }()
	t.Cleanup(func() { cancel(); <-done })

	n := c.waitPub(t, 0, 30*time.Second, hasDeployment("api", 1), "api rev 1")
	c.mu.Lock()
	first := c.pubs[n-1].set
	c.mu.Unlock()
	if len(first.Protected) != 1 || first.Context == "" {
		t.Errorf("set metadata: protected %v context %q", first.Protected, first.Context)
	}
	// A new rollout shows up in a publish within about a second (bounded by
	// a generous deadline for a loaded machine, not asserted).
	e.rollout(t, "api", "deploy v5.0.1", 2, setImage("nudgecampaign/api:v5.0.1"))
	n = c.waitPub(t, n, 30*time.Second, hasDeployment("api", 2), "api rev 2")
	e.create(t, apiDeployment("worker", "nudgecampaign/worker:v1", "deploy worker"))
	c.waitPub(t, n, 30*time.Second, hasDeployment("worker", 1), "worker")
}

func TestHubKeepsDataWhileAPIServerIsDownAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the API server")
	}
	e := newEnv(t)
	e.create(t, apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	src := e.source(t, e.k.AdminKubeconfig)
	hub := sources.NewHub(nil)
	hub.Add(src, sources.PollOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	hub.Start(ctx)
	t.Cleanup(func() { cancel(); hub.Wait() })
	latest := func() sources.Snapshot { return hub.Latest()[0] }

	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		s := latest()
		return s.Data != nil && s.Err == nil, fmt.Sprintf("data %v err %v", s.Data != nil, s.Err)
	})
	e.k.StopAPIServer()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = e.k.StartAPIServer()
		}
	})
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		s := latest()
		return s.Err != nil && s.Stale && s.Data != nil, fmt.Sprintf("err %v stale %t", s.Err, s.Stale)
	})
	t.Logf("while down: %v", latest().Err)
	if err := e.k.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	// A change made after the restart proves the watches are live again.
	e.rollout(t, "api", "deploy v5.0.1", 2, setImage("nudgecampaign/api:v5.0.1"))
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		s := latest()
		if s.Err != nil || s.Stale || s.Data == nil {
			return false, fmt.Sprintf("err %v stale %t", s.Err, s.Stale)
		}
		ds := s.Data.(*sources.RolloutSet).Deployments
		return len(ds) == 1 && ds[0].Revision == 2, fmt.Sprintf("%+v", ds)
	})
}

func TestSelectorAndAllNamespaces(t *testing.T) {
	e := newEnv(t)
	api := apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0")
	api.Labels = map[string]string{"tier": "backend", "suite": e.ns}
	e.create(t, api)
	e.create(t, apiDeployment("web", "nudgecampaign/web:v1", "deploy web"))
	e.rollout(t, "api", "deploy v5.0.1", 2, setImage("nudgecampaign/api:v5.0.1"))

	// The selector filters Deployments only: api keeps its full history
	// although its ReplicaSets do not carry the tier label.
	src := e.source(t, e.k.AdminKubeconfig, func(o *kube.Options) {
		o.Namespaces = []string{kube.AllNamespaces}
		o.Selector = "tier=backend,suite=" + e.ns
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var c collector
	go func() { defer close(done); src.Run(ctx, c.publish) }()
	t.Cleanup(func() { cancel(); <-done })
	n := c.waitPub(t, 0, 30*time.Second, hasDeployment("api", 2), "api rev 2 across namespaces")
	c.mu.Lock()
	set := c.pubs[n-1].set
	c.mu.Unlock()
	if len(set.Deployments) != 1 || set.Deployments[0].Namespace != e.ns {
		t.Errorf("selector let through %+v", set.Deployments)
	}
	p, err := src.Fetch(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if ds := p.(*sources.RolloutSet).Deployments; len(ds) != 1 || len(ds[0].History) != 2 {
		t.Errorf("fetch with selector: %+v", ds)
	}
}

func TestBadTokenIsUnauthorized(t *testing.T) {
	e := newEnv(t)
	b, err := os.ReadFile(e.k.LimitedKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.kubeconfig")
	if err := os.WriteFile(bad, []byte(strings.ReplaceAll(string(b), testsrv.KubeLimitedToken, "expired-token")), 0o600); err != nil {
		t.Fatal(err)
	}
	src := e.source(t, bad)
	_, err = src.Fetch(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), "unauthorized") || strings.Contains(err.Error(), "expired-token") {
		t.Fatalf("fetch with a bad token: %v, want unauthorized without the token", err)
	}
	// Run publishes the same error (no data yet) instead of hanging silently.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var c collector
	go func() { defer close(done); src.Run(ctx, c.publish) }()
	t.Cleanup(func() { cancel(); <-done })
	c.waitPub(t, 0, 60*time.Second, func(p published) bool {
		return p.set == nil && p.err != nil && strings.Contains(p.err.Error(), "unauthorized")
	}, "an unauthorized error")
}

// After a rollback the reused ReplicaSet keeps its old creation time; the
// pane must still say the rollout just happened, not days ago.
func TestRolledOutAtAfterUndoIsWhenItHappened(t *testing.T) {
	e := newEnv(t)
	e.create(t, apiDeployment("api", "nudgecampaign/api:v5.0.0", "deploy v5.0.0"))
	e.rollout(t, "api", "deploy v5.0.1", 2, setImage("nudgecampaign/api:v5.0.1"))
	// The source's clock runs two days ahead, so "when it was seen" and
	// "when the ReplicaSet was created" cannot be confused.
	later := time.Now().Add(48 * time.Hour)
	src := e.source(t, e.k.AdminKubeconfig, func(o *kube.Options) { o.Now = func() time.Time { return later } })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var c collector
	go func() { defer close(done); src.Run(ctx, c.publish) }()
	t.Cleanup(func() { cancel(); <-done })
	n := c.waitPub(t, 0, 30*time.Second, hasDeployment("api", 2), "api rev 2")

	ex := executor(t, src, ops.Policy{})
	if _, res := act(t, ex, src, e.ns, "api", ops.Undo, ops.Params{}); !res.OK {
		t.Fatalf("undo: %+v", res)
	}
	var got sources.Deployment
	c.waitPub(t, n, 30*time.Second, func(p published) bool {
		if p.set == nil {
			return false
		}
		for _, d := range p.set.Deployments {
			if d.Name == "api" && d.Revision == 3 {
				got = d
				return true
			}
		}
		return false
	}, "api rev 3")
	if !got.RolledOutAt.Equal(later) {
		t.Fatalf("RolledOutAt = %v, want the moment the rollback was seen (%v)", got.RolledOutAt, later)
	}
}
