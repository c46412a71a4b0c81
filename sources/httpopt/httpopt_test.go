package httpopt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/sources/httpopt"
)

func TestClientAuthenticates(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("file-token-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
	}))
	defer srv.Close()
	get := func(auth httpopt.Auth) string {
		t.Helper()
		c, err := httpopt.Client(auth, httpopt.TLS{})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return got
	}
	if a := get(httpopt.Auth{BearerToken: "s3cr3t"}); a != "Bearer s3cr3t" {
		t.Errorf("bearer: %q", a)
	}
	if a := get(httpopt.Auth{Username: "bob", Password: "hunter2"}); a != "Basic Ym9iOmh1bnRlcjI=" {
		t.Errorf("basic: %q", a)
	}
	if a := get(httpopt.Auth{BearerTokenFile: tokenFile}); a != "Bearer file-token-1" {
		t.Errorf("token file: %q", a)
	}
	// The file is re-read on every request: a rotated token just works.
	if err := os.WriteFile(tokenFile, []byte("file-token-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if a := get(httpopt.Auth{BearerTokenFile: tokenFile}); a != "Bearer file-token-2" {
		t.Errorf("rotated token file: %q", a)
	}
}

func TestConfigErrorsHoldNoSecret(t *testing.T) {
	_, err := httpopt.Client(httpopt.Auth{BearerToken: "s3cr3t-token", BearerTokenFile: "/f"}, httpopt.TLS{})
	if err == nil || !strings.Contains(err.Error(), "at most one") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Client = %v", err)
	}
}

func TestEffectiveTimeout(t *testing.T) {
	if got := httpopt.EffectiveTimeout(context.Background(), 2*time.Second, 0); got != 2*time.Second {
		t.Errorf("no deadline: %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if got := httpopt.EffectiveTimeout(ctx, 2*time.Second, 0); got != 200*time.Millisecond {
		t.Errorf("shorter deadline: %s", got)
	}
	// A deadline within the slack is the source's own timeout, already
	// running: it reads as the timeout, not a few milliseconds less.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 1990*time.Millisecond)
	defer cancel2()
	if got := httpopt.EffectiveTimeout(ctx2, 2*time.Second, 50*time.Millisecond); got != 2*time.Second {
		t.Errorf("own deadline: %s", got)
	}
}

func TestTimedOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := http.DefaultClient.Do(req)
	if !httpopt.TimedOut(err) {
		t.Errorf("TimedOut(%v) = false", err)
	}
	if httpopt.TimedOut(context.Canceled) {
		t.Error("TimedOut(Canceled) = true")
	}
}

func TestMessages(t *testing.T) {
	if got := httpopt.Excerpt([]byte("<html><h1>Login\x1b[2J</h1>\n  <p>required</p></html>")); got != "Login required" {
		t.Errorf("Excerpt = %q", got)
	}
	if got := httpopt.Excerpt([]byte(strings.Repeat("x", 500))); len(got) != 160+len("…") {
		t.Errorf("Excerpt is %d bytes long", len(got))
	}
	if got := httpopt.NotJSON("prometheus", "", ""); got != "prometheus returned non-JSON (no content type) — a proxy?" {
		t.Errorf("NotJSON = %q", got)
	}
	if got := httpopt.NotJSON("alertmanager", "text/html", "Login"); got != "alertmanager returned non-JSON (text/html) — a proxy?: Login" {
		t.Errorf("NotJSON = %q", got)
	}
	if got := httpopt.Redact("http://bob:hunter2@am:9093/x"); strings.Contains(got, "hunter2") {
		t.Errorf("Redact = %q", got)
	}
}
