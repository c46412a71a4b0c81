package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
)

// TestLiveSLOPageAndSilence is the Prometheus/Alertmanager issue's "done
// means" through the real binary: a burning SLO shows page, the alert fires,
// and a silence made from the cockpit is visible with amtool and turns the
// alert silenced.
func TestLiveSLOPageAndSilence(t *testing.T) {
	amtool := testsrv.LookBin(t, "apt-get install prometheus-alertmanager", "amtool")
	app := testsrv.StartAppTarget(t, 1000)
	am := testsrv.StartAlertmanager(t)
	prom := testsrv.StartPrometheus(t, testsrv.PrometheusOptions{Targets: []string{app.Addr}, Rules: testsrv.HighErrorRateRules("1s"), Alertmanager: am.URL})
	app.SetErrorRatio(0.5)

	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.jsonl")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`environment: staging
audit: {path: %s}
prometheus: {url: %s, interval: 1s}
alertmanager: {url: %s, interval: 1s}
slos:
  - name: availability
    objective: 0.999
    window: 30d
    good:  'sum(rate(http_requests_total{status!~"5.."}[{{.window}}]))'
    total: 'sum(rate(http_requests_total[{{.window}}]))'
`, audit, prom.URL, am.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTmux(t, []string{"XDG_STATE_HOME=" + dir}, buildBinary(t), "--config", cfgPath)
	s.waitFor("the SLO paging and the alert firing", contains("availability", "page", "HighErrorRate", "firing"))

	s.keys("2", "x")
	s.waitFor("the silence form", contains("comment (required)", `alertname="HighErrorRate"`))
	time.Sleep(500 * time.Millisecond) // a form that can submit ignores keys for its first 400 ms, by design
	s.text("rolling back nudgecampaign-api")
	s.keys("Enter")
	s.waitFor("the confirm dialog", contains("Silence {", "hit 1 active alert"))
	time.Sleep(500 * time.Millisecond) // the dialog ignores keys for its first 400 ms, by design
	s.keys("y")
	s.waitFor("the result", contains(": done"))
	s.waitFor("the alert silenced", contains("silenced"))

	out, err := exec.Command(amtool, "silence", "query", "--alertmanager.url="+am.URL, "-o", "extended").CombinedOutput()
	if err != nil {
		t.Fatalf("amtool: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `alertname="HighErrorRate"`) || !strings.Contains(string(out), "rolling back nudgecampaign-api") {
		t.Fatalf("amtool does not show the silence:\n%s", out)
	}
	recs, err := ops.ReadJournal(audit)
	if err != nil || len(recs) != 2 || recs[0].Action != ops.Silence || recs[1].Outcome != "ok" {
		t.Fatalf("journal = %+v, %v", recs, err)
	}
	s.keys("q")
}
