package httpopt_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/testsrv"
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
		c, err := httpopt.Client(httpopt.Endpoint{Auth: auth})
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
	_, err := httpopt.Client(httpopt.Endpoint{Auth: httpopt.Auth{BearerToken: "s3cr3t-token", BearerTokenFile: "/f"}})
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
}

// TestStatusLineAndHeadersSanitized: a server's reason phrase and headers
// are outside text; they are sanitized when the response comes in, so no
// error built from them can carry an escape sequence.
func TestStatusLineAndHeadersSanitized(t *testing.T) {
	url := testsrv.RawHTTP(t, func(*http.Request) string {
		return testsrv.RawResponse(testsrv.HostileStatus, "text/html\u009b2J\u202e", "busy")
	})
	c, err := httpopt.Client(httpopt.Endpoint{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if bad := testsrv.RawControls(resp.Status); len(bad) > 0 || resp.Status != "503 SvcRLO" {
		t.Errorf("Status = %q (raw %v)", resp.Status, bad)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestBodyCap: a body over MaxBody fails with a clear error instead of
// being read whole (or truncated into "malformed JSON"); one at the cap is
// read whole, with or without a Content-Length.
func TestBodyCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var size int
		fmt.Sscan(r.URL.Query().Get("size"), &size)
		body := strings.Repeat("x", size)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		io.WriteString(w, body[:size/2])
		w.(http.Flusher).Flush()
		io.WriteString(w, body[size/2:])
	}))
	defer srv.Close()
	c, err := httpopt.Client(httpopt.Endpoint{MaxBody: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size    int
		chunked bool
		ok      bool
	}{{1 << 20, false, true}, {1 << 20, true, true}, {1<<20 + 1, false, false}, {3 << 20, true, false}} {
		u := fmt.Sprintf("%s/?size=%d", srv.URL, tc.size)
		if tc.chunked {
			u += "&chunked=1"
		}
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var tl *httpopt.TooLargeError
		switch {
		case tc.ok && (err != nil || len(b) != tc.size):
			t.Errorf("%d bytes (chunked %v): read %d, %v", tc.size, tc.chunked, len(b), err)
		case !tc.ok && (!errors.As(err, &tl) || err.Error() != "response larger than 1 MiB"):
			t.Errorf("%d bytes (chunked %v): err %v", tc.size, tc.chunked, err)
		case !tc.ok && len(b) > 1<<20:
			t.Errorf("%d bytes read past the cap", len(b))
		}
	}
	if got := httpopt.Failure("prometheus", &httpopt.TooLargeError{Limit: 16 << 20}, time.Second).Error(); got != "prometheus: response larger than 16 MiB" {
		t.Errorf("Failure = %q", got)
	}
}

// TestFailureHidesURLSecrets: an error from a request to a URL with a
// password and a token names neither.
func TestFailureHidesURLSecrets(t *testing.T) {
	c, err := httpopt.Client(httpopt.Endpoint{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get("http://admin:hunter2@127.0.0.1:1/api?token=t0k3n")
	if err == nil {
		t.Fatal("no error")
	}
	msg := httpopt.Failure("prometheus", err, time.Second).Error()
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "t0k3n") || !strings.Contains(msg, "prometheus unreachable") {
		t.Errorf("Failure = %q", msg)
	}
	if got := (httpopt.Endpoint{URL: "http://admin:hunter2@p:9090/?api_key=k"}).Redacted(); got != "http://admin:xxxxx@p:9090/?api_key=xxxxx" {
		t.Errorf("Redacted = %q", got)
	}
	if _, err := (httpopt.Endpoint{URL: "http://u:pw4711@[::1"}).Check("prometheus"); err == nil || strings.Contains(err.Error(), "pw4711") {
		t.Errorf("Check = %v", err)
	}
}
