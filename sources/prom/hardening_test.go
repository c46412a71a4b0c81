package prom_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/testsrv"
	"flightdeck/sources"
	"flightdeck/sources/prom"
)

// TestHostileStatusLine: a Prometheus (or a proxy in front of it) whose
// reason phrase carries an OSC title, an 8-bit CSI and a bidi override
// yields an error with none of them, for the SLO and the alerts source.
func TestHostileStatusLine(t *testing.T) {
	for _, ct := range []string{"text/plain", "application/json"} {
		url := testsrv.RawHTTP(t, func(*http.Request) string {
			return testsrv.RawResponse(testsrv.HostileStatus, ct, `{"status":"error","errorType":"unavailable","error":"busy\u202e"}`)
		})
		src, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: url}, SLOs: []prom.SLO{simple}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Fetch(context.Background())
		if err == nil || len(testsrv.RawControls(err.Error())) > 0 || !strings.HasPrefix(err.Error(), "prometheus 503 SvcRLO") {
			t.Errorf("%s: SLO Fetch = %q", ct, err)
		}
		_, err = prom.NewAlerts(prom.Options{Endpoint: httpopt.Endpoint{URL: url}}).Fetch(context.Background())
		if err == nil || len(testsrv.RawControls(err.Error())) > 0 || !strings.HasPrefix(err.Error(), "prometheus 503 SvcRLO") {
			t.Errorf("%s: alerts Fetch = %q", ct, err)
		}
	}
}

// TestResponseCapped: a huge but valid answer fails with "response larger
// than N MiB" after reading no more than the cap, instead of being read
// whole into memory while the pane shows a healthy source.
func TestResponseCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[`)
		row := `{"metric":{"flightdeck_q":"9/g/0","pad":"` + strings.Repeat("x", 1000) + `"},"value":[1,"1"]},`
		for i := 0; i < 20000 && r.Context().Err() == nil; i++ { // ~20 MB if nobody stops reading
			io.WriteString(w, row)
		}
		io.WriteString(w, `{"metric":{},"value":[1,"1"]}]}}`)
	}))
	defer srv.Close()
	e := httpopt.Endpoint{URL: srv.URL, MaxBody: 1 << 20, Timeout: 20 * time.Second}
	src, err := prom.New(prom.Options{Endpoint: e, SLOs: []prom.SLO{simple}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(context.Background()); err == nil || err.Error() != "prometheus: response larger than 1 MiB" {
		t.Errorf("Fetch = %v", err)
	}
	if _, err := prom.NewAlerts(prom.Options{Endpoint: e}).Fetch(context.Background()); err == nil || err.Error() != "prometheus: response larger than 1 MiB" {
		t.Errorf("alerts Fetch = %v", err)
	}
}

// TestExactPageThreshold: 144 errors in 10000 requests on a 99.9% SLO is a
// burn of exactly 14.4× over 1h and 5m, which pages; binary floating point
// used to make it 14.399999999999986× and no page.
func TestExactPageThreshold(t *testing.T) {
	slo := prom.SLO{Name: "availability", Objective: 0.999, Good: `sum(rate(ok[{{.window}}]))`, Total: `sum(rate(all[{{.window}}]))`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Window indexes 0 and 2 are 5m and 1h (sources.BurnWindows):
		// 144 errors in 10000 there, none anywhere else, so only the fast
		// page rule can fire.
		promAnswer(w, r, func(tag string) string {
			switch {
			case strings.HasSuffix(tag, "/t/0"), strings.HasSuffix(tag, "/t/2"), !strings.Contains(tag, "/g/"):
				return "10000"
			case strings.HasSuffix(tag, "/g/0"), strings.HasSuffix(tag, "/g/2"):
				return "9856"
			}
			return "10000"
		})
	}))
	defer srv.Close()
	src, err := prom.New(prom.Options{Endpoint: httpopt.Endpoint{URL: srv.URL}, SLOs: []prom.SLO{slo}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st := p.(*sources.SLOSet).SLOs[0]
	if st.Burn[time.Hour] != 14.4 || st.Burn[5*time.Minute] != 14.4 || st.Burn[6*time.Hour] != 0 || st.Level != sources.SLOPage {
		t.Errorf("burn 1h %v, level %s (%s); want 14.4 and page", st.Burn[time.Hour], st.Level, st.Reason)
	}
}
