// Package httpopt is the HTTP plumbing shared by the backends that speak to
// Prometheus-style HTTP APIs (prom, alertmanager): the Endpoint options
// (URL, timeout, auth, TLS, body cap) that config maps once, the client
// built from them, and the shaping of failures into one line an operator
// can act on.
//
// Auth and TLS go through prometheus/common's client config, so they behave
// exactly as in Prometheus's own clients (a bearer token file is re-read on
// every request, so rotation just works). Every response is taken in at
// one door, the client's transport: its status line and headers are
// sanitized there and its body is capped, before any backend reads them.
// Secrets never reach an error or a log: they travel in headers, URLs are
// shown through redact, and errors quote only excerpts of response bodies.
package httpopt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/config"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
)

// Defaults for an Endpoint's zero fields.
const (
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBody caps one response body. A tick's real answer is
	// kilobytes; tens of thousands of alerts still fit.
	DefaultMaxBody = 16 << 20
)

// Endpoint is how to reach one server: the options every HTTP backend
// shares, so that config is mapped onto them in one place.
type Endpoint struct {
	// URL of the server, e.g. http://prometheus:9090 (a path prefix is
	// kept). Userinfo works as basic auth; the URL is only ever shown
	// through redact.URL.
	URL string
	// Timeout bounds one Fetch or one capability call; default 10s. The
	// caller's own deadline (the Hub's) applies too, whichever is sooner.
	Timeout time.Duration
	Auth    Auth
	TLS     TLS
	// MaxBody caps one response body in bytes; default DefaultMaxBody. A
	// larger answer fails with "response larger than N MiB".
	MaxBody int64
}

// Check validates e for the named service ("prometheus") and returns it
// with its defaults applied. It does no I/O.
func (e Endpoint) Check(service string) (Endpoint, error) {
	if e.URL == "" {
		return e, fmt.Errorf("%s: url is required", service)
	}
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return e, fmt.Errorf("%s: url %q: want http(s)://host[:port]", service, sanitize.Text(redact.URL(e.URL)))
	}
	if e.Timeout <= 0 {
		e.Timeout = DefaultTimeout
	}
	if e.MaxBody <= 0 {
		e.MaxBody = DefaultMaxBody
	}
	return e, nil
}

// Redacted is the URL for logs and messages: its secrets masked.
func (e Endpoint) Redacted() string { return sanitize.Text(redact.URL(e.URL)) }

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
// as e says, and takes every response in through ingest: status line and
// headers sanitized, body capped at e.MaxBody (DefaultMaxBody when zero).
// Its errors are prometheus/common's and never quote a secret; callers
// prefix the backend's name.
func RoundTripper(e Endpoint) (http.RoundTripper, error) {
	cfg := config.HTTPClientConfig{
		BearerToken:     config.Secret(e.Auth.BearerToken),
		BearerTokenFile: e.Auth.BearerTokenFile,
		TLSConfig: config.TLSConfig{
			CAFile:             e.TLS.CAFile,
			CertFile:           e.TLS.CertFile,
			KeyFile:            e.TLS.KeyFile,
			ServerName:         e.TLS.ServerName,
			InsecureSkipVerify: e.TLS.InsecureSkipVerify,
		},
		FollowRedirects: true,
		EnableHTTP2:     true,
	}
	if e.Auth.Username != "" || e.Auth.Password != "" {
		cfg.BasicAuth = &config.BasicAuth{Username: e.Auth.Username, Password: config.Secret(e.Auth.Password)}
	}
	// Validate also turns bearer_token(_file) into the Authorization config
	// the round tripper reads; it must run before the round tripper is built.
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rt, err := config.NewRoundTripperFromConfig(cfg, "flightdeck", config.WithUserAgent("flightdeck"))
	if err != nil {
		return nil, err
	}
	limit := e.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	return &ingest{next: rt, limit: limit}, nil
}

// Client is an http.Client over RoundTripper. It has no timeout of its own:
// callers bound each call with a context, so that the error can name the
// deadline that applied (see EffectiveTimeout).
func Client(e Endpoint) (*http.Client, error) {
	rt, err := RoundTripper(e)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

// ingest is the door every response comes in through. The status line
// ("503 Svc<ESC>]0;…") and the headers are text from outside that error
// messages quote, so they are sanitized here, once; the body is capped so
// that a hostile or broken server costs a bounded amount of memory.
type ingest struct {
	next  http.RoundTripper
	limit int64
}

func (t *ingest) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Status = sanitize.Text(resp.Status)
	for k, vs := range resp.Header {
		for i, v := range vs {
			vs[i] = sanitize.Text(v)
		}
		resp.Header[k] = vs
	}
	CapBody(resp, t.limit)
	return resp, nil
}

// CapBody makes resp's body read at most limit bytes, failing with
// *TooLargeError past it (at once when Content-Length says so): every
// backend that reads an HTTP answer bounds it this one way.
func CapBody(resp *http.Response, limit int64) {
	resp.Body = &cappedBody{rc: resp.Body, left: limit, limit: limit, declared: resp.ContentLength}
}

// TooLargeError is a response body over the Endpoint's MaxBody.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string { return "response larger than " + FormatSize(e.Limit) }

// FormatSize prints a byte count as the largest unit that divides it
// evenly: 16 MiB, 512 KiB, 1000 bytes.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// cappedBody reads at most limit bytes and fails with TooLargeError when
// there is more, rather than returning a truncated body that a JSON decoder
// would call malformed.
type cappedBody struct {
	rc       io.ReadCloser
	left     int64
	limit    int64
	declared int64 // Content-Length, -1 when unknown
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.declared > b.limit {
		return 0, &TooLargeError{Limit: b.limit}
	}
	if b.left <= 0 {
		// At the cap: one more byte means the body is too large.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, &TooLargeError{Limit: b.limit}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// Failure turns an error of a request that got no usable answer into one
// line naming service: the body cap, the deadline that applied (limit),
// cancellation, an unreachable server, or the cause itself, sanitized and
// with the URL's secrets masked.
func Failure(service string, err error, limit time.Duration) error {
	var tl *TooLargeError
	switch {
	case errors.As(err, &tl):
		return fmt.Errorf("%s: %w", service, tl)
	case TimedOut(err):
		return fmt.Errorf("%s did not answer within %s", service, limit)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s request cancelled", service)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL is known; the cause is the news.
		return fmt.Errorf("%s unreachable: %s", service, sanitize.Text(redact.Error(ue.Err).Error()))
	}
	return fmt.Errorf("%s: %s", service, sanitize.Text(redact.Error(err).Error()))
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
	s := strings.Join(strings.Fields(sanitize.Text(out.String())), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
