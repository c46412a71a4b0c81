package runbook

import (
	"strings"
	"testing"

	"flightdeck/ops"
	"flightdeck/sources"
)

const logsBook = `name: logs-book
title: Logs
steps:
  - kind: view
    title: Check error logs
    pane: logs
    target: production/nudgecampaign-api
    filter: "/ 5\\d\\d |error/"
  - kind: check
    title: No OOM kills
    expr: rollout("prod/api").oom_killed == 0 && rollout("prod/api").restarts == 0
    show:
      - warnings: rollout("prod/api").warnings
`

// A logs view step names its target and filter, and the run asks to show
// the log view; the evidence is in rollout() expressions.
func TestLogsViewStepAndEvidenceExpressions(t *testing.T) {
	b, err := Load("logs.yaml", []byte(logsBook))
	if err != nil {
		t.Fatal(err)
	}
	if s := b.Steps[0]; s.Pane != LogsPane || s.Target != "production/nudgecampaign-api" || s.Filter != `/ 5\d\d |error/` {
		t.Fatalf("step %+v", s)
	}
	r, _ := Start(b, nil, "oncall@test", ops.DefaultPolicy(), t0)
	snap := kubeSnap(t0, 42, 0, true)
	d := &snap.Data.(*sources.RolloutSet).Deployments[0]
	d.Evidence = sources.Evidence{WarningCount: 17, Pods: []sources.PodStatus{
		{Name: "api-1", Restarts: 3, LastTermination: &sources.Termination{Reason: "OOMKilled", ExitCode: 137}},
		{Name: "api-2", Restarts: 1, LastTermination: &sources.Termination{Reason: "Error", ExitCode: 1}},
	}}
	r.Observe([]sources.Snapshot{snap}, t0)
	dir, _ := r.Do(0, t0)
	if dir.Kind != DoFocus || dir.Pane != LogsPane || dir.Target != "production/nudgecampaign-api" || dir.Filter != `/ 5\d\d |error/` {
		t.Errorf("directive %+v", dir)
	}
	if v := r.Steps(t0)[0]; v.Target != "production/nudgecampaign-api" {
		t.Errorf("step view %+v", v)
	}
	v := r.Steps(t0)[1]
	if v.Live != False || len(v.Values) != 1 || v.Values[0].Text != "17" {
		t.Errorf("evidence check %+v", v)
	}
	for _, c := range []struct{ yaml, want string }{
		{strings.Replace(logsBook, "    target: production/nudgecampaign-api\n", "", 1), "target: required for the logs view"},
		{strings.Replace(logsBook, "pane: logs", "pane: rollouts", 1), "target: only the logs view takes a target"},
	} {
		if _, err := Load("bad.yaml", []byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}
