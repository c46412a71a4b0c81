package runbook_test

import (
	"os"
	"strings"
	"testing"

	"flightdeck/runbook"
	"flightdeck/sources"
)

// Issue 16.13: the High Error Rate runbook with its scale step at
// replicas: 100000, override: true executed ("scaled 3 → 100000"). The
// Executor now refuses it above scale_max_replicas, the step fails with the
// reason, and the deployment keeps its replicas.
func TestRunbookScaleOverrideStopsAtTheCeiling(t *testing.T) {
	data, err := os.ReadFile("builtin/high-error-rate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const six = "    replicas: 6\n    override: true\n"
	if !strings.Contains(string(data), six) {
		t.Fatal("the shipped runbook's scale step changed; update this test")
	}
	rb, err := runbook.Load("huge-scale.yaml", []byte(strings.Replace(string(data), six, "    replicas: 100000\n    override: true\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	d, w := demoDriver(t)
	var alert *sources.Alert
	d.pollUntil("HighErrorRate firing", 200, func(s []sources.Snapshot) bool {
		alert = findAlert(s, "HighErrorRate", sources.AlertFiring)
		return alert != nil
	})
	d.start(rb, alert)
	scale := stepIndex(t, rb, "Scale up")
	for guard := 0; d.run.Next() >= 0 && d.run.Next() <= scale && guard < 100; guard++ {
		i := d.run.Next()
		switch d.view(i).State {
		case runbook.Pending:
			d.do(i)
		case runbook.Waiting:
			for n := 0; d.view(i).State == runbook.Waiting && n < 300; n++ {
				d.observe()
			}
		}
		d.observe()
	}
	v := d.view(scale)
	if v.State != runbook.Failed || !strings.Contains(v.Reason, "scale_max_replicas") {
		t.Fatalf("scale step: %s %q, want failed naming scale_max_replicas", v.State, v.Reason)
	}
	if res, ran := d.results[scale]; ran && res.OK {
		t.Fatalf("the scale ran: %+v", res)
	}
	dep, err := w.Rollouts().GetDeployment(t.Context(), "production", "nudgecampaign-api")
	if err != nil || dep.Replicas >= 100000 {
		t.Fatalf("deployment after the run: %d replicas, %v", dep.Replicas, err)
	}
}
