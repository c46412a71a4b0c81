package prom_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/testsrv"
	"flightdeck/sources"
	"flightdeck/sources/prom"
)

// testRules is the manual's HighErrorRate rule, test-sized (see testsrv).
var testRules = testsrv.HighErrorRateRules("5s")

// The ops manual's SLOs. Performance is "95% of requests under 200ms", but
// the manual's histogram has no 0.2 bucket (see the README); the test uses
// le="0.5" to have a second, different ratio to compare.
var (
	availability = prom.SLO{
		Name: "availability", Description: "99.9% of requests succeed", Objective: 0.999, Window: 30 * 24 * time.Hour,
		Good:  `sum(rate(http_requests_total{status!~"5.."}[{{.window}}]))`,
		Total: `sum(rate(http_requests_total[{{.window}}]))`,
	}
	latency = prom.SLO{
		Name: "latency", Objective: 0.95, Window: 7 * 24 * time.Hour,
		Good:  `sum(rate(http_request_duration_seconds_bucket{le="0.5"}[{{.window}}]))`,
		Total: `sum(rate(http_request_duration_seconds_count[{{.window}}]))`,
	}
	noTraffic = prom.SLO{
		Name: "no-traffic", Objective: 0.99,
		Good:  `rate(nothing_here_total{ok="1"}[{{.window}}])`,
		Total: `rate(nothing_here_total[{{.window}}])`,
	}
	badQuery = prom.SLO{
		Name: "typo", Objective: 0.99,
		Good:  `rate(http_requests_total[{{.window}}]`, // missing parenthesis
		Total: `rate(http_requests_total[{{.window}}])`,
	}
)

type world struct {
	target *testsrv.AppTarget
	prom   *testsrv.Prometheus
}

func startWorld(t testing.TB, amURL string) world {
	t.Helper()
	target := testsrv.StartAppTarget(t, 1000)
	target.SetErrorRatio(0.0005) // burn 0.5 for a 99.9% SLO: fine, but not zero
	p := testsrv.StartPrometheus(t, testsrv.PrometheusOptions{
		Targets: []string{target.Addr}, Rules: testRules, Alertmanager: amURL,
	})
	// Rates need two samples in the window, and the error series needs an
	// increase; wait for both, as of a few seconds ago (where the tests
	// evaluate: see clock.set), instead of sleeping.
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		v := query(t, p.URL, `sum(rate(http_requests_total{status="500"}[5m])) > 0 and sum(rate(http_requests_total[5m])) > 0`, time.Now().Add(-4*time.Second))
		return !math.IsNaN(v), fmt.Sprintf("no error rate yet (%d scrapes)", target.Scrapes())
	})
	return world{target: target, prom: p}
}

// query asks Prometheus directly (plain HTTP, not the code under test) for
// the single value of expr at ts; NaN when the result is empty.
func query(t testing.TB, base, expr string, ts time.Time) float64 {
	t.Helper()
	u := base + "/api/v1/query?" + url.Values{
		"query": {expr}, "time": {strconv.FormatInt(ts.Unix(), 10)},
	}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s", expr, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return math.NaN()
	}
	if len(r.Data.Result) > 1 {
		t.Fatalf("query %s: %d series", expr, len(r.Data.Result))
	}
	f, err := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// clock is a settable Options.Now, so the source and the direct queries
// evaluate at the very same instant.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }

// set pins the clock a few seconds in the past: a scrape in flight at "now"
// could otherwise land a sample between the source's query and the test's.
func (c *clock) set() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = time.Now().Add(-3 * time.Second).Truncate(time.Second)
	return c.at
}

// near compares with a relative tolerance of 1e-12. NaN is never near
// anything: the comparisons are only meaningful with data.
func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return false
	}
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// checkAgainstPrometheus asserts that every number of st equals what
// Prometheus computes itself, in PromQL, for the same expressions at at.
func checkAgainstPrometheus(t *testing.T, base string, slo prom.SLO, st sources.SLOStatus, at time.Time) {
	t.Helper()
	expr := func(tmpl string, w time.Duration) string {
		return strings.ReplaceAll(tmpl, "{{.window}}", prom.PromDuration(w))
	}
	// The error budget as flightdeck computes it (in decimal, see
	// sources.ErrorBudget); PromQL's 1 - 0.999 differs in the 16th digit.
	errBudget := strconv.FormatFloat(sources.ErrorBudget(slo.Objective), 'g', -1, 64)
	ratio := func(w time.Duration) string {
		return fmt.Sprintf("(sum(%s) / sum(%s))", expr(slo.Good, w), expr(slo.Total, w))
	}
	sli := query(t, base, ratio(slo.Window), at)
	if !near(st.SLI, sli) {
		t.Errorf("%s: SLI = %v, Prometheus says %v", slo.Name, st.SLI, sli)
	}
	budget := query(t, base, fmt.Sprintf("1 - (1 - %s) / %s", ratio(slo.Window), errBudget), at)
	if !near(st.BudgetLeft, budget) {
		t.Errorf("%s: BudgetLeft = %v, Prometheus says %v", slo.Name, st.BudgetLeft, budget)
	}
	// Durations compare like the numbers: to 12 digits (a few ms of 30 days).
	if want := time.Duration(budget * float64(slo.Window)); !near(float64(st.BudgetLeftTime), float64(want)) {
		t.Errorf("%s: BudgetLeftTime = %s, want %s", slo.Name, st.BudgetLeftTime, want)
	}
	for _, w := range sources.BurnWindows {
		burn := query(t, base, fmt.Sprintf("(1 - %s) / %s", ratio(w), errBudget), at)
		if !near(st.Burn[w], burn) {
			t.Errorf("%s: burn %s = %v, Prometheus says %v", slo.Name, prom.PromDuration(w), st.Burn[w], burn)
		}
	}
}

func fetchSLOs(t testing.TB, src *prom.Source) *sources.SLOSet {
	t.Helper()
	p, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return p.(*sources.SLOSet)
}

func TestSLOsAgainstRealPrometheus(t *testing.T) {
	w := startWorld(t, "")
	var clk clock
	slos := []prom.SLO{availability, latency, noTraffic, badQuery}
	src, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: w.prom.URL}, SLOs: slos, Now: clk.Now, SparkRange: 5 * time.Minute, SparkWidth: 20})
	if err != nil {
		t.Fatal(err)
	}
	alerts := prom.NewAlerts(prom.Options{Endpoint: httpopt.Endpoint{URL: w.prom.URL}})

	t.Logf("%s: world ready", time.Now().Format(time.TimeOnly))
	at := clk.set()
	set := fetchSLOs(t, src)
	if len(set.SLOs) != len(slos) {
		t.Fatalf("%d SLOs", len(set.SLOs))
	}
	byName := map[string]sources.SLOStatus{}
	for _, st := range set.SLOs {
		byName[st.Name] = st
	}
	for _, slo := range []prom.SLO{availability, latency} {
		st := byName[slo.Name]
		if st.Err != "" {
			t.Fatalf("%s: %s", slo.Name, st.Err)
		}
		checkAgainstPrometheus(t, w.prom.URL, slo, st, at)
	}
	if st := byName["availability"]; st.Level != sources.SLOOK {
		t.Errorf("availability at 0.05%% errors: %s (%s), want ok", st.Level, st.Reason)
	}
	if st := byName["no-traffic"]; !math.IsNaN(st.SLI) || !math.IsNaN(st.Burn[time.Hour]) || st.Level != sources.SLOUnknown || st.Err != "" {
		t.Errorf("no-traffic: SLI %v burn1h %v level %s err %q; want NaN, NaN, unknown, no error", st.SLI, st.Burn[time.Hour], st.Level, st.Err)
	}
	if st := byName["typo"]; !strings.Contains(st.Err, `slo "typo"`) || !strings.Contains(st.Err, "parse error") {
		t.Errorf("typo: Err = %q, want the SLO's name and Prometheus's parse error", st.Err)
	}
	if st := byName["availability"]; len(st.Spark) != 20 || st.SparkStep != 15*time.Second {
		t.Errorf("spark: %d points step %s, want 20 points of 15s", len(st.Spark), st.SparkStep)
	}
	// First tick: the batch (rejected because of the typo), each SLO alone,
	// and the sparkline.
	t.Logf("first tick: %d queries, %d bytes", set.Queries, set.Bytes)

	// Second tick in the same sparkline step: the healthy SLOs in one
	// batch, the bad one alone, the sparkline cached.
	set = fetchSLOs(t, src)
	if set.Queries != 2 || set.Bytes <= 0 {
		t.Errorf("steady tick: %d queries, %d bytes; want 2 queries (one batch + the isolated bad SLO)", set.Queries, set.Bytes)
	}

	// Errors jump to 50%: the alert goes pending, then firing, and the
	// availability SLO pages.
	t.Logf("%s: raising errors to 50%%", time.Now().Format(time.TimeOnly))
	w.target.SetErrorRatio(0.5)
	var seenPending bool
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		p, err := alerts.Fetch(context.Background())
		if err != nil {
			return false, err.Error()
		}
		as := p.(*sources.AlertSet)
		if as.Origin != "prometheus" || as.Denied["silence"] == "" {
			t.Fatalf("alerts fallback: origin %q denied %v", as.Origin, as.Denied)
		}
		for _, a := range as.Alerts {
			if a.Name != "HighErrorRate" {
				continue
			}
			if a.State == sources.AlertPending {
				seenPending = true
			}
			if a.State == sources.AlertFiring {
				if a.Severity != "critical" || a.RunbookURL == "" || a.Label("status") != "500" || a.Fingerprint == "" {
					t.Errorf("firing alert: %+v", a)
				}
				return true, ""
			}
		}
		return false, fmt.Sprintf("alerts: %+v", as.Alerts)
	})
	if !seenPending {
		t.Error("HighErrorRate never seen pending before firing (for: 5s)")
	}

	t.Logf("%s: alert firing", time.Now().Format(time.TimeOnly))
	var st sources.SLOStatus
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		at = clk.set()
		st = fetchSLOs(t, src).SLOs[0]
		return st.Level == sources.SLOPage, fmt.Sprintf("level %s: %s, burn %v", st.Level, st.Reason, st.Burn)
	})
	if !strings.Contains(st.Reason, "1h") || !strings.Contains(st.Reason, "5m") {
		t.Errorf("page reason %q, want the fast-burn rule (1h and 5m)", st.Reason)
	}
	checkAgainstPrometheus(t, w.prom.URL, availability, st, at)
	if st.BudgetLeft >= 1 {
		t.Errorf("budget left %v after burning", st.BudgetLeft)
	}

	t.Logf("%s: SLO pages: %s", time.Now().Format(time.TimeOnly), st.Reason)
	// The sparkline's newest point, once a step boundary has data, is
	// Prometheus's 1h burn rate at that boundary.
	testsrv.WaitFor(t, 60*time.Second, func() (bool, string) {
		at = clk.set()
		st = fetchSLOs(t, src).SLOs[0]
		return len(st.Spark) > 0 && !math.IsNaN(st.Spark[len(st.Spark)-1]), fmt.Sprintf("spark %v", st.Spark)
	})
	end := at.Truncate(st.SparkStep)
	want := query(t, w.prom.URL, fmt.Sprintf("(1 - sum(%s) / sum(%s)) / (1 - 0.999)",
		strings.ReplaceAll(availability.Good, "{{.window}}", "1h"), strings.ReplaceAll(availability.Total, "{{.window}}", "1h")), end)
	if got := st.Spark[len(st.Spark)-1]; !near(got, want) {
		t.Errorf("spark at %s = %v, Prometheus's 1h burn there is %v", end.Format(time.TimeOnly), got, want)
	}
}

func TestPrometheusDown(t *testing.T) {
	port := testsrv.FreePort(t) // nothing listens there: a stopped Prometheus
	src, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Timeout: 2 * time.Second}, SLOs: []prom.SLO{availability}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "prometheus unreachable") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Fetch = %v, want prometheus unreachable: connection refused", err)
	}
	_, err = prom.NewAlerts(prom.Options{Endpoint: httpopt.Endpoint{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "prometheus unreachable") {
		t.Fatalf("alerts Fetch = %v", err)
	}
}

// BenchmarkFetch measures one tick of ten SLOs against a real Prometheus:
// round trips and response bytes per tick, reported as metrics.
func BenchmarkFetch(b *testing.B) {
	w := startWorld(b, "")
	var slos []prom.SLO
	for i := range 10 {
		s := availability
		s.Name = fmt.Sprintf("availability-%d", i)
		s.Objective = []float64{0.99, 0.995, 0.999, 0.9995, 0.9999}[i%5]
		if i%2 == 1 {
			s = latency
			s.Name = fmt.Sprintf("latency-%d", i)
		}
		slos = append(slos, s)
	}
	src, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: w.prom.URL}, SLOs: slos})
	if err != nil {
		b.Fatal(err)
	}
	cold := fetchSLOs(b, src)
	b.Logf("cold tick (with sparkline): %d queries, %d bytes", cold.Queries, cold.Bytes)
	var ticks, queries, bytes int64
	for b.Loop() {
		set := fetchSLOs(b, src)
		ticks++
		queries += int64(set.Queries)
		bytes += set.Bytes
	}
	b.ReportMetric(float64(queries)/float64(ticks), "queries/tick")
	b.ReportMetric(float64(bytes)/float64(ticks), "bytes/tick")
}

// TestResponseCapAgainstRealPrometheus: the cap holds on real answers
// through client_golang: a tick's answer over MaxBody fails with the cap in
// the message, and fits when the cap allows it.
func TestResponseCapAgainstRealPrometheus(t *testing.T) {
	p := testsrv.StartPrometheus(t, testsrv.PrometheusOptions{})
	always := prom.SLO{Name: "always", Objective: 0.99,
		Good:  `count_over_time(vector(1)[{{.window}}:1h])`,
		Total: `count_over_time(vector(1)[{{.window}}:1h])`}
	capped, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: p.URL, MaxBody: 512}, SLOs: []prom.SLO{always}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := capped.Fetch(context.Background()); err == nil || err.Error() != "prometheus: response larger than 512 bytes" {
		t.Fatalf("capped Fetch = %v", err)
	}
	roomy, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: p.URL}, SLOs: []prom.SLO{always}})
	if err != nil {
		t.Fatal(err)
	}
	set := fetchSLOs(t, roomy)
	if set.SLOs[0].Err != "" || set.SLOs[0].SLI != 1 {
		t.Fatalf("uncapped: %+v", set.SLOs[0])
	}
}
