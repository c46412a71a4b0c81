package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"sort"
	"time"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// rule is one alerting rule, evaluated every simulated second.
type rule struct {
	labels      []sources.Label // sorted, alertname and severity included
	fingerprint string
	summary     string
	describe    func(v float64) string
	runbook     string
	forTicks    int64
	cond        func(t int64) (bool, float64)

	activeSince, firingSince int64 // -1 when inactive / not firing
	value                    float64
}

func (r *rule) label(name string) string {
	for _, l := range r.labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

func labels(kv ...string) []sources.Label {
	var ls []sources.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, sources.Label{Name: kv[i], Value: sanitize.Text(kv[i+1])})
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// fingerprint hashes a label set the way Alertmanager does (FNV-64a over
// sorted name/value pairs), so it is stable across fetches and loops.
func fingerprint(ls []sources.Label) string {
	h := fnv.New64a()
	for _, l := range ls {
		h.Write([]byte(l.Name))
		h.Write([]byte{0xff})
		h.Write([]byte(l.Value))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

const runbooks = "https://runbooks.nudgecampaign.com/"

// initAlerts sets up the rules from the operations manual, with `for`
// durations shortened so pending is visible for a few seconds.
func (w *World) initAlerts() {
	errRatio5m := func() (ratio, perSec float64) {
		req, e, _ := w.met.sum(5, 0)
		if req == 0 {
			return 0, 0
		}
		return e / req, e / (5 * 60)
	}
	p95 := func() float64 {
		req, _, s := w.met.sum(5, 0)
		if req == 0 {
			return 0
		}
		return 0.2 + (s/req-0.05)*3.5
	}
	w.rules = []*rule{
		{
			labels:  labels("alertname", "HighErrorRate", "severity", "critical", "service", "nudgecampaign-api", "namespace", namespace, "job", "nudgecampaign-api"),
			summary: "High error rate detected",
			describe: func(v float64) string {
				return fmt.Sprintf("Error rate is %.2f errors per second", v)
			},
			runbook:  runbooks + "high-error-rate",
			forTicks: 12,
			cond: func(int64) (bool, float64) {
				r, v := errRatio5m()
				return r > 0.02, v
			},
		},
		{
			labels:  labels("alertname", "DatabaseConnectionPoolExhausted", "severity", "warning", "service", "postgres", "namespace", namespace, "job", "postgres", "instance", "db-primary.internal:9187", "datname", database),
			summary: "Database connection pool nearly exhausted",
			describe: func(v float64) string {
				return fmt.Sprintf("%.0f%% of connections in use", v)
			},
			runbook:  runbooks + "database-connection-exhaustion",
			forTicks: 10,
			cond: func(int64) (bool, float64) {
				v := float64(w.clients()) / usableConns
				return v > 0.8, 100 * v
			},
		},
		{
			labels:  labels("alertname", "SlowResponseTime", "severity", "warning", "service", "nudgecampaign-api", "namespace", namespace, "job", "nudgecampaign-api"),
			summary: "Slow response times",
			describe: func(v float64) string {
				return fmt.Sprintf("95th percentile response time is %.2f seconds", v)
			},
			runbook:  runbooks + "slow-response-time",
			forTicks: 20,
			cond: func(int64) (bool, float64) {
				v := p95()
				return v > 0.5, v
			},
		},
		{
			// Unrelated and harmless: a batch host runs hot for a while.
			labels:  labels("alertname", "HighCPUUsage", "severity", "warning", "instance", "ip-10-0-3-17.ec2.internal:9100", "job", "node"),
			summary: "High CPU usage",
			describe: func(v float64) string {
				return fmt.Sprintf("CPU usage is %.1f%%", v)
			},
			runbook:  runbooks + "high-cpu-usage",
			forTicks: 300,
			cond: func(t int64) (bool, float64) {
				return t >= 8 && t < 44, 80.5 + 5*w.rng.Float64()
			},
		},
	}
	for _, r := range w.rules {
		r.fingerprint = fingerprint(r.labels)
		r.activeSince, r.firingSince = -1, -1
	}
}

func (w *World) stepAlerts(t int64) {
	for _, r := range w.rules {
		ok, v := r.cond(t)
		if !ok {
			r.activeSince, r.firingSince = -1, -1
			continue
		}
		r.value = v
		if r.activeSince < 0 {
			r.activeSince = w.tick
		}
		if r.firingSince < 0 && w.tick-r.activeSince >= r.forTicks {
			r.firingSince = w.tick
		}
	}
}

// incidentAlertActive reports whether any alert of the incident is pending
// or firing.
func (w *World) incidentAlertActive() bool {
	for _, r := range w.rules {
		if r.activeSince >= 0 && r.label("alertname") != "HighCPUUsage" {
			return true
		}
	}
	return false
}

// silence is a silence with its compiled matchers.
type silence struct {
	s  sources.Silence
	cm []sources.CompiledMatcher // compiled once: matched every tick
}

func (s *silence) state(now time.Time) string {
	switch {
	case now.Before(s.s.StartsAt):
		return "pending"
	case !now.Before(s.s.EndsAt):
		return "expired"
	}
	return "active"
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// compile checks matchers as Alertmanager does and compiles the regexes,
// anchored at both ends.
func compile(ms []sources.Matcher) ([]sources.CompiledMatcher, error) {
	if len(ms) == 0 {
		return nil, errors.New("at least one matcher is required")
	}
	cms := make([]sources.CompiledMatcher, len(ms))
	for i, m := range ms {
		if !labelName.MatchString(m.Name) {
			return nil, fmt.Errorf("invalid label name %q", m.Name)
		}
		c, err := m.Compile()
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %w", m.Value, err)
		}
		cms[i] = c
	}
	return cms, nil
}

// alerts renders the active alerts, silences applied.
func (w *World) alerts() []sources.Alert {
	var out []sources.Alert
	for _, r := range w.rules {
		if r.activeSince < 0 {
			continue
		}
		a := sources.Alert{
			Fingerprint: r.fingerprint,
			Name:        r.label("alertname"),
			Severity:    r.label("severity"),
			State:       sources.AlertPending,
			StartsAt:    w.wall(r.activeSince),
			UpdatedAt:   w.wall(w.tick),
			Labels:      slices.Clone(r.labels),
			Summary:     r.summary,
			Description: sanitize.Text(r.describe(r.value)),
			RunbookURL:  r.runbook,
			Receivers:   []string{"slack-ops"},
		}
		if a.Severity == "critical" {
			a.Receivers = []string{"pagerduty-oncall", "slack-ops"}
		}
		if r.firingSince >= 0 {
			a.State = sources.AlertFiring
			a.StartsAt = w.wall(r.firingSince)
		}
		a.Annotations = []sources.Label{
			{Name: "description", Value: a.Description},
			{Name: "runbook_url", Value: a.RunbookURL},
			{Name: "summary", Value: a.Summary},
		}
		for _, s := range w.silences {
			if s.state(w.wallNow) == "active" && sources.MatchAllCompiled(s.cm, a.Labels) {
				a.SilencedBy = append(a.SilencedBy, s.s.ID)
			}
		}
		if len(a.SilencedBy) > 0 {
			a.State = sources.AlertSilenced
		}
		out = append(out, a)
	}
	rank := map[sources.AlertState]int{sources.AlertFiring: 0, sources.AlertPending: 1, sources.AlertSilenced: 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].State] < rank[out[j].State] })
	return out
}

func (w *World) silenceCopy(s *silence) sources.Silence {
	c := s.s
	c.Matchers = slices.Clone(s.s.Matchers)
	c.State = s.state(w.wallNow)
	return c
}

// AlertSource is the demo's "am" source: Alertmanager's alerts and
// silences (pending alerts included, as the rules API would show them). It
// also implements the ops Silencer methods.
type AlertSource struct{ w *World }

// Name is "am".
func (s *AlertSource) Name() string { return "am" }

// Kind is sources.KindAlerts.
func (s *AlertSource) Kind() sources.Kind { return sources.KindAlerts }

// Fetch returns the active alerts and every silence of this loop.
func (s *AlertSource) Fetch(ctx context.Context) (sources.Payload, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return nil, err
	}
	defer w.mu.Unlock()
	set := &sources.AlertSet{Scripted: w.scripted(), Origin: "alertmanager", Alerts: w.alerts()}
	for _, si := range w.silences {
		set.Silences = append(set.Silences, w.silenceCopy(si))
	}
	return set, nil
}

// MatchingAlerts returns the firing or pending alerts, not already
// silenced, that all matchers select (regexes anchored, as in Alertmanager).
func (s *AlertSource) MatchingAlerts(ctx context.Context, ms []sources.Matcher) ([]sources.Alert, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cms, err := compile(ms)
	if err != nil {
		return nil, err
	}
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sync()
	var out []sources.Alert
	for _, a := range w.alerts() {
		if a.State != sources.AlertSilenced && sources.MatchAllCompiled(cms, a.Labels) {
			out = append(out, a)
		}
	}
	return out, nil
}

// CreateSilence validates and stores a new silence and returns its id. The
// checks are Alertmanager's: matchers valid and not all matching the empty
// string, creator and comment present, end after start and not past.
func (s *AlertSource) CreateSilence(ctx context.Context, in sources.Silence) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if in.ID != "" {
		return "", fmt.Errorf("silence %s not found: the demo only creates new silences", in.ID)
	}
	cms, err := compile(in.Matchers)
	if err != nil {
		return "", err
	}
	empty := true
	for _, c := range cms {
		empty = empty && c.MatchesValue("")
	}
	if empty {
		return "", errors.New("at least one matcher must not match the empty string")
	}
	if in.CreatedBy == "" {
		return "", errors.New("creator information missing")
	}
	if in.Comment == "" {
		return "", errors.New("comment missing")
	}
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sync()
	now := w.wallNow
	if in.StartsAt.IsZero() || in.StartsAt.Before(now) {
		in.StartsAt = now
	}
	if !in.EndsAt.After(in.StartsAt) {
		return "", errors.New("end time must be after start time")
	}
	id := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", w.ids.Uint32(), w.ids.IntN(1<<16), w.ids.IntN(1<<12),
		0x8000|w.ids.IntN(1<<14), w.ids.Int64N(1<<48))
	si := &silence{s: sources.Silence{
		ID: id, Matchers: slices.Clone(in.Matchers), StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		CreatedBy: sanitize.Text(in.CreatedBy), Comment: sanitize.Text(in.Comment),
	}, cm: cms}
	w.silences = append(w.silences, si)
	return id, nil
}

func (w *World) findSilence(id string) (*silence, error) {
	for _, s := range w.silences {
		if s.s.ID == id {
			return s, nil
		}
	}
	return nil, fmt.Errorf("silence %s not found", id)
}

// GetSilence returns one silence with its current state.
func (s *AlertSource) GetSilence(ctx context.Context, id string) (sources.Silence, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return sources.Silence{}, err
	}
	defer w.mu.Unlock()
	si, err := w.findSilence(id)
	if err != nil {
		return sources.Silence{}, err
	}
	return w.silenceCopy(si), nil
}

// ExpireSilence ends a silence now; the alerts it covered notify again.
func (s *AlertSource) ExpireSilence(ctx context.Context, id string) error {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	si, err := w.findSilence(id)
	if err != nil {
		return err
	}
	switch si.state(w.wallNow) {
	case "expired":
		return fmt.Errorf("silence %s already expired", id)
	case "pending":
		si.s.StartsAt = w.wallNow
	}
	si.s.EndsAt = w.wallNow
	return nil
}
