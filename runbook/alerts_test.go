package runbook_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/sources/alertmanager"
	"flightdeck/sources/prom"
)

// Against real Prometheus and Alertmanager: HighErrorRate (the manual's
// rule, test-sized) opens the shipped runbook by name and a runbook naming
// its runbook_url by that, and the runbook's first check reads the burn of
// the availability SLO computed by Prometheus.
func TestAlertmanagerOpensRunbook(t *testing.T) {
	app := testsrv.StartAppTarget(t, 1000)
	am := testsrv.StartAlertmanager(t)
	p := testsrv.StartPrometheus(t, testsrv.PrometheusOptions{Targets: []string{app.Addr}, Rules: testsrv.HighErrorRateRules("1s"), Alertmanager: am.URL})
	app.SetErrorRatio(0.5)

	amSrc, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: am.URL}})
	if err != nil {
		t.Fatal(err)
	}
	promSrc, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: p.URL}, SLOs: []prom.SLO{{Name: "availability", Objective: 0.999,
		Good:  `sum(rate(http_requests_total{status!~"5.."}[{{.window}}]))`,
		Total: `sum(rate(http_requests_total[{{.window}}]))`}}})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	byURL := `name: error-budget
title: Error budget (by link)
opens_on:
  runbook_urls: [https://runbooks.example/high-error-rate]
steps:
  - kind: check
    title: Firing
    expr: alert.firing && firing("HighErrorRate")
`
	if err := os.WriteFile(filepath.Join(dir, "by-url.yaml"), []byte(byURL), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := runbook.LoadAll([]string{dir})
	if err != nil {
		t.Fatal(err)
	}

	d := newDriver(t, time.Now, func() { time.Sleep(200 * time.Millisecond) }, []sources.Source{promSrc, amSrc},
		ops.Capabilities{}, ops.DefaultPolicy())
	var alert *sources.Alert
	d.pollUntil("HighErrorRate firing in Alertmanager", 300, func(s []sources.Snapshot) bool {
		alert = findAlert(s, "HighErrorRate", sources.AlertFiring)
		return alert != nil
	})
	if alert.RunbookURL != "https://runbooks.example/high-error-rate" {
		t.Fatalf("runbook_url %q", alert.RunbookURL)
	}
	var names []string
	for _, b := range set.Match(*alert) {
		names = append(names, b.Name)
	}
	if len(names) != 2 || names[0] != "error-budget" || names[1] != "high-error-rate" {
		t.Fatalf("HighErrorRate opens %v, want [error-budget high-error-rate]", names)
	}

	linked := set.Get("error-budget")
	d.start(linked, alert)
	if v := d.view(0); v.Live != runbook.True {
		t.Errorf("opener check: %+v", v)
	}
	d.start(set.Get("high-error-rate"), alert)
	d.pollUntil("the burn known", 100, func(s []sources.Snapshot) bool {
		d.write(d.run.Observe(s, d.now()))
		return d.view(0).Live != runbook.Unknown
	})
	if v := d.view(0); v.Live != runbook.True || len(v.Values) != 3 || v.Values[0].Label != "level" {
		t.Errorf("burn check: %+v", v)
	} else {
		t.Logf("burn check on Prometheus: %v", v.Values)
	}
}
