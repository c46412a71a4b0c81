// Package httpopt is the HTTP plumbing shared by the backends that speak to
// Prometheus-style HTTP APIs (prom, alertmanager): auth and TLS options, the
// client built from them, and the shaping of failures into one line an
// operator can act on.
//
// Auth and TLS go through prometheus/common's client config, so they behave
// exactly as in Prometheus's own clients (a bearer token file is re-read on
// every request, so rotation just works). Secrets never reach an error or a
// log: they travel in headers, never in URLs, and errors quote only excerpts
// of response bodies.
package httpopt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/config"

	"flightdeck/sources"
)

// TLS configures TLS towards the server. Empty fields take the system
// defaults (system roots, no client certificate).
type TLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
}

// Auth is how requests authenticate: a bearer token, a bearer token file
// (re-read on every request), or a username and password for basic auth.
// At most one of BearerToken and BearerTokenFile may be set.
type Auth struct {
	BearerToken, BearerTokenFile string
	Username, Password           string
}

// RoundTripper returns a round tripper that authenticates and applies TLS
// as configured. Its errors are prometheus/common's and never quote a
// secret; callers prefix the backend's name.
func RoundTripper(auth Auth, tls TLS) (http.RoundTripper, error) {
	cfg := config.HTTPClientConfig{
		BearerToken:     config.Secret(auth.BearerToken),
		BearerTokenFile: auth.BearerTokenFile,
		TLSConfig: config.TLSConfig{
			CAFile:             tls.CAFile,
			CertFile:           tls.CertFile,
			KeyFile:            tls.KeyFile,
			ServerName:         tls.ServerName,
			InsecureSkipVerify: tls.InsecureSkipVerify,
		},
		FollowRedirects: true,
		EnableHTTP2:     true,
	}
	if auth.Username != "" || auth.Password != "" {
		cfg.BasicAuth = &config.BasicAuth{Username: auth.Username, Password: config.Secret(auth.Password)}
	}
	// Validate also turns bearer_token(_file) into the Authorization config
	// the round tripper reads; it must run before the round tripper is built.
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return config.NewRoundTripperFromConfig(cfg, "flightdeck", config.WithUserAgent("flightdeck"))
}

// Client is an http.Client over RoundTripper. It has no timeout of its own:
// callers bound each call with a context, so that the error can name the
// deadline that applied (see EffectiveTimeout).
func Client(auth Auth, tls TLS) (*http.Client, error) {
	rt, err := RoundTripper(auth, tls)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

// EffectiveTimeout is how long a call bounded by d under ctx may take, for
// the error message: the caller's deadline (the Hub's) can be shorter than
// the source's own timeout, and the message must name the limit that
// applied. A deadline within slack of d counts as d itself; callers that
// measure after starting their own timer pass the time that may have passed
// since, so that "10s" does not read "9.98s".
func EffectiveTimeout(ctx context.Context, d, slack time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d-slack {
			return max(left.Round(10*time.Millisecond), 0)
		}
	}
	return d
}

// TimedOut reports whether err is a request that ran out of time: the
// context's deadline, or a network timeout inside a url.Error.
func TimedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		return errors.As(ue.Err, &ne) && ne.Timeout()
	}
	return false
}

// NotJSON is the message for a success status with a body that is not JSON:
// usually a proxy or a login page in front of the server. service
// names the server ("prometheus"), excerpt is Excerpt of the body.
func NotJSON(service, contentType, excerpt string) string {
	return fmt.Sprintf("%s returned non-JSON (%s) — a proxy?%s", service, OrNone(contentType), Suffix(excerpt))
}

// OrNone is a Content-Type for a message, "no content type" when empty.
func OrNone(contentType string) string {
	if contentType == "" {
		return "no content type"
	}
	return contentType
}

// Suffix is ": s", or nothing when s is empty, to append an optional detail
// to a message.
func Suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// Excerpt turns the start of a response body into one sanitized line of at
// most 160 characters without markup, so that an HTML error page still
// says something useful. Callers bound b: it is read whole.
func Excerpt(b []byte) string {
	var out strings.Builder
	inTag := false
	for _, r := range string(b) {
		switch {
		case r == '<':
			inTag = true
			out.WriteByte(' ')
		case r == '>':
			inTag = false
		case !inTag:
			out.WriteRune(r)
		}
	}
	s := strings.Join(strings.Fields(sources.Sanitize(out.String())), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// Redact hides a password in a URL (user:pass@host) for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable url>"
	}
	return u.Redacted()
}
