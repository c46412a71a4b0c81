package world

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/config"
	"flightdeck/internal/testsrv"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/ui"
	"flightdeck/ui/kit"
)

// The shipped High Error Rate runbook's logs step, in a cockpit on a real
// kube-apiserver with kwok running the API's pods: the lines written for
// the pods reach the screen through pods/log, narrowed to the errors by
// the step's filter.
func TestHighErrorRateLogsStepOnKwok(t *testing.T) {
	k := testsrv.StartKube(t)
	kw := testsrv.StartKwok(t, k)
	k.Kubectl(t, "create", "namespace", "production")
	dep := `apiVersion: apps/v1
kind: Deployment
metadata: {name: nudgecampaign-api, namespace: production}
spec:
  replicas: 2
  selector: {matchLabels: {app: nudgecampaign-api}}
  template:
    metadata: {labels: {app: nudgecampaign-api}}
    spec:
      nodeName: ` + testsrv.KwokNode + `
      containers: [{name: api, image: "nudgecampaign/api:v5.1.0"}]
`
	if out, err := k.KubectlAs(k.AdminKubeconfig, dep, "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var pods []string
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) {
		out, _ := k.KubectlAs(k.AdminKubeconfig, "", "-n", "production", "get", "pods", "--field-selector=status.phase=Running",
			"-o", "jsonpath={.items[*].metadata.name}")
		pods = strings.Fields(out)
		return len(pods) == 2, "2 running pods: " + out
	})
	at := time.Now().Add(-time.Minute).UTC()
	for i, p := range pods {
		file := filepath.Join(kw.Dir, p+".log")
		lines := fmt.Sprintf("%s stdout F GET /healthz 200 1ms\n%s stdout F POST /api/contacts/import 500 error: batch import failed (pod %d)\n",
			at.Format(time.RFC3339Nano), at.Add(time.Duration(i+1)*time.Millisecond).Format(time.RFC3339Nano), i)
		if err := os.WriteFile(file, []byte(lines), 0o644); err != nil {
			t.Fatal(err)
		}
		logs := fmt.Sprintf("apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Logs\nmetadata: {name: %s, namespace: production}\nspec:\n  logs: [{containers: [api], logsFile: %s, follow: true}]\n", p, file)
		if out, err := k.KubectlAs(k.AdminKubeconfig, logs, "apply", "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("environment: production\naudit: {path: %s}\nkubernetes: {kubeconfig: %s, namespaces: [production]}\n",
		filepath.Join(dir, "audit.jsonl"), k.AdminKubeconfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Build(ctx, cfg, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); w.Wait(); w.Close() }()
	w.Start()
	opts, err := w.NewSession(SessionInfo{Context: ctx, User: "oncall"})
	if err != nil {
		t.Fatal(err)
	}
	m := ui.New(opts.Options())
	update := func(msg tea.Msg) tea.Cmd {
		mm, cmd := m.Update(msg)
		m = mm.(ui.Model)
		return cmd
	}
	update(tea.WindowSizeMsg{Width: 160, Height: 40})
	// The snapshots, until the deployment and its selector are known.
	for seen := false; !seen; {
		c, stop := context.WithTimeout(ctx, 30*time.Second)
		snaps, err := opts.Data.Updates.Next(c)
		stop()
		if err != nil {
			t.Fatalf("no rollouts snapshot: %v", err)
		}
		update(kit.SnapshotsMsg{Snapshots: snaps})
		for _, s := range snaps {
			if set, ok := s.Data.(*sources.RolloutSet); ok {
				seen = slices.ContainsFunc(set.Deployments, func(d sources.Deployment) bool { return d.Selector == "app=nudgecampaign-api" })
			}
		}
	}

	rb := w.runbooks.Get("high-error-rate")
	step := slices.IndexFunc(rb.Steps, func(s runbook.Step) bool { return s.Pane == runbook.LogsPane })
	if step < 0 {
		t.Fatal("the shipped High Error Rate runbook has no logs step")
	}
	run, _ := runbook.Start(rb, nil, "oncall", w.policy, time.Now())
	d, _ := run.Do(step, time.Now())
	if d.Kind != runbook.DoFocus || d.Target != "production/nudgecampaign-api" {
		t.Fatalf("directive %+v", d)
	}

	// What the run view sends, then the log reading's Cmds as Bubble Tea
	// would run them, until the lines are on screen.
	msgs := make(chan tea.Msg, 16)
	var exec func(tea.Cmd)
	exec = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		go func() {
			switch msg := cmd().(type) {
			case nil:
			case tea.BatchMsg:
				for _, c := range msg {
					exec(c)
				}
			default:
				msgs <- msg
			}
		}()
	}
	exec(update(kit.ShowLogsMsg{Target: d.Target, Filter: d.Filter}))
	screen := func() string { return ansi.Strip(m.Render()) }
	deadline := time.After(60 * time.Second)
	for {
		scr := screen()
		if strings.Contains(scr, "error: batch import failed (pod 0)") && strings.Contains(scr, "error: batch import failed (pod 1)") {
			if strings.Contains(scr, "GET /healthz") || !strings.Contains(scr, "Logs · production/nudgecampaign-api") {
				t.Fatalf("the filter let through other lines, or no log view:\n%s", scr)
			}
			break
		}
		select {
		case msg := <-msgs:
			exec(update(msg))
		case <-deadline:
			t.Fatalf("the pods' lines never reached the screen:\n%s\nkwok:\n%s", scr, kw.LogTail())
		}
	}
}
