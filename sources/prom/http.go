package prom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/sanitize"
)

// newTransport returns the round tripper every request goes through: auth and
// TLS (httpopt), then flightdeck's accounting and content check.
func newTransport(o Options) (http.RoundTripper, error) {
	rt, err := httpopt.RoundTripper(o.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	return &countingTransport{next: rt}, nil
}

// tally counts the round trips and response bytes of one Fetch. It travels in
// the request context, so concurrent fetches never mix their numbers.
type tally struct {
	requests atomic.Int64
	bytes    atomic.Int64
}

type tallyKey struct{}

func withTally(ctx context.Context, t *tally) context.Context {
	return context.WithValue(ctx, tallyKey{}, t)
}

// countingTransport counts requests and response bytes per Fetch and turns
// responses that cannot be Prometheus API answers (HTML from a proxy or a
// login page, plain-text errors) into a clear error before the JSON decoder
// produces a cryptic one.
type countingTransport struct{ next http.RoundTripper }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t, _ := req.Context().Value(tallyKey{}).(*tally)
	if t != nil {
		t.requests.Add(1)
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if t != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.bytes}
	}
	return checkResponse(resp)
}

// checkResponse lets through what the API client can decode (JSON answers,
// and 400/422, Prometheus's query errors) and turns the rest into an
// httpError naming the status and the upstream's own message.
func checkResponse(resp *http.Response) (*http.Response, error) {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	code := resp.StatusCode
	isJSON := ct == "application/json"
	if code == http.StatusNoContent || isJSON && (code/100 == 2 || code == http.StatusBadRequest || code == http.StatusUnprocessableEntity) {
		return resp, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	he := &httpError{Status: code, StatusText: resp.Status, ContentType: ct}
	var apiErr struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if isJSON && json.Unmarshal(b, &apiErr) == nil && apiErr.Error != "" {
		he.Body = sanitize.Text(apiErr.Error)
		he.JSON = true
	} else {
		he.Body = httpopt.Excerpt(b)
	}
	return nil, he
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// httpError is a response that is not a Prometheus API answer.
type httpError struct {
	Status      int
	StatusText  string // "503 Service Unavailable"
	ContentType string
	Body        string
	JSON        bool // Body is the upstream's JSON error message
}

func (e *httpError) Error() string {
	switch {
	case e.Status/100 == 2:
		return httpopt.NotJSON("prometheus", e.ContentType, e.Body)
	case e.JSON:
		return fmt.Sprintf("prometheus %s%s", e.StatusText, httpopt.Suffix(e.Body))
	}
	return fmt.Sprintf("prometheus %s (%s)%s", e.StatusText, httpopt.OrNone(e.ContentType), httpopt.Suffix(e.Body))
}

// describeErr turns a transport or API error into one line an operator can
// act on. Secrets cannot appear: transport errors go through
// httpopt.Failure (which masks the URL's), status lines were sanitized on
// the way in, and bodies are excerpts of error pages.
func describeErr(err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var ae *v1.Error
	if errors.As(err, &ae) {
		msg := sanitize.Text(ae.Msg)
		switch ae.Type {
		case v1.ErrBadData, v1.ErrExec:
			return &queryError{Type: string(ae.Type), Msg: msg}
		case v1.ErrTimeout:
			return fmt.Errorf("prometheus query timed out: %s", msg)
		case v1.ErrServer, v1.ErrClient:
			// A JSON error from something that is not the query engine
			// (generic 4xx/5xx): the status line is in Msg.
			return fmt.Errorf("prometheus %s%s", strings.TrimPrefix(strings.TrimPrefix(msg, "server error: "), "client error: "), httpopt.Suffix(httpopt.Excerpt([]byte(ae.Detail))))
		case v1.ErrBadResponse:
			return fmt.Errorf("prometheus returned a malformed response: %s", msg)
		}
		return fmt.Errorf("prometheus %s: %s", ae.Type, msg)
	}
	return httpopt.Failure("prometheus", err, timeout)
}

// queryError is Prometheus refusing a query (bad_data: it does not parse;
// execution: it failed while evaluating). It belongs to the SLO whose
// expression it is, not to the source as a whole.
type queryError struct {
	Type string
	Msg  string
}

func (e *queryError) Error() string { return "prometheus " + e.Type + ": " + e.Msg }
