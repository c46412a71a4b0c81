package alertmanager_test

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
	"flightdeck/sources/alertmanager"
)

// TestHostileStatusLine: the reason phrase of every answer — to a fetch, a
// silence create or an expire — reaches error text sanitized.
func TestHostileStatusLine(t *testing.T) {
	url := testsrv.RawHTTP(t, func(*http.Request) string {
		return testsrv.RawResponse(testsrv.HostileStatus, "application/json", `"silence \u202enot found\u009b2J"`)
	})
	src, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: url}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, fetchErr := src.Fetch(ctx)
	_, createErr := src.CreateSilence(ctx, sources.Silence{Matchers: []sources.Matcher{{Name: "alertname", Value: "X", IsEqual: true}},
		EndsAt: time.Now().Add(time.Hour), CreatedBy: "oncall", Comment: "test"})
	expireErr := src.ExpireSilence(ctx, "abc")
	for what, err := range map[string]error{"fetch": fetchErr, "create": createErr, "expire": expireErr} {
		if err == nil || len(testsrv.RawControls(err.Error())) > 0 || err.Error() != "alertmanager 503 SvcRLO: silence not found" {
			t.Errorf("%s: %q", what, err)
		}
	}
}

// TestResponseCapped: an answer over the cap says so, instead of the
// "malformed JSON: unexpected end of JSON input" a silently truncated body
// gave.
func TestResponseCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "[")
		row := `{"labels":{"alertname":"X","pad":"` + strings.Repeat("x", 1000) + `"}},`
		for i := 0; i < 3000 && r.Context().Err() == nil; i++ {
			io.WriteString(w, row)
		}
		io.WriteString(w, "{}]")
	}))
	defer srv.Close()
	src, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: srv.URL, MaxBody: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(context.Background()); err == nil || err.Error() != "alertmanager: response larger than 1 MiB" {
		t.Errorf("Fetch = %v", err)
	}
}
