package record_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/testsrv"
	"flightdeck/record"
	"flightdeck/sources"
	"flightdeck/sources/alertmanager"
	"flightdeck/sources/prom"
)

// resolvableRules is the manual's HighErrorRate rule at test size, like
// testsrv.HighErrorRateRules, but over a 15s range instead of 5m: the
// recorder must see the alert resolve, and errors inside a 5m range keep
// the rate up for five minutes after they stop.
const resolvableRules = `groups:
  - name: application
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: rate(http_requests_total{status=~"5.."}[15s]) > 10
        for: 1s
        labels:
          severity: critical
        annotations:
          summary: High error rate detected
          runbook_url: https://runbooks.example/high-error-rate
`

var availability = prom.SLO{
	Name: "availability", Objective: 0.999, Window: 30 * 24 * time.Hour,
	Good:  `sum(rate(http_requests_total{status!~"5.."}[{{.window}}]))`,
	Total: `sum(rate(http_requests_total[{{.window}}]))`,
}

// Against real Prometheus and Alertmanager polled by the real Hub, the
// recorder writes the SLO leaving ok for page, HighErrorRate firing, being
// silenced and unsilenced, and resolving — each once, none "at start".
func TestRecorderAgainstRealPrometheusAndAlertmanager(t *testing.T) {
	am := testsrv.StartAlertmanager(t)
	app := testsrv.StartAppTarget(t, 1000)
	app.SetErrorRatio(0.0005) // burn 0.5: ok
	p := testsrv.StartPrometheus(t, testsrv.PrometheusOptions{Targets: []string{app.Addr}, Rules: resolvableRules, Alertmanager: am.URL})
	promSrc, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: p.URL}, SLOs: []prom.SLO{availability}, SparkWidth: 10, SparkRange: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	amSrc, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: am.URL, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	hub := sources.NewHub(nil)
	hub.Add(promSrc, sources.PollOptions{Interval: 500 * time.Millisecond, Timeout: 5 * time.Second})
	hub.Add(amSrc, sources.PollOptions{Interval: 300 * time.Millisecond, Timeout: 5 * time.Second})

	path := filepath.Join(t.TempDir(), "events.jsonl")
	rec, err := record.Open(path, record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch := hub.Subscribe()
	defer watch.Close()
	rec.Start(ctx, hub.Subscribe())
	hub.Start(ctx)
	t.Cleanup(func() { cancel(); hub.Wait() })

	// The SLO must be seen calm first, a few times, so that its page is a
	// change and not the state found at start.
	okSeen := 0
	testsrv.WaitFor(t, 45*time.Second, func() (bool, string) {
		snaps, err := watch.Next(ctx)
		if err != nil {
			return false, err.Error()
		}
		for _, s := range snaps {
			if set, ok := s.Data.(*sources.SLOSet); ok && s.Err == nil && set.SLOs[0].Level == sources.SLOOK {
				okSeen++
			}
		}
		return okSeen >= 3, fmt.Sprintf("SLO ok seen %d times", okSeen)
	})

	app.SetErrorRatio(0.5)
	waitEvent(t, path, func(e record.Event) bool { return e.Kind == record.AlertFiring && e.Subject == "HighErrorRate" })
	waitEvent(t, path, func(e record.Event) bool { return e.Kind == record.SLOLevelChanged && e.To == "page" })

	// A silence through Alertmanager, then its expiry.
	id, err := amSrc.CreateSilence(ctx, sources.Silence{
		Matchers:  []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}},
		EndsAt:    time.Now().Add(time.Hour),
		CreatedBy: "oncall@bastion", Comment: "rolling back",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, path, func(e record.Event) bool { return e.Kind == record.AlertSilenced })
	if err := amSrc.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, path, func(e record.Event) bool { return e.Kind == record.AlertUnsilenced })

	app.SetErrorRatio(0)
	waitEvent(t, path, func(e record.Event) bool { return e.Kind == record.AlertResolved && e.Subject == "HighErrorRate" })
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	evs, damage, err := record.ReadEvents(path)
	if err != nil || len(damage) > 0 {
		t.Fatal(err, damage)
	}
	var story []string
	for _, e := range evs {
		if e.AtStart {
			t.Errorf("at start: %+v", e)
		}
		story = append(story, string(e.Kind)+" "+e.Subject+" "+e.From+">"+e.To)
	}
	got := strings.Join(story, "\n")
	t.Logf("recorded:\n%s", got)
	// The SLO may pass through ticket on its way to page, and the alert
	// may fire before or after the page: those two orders are the real
	// servers' timing. Everything else is fixed.
	for _, want := range [][]string{
		{"recorder_started", "alert_firing HighErrorRate", "alert_silenced HighErrorRate", "alert_unsilenced HighErrorRate",
			"alert_resolved HighErrorRate firing>resolved", "recorder_stopped"},
		{"recorder_started", "slo_level availability ok>", "alert_resolved"},
	} {
		rest := got
		for _, w := range want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Fatalf("%q missing or out of order", w)
			}
			rest = rest[i+len(w):]
		}
	}
	if n := strings.Count(got, "alert_firing HighErrorRate"); n != 1 {
		t.Errorf("HighErrorRate fired %d times", n)
	}
	var page record.Event
	for _, e := range evs {
		if e.Kind == record.SLOLevelChanged && e.To == "page" {
			page = e
		}
	}
	if page.Burn["1h"] < sources.PageFastBurn || page.Burn["5m"] < sources.PageFastBurn || !strings.Contains(page.Summary, "→ page") {
		t.Errorf("page event without its burn rates: %+v", page)
	}
}

// waitEvent waits until the journal holds an event matching ok.
func waitEvent(t *testing.T, path string, ok func(record.Event) bool) {
	t.Helper()
	testsrv.WaitFor(t, 45*time.Second, func() (bool, string) {
		evs, _, err := record.ReadEvents(path)
		if err != nil {
			return false, err.Error()
		}
		var kinds []string
		for _, e := range evs {
			if ok(e) {
				return true, ""
			}
			kinds = append(kinds, string(e.Kind)+" "+e.Subject)
		}
		return false, fmt.Sprintf("events so far: %v", kinds)
	})
}
