// Package alertmanager reads alerts and silences from Alertmanager's API v2
// and creates and expires silences for the ops Executor (it satisfies
// ops.Silencer without importing ops).
//
// It is a small typed client over net/http rather than Alertmanager's
// generated go-swagger client: five endpoints do not justify the swagger
// runtime and its dependency tree, and plain HTTP lets every failure (a
// proxy's HTML page, a 503, a timeout) become one clear line.
package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Options configure the Alertmanager source.
type Options struct {
	// Endpoint is where Alertmanager is and how to reach it, e.g. URL
	// http://alertmanager:9093 (a path prefix, as with --web.route-prefix,
	// is kept). Its Timeout bounds one Fetch or one capability call.
	httpopt.Endpoint
	Log *slog.Logger
}

// Source is the Alertmanager source. It is safe for concurrent use.
type Source struct {
	o    Options
	base *url.URL
	hc   *http.Client
	log  *slog.Logger
	now  func() time.Time
}

// New validates the options and returns the source. It does no I/O.
func New(o Options) (*Source, error) {
	var err error
	if o.Endpoint, err = o.Check("alertmanager"); err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.URL) // Check parsed it
	u.Path = strings.TrimSuffix(u.Path, "/")
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	hc, err := httpopt.Client(o.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	return &Source{o: o, base: u, hc: hc, log: o.Log, now: time.Now}, nil
}

// Name identifies the source; it is also the key of the Silencer capability.
func (s *Source) Name() string { return "am" }

// Kind is KindAlerts.
func (s *Source) Kind() sources.Kind { return sources.KindAlerts }

// ---------------------------------------------------------------- wire types

type wireAlert struct {
	Annotations  map[string]string `json:"annotations"`
	Labels       map[string]string `json:"labels"`
	Fingerprint  string            `json:"fingerprint"`
	StartsAt     time.Time         `json:"startsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Receivers    []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State       string   `json:"state"` // active, suppressed, unprocessed
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

type wireMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"` // absent before Alertmanager 0.22: means true
}

type wireSilence struct {
	ID        string        `json:"id,omitempty"`
	Matchers  []wireMatcher `json:"matchers"`
	StartsAt  time.Time     `json:"startsAt"`
	EndsAt    time.Time     `json:"endsAt"`
	CreatedBy string        `json:"createdBy"`
	Comment   string        `json:"comment"`
	Status    *struct {
		State string `json:"state"`
	} `json:"status,omitempty"`
}

// ---------------------------------------------------------------- Fetch

// Fetch reads every alert (active, silenced, inhibited) and every silence,
// in two concurrent requests.
func (s *Source) Fetch(ctx context.Context) (sources.Payload, error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	var alerts []wireAlert
	var sils []wireSilence
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return s.do(gctx, http.MethodGet, "/api/v2/alerts", url.Values{
			"active": {"true"}, "silenced": {"true"}, "inhibited": {"true"}, "unprocessed": {"true"},
		}, nil, &alerts)
	})
	g.Go(func() error { return s.do(gctx, http.MethodGet, "/api/v2/silences", nil, nil, &sils) })
	if err := g.Wait(); err != nil {
		s.log.Warn("alertmanager fetch failed", "url", s.o.Redacted(), "err", err)
		return nil, err
	}
	set := &sources.AlertSet{Origin: "alertmanager", Alerts: make([]sources.Alert, 0, len(alerts)),
		Silences: make([]sources.Silence, 0, len(sils))}
	for _, a := range alerts {
		set.Alerts = append(set.Alerts, convertAlert(a))
	}
	sources.SortAlerts(set.Alerts)
	for _, w := range sils {
		set.Silences = append(set.Silences, convertSilence(w))
	}
	sortSilences(set.Silences)
	return set, nil
}

func convertAlert(w wireAlert) sources.Alert {
	a := sources.Alert{
		Fingerprint:  sanitize.Text(w.Fingerprint),
		StartsAt:     w.StartsAt,
		UpdatedAt:    w.UpdatedAt,
		EndsAt:       w.EndsAt,
		GeneratorURL: sanitize.Text(w.GeneratorURL),
		Labels:       sortedLabels(w.Labels),
		Annotations:  sortedLabels(w.Annotations),
		SilencedBy:   sanitizeAll(w.Status.SilencedBy),
		InhibitedBy:  sanitizeAll(w.Status.InhibitedBy),
	}
	for _, r := range w.Receivers {
		a.Receivers = append(a.Receivers, sanitize.Text(r.Name))
	}
	switch {
	case w.Status.State != "suppressed":
		// active, and unprocessed (received, not yet through the
		// pipeline): Prometheus only sends firing alerts.
		a.State = sources.AlertFiring
	case len(a.SilencedBy) > 0:
		a.State = sources.AlertSilenced
	case len(a.InhibitedBy) > 0:
		a.State = sources.AlertInhibited
	default:
		a.State = sources.AlertSilenced
	}
	a.FillFromLabels()
	return a
}

func convertSilence(w wireSilence) sources.Silence {
	s := sources.Silence{
		ID:        sanitize.Text(w.ID),
		StartsAt:  w.StartsAt,
		EndsAt:    w.EndsAt,
		CreatedBy: sanitize.Text(w.CreatedBy),
		Comment:   sanitize.Text(w.Comment),
	}
	if w.Status != nil {
		s.State = sanitize.Text(w.Status.State)
	}
	for _, m := range w.Matchers {
		eq := m.IsEqual == nil || *m.IsEqual
		s.Matchers = append(s.Matchers, sources.Matcher{
			Name: sanitize.Text(m.Name), Value: sanitize.Text(m.Value), IsRegex: m.IsRegex, IsEqual: eq,
		})
	}
	return s
}

func sortedLabels(m map[string]string) []sources.Label {
	out := make([]sources.Label, 0, len(m))
	for k, v := range m {
		out = append(out, sources.Label{Name: sanitize.Text(k), Value: sanitize.Text(v)})
	}
	slices.SortFunc(out, func(a, b sources.Label) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func sanitizeAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return sanitize.All(slices.Clone(ss))
}

// sortSilences puts active silences first, then pending, then expired; the
// newest first within each.
func sortSilences(ss []sources.Silence) {
	rank := map[string]int{"active": 0, "pending": 1, "expired": 2}
	slices.SortStableFunc(ss, func(x, y sources.Silence) int {
		rx, okx := rank[x.State]
		ry, oky := rank[y.State]
		if !okx {
			rx = 3
		}
		if !oky {
			ry = 3
		}
		if rx != ry {
			return rx - ry
		}
		if c := y.StartsAt.Compare(x.StartsAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
}

// ---------------------------------------------------------------- Silencer

// MatchingAlerts returns the active alerts, neither silenced nor inhibited,
// that all of matchers select. It fetches them and matches locally with
// Alertmanager's semantics (regexes fully anchored, a missing label is the
// empty string), which avoids re-encoding matchers into Alertmanager's
// filter syntax, whose quoting rules changed across versions.
func (s *Source) MatchingAlerts(ctx context.Context, matchers []sources.Matcher) ([]sources.Alert, error) {
	ms, err := compileMatchers(matchers)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	var alerts []wireAlert
	if err := s.do(ctx, http.MethodGet, "/api/v2/alerts", url.Values{
		"active": {"true"}, "silenced": {"false"}, "inhibited": {"false"}, "unprocessed": {"true"},
	}, nil, &alerts); err != nil {
		return nil, err
	}
	var out []sources.Alert
	for _, w := range alerts {
		if w.Status.State == "suppressed" {
			continue
		}
		if sources.MatchAllCompiled(ms, wireLabels(w.Labels)) {
			out = append(out, convertAlert(w))
		}
	}
	sources.SortAlerts(out)
	return out, nil
}

// compileMatchers checks matchers as Alertmanager would before sending them
// (or matching with them) and compiles their regexes once for the batch.
func compileMatchers(ms []sources.Matcher) ([]sources.CompiledMatcher, error) {
	if len(ms) == 0 {
		return nil, errors.New("alertmanager: at least one matcher is required")
	}
	out := make([]sources.CompiledMatcher, len(ms))
	for i, m := range ms {
		if m.Name == "" {
			return nil, errors.New("alertmanager: matcher without a label name")
		}
		c, err := m.Compile()
		if err != nil {
			return nil, fmt.Errorf("alertmanager: matcher %s: %w", m.Name, err)
		}
		out[i] = c
	}
	return out, nil
}

// wireLabels lists a wire label set as it came, unsanitized: matchers must
// see what Alertmanager sees, or a silence previewed here would select
// other alerts there.
func wireLabels(m map[string]string) []sources.Label {
	out := make([]sources.Label, 0, len(m))
	for k, v := range m {
		out = append(out, sources.Label{Name: k, Value: v})
	}
	return out
}

// CreateSilence creates sil (its ID must be empty: this never updates an
// existing silence) and returns the new id. The POST is sent once and never
// retried: if its outcome is unknown (a timeout), the operator looks at the
// silences list rather than risk a duplicate.
func (s *Source) CreateSilence(ctx context.Context, sil sources.Silence) (string, error) {
	if sil.ID != "" {
		return "", errors.New("alertmanager: CreateSilence got a silence with an id; updating is not supported")
	}
	if _, err := compileMatchers(sil.Matchers); err != nil {
		return "", err
	}
	if strings.TrimSpace(sil.Comment) == "" {
		return "", errors.New("alertmanager: a silence needs a comment")
	}
	if strings.TrimSpace(sil.CreatedBy) == "" {
		return "", errors.New("alertmanager: a silence needs createdBy")
	}
	if sil.StartsAt.IsZero() {
		sil.StartsAt = s.now()
	}
	if !sil.EndsAt.After(sil.StartsAt) {
		return "", errors.New("alertmanager: a silence must end after it starts")
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	if err := s.checkNegativeMatchers(ctx, sil.Matchers); err != nil {
		return "", err
	}
	body := wireSilence{StartsAt: sil.StartsAt.UTC(), EndsAt: sil.EndsAt.UTC(), CreatedBy: sil.CreatedBy, Comment: sil.Comment}
	for _, m := range sil.Matchers {
		eq := m.IsEqual
		body.Matchers = append(body.Matchers, wireMatcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, IsEqual: &eq})
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := s.do(ctx, http.MethodPost, "/api/v2/silences", nil, body, &out); err != nil {
		return "", err
	}
	if out.SilenceID == "" {
		return "", errors.New("alertmanager accepted the silence but returned no id")
	}
	s.log.Info("silence created", "id", out.SilenceID, "createdBy", sil.CreatedBy)
	return sanitize.Text(out.SilenceID), nil
}

// checkNegativeMatchers refuses != and !~ matchers unless the server is
// Alertmanager 0.22 or newer: older servers ignore isEqual, so a silence
// meant for "everything but X" would silence exactly X.
func (s *Source) checkNegativeMatchers(ctx context.Context, ms []sources.Matcher) error {
	negative := false
	for _, m := range ms {
		negative = negative || !m.IsEqual
	}
	if !negative {
		return nil
	}
	var status struct {
		VersionInfo struct {
			Version string `json:"version"`
		} `json:"versionInfo"`
	}
	if err := s.do(ctx, http.MethodGet, "/api/v2/status", nil, nil, &status); err != nil {
		return fmt.Errorf("alertmanager: cannot check its version before a negative matcher: %w", err)
	}
	v := sanitize.Text(status.VersionInfo.Version)
	if !versionAtLeast(v, 0, 22) {
		return fmt.Errorf("alertmanager %s ignores != and !~ matchers (needs 0.22 or newer): the silence would match the opposite alerts", orUnknown(v))
	}
	return nil
}

// versionAtLeast compares a "0.25.0" style version with major.minor; an
// unparsable version is treated as too old.
func versionAtLeast(v string, major, minor int) bool {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

func orUnknown(v string) string {
	if v == "" {
		return "(unknown version)"
	}
	return v
}

// GetSilence reads one silence.
func (s *Source) GetSilence(ctx context.Context, id string) (sources.Silence, error) {
	if id == "" {
		return sources.Silence{}, errors.New("alertmanager: empty silence id")
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	var w wireSilence
	if err := s.do(ctx, http.MethodGet, "/api/v2/silence/"+url.PathEscape(id), nil, nil, &w); err != nil {
		return sources.Silence{}, err
	}
	return convertSilence(w), nil
}

// ExpireSilence ends a silence now (DELETE /api/v2/silence/{id}).
func (s *Source) ExpireSilence(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("alertmanager: empty silence id")
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	if err := s.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil, nil); err != nil {
		return err
	}
	s.log.Info("silence expired", "id", id)
	return nil
}

// ---------------------------------------------------------------- HTTP

// do sends one request and decodes a JSON answer into out (nil: ignore the
// body). Every failure comes back as one line naming Alertmanager.
func (s *Source) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u := *s.base
	u.Path += path
	u.RawQuery = q.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("alertmanager: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// 50ms of slack absorbs the time spent since the caller's WithTimeout
	// of s.o.Timeout: only a shorter deadline (the Hub's) is news.
	limit := httpopt.EffectiveTimeout(ctx, s.o.Timeout, 50*time.Millisecond)
	resp, err := s.hc.Do(req)
	if err != nil {
		return httpopt.Failure("alertmanager", err, limit)
	}
	defer resp.Body.Close()
	// The body is capped by the client's transport (Endpoint.MaxBody).
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpopt.Failure("alertmanager", err, limit)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode/100 != 2 {
		return &httpError{Status: resp.Status, Msg: errorMessage(ct, b)}
	}
	if out == nil {
		return nil
	}
	if ct != "application/json" {
		return errors.New(httpopt.NotJSON("alertmanager", ct, excerpt(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("alertmanager returned malformed JSON: %s", sanitize.Text(err.Error()))
	}
	return nil
}

// httpError is a non-2xx answer.
type httpError struct {
	Status string // "400 Bad Request"
	Msg    string
}

func (e *httpError) Error() string { return "alertmanager " + e.Status + httpopt.Suffix(e.Msg) }

// errorMessage extracts Alertmanager's message from an error body: a JSON
// string (its handlers' errors), a go-swagger {"code","message"} object
// (validation errors), or an excerpt of anything else.
func errorMessage(ct string, b []byte) string {
	if ct == "application/json" {
		var str string
		if json.Unmarshal(b, &str) == nil {
			return sanitize.Text(strings.TrimSpace(str))
		}
		var obj struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(b, &obj) == nil && (obj.Message != "" || obj.Error != "") {
			return sanitize.Text(obj.Message + obj.Error)
		}
	}
	return excerpt(b)
}

// excerpt is httpopt.Excerpt of the first 2 KiB of a body, which may be
// up to Endpoint.MaxBody long.
func excerpt(b []byte) string {
	return httpopt.Excerpt(b[:min(len(b), 2048)])
}
