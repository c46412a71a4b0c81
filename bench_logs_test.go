package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
	"flightdeck/sources/kube"
)

// BenchmarkFollowLogsBesideKubectl follows a 10-pod deployment (kwok's pods
// on a real kube-apiserver) written at 1,000 lines/s in total, for 10 s
// each: flightdeck's reader (the kube source's ReadLogs: a stream per
// container, parsing, sanitizing, merging into batches; the log view's
// per-batch cost is ui/views/logs BenchmarkFollowTenPods'), then `kubectl
// logs -f -l … --prefix` doing the same, and reports each one's CPU per
// second of following (streams already open) and the ratio (README
// "Performance"). The writer's own CPU, measured alone first, is taken out
// of flightdeck's (they share the process). One run whatever b.N: it is a
// measurement, needing the kube binaries and kwok (make test builds them).
func BenchmarkFollowLogsBesideKubectl(b *testing.B) {
	const pods, perPod, span = 10, 100, 10 * time.Second
	k := testsrv.StartKube(b)
	kw := testsrv.StartKwok(b, k)
	k.Kubectl(b, "create", "namespace", "bench")
	dep := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: bench}
spec:
  replicas: %d
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      nodeName: %s
      containers: [{name: api, image: "nudgecampaign/api:v5.1.0"}]
`, pods, testsrv.KwokNode)
	if out, err := k.KubectlAs(k.AdminKubeconfig, dep, "apply", "-f", "-"); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	var names []string
	testsrv.WaitFor(b, 90*time.Second, func() (bool, string) {
		out, _ := k.KubectlAs(k.AdminKubeconfig, "", "-n", "bench", "get", "pods", "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")
		names = strings.Fields(out)
		return len(names) == pods, out
	})
	files := make([]*os.File, pods)
	for i, p := range names {
		path := filepath.Join(kw.Dir, p+".log")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		files[i] = f
		y := fmt.Sprintf("apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Logs\nmetadata: {name: %s, namespace: bench}\nspec:\n  logs: [{logsFile: %s, follow: true}]\n", p, path)
		if out, err := k.KubectlAs(k.AdminKubeconfig, y, "apply", "-f", "-"); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
	// write appends perPod lines a second to every pod's file for span.
	write := func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		end := time.Now().Add(span)
		for n := 0; time.Now().Before(end); n++ {
			<-tick.C
			now := time.Now().UTC()
			for _, f := range files {
				var sb strings.Builder
				for j := 0; j < perPod/10; j++ {
					fmt.Fprintf(&sb, "%s stdout F POST /api/contacts/import 200 %dms request_id=%08x\n", now.Add(time.Duration(j)*time.Microsecond).Format(time.RFC3339Nano), j, n*100+j)
				}
				f.WriteString(sb.String())
			}
		}
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}

	// The writer alone.
	c0 := cpu()
	write()
	writer := cpu() - c0

	// flightdeck: the kube source's reader, each batch through the work
	// the log view does with it (tag, classify, keep within the cap).
	cfg, err := clientcmd.BuildConfigFromFlags("", k.AdminKubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	src, err := kube.NewForConfig(cfg, kube.Options{Namespaces: []string{"bench"}})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	lines := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.ReadLogs(ctx, sources.LogQuery{Namespace: "bench", Selector: "app=api", Tail: 1, Follow: true}, func(bt sources.LogBatch) {
			mu.Lock()
			lines += len(bt.Lines)
			mu.Unlock()
		})
	}()
	time.Sleep(2 * time.Second) // the streams open
	c1 := cpu()
	write()
	time.Sleep(time.Second) // the last lines arrive
	ours := cpu() - c1 - writer
	cancel()
	<-done

	// kubectl, the same selector, prefixed, every pod at once.
	kc := exec.Command(filepath.Join(k.BinDir, "kubectl"), "--kubeconfig="+k.AdminKubeconfig, "-n", "bench", "logs", "-f",
		"-l", "app=api", "--prefix", "--tail=1", fmt.Sprintf("--max-log-requests=%d", pods))
	if err := kc.Start(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	k0 := procCPU(b, kc.Process.Pid)
	write()
	time.Sleep(time.Second)
	kubectl := procCPU(b, kc.Process.Pid) - k0
	kc.Process.Signal(syscall.SIGTERM)
	kc.Wait()

	secs := span.Seconds()
	b.ReportMetric(float64(ours.Milliseconds())/secs, "flightdeck-cpu-ms/s")
	b.ReportMetric(float64(kubectl.Milliseconds())/secs, "kubectl-cpu-ms/s")
	if kubectl > 0 {
		b.ReportMetric(float64(ours)/float64(kubectl), "ratio")
	}
	b.ReportMetric(float64(lines)/secs, "lines/s")
}

// procCPU is a process's user and system CPU so far (/proc/pid/stat, in
// clock ticks of 10 ms).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command (which may hold spaces), from the state on.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
