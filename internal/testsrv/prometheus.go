package testsrv

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const promHint = "apt-get install prometheus prometheus-alertmanager"

// PrometheusOptions configure StartPrometheus.
type PrometheusOptions struct {
	// Targets are host:port scrape targets of job "app".
	Targets []string
	// ScrapeInterval and EvaluationInterval default to 1s, so rates exist
	// after a couple of seconds.
	ScrapeInterval     time.Duration
	EvaluationInterval time.Duration
	// Rules is the text of one rule file (groups: ...); empty for none.
	Rules string
	// Alertmanager is the URL of an Alertmanager to send alerts to.
	Alertmanager string
}

// Prometheus is a throwaway Prometheus server on loopback.
type Prometheus struct {
	URL string // http://127.0.0.1:port
	Dir string // config, rules, TSDB and log
}

// StartPrometheus starts the Debian `prometheus` binary on a free loopback
// port with its own config and TSDB in a temp dir, and waits until it is
// ready. It never touches a system Prometheus (Debian's postinst may run one
// on :9090).
func StartPrometheus(t testing.TB, o PrometheusOptions) *Prometheus {
	t.Helper()
	bin := LookBin(t, promHint, os.Getenv("FLIGHTDECK_PROMETHEUS"), "prometheus")
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = time.Second
	}
	if o.EvaluationInterval <= 0 {
		o.EvaluationInterval = time.Second
	}
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n",
		o.ScrapeInterval, o.ScrapeInterval, o.EvaluationInterval)
	if o.Rules != "" {
		rules := filepath.Join(dir, "rules.yml")
		if err := os.WriteFile(rules, []byte(o.Rules), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "rule_files: [%q]\n", rules)
	}
	if o.Alertmanager != "" {
		u, err := url.Parse(o.Alertmanager)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "alerting:\n  alertmanagers:\n    - api_version: v2\n      static_configs:\n        - targets: [%q]\n", u.Host)
	}
	if len(o.Targets) > 0 {
		fmt.Fprintf(&cfg, "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [")
		for i, tg := range o.Targets {
			if i > 0 {
				cfg.WriteString(", ")
			}
			fmt.Fprintf(&cfg, "%q", tg)
		}
		cfg.WriteString("]\n")
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	url := startHTTPServer(t, dir, "prometheus", bin, cfgPath, "--storage.tsdb.path",
		"--web.enable-lifecycle",
		// Resend firing alerts every second instead of every minute, so a
		// test sees Alertmanager state follow Prometheus quickly.
		"--rules.alert.resend-delay=1s",
	)
	return &Prometheus{URL: url, Dir: dir}
}

// startHTTPServer starts a server of the Prometheus family (bin) with its
// config file and its storage (flag storageFlag) in dir, on a free
// loopback address, logging to dir/name.log and stopped when the test
// ends, and waits until its /-/ready answers (failing at once if it exits
// instead). It returns the server's URL.
func startHTTPServer(t testing.TB, dir, name, bin, cfgPath, storageFlag string, extra ...string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	args := append([]string{"--config.file=" + cfgPath, storageFlag + "=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=info"}, extra...)
	p := StartProcess(t, filepath.Join(dir, name+".log"), exec.Command(bin, args...))
	url := "http://" + addr
	if err := p.WaitHTTP(url+"/-/ready", nil, 60*time.Second); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return url
}

// Alertmanager is a throwaway Alertmanager on loopback.
type Alertmanager struct {
	URL string // http://127.0.0.1:port
	Dir string
}

// alertmanagerConfig routes everything to a receiver that notifies nobody:
// tests read state through the API, not notifications.
const alertmanagerConfig = `route:
  receiver: "null"
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
`

// StartAlertmanager starts `prometheus-alertmanager` (Debian's name) or
// `alertmanager` on a free loopback port with clustering disabled and its
// storage in a temp dir, and waits until it is ready.
func StartAlertmanager(t testing.TB) *Alertmanager {
	t.Helper()
	bin := LookBin(t, promHint, os.Getenv("FLIGHTDECK_ALERTMANAGER"), "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(alertmanagerConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	url := startHTTPServer(t, dir, "alertmanager", bin, cfgPath, "--storage.path",
		"--cluster.listen-address=") // empty disables gossip: no port to collide
	return &Alertmanager{URL: url, Dir: dir}
}

// AppTarget is a scrape target shaped like the ops manual's API service:
// http_requests_total{method,route,status} and the
// http_request_duration_seconds histogram (buckets 0.1, 0.5, 1, 2, 5).
//
// Time is simulated by scrapes: every scrape first records perScrape
// requests, the error ratio of them with status 500, so every counter
// advances at a steady rate per scrape interval and rates are well defined
// from the second scrape on.
type AppTarget struct {
	URL  string // http://127.0.0.1:port/metrics
	Addr string // host:port, for scrape configs

	perScrape float64
	mu        sync.Mutex
	ratio     float64
	errCarry  float64 // fractional errors carried over, so any ratio is exact on average
	reqs      *prometheus.CounterVec
	dur       *prometheus.HistogramVec
	scrapes   atomic.Int64
}

// StartAppTarget serves the metrics on loopback until the test ends; each
// scrape accounts for perScrape requests (default 100).
func StartAppTarget(t testing.TB, perScrape int) *AppTarget {
	t.Helper()
	if perScrape <= 0 {
		perScrape = 100
	}
	reg := prometheus.NewRegistry()
	a := &AppTarget{
		perScrape: float64(perScrape),
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "Total number of HTTP requests",
		}, []string{"method", "route", "status"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "Duration of HTTP requests in seconds",
			Buckets: []float64{0.1, 0.5, 1, 2, 5},
		}, []string{"method", "route", "status"}),
	}
	reg.MustRegister(a.reqs, a.dur)
	// Both series exist from the first scrape, so a rate over the 5xx
	// series is 0 (not absent) until errors start.
	for _, st := range []string{"200", "500"} {
		a.reqs.WithLabelValues("GET", "/api/campaigns", st).Add(0)
		a.dur.WithLabelValues("GET", "/api/campaigns", st)
	}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.advance()
		metrics.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.URL = srv.URL + "/metrics"
	a.Addr = strings.TrimPrefix(srv.URL, "http://")
	return a
}

// SetErrorRatio sets the fraction of requests answered 500 from the next
// scrape on.
func (a *AppTarget) SetErrorRatio(r float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ratio = r
}

// Scrapes is how many times the target has been scraped.
func (a *AppTarget) Scrapes() int64 { return a.scrapes.Load() }

func (a *AppTarget) advance() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.scrapes.Add(1)
	e := a.ratio*a.perScrape + a.errCarry
	errs := math.Floor(e)
	a.errCarry = e - errs
	ok := a.perScrape - errs
	a.reqs.WithLabelValues("GET", "/api/campaigns", "200").Add(ok)
	a.reqs.WithLabelValues("GET", "/api/campaigns", "500").Add(errs)
	okObs := a.dur.WithLabelValues("GET", "/api/campaigns", "200")
	for i := range int(ok) {
		// 90% fast (< 100 ms), the rest between 100 and 500 ms.
		if i%10 == 9 {
			okObs.Observe(0.3)
		} else {
			okObs.Observe(0.05)
		}
	}
	errObs := a.dur.WithLabelValues("GET", "/api/campaigns", "500")
	for range int(errs) {
		errObs.Observe(1.5) // failing requests are slow (timeouts upstream)
	}
}

// HighErrorRateRules is the ops manual's HighErrorRate rule file with two
// test-sized changes: `for:` is the given duration (e.g. "1s") instead of
// 5m, and the threshold is 10 errors/s instead of 0.05. StartAppTarget
// serves 1000 requests per scrape with a 0.05% baseline (0.5 errors/s), on
// which the manual's literal 0.05/s would already fire; and a series younger
// than the 5m range has its extrapolated increase divided by the whole
// range, so at 50% errors the rate climbs ~1.7/s per second and 10/s comes
// within seconds.
func HighErrorRateRules(forDur string) string {
	return `groups:
  - name: application
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: rate(http_requests_total{status=~"5.."}[5m]) > 10
        for: ` + forDur + `
        labels:
          severity: critical
        annotations:
          summary: High error rate detected
          description: "Error rate is {{ $value }} errors per second"
          runbook_url: https://runbooks.example/high-error-rate
`
}
