package testsrv

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// KwokVersion is the kwok release scripts/kwok-bin.sh builds.
const KwokVersion = "v0.8.0"

// KwokNode is the simulated node kwok manages; pods that set this
// nodeName (there is no scheduler) are "run" by kwok.
const KwokNode = "kwok-node"

// The CRDs of kwok's Logs and ClusterLogs resources, from
// sigs.k8s.io/kwok v0.8.0 (kustomize/crd/bases, Apache-2.0).
var (
	//go:embed testdata/kwok/kwok.x-k8s.io_logs.yaml
	kwokLogsCRD string
	//go:embed testdata/kwok/kwok.x-k8s.io_clusterlogs.yaml
	kwokClusterLogsCRD string
	// kwokStages are its fast node and pod stages: nodes ready at once,
	// pods running once bound, deleted pods gone.
	//go:embed testdata/kwok/stages.yaml
	kwokStages string
)

// Kwok is sigs.k8s.io/kwok running against a Kube: it manages KwokNode,
// makes the pods bound to it Running, and serves their logs through the
// kubelet endpoint the API server proxies pods/log to, from the files
// its Logs resources name (Dir is for them).
type Kwok struct {
	// Dir is where tests write the log files (CRI format: "<RFC3339Nano>
	// stdout F <text>" per line).
	Dir  string
	proc *Proc
}

// KwokBin finds kwok: $FLIGHTDECK_KWOK_BIN, else scripts/kwok-bin.sh's
// cache path.
func KwokBin() (string, error) {
	bin := os.Getenv("FLIGHTDECK_KWOK_BIN")
	if bin == "" {
		cache := os.Getenv("FLIGHTDECK_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "flightdeck")
		}
		bin = filepath.Join(cache, "kwok-"+KwokVersion, "kwok")
	}
	if _, err := exec.LookPath(bin); err != nil {
		return "", fmt.Errorf("kwok not found at %s (run scripts/kwok-bin.sh)", bin)
	}
	return bin, nil
}

// StartKwok runs kwok against k until the test ends; the node is ready
// when it returns. One at a time per control plane: kwok manages every
// node.
func StartKwok(t testing.TB, k *Kube) *Kwok {
	t.Helper()
	bin, err := KwokBin()
	if err != nil {
		Unavailable(t, "%v", err)
	}
	for _, crd := range []string{kwokLogsCRD, kwokClusterLogsCRD} {
		if out, err := k.KubectlAs(k.AdminKubeconfig, crd, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply kwok CRD: %v\n%s", err, out)
		}
	}
	node := `apiVersion: v1
kind: Node
metadata:
  name: ` + KwokNode + `
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {type: kwok}
`
	if out, err := k.KubectlAs(k.AdminKubeconfig, node, "apply", "-f", "-"); err != nil {
		t.Fatalf("create node: %v\n%s", err, out)
	}
	port := FreePort(t)
	w := &Kwok{Dir: t.TempDir()}
	stages := filepath.Join(w.Dir, "stages.yaml")
	if err := os.WriteFile(stages, []byte(kwokStages), 0o644); err != nil {
		t.Fatal(err)
	}
	w.proc, err = Launch(filepath.Join(w.Dir, "kwok.log"), exec.Command(bin,
		"--kubeconfig="+k.AdminKubeconfig,
		"--manage-all-nodes=true",
		"--enable-crds=Logs,ClusterLogs",
		"--server-address=127.0.0.1:"+strconv.Itoa(port),
		"--node-ip=127.0.0.1", "--node-port="+strconv.Itoa(port),
		// The API server reaches the "kubelet" over TLS; it does not verify
		// the certificate (no --kubelet-certificate-authority).
		"--tls-cert-file="+filepath.Join(k.Dir, "serving.crt"),
		"--tls-private-key-file="+filepath.Join(k.Dir, "serving.key"),
		"--config="+stages,
	))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.proc.Stop(syscall.SIGTERM, 10*time.Second) })
	WaitFor(t, 60*time.Second, func() (bool, string) {
		if w.proc.Exited() {
			t.Fatalf("kwok exited:\n%s", w.proc.LogTail(4000))
		}
		out, err := k.KubectlAs(k.AdminKubeconfig, "", "get", "node", KwokNode,
			"-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status} {.status.daemonEndpoints.kubeletEndpoint.Port}")
		return err == nil && out == "True "+strconv.Itoa(port), "node ready with kwok's port: " + out
	})
	return w
}

// LogTail is the end of kwok's own log, for failure messages.
func (w *Kwok) LogTail() string { return w.proc.LogTail(4000) }
