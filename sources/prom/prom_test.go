package prom_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/sources"
	"flightdeck/sources/prom"
)

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 30 * time.Minute: "30m", time.Hour: "1h", 2 * time.Hour: "2h", 6 * time.Hour: "6h",
		24 * time.Hour: "1d", 72 * time.Hour: "3d", 30 * 24 * time.Hour: "30d", 90 * time.Second: "90s", 36 * time.Hour: "36h",
	} {
		if got := prom.PromDuration(d); got != want {
			t.Errorf("PromDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	ok := prom.SLO{Name: "a", Objective: 0.99, Good: `rate(x{ok="1"}[{{.window}}])`, Total: `rate(x[{{.window}}])`}
	for _, tc := range []struct {
		name string
		o    prom.Options
		want string
	}{
		{"no url", prom.Options{}, "url is required"},
		{"bad url", prom.Options{Endpoint: httpopt.Endpoint{URL: "prometheus:9090"}}, "want http(s)"},
		{"bad template", prom.Options{Endpoint: httpopt.Endpoint{URL: "http://p"}, SLOs: []prom.SLO{func() prom.SLO { s := ok; s.Good = "rate(x[{{.window]})"; return s }()}}, `slo "a": good:`},
		{"unknown key", prom.Options{Endpoint: httpopt.Endpoint{URL: "http://p"}, SLOs: []prom.SLO{func() prom.SLO { s := ok; s.Total = "rate(x[{{.windo}}])"; return s }()}}, `slo "a": total:`},
		{"no window", prom.Options{Endpoint: httpopt.Endpoint{URL: "http://p"}, SLOs: []prom.SLO{func() prom.SLO { s := ok; s.Total = "rate(x[5m])"; return s }()}}, `slo "a": total: the expression does not use {{.window}}`},
		{"objective", prom.Options{Endpoint: httpopt.Endpoint{URL: "http://p"}, SLOs: []prom.SLO{func() prom.SLO { s := ok; s.Objective = 99.9; return s }()}}, `slo "a": objective 99.9`},
		{"duplicate", prom.Options{Endpoint: httpopt.Endpoint{URL: "http://p"}, SLOs: []prom.SLO{ok, ok}}, `slo "a": duplicate`},
		{"token twice", prom.Options{Endpoint: httpopt.Endpoint{URL: "http://p", Auth: httpopt.Auth{BearerToken: "t", BearerTokenFile: "/f"}}}, "at most one"},
	} {
		_, err := prom.New(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: "http://user:secret@p:9090/prefix"}, SLOs: []prom.SLO{ok}}); err != nil {
		t.Errorf("valid options: %v", err)
	}
}

var simple = prom.SLO{Name: "avail", Objective: 0.99, Good: `rate(ok_total[{{.window}}])`, Total: `rate(all_total[{{.window}}])`}

func newSource(t *testing.T, h http.Handler, mod func(*prom.Options)) (*prom.Source, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	o := prom.Options{Endpoint: httpopt.Endpoint{URL: srv.URL, Timeout: 2 * time.Second}, SLOs: []prom.SLO{simple},
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mod != nil {
		mod(&o)
	}
	src, err := prom.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return src, &logs
}

func TestFetchFailuresAreClear(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"html from a proxy", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body><h1>Sign in</h1>\x1b]8;;evil\x07</body></html>")
		}, "prometheus returned non-JSON (text/html) — a proxy?: Sign in"},
		{"503 text", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		}, "prometheus 503 Service Unavailable (text/plain): Service Unavailable"},
		{"503 json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":"error","errorType":"unavailable","error":"TSDB not ready"}`)
		}, "prometheus 503 Service Unavailable: TSDB not ready"},
		{"502 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><title>502 Bad Gateway</title><body>nginx</body></html>")
		}, "prometheus 502 Bad Gateway (text/html): 502 Bad Gateway nginx"},
		{"garbage json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{`)
		}, "prometheus returned a malformed response"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			// Never answers in time; the source's timeout must end it.
			// (The body is read so the server notices the client leaving.)
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, "prometheus did not answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, _ := newSource(t, tc.handler, func(o *prom.Options) { o.Timeout = 300 * time.Millisecond })
			_, err := src.Fetch(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Fetch = %v\nwant prefix %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\x07") {
				t.Errorf("unsanitized error %q", err)
			}
		})
	}
}

// promResult answers a batched instant query: for every tag
// "<slo>/<g|t>/<window>" the test can choose the value.
func promAnswer(w http.ResponseWriter, r *http.Request, val func(tag string) string, warnings ...string) {
	_ = r.ParseForm()
	q := r.Form.Get("query")
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/query_range") {
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
		return
	}
	var res []string
	for _, part := range strings.Split(q, "\nor ") {
		i := strings.Index(part, `"flightdeck_q", "`)
		tag := part[i+len(`"flightdeck_q", "`):]
		tag = tag[:strings.Index(tag, `"`)]
		if v := val(tag); v != "" {
			res = append(res, fmt.Sprintf(`{"metric":{"flightdeck_q":%q},"value":[1,%q]}`, tag, v))
		}
	}
	warn := ""
	if len(warnings) > 0 {
		warn = `,"warnings":["` + strings.Join(warnings, `","`) + `"]`
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}%s}`, strings.Join(res, ","), warn)
}

func TestNoTrafficIsNaN(t *testing.T) {
	src, _ := newSource(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		promAnswer(w, r, func(tag string) string { return "0" }) // rate 0 / rate 0
	}), nil)
	p, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st := p.(*sources.SLOSet).SLOs[0]
	if !math.IsNaN(st.SLI) || !math.IsNaN(st.BudgetLeft) || st.BudgetLeftTime != 0 || st.Level != sources.SLOUnknown {
		t.Errorf("no traffic: %+v", st)
	}
}

func TestAllErrorsIsNotNoData(t *testing.T) {
	// Only the total series exists: every request failed. That is an
	// outage, not "no data".
	src, _ := newSource(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		promAnswer(w, r, func(tag string) string {
			if strings.Contains(tag, "/t/") {
				return "10"
			}
			return ""
		})
	}), nil)
	p, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st := p.(*sources.SLOSet).SLOs[0]
	if st.SLI != 0 || st.Burn[time.Hour] != 100 || st.Level != sources.SLOPage { // 1 / (1 − 0.99)
		t.Errorf("all errors: SLI %v burn1h %v level %s", st.SLI, st.Burn[time.Hour], st.Level)
	}
}

func TestWarningsAndPerSLOErrors(t *testing.T) {
	bad := prom.SLO{Name: "bad", Objective: 0.99, Good: `rate(broken[{{.window}}]`, Total: `rate(all_total[{{.window}}])`}
	var queries atomic.Int32
	src, _ := newSource(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries.Add(1)
		_ = r.ParseForm()
		if strings.Contains(r.Form.Get("query"), "broken") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"1:30: parse error: unclosed left parenthesis"}`)
			return
		}
		promAnswer(w, r, func(tag string) string {
			if strings.Contains(tag, "/g/") {
				return "99"
			}
			return "100"
		}, "remote read partial response \\u001b[31m")
	}), func(o *prom.Options) { o.SLOs = []prom.SLO{simple, bad} })
	p, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set := p.(*sources.SLOSet)
	good, total := 99.0, 100.0
	if set.SLOs[0].Err != "" || set.SLOs[0].Burn[5*time.Minute] != (1-good/total)/(1-simple.Objective) {
		t.Errorf("good SLO: %+v", set.SLOs[0])
	}
	if e := set.SLOs[1].Err; e != `slo "bad": prometheus bad_data: 1:30: parse error: unclosed left parenthesis` {
		t.Errorf("bad SLO Err = %q", e)
	}
	if len(set.Warnings) != 1 || set.Warnings[0] != "remote read partial response " {
		t.Errorf("warnings %q", set.Warnings)
	}
	// Batch (rejected), each alone, sparkline, sparkline retry without the bad one.
	if set.Queries != int(queries.Load()) || set.Bytes <= 0 {
		t.Errorf("Queries %d (server saw %d), Bytes %d", set.Queries, queries.Load(), set.Bytes)
	}
	queries.Store(0)
	p, _ = src.Fetch(context.Background())
	if n := queries.Load(); n != 2 {
		t.Errorf("second tick: %d queries, want 2 (healthy batch + the isolated bad SLO; sparkline cached)", n)
	}
}

func TestAuthAndSecretsNeverLogged(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("file-token-1\n"), 0o600)
	var gotAuth atomic.Value
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		http.Error(w, "nope", http.StatusUnauthorized)
	})
	for _, tc := range []struct {
		name   string
		mod    func(*prom.Options)
		want   string
		secret string
	}{
		{"bearer", func(o *prom.Options) { o.Auth.BearerToken = "s3cr3t-token" }, "Bearer s3cr3t-token", "s3cr3t-token"},
		{"bearer file", func(o *prom.Options) { o.Auth.BearerTokenFile = tokenFile }, "Bearer file-token-1", "file-token-1"},
		{"basic", func(o *prom.Options) { o.Auth.Username, o.Auth.Password = "bob", "hunter2" }, "Basic Ym9iOmh1bnRlcjI=", "hunter2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, logs := newSource(t, h, tc.mod)
			_, err := src.Fetch(context.Background())
			if err == nil || !strings.Contains(err.Error(), "prometheus 401 Unauthorized") {
				t.Errorf("Fetch = %v", err)
			}
			if got := gotAuth.Load(); got != tc.want {
				t.Errorf("Authorization %q, want %q", got, tc.want)
			}
			if strings.Contains(logs.String(), tc.secret) || strings.Contains(err.Error(), tc.secret) {
				t.Errorf("secret leaked: %s / %v", logs, err)
			}
		})
	}
}

func TestAlertsFallbackGarbage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><p>Welcome to nginx!</p>")
	}))
	defer srv.Close()
	_, err := prom.NewAlerts(prom.Options{Endpoint: httpopt.Endpoint{URL: srv.URL}}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "non-JSON (text/html) — a proxy?") {
		t.Errorf("Fetch = %v", err)
	}
	if _, err := prom.NewAlerts(prom.Options{}).Fetch(context.Background()); err == nil {
		t.Error("NewAlerts without URL fetched")
	}
}

func TestAlertsFallbackSanitizesAndSorts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"alerts":[
{"labels":{"alertname":"Disk","severity":"warning"},"annotations":{},"state":"firing","activeAt":"2026-01-01T00:00:00Z","value":"1"},
{"labels":{"alertname":"Quiet","severity":"critical"},"annotations":{},"state":"inactive","activeAt":"2026-01-01T00:00:00Z","value":"1"},
{"labels":{"alertname":"Err\u001b[2J","severity":"critical"},"annotations":{"summary":"bad\u202e","runbook_url":"https://r"},"state":"pending","activeAt":"2026-01-01T00:01:00Z","value":"1"}]}}`)
	}))
	defer srv.Close()
	p, err := prom.NewAlerts(prom.Options{Endpoint: httpopt.Endpoint{URL: srv.URL}}).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	as := p.(*sources.AlertSet)
	if len(as.Alerts) != 2 || as.Alerts[0].Name != "Err" || as.Alerts[0].State != sources.AlertPending ||
		as.Alerts[0].Summary != "bad" || as.Alerts[0].RunbookURL != "https://r" || as.Alerts[1].State != sources.AlertFiring {
		t.Errorf("alerts %+v", as.Alerts)
	}
	if as.Denied["silence"] != "no Alertmanager configured" || as.Denied["expire"] == "" {
		t.Errorf("denied %v", as.Denied)
	}
}

func TestTimeoutNamesTheDeadlineThatApplied(t *testing.T) {
	src, _ := newSource(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}), nil) // source timeout 2s
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond) // the Hub's, shorter
	defer cancel()
	if _, err := src.Fetch(ctx); err == nil || err.Error() != "prometheus did not answer within 200ms" {
		t.Errorf("Fetch = %v", err)
	}
}
