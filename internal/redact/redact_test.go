package redact

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	cases := []struct{ in, want, secret string }{
		{"postgres://flightdeck:hunter2@db.internal:5432/app", "postgres://flightdeck:xxxxx@db.internal:5432/app", "hunter2"},
		{"postgresql://u:p%40ss@h1:5432,h2:5433/app?sslmode=require&password=x2", "postgresql://u:xxxxx@h1:5432,h2:5433/app?sslmode=require&password=xxxxx", "p@ss"},
		{"postgres://u:a:b@c@host/db", "postgres://u:xxxxx@host/db", "a:b@c"},
		{"postgres://flightdeck@db/app", "postgres://flightdeck@db/app", ""},
		{"postgres://db/app?sslpassword=k3y#frag", "postgres://db/app?sslpassword=xxxxx#xxxxx", "k3y"},
		// Issue 16.8: a password inside libpq's options, in both forms.
		{"host=db options='-c password=hunter2 -c statement_timeout=5s'", "host=db options='-c password=xxxxx -c statement_timeout=5s'", "hunter2"},
		{"host=db options='-capp.secret=s3cr3t --search_path=x'", "host=db options='-capp.secret=xxxxx --search_path=x'", "s3cr3t"},
		{`host=db options='--password=h\\ u2' user=fd`, `host=db options='--password=xxxxx' user=fd`, "h u2"},
		{"host=db options='-c statement_timeout=5s'", "host=db options='-c statement_timeout=5s'", ""},
		{"postgres://u@db/app?options=-c%20password%3Dhunter2&sslmode=require", "postgres://u@db/app?options=-c%20password=xxxxx&sslmode=require", "hunter2"},
		{"postgres://u@db/app?options=-c+password%3Dhunter2", "postgres://u@db/app?options=-c%20password=xxxxx", "hunter2"},
		{"postgres://u@db/app?options=-c%20search_path%3Dx", "postgres://u@db/app?options=-c%20search_path%3Dx", ""},
		{"postgres://u:pw@h/db?sslpassword=topsecret&sslmode=verify-full", "postgres://u:xxxxx@h/db?sslpassword=xxxxx&sslmode=verify-full", "topsecret"},
		{"host=db user=fd password=hunter2 dbname=app", "host=db user=fd password=xxxxx dbname=app", "hunter2"},
		{"host=db sslpassword=k3yp4ss sslkey=/etc/fd.key", "host=db sslpassword=xxxxx sslkey=/etc/fd.key", "k3yp4ss"},
		{"host=db password = 'with space\\' quote' dbname=app", "host=db password = xxxxx dbname=app", "with space"},
		{"PASSWORD=Upper host=x", "PASSWORD=xxxxx host=x", "Upper"},
		{"host=db password='unterminated dbname=app", "host=db xxxxx", "unterminated"},
		{"host=db password", "host=db xxxxx", ""},
		{"host=db port=abc password=s3cret", "host=db port=abc password=xxxxx", "s3cret"},
		{"", "", ""},
		{"host=/var/run/postgresql", "host=/var/run/postgresql", ""},
	}
	for _, c := range cases {
		got := DSN(c.in)
		if got != c.want {
			t.Errorf("DSN(%q) = %q, want %q", c.in, got, c.want)
		}
		if c.secret != "" && strings.Contains(got, c.secret) {
			t.Errorf("DSN(%q) leaks %q", c.in, c.secret)
		}
	}
}

func TestURL(t *testing.T) {
	cases := []struct{ in, want, secret string }{
		{"http://admin:hunter2@prom:9090", "http://admin:xxxxx@prom:9090", "hunter2"},
		{"https://prom:9090/prefix?token=abc123&x=1", "https://prom:9090/prefix?token=xxxxx&x=1", "abc123"},
		{"https://am/?access_token=t0k&api_key=k3y&key=g00g&secret=s3c&Password=pw1", "https://am/?access_token=xxxxx&api_key=xxxxx&key=xxxxx&secret=xxxxx&Password=xxxxx", "t0k"},
		{"https://idp/cb#access_token=frag7&state=1", "https://idp/cb#xxxxx", "frag7"},
		// Issue 16.8: a fragment is never sent to a server: masked whole.
		{"https://h/x#s3cretfrag", "https://h/x#xxxxx", "s3cretfrag"},
		{"https://h/x?a=1#", "https://h/x?a=1#", ""},
		{"https://h/x#frag?token=t0k", "https://h/x#xxxxx", "t0k"},
		// Issue 16.8: an AWS endpoint with an access key pair and a
		// session token: the key ID is a credential, not a user name.
		{"http://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY@moto:5000/?X-Amz-Security-Token=FwoGZXIvYXdzEBYaD&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101",
			"http://xxxxx:xxxxx@moto:5000/?X-Amz-Security-Token=xxxxx&X-Amz-Credential=xxxxx", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"http://AKIAIOSFODNN7EXAMPLE:x@moto:5000", "http://xxxxx:xxxxx@moto:5000", "AKIAIOSFODNN7EXAMPLE"},
		{"https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r", "https://xxxxx@github.com/o/r", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"},
		{"https://0123456789abcdef0123456789abcdef01@h/", "https://xxxxx@h/", "0123456789abcdef0123456789abcdef01"},
		{"postgres://flightdeck_readonly_user@db/app", "postgres://flightdeck_readonly_user@db/app", ""},
		{"http://u:pw@[::1", "http://u:xxxxx@[::1", "pw"},                 // does not parse
		{"http://u:p/w@host:9090/x", "http://u:xxxxx@host:9090/x", "p/w"}, // '/' in the password
		{"http://host/users/@me", "http://host/users/@me", ""},            // '@' in the path
		{"http://bob@host/", "http://bob@host/", ""},
		{"prom:9090", "prom:9090", ""},
		{"http://u:p%2Fw@host", "http://u:xxxxx@host", "p/w"},
	}
	for _, c := range cases {
		got, secrets := URLSecrets(c.in)
		if got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
		if c.secret != "" {
			if strings.Contains(got, c.secret) {
				t.Errorf("URL(%q) leaks %q", c.in, c.secret)
			}
			found := false
			for _, s := range secrets {
				found = found || s == c.secret || strings.Contains(c.in, s)
			}
			if !found {
				t.Errorf("URLSecrets(%q) = %q: misses %q", c.in, secrets, c.secret)
			}
		}
	}
}

// TestLink: a link for a person keeps its anchor, and masks what URL does.
func TestLink(t *testing.T) {
	for in, want := range map[string]string{
		"https://wiki/runbooks/db#connection-exhaustion":    "https://wiki/runbooks/db#connection-exhaustion",
		"https://idp/cb#access_token=frag7&state=1":         "https://idp/cb#access_token=xxxxx&state=1",
		"https://u:hunter2@wiki/rb?token=t0k#step-2":        "https://u:xxxxx@wiki/rb?token=xxxxx#step-2",
		"https://AKIAIOSFODNN7EXAMPLE:x@wiki/rb":            "https://xxxxx:xxxxx@wiki/rb",
		"https://wiki/rb?options=-c%20password%3Dhunter2#a": "https://wiki/rb?options=-c%20password=xxxxx#a",
	} {
		if got := Link(in); got != want {
			t.Errorf("Link(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestErrorParse is the case: a URL that fails to parse must not
// echo its password in the error.
func TestErrorParse(t *testing.T) {
	_, err := url.Parse("http://u:pw4711@[::1")
	if err == nil || !strings.Contains(err.Error(), "pw4711") {
		t.Fatalf("precondition: net/url's error quotes the password: %v", err)
	}
	wrapped := fmt.Errorf("prometheus.url: %w", err)
	got := Error(wrapped)
	if strings.Contains(got.Error(), "pw4711") || !strings.Contains(got.Error(), "missing ']'") {
		t.Fatalf("Error = %q", got)
	}
	var ue *url.Error
	if !errors.As(got, &ue) || !errors.Is(got, err) {
		t.Error("the chain is lost")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
	plain := errors.New("no url here")
	if Error(plain) != plain {
		t.Error("an error without a URL changed")
	}
	joined := errors.Join(errors.New("a"), wrapped)
	if strings.Contains(Error(joined).Error(), "pw4711") {
		t.Errorf("joined: %v", Error(joined))
	}
}

// TestErrorFetch: the error of a failed request to a URL with userinfo and a
// token in its query string names neither.
func TestErrorFetch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin:hunter2@127.0.0.1:1/api?token=t0k3n", nil)
	_, err := http.DefaultClient.Do(req)
	if err == nil {
		t.Fatal("no error")
	}
	if msg := Error(err).Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, "t0k3n") {
		t.Fatalf("Error = %q", msg)
	}
}

func TestScrubLongestFirst(t *testing.T) {
	if got := Scrub("pw=abcd and abc", "abc", "abcd"); got != "pw=xxxxx and xxxxx" {
		t.Errorf("Scrub = %q", got)
	}
}

func FuzzDSN(f *testing.F) {
	f.Add(" user=x")
	f.Add("?sslmode=disable&password=x")
	f.Add("'")
	f.Add(" password='a\\'b'")
	f.Add("#x@y")
	f.Fuzz(func(t *testing.T, extra string) {
		if strings.Contains(strings.ToLower(extra), "secret1") {
			return // the property is about the known secret
		}
		for _, dsn := range []string{
			"host=db password=secret1 " + extra,
			"host=db sslpassword='secret1' " + extra,
			"postgres://u:secret1@h/db" + extra,
			"postgres://h/db?sslpassword=secret1" + extra,
			"host=db options='-c password=secret1' " + extra,
			"host=db options='-cpassword=secret1" + extra,
			"postgres://h/db?options=-c%20password%3Dsecret1" + extra,
		} {
			if got := DSN(dsn); strings.Contains(got, "secret1") {
				t.Fatalf("DSN(%q) = %q leaks", dsn, got)
			}
		}
		for _, u := range []string{
			"http://u:secret1@" + extra,
			"https://h/?token=secret1&" + extra,
			"https://h/#secret1" + extra,
			"http://AKIAABCDEFGHIJKLMNOP:secret1@" + extra,
		} {
			if got := URL(u); strings.Contains(got, "secret1") {
				t.Fatalf("URL(%q) = %q leaks", u, got)
			}
		}
	})
}
