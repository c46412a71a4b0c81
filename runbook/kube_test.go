package runbook_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"flightdeck/internal/kubefixture"
	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/sources/kube"
)

const ns = "production"

// kubelet stands in for the kubelet the test control plane lacks: it marks
// every pod Running and Ready a little after it is created, so rolling
// updates progress (and take a while) as on a cluster.
func kubelet(ctx context.Context, cs kubernetes.Interface) {
	for ctx.Err() == nil {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, p := range pods.Items {
				if p.Status.Phase == corev1.PodRunning || time.Since(p.CreationTimestamp.Time) < 700*time.Millisecond {
					continue
				}
				now := metav1.Now()
				p.Status.Phase = corev1.PodRunning
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
				_, _ = cs.CoreV1().Pods(ns).UpdateStatus(ctx, &p, metav1.UpdateOptions{})
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func waitComplete(t *testing.T, cs kubernetes.Interface, name string, revision string) {
	t.Helper()
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		st := d.Status
		ok := d.Annotations["deployment.kubernetes.io/revision"] == revision && st.ObservedGeneration >= d.Generation &&
			st.UpdatedReplicas == 3 && st.Replicas == 3 && st.AvailableReplicas == 3
		return ok, name + " not rolled out: " + d.Annotations["deployment.kubernetes.io/revision"]
	})
}

// The high-error-rate runbook's rollback against a real kube-apiserver and
// deployment controller: the step's effect equals `kubectl rollout undo` on
// a twin deployment, and the verify after it waits for the rollout to
// complete. The test's runbook is the shipped one with that verify's
// condition made the rollout's (there is no Prometheus here).
func TestKubeRollbackStep(t *testing.T) {
	k := testsrv.StartKube(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", k.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	go kubelet(ctx, cs)
	for _, name := range []string{"nudgecampaign-api", "twin-api"} {
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, kubefixture.Deployment(name, "nudgecampaign/api:v5.0.0", "deploy v5.0.0"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitComplete(t, cs, name, "1")
		k.Kubectl(t, "-n", ns, "set", "image", "deployment/"+name, "api=nudgecampaign/api:v5.1.0")
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Annotations["kubernetes.io/change-cause"] = "deploy v5.1.0: batch contact import"
			_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitComplete(t, cs, name, "2")
	}

	src, err := kube.New(kube.Options{Kubeconfig: k.AdminKubeconfig, Namespaces: []string{ns}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, time.Now, func() { time.Sleep(100 * time.Millisecond) }, []sources.Source{src},
		ops.Capabilities{src.Name(): src}, ops.DefaultPolicy())

	data, err := os.ReadFile(filepath.Join("builtin", "high-error-rate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const errorRateFalls = `expr: slo("availability").burn("5m") < 1 || !active("HighErrorRate")`
	if !strings.Contains(string(data), errorRateFalls) {
		t.Fatal("the shipped runbook's verify changed; update this test")
	}
	rb, err := runbook.Load("test.yaml", []byte(strings.Replace(string(data), errorRateFalls,
		`expr: rollout("production/nudgecampaign-api").complete`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	d.start(rb, nil)
	recent := stepIndex(t, rb, "A deploy went out")
	undo := stepIndex(t, rb, "Roll back the recent deploy")
	verify := stepIndex(t, rb, "The error rate falls")
	d.do(recent)
	if v := d.view(recent); v.State != runbook.OK {
		t.Fatalf("recent deploy check: %+v", v)
	}
	if v := d.view(undo); v.Live != runbook.True || len(v.Targets) != 1 || v.Targets[0] != "target roll back production/nudgecampaign-api revision 2 → 1" {
		t.Fatalf("undo preview: %+v", v)
	}
	// Plan → confirm by typing the deployment's name → execute.
	d.do(undo)
	res := d.results[undo]
	if !res.OK || res.Plan.Phrase != "nudgecampaign-api" || res.Plan.Params.ToRevision != 1 {
		t.Fatalf("undo: %+v", res)
	}
	k.Kubectl(t, "-n", ns, "rollout", "undo", "deployment/twin-api")

	// The verify waits while the rolling update runs, then passes.
	waited := 0
	for d.observe(); d.view(verify).State == runbook.Waiting; d.observe() {
		waited++
		if waited == 600 {
			t.Fatalf("verify still waiting: %+v", d.view(verify))
		}
	}
	if v := d.view(verify); v.State != runbook.OK || waited == 0 {
		t.Fatalf("verify: %+v after %d polls", v, waited)
	}
	if out := k.Kubectl(t, "-n", ns, "rollout", "status", "deployment/nudgecampaign-api", "--timeout=1s"); !strings.Contains(out, "successfully rolled out") {
		t.Errorf("rollout status when the verify passed: %s", out)
	}
	t.Logf("verify waited %d polls", waited)

	waitComplete(t, cs, "twin-api", "3")
	spec := func(name string) (string, map[string]string) {
		dep, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(dep.Spec.Template.Spec)
		return string(b), dep.Annotations
	}
	cSpec, cAnn := spec("nudgecampaign-api")
	kSpec, kAnn := spec("twin-api")
	if cSpec != kSpec || cAnn["deployment.kubernetes.io/revision"] != kAnn["deployment.kubernetes.io/revision"] ||
		cAnn["kubernetes.io/change-cause"] != kAnn["kubernetes.io/change-cause"] {
		t.Errorf("runbook's rollback differs from kubectl's:\nrunbook %s %v\nkubectl %s %v", cSpec, cAnn, kSpec, kAnn)
	}
	hc := k.Kubectl(t, "-n", ns, "rollout", "history", "deployment/nudgecampaign-api")
	hk := k.Kubectl(t, "-n", ns, "rollout", "history", "deployment/twin-api")
	if hc != strings.ReplaceAll(hk, "twin-api", "nudgecampaign-api") {
		t.Errorf("rollout history differs:\nrunbook\n%s\nkubectl\n%s", hc, hk)
	}
	got := strings.Join(phases(d.records()), " ")
	if want := "run_start run_step:check:ok intent:undo: outcome:undo:ok run_step:action:ok run_step:verify:waiting run_step:verify:ok"; got != want {
		t.Errorf("journal:\n got %s\nwant %s", got, want)
	}
}
