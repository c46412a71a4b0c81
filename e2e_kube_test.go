package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
)

// TestLiveRolloutUndoAndScale is the Kubernetes issue's "done means" through
// the real binary against a real kube-apiserver and controller manager: the
// Rollouts pane lists the deployment with its history, a new rollout shows
// up by itself, and undo and scale from the cockpit (typed deployment name,
// production tier) change the cluster as kubectl would and are journalled.
func TestLiveRolloutUndoAndScale(t *testing.T) {
	k := testsrv.StartKube(t)
	k.Kubectl(t, "create", "namespace", "production")
	k.Kubectl(t, "-n", "production", "create", "deployment", "nudgecampaign-api", "--image=nudgecampaign/api:v5.0.0", "--replicas=4")
	k.Kubectl(t, "-n", "production", "annotate", "deployment/nudgecampaign-api", "kubernetes.io/change-cause=deploy v5.0.0")
	waitKube(t, k, "revision 1", "-n", "production", "get", "rs", "-o", "jsonpath={.items[*].metadata.annotations.deployment\\.kubernetes\\.io/revision}", "1")

	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.jsonl")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("environment: production\naudit: {path: %s}\nkubernetes: {kubeconfig: %s, namespaces: [production]}\n", audit, k.AdminKubeconfig)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTmux(t, []string{"XDG_STATE_HOME=" + dir}, buildBinary(t), "--config", cfgPath)
	s.keys("4")
	s.waitFor("the deployment", contains("DEPLOYMENT (production)", "nudgecampaign-api", " ago"))

	// A new rollout appears by itself (informers, no refresh key).
	k.Kubectl(t, "-n", "production", "set", "image", "deployment/nudgecampaign-api", "api=nudgecampaign/api:v5.1.0")
	k.Kubectl(t, "-n", "production", "annotate", "--overwrite", "deployment/nudgecampaign-api", "kubernetes.io/change-cause=deploy v5.1.0: batch contact import")
	s.keys("enter")
	s.waitFor("revision 2 in the history", contains("deploy v5.1.0: batch contact import", "deploy v5.0.0"))
	s.keys("esc")
	time.Sleep(300 * time.Millisecond) // let esc stand alone so it is not read as alt+<next key>

	s.keys("u")
	s.waitFor("the undo plan", contains("to revision 1", "nudgecampaign-api"))
	time.Sleep(500 * time.Millisecond) // the dialog ignores keys for its first 400 ms, by design
	s.text("nudgecampaign-api")
	s.keys("Enter")
	s.waitFor("the undo result", contains("revision 1: done"))
	waitKube(t, k, "image back to v5.0.0", "-n", "production", "get", "deploy", "nudgecampaign-api", "-o", "jsonpath={.spec.template.spec.containers[0].image}", "nudgecampaign/api:v5.0.0")
	waitKube(t, k, "revision 3", "-n", "production", "get", "deploy", "nudgecampaign-api", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}", "3")

	// Scale 4 → 6 (within ±50%): the form is prefilled with the current count.
	s.waitFor("revision 3 on screen", func(scr string) bool { return strings.Contains(scr, " 3 ") })
	s.keys("S")
	s.waitFor("the scale form", contains("replicas"))
	time.Sleep(500 * time.Millisecond) // a form that can submit ignores keys for its first 400 ms, by design
	s.keys("BSpace")
	s.text("6")
	s.keys("Enter")
	s.waitFor("the scale plan", contains("4 → 6"))
	time.Sleep(500 * time.Millisecond)
	s.text("nudgecampaign-api")
	s.keys("Enter")
	s.waitFor("the scale result", contains(": done"))
	waitKube(t, k, "6 replicas", "-n", "production", "get", "deploy", "nudgecampaign-api", "-o", "jsonpath={.spec.replicas}", "6")

	recs, err := ops.ReadJournal(audit)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Action)+":"+r.Phase+":"+r.Outcome)
	}
	if strings.Join(got, " ") != "undo:intent: undo:outcome:ok scale:intent: scale:outcome:ok" {
		t.Fatalf("journal = %v", got)
	}
	s.keys("q")
}

// waitKube polls kubectl until its output equals want.
func waitKube(t *testing.T, k *testsrv.Kube, what string, args ...string) {
	t.Helper()
	want := args[len(args)-1]
	args = args[:len(args)-1]
	deadline := time.Now().Add(60 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out, _ = k.KubectlAs(k.AdminKubeconfig, "", args...)
		if strings.TrimSpace(out) == want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: kubectl %v = %q, want %q", what, args, out, want)
}
