package rollouts

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// The row counts the warnings; the detail lists the pods' terminations
// and the warning events, a hostile message (as the source hands it on:
// sanitized and cut at ingestion) within the pane's width.
func TestEvidenceOnTheRowAndInTheDetail(t *testing.T) {
	hostile := sources.ClipText("\x1b]0;owned\x07Readiness probe failed: \x1b[2J\xff"+strings.Repeat("x", 10<<20), sources.MaxEvidenceText)
	now := uitest.T0
	set := &sources.RolloutSet{Deployments: []sources.Deployment{{Namespace: "production", Name: "nudgecampaign-api", UID: "u",
		Replicas: 3, Ready: 2, Revision: 42, State: sources.RolloutProgressing, Selector: "app=nudgecampaign-api",
		Evidence: sources.Evidence{WarningCount: 16, PodCount: 1,
			Pods: []sources.PodStatus{{Name: "nudgecampaign-api-7d9f8b6c5-x2k4p", Phase: "Running", Restarts: 3, Waiting: "CrashLoopBackOff",
				LastTermination: &sources.Termination{Container: "api", Reason: "OOMKilled", ExitCode: 137, At: now.Add(-2 * time.Minute)}}},
			Warnings: []sources.KubeEvent{
				{Kind: "Pod", Name: "nudgecampaign-api-7d9f8b6c5-x2k4p", Reason: "BackOff", Message: "Back-off restarting failed container api", Count: 14, LastSeen: now.Add(-time.Minute)},
				{Kind: "Pod", Name: "nudgecampaign-api-7d9f8b6c5-x2k4p", Reason: "Unhealthy", Message: hostile, Count: 2, LastSeen: now.Add(-90 * time.Second)},
			}}}}}
	p := New(kit.Slot{Env: uitest.Env(), Key: "4"})
	p.SetSize(120, 30)
	p.SetSnapshot(uitest.Snap("kube", sources.KindRollouts, set, time.Second))
	if out := strings.Join(rows(t, p), "\n"); !strings.Contains(out, "16 warn") {
		t.Errorf("no warning count on the row:\n%s", out)
	}
	if q, ok := p.LogQuery(); !ok || q.Selector != "app=nudgecampaign-api" || q.Target != "production/nudgecampaign-api" || q.Source != "kube" {
		t.Errorf("log query %+v", q)
	}
	p.HandleKey(uitest.Key("enter"))
	raw := p.View(true)
	out := strings.Join(rows(t, p), "\n")
	for _, want := range []string{"PODS 1", "CrashLoopBackOff", "3 restarts", "last: OOMKilled exit 137 (api) 2m ago",
		"WARNING EVENTS 16", "BackOff", "×14", "Unhealthy", "Readiness probe failed:"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	for i, l := range raw {
		if strings.Contains(l, "\x1b]") || strings.Contains(l, "\x1b[2J") {
			t.Errorf("line %d carries a hostile sequence: %q", i, l)
		}
		if w := ansi.StringWidth(l); w != 120 {
			t.Errorf("line %d is %d cells wide", i, w)
		}
	}
}
