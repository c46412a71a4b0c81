package alertmanager_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/alertmanager"
)

// The source satisfies the ops capability without importing ops.
var _ ops.Silencer = (*alertmanager.Source)(nil)

func newSource(t *testing.T, h http.HandlerFunc) *alertmanager.Source {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	src, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: srv.URL, Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestFailuresAreClear(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><h1>Login\x1b[2J</h1></html>")
		}, "alertmanager returned non-JSON (text/html) — a proxy?: Login"},
		{"503", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
		}, "alertmanager 503 Service Unavailable: upstream connect error"},
		{"garbage json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `[{"labels":`)
		}, "alertmanager returned malformed JSON"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, "alertmanager did not answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSource(t, tc.h).Fetch(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Fetch = %v\nwant prefix %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\x1b") {
				t.Errorf("unsanitized: %q", err)
			}
		})
	}
}

const alertsJSON = `[
{"labels":{"alertname":"Disk","severity":"warning","team":"db"},"annotations":{"summary":"disk"},"fingerprint":"f1","startsAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:01Z","endsAt":"2026-01-01T01:00:00Z","receivers":[{"name":"pager"}],"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}},
{"labels":{"alertname":"HighErrorRate","severity":"critical","route":"/api\u001b]0;pwned\u0007"},"annotations":{"description":"rate \u202eup","runbook_url":"https://rb"},"fingerprint":"f2","startsAt":"2026-01-01T00:05:00Z","updatedAt":"2026-01-01T00:05:01Z","endsAt":"2026-01-01T01:00:00Z","generatorURL":"http://prom:9090/graph?g0.expr=x\u001b[2J","receivers":[{"name":"pager"}],"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}},
{"labels":{"alertname":"HighLatency","severity":"critical"},"annotations":{},"fingerprint":"f3","startsAt":"2026-01-01T00:01:00Z","updatedAt":"2026-01-01T00:01:00Z","endsAt":"2026-01-01T01:00:00Z","receivers":[],"status":{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[]}},
{"labels":{"alertname":"Inhibited","severity":"info"},"annotations":{},"fingerprint":"f4","startsAt":"2026-01-01T00:01:00Z","updatedAt":"2026-01-01T00:01:00Z","endsAt":"2026-01-01T01:00:00Z","receivers":[],"status":{"state":"suppressed","silencedBy":[],"inhibitedBy":["f2"]}}
]`

func fakeAM(t *testing.T, posts *atomic.Int32, postStatus int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v2/alerts":
			io.WriteString(w, alertsJSON)
		case r.Method == http.MethodGet && r.URL.Path == "/api/v2/silences":
			io.WriteString(w, `[{"id":"s0","status":{"state":"expired"},"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2026-01-01T00:10:00Z","createdBy":"x","comment":"old"},
{"id":"s1","status":{"state":"active"},"matchers":[{"name":"alertname","value":"HighLatency","isRegex":false,"isEqual":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2026-01-01T02:00:00Z","createdBy":"y","comment":"c"}]`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v2/silences":
			posts.Add(1)
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				t.Errorf("POST body: %v", err)
			}
			if postStatus != 200 {
				w.WriteHeader(postStatus)
				io.WriteString(w, `"failed to create silence: boom"`)
				return
			}
			io.WriteString(w, `{"silenceID":"new-id"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}
}

func TestFetchConvertsSanitizesAndSorts(t *testing.T) {
	var posts atomic.Int32
	p, err := newSource(t, fakeAM(t, &posts, 200)).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set := p.(*sources.AlertSet)
	var names []string
	for _, a := range set.Alerts {
		names = append(names, a.Name+":"+string(a.State))
	}
	if got := strings.Join(names, " "); got != "HighLatency:silenced HighErrorRate:firing Disk:firing Inhibited:inhibited" {
		t.Errorf("order/states: %s", got)
	}
	hi := set.Alerts[1]
	if hi.Label("route") != "/api" || hi.Description != "rate up" || hi.RunbookURL != "https://rb" || hi.Receivers[0] != "pager" {
		t.Errorf("HighErrorRate: %+v", hi)
	}
	if want := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC); !hi.EndsAt.Equal(want) || hi.GeneratorURL != "http://prom:9090/graph?g0.expr=x" {
		t.Errorf("HighErrorRate endsAt %s, generatorURL %q (want sanitized)", hi.EndsAt, hi.GeneratorURL)
	}
	if set.Silences[0].ID != "s1" || set.Silences[0].Matchers[0].IsEqual || !set.Silences[1].Matchers[0].IsEqual {
		t.Errorf("silences (active first; isEqual absent means true): %+v", set.Silences)
	}
}

func TestMatchingAlertsSemantics(t *testing.T) {
	var posts atomic.Int32
	src := newSource(t, fakeAM(t, &posts, 200))
	for _, tc := range []struct {
		ms   []sources.Matcher
		want string
	}{
		{[]sources.Matcher{{Name: "alertname", Value: "High", IsRegex: true, IsEqual: true}}, ""}, // anchored
		{[]sources.Matcher{{Name: "alertname", Value: "High.*", IsRegex: true, IsEqual: true}}, "HighErrorRate"},
		{[]sources.Matcher{{Name: "severity", Value: "critical", IsEqual: true}}, "HighErrorRate"}, // HighLatency is silenced
		{[]sources.Matcher{{Name: "team", Value: "db", IsEqual: false}}, "HighErrorRate"},          // missing label is ""
		{[]sources.Matcher{{Name: "team", Value: "", IsRegex: true, IsEqual: false}, {Name: "alertname", Value: "Disk|X", IsRegex: true, IsEqual: true}}, "Disk"},
	} {
		hits, err := src.MatchingAlerts(context.Background(), tc.ms)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range hits {
			names = append(names, a.Name)
		}
		if got := strings.Join(names, ","); got != tc.want {
			t.Errorf("%s: %q, want %q", ops.FormatMatchers(tc.ms), got, tc.want)
		}
	}
	if _, err := src.MatchingAlerts(context.Background(), []sources.Matcher{{Name: "a", Value: "(", IsRegex: true, IsEqual: true}}); err == nil {
		t.Error("bad regex accepted")
	}
}

func TestCreateSilenceValidatesAndNeverRetries(t *testing.T) {
	var posts atomic.Int32
	src := newSource(t, fakeAM(t, &posts, http.StatusInternalServerError))
	ms := []sources.Matcher{{Name: "alertname", Value: "X", IsEqual: true}}
	end := time.Now().Add(time.Hour)
	for _, s := range []sources.Silence{
		{Matchers: ms, EndsAt: end, CreatedBy: "me"},                                      // no comment
		{Matchers: ms, EndsAt: end, Comment: "c"},                                         // no createdBy
		{EndsAt: end, CreatedBy: "me", Comment: "c"},                                      // no matchers
		{Matchers: ms, EndsAt: time.Now().Add(-time.Hour), CreatedBy: "me", Comment: "c"}, // ends before it starts
		{ID: "existing", Matchers: ms, EndsAt: end, CreatedBy: "me", Comment: "c"},
	} {
		if _, err := src.CreateSilence(context.Background(), s); err == nil {
			t.Errorf("accepted invalid silence %+v", s)
		}
	}
	if posts.Load() != 0 {
		t.Fatalf("invalid silences were POSTed")
	}
	_, err := src.CreateSilence(context.Background(), sources.Silence{Matchers: ms, EndsAt: end, CreatedBy: "me", Comment: "c"})
	if err == nil || err.Error() != "alertmanager 500 Internal Server Error: failed to create silence: boom" {
		t.Errorf("CreateSilence = %v", err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("%d POSTs for one failed create; a POST is never retried", n)
	}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []alertmanager.Options{{}, {Endpoint: httpopt.Endpoint{URL: "am:9093"}}, {Endpoint: httpopt.Endpoint{URL: "http://am", Auth: httpopt.Auth{BearerToken: "a", Username: "u"}}}} {
		if _, err := alertmanager.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// Alertmanager before 0.22 ignores isEqual: a != silence would silence
// exactly the alerts it meant to spare. Negative matchers need a new enough
// server; positive ones never ask.
func TestNegativeMatchersNeedAlertmanager022(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"0.21.0", false}, {"0.22.0", true}, {"0.25.0", true}, {"1.0.0", true}, {"", false}, {"garbage", false}} {
		var posts, statuses atomic.Int32
		src := newSource(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch r.URL.Path {
			case "/api/v2/status":
				statuses.Add(1)
				json.NewEncoder(w).Encode(map[string]any{"versionInfo": map[string]string{"version": tc.version}})
			case "/api/v2/silences":
				posts.Add(1)
				json.NewEncoder(w).Encode(map[string]string{"silenceID": "s1"})
			}
		})
		neg := sources.Silence{Matchers: []sources.Matcher{{Name: "alertname", Value: "X", IsEqual: true}, {Name: "env", Value: "staging"}},
			EndsAt: time.Now().Add(time.Hour), CreatedBy: "me", Comment: "c"}
		_, err := src.CreateSilence(context.Background(), neg)
		if tc.ok != (err == nil) || (!tc.ok && (posts.Load() != 0 || !strings.Contains(err.Error(), "needs 0.22"))) {
			t.Errorf("version %q: err=%v posts=%d", tc.version, err, posts.Load())
		}
		pos := neg
		pos.Matchers = neg.Matchers[:1]
		statuses.Store(0)
		if _, err := src.CreateSilence(context.Background(), pos); err != nil || statuses.Load() != 0 {
			t.Errorf("version %q: positive silence: err=%v, status asked %d times", tc.version, err, statuses.Load())
		}
	}
}
