// Package prom reads SLOs from Prometheus and, when no Alertmanager is
// configured, alerts from Prometheus's own alerts API.
//
// The SLO source batches its work: one instant query carries every window of
// up to BatchSize SLOs (each series tagged with a label saying which SLO,
// good/total and window it is), and the sparkline range query is re-run only
// when a new sparkline step has begun. In steady state a tick of ten SLOs is
// one round trip. The README ("Prometheus and Alertmanager") has the configuration and the arithmetic.
package prom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Options configure the Prometheus SLO source.
type Options struct {
	// Endpoint is where Prometheus is and how to reach it, e.g. URL
	// http://prometheus:9090 (a path prefix is kept). Its Timeout bounds
	// one Fetch (all its queries).
	httpopt.Endpoint
	SLOs []SLO
	// SparkWidth is the number of sparkline points; default 40.
	SparkWidth int
	// SparkRange is how far back the sparkline reaches; default 6h. The
	// step is SparkRange/SparkWidth, at least 15s.
	SparkRange time.Duration
	// BatchSize is how many SLOs share one instant query; default 10.
	BatchSize int
	// Parallel bounds the queries in flight at once; default 4.
	Parallel int
	// Now is the evaluation time of the queries; default time.Now. Tests pin
	// it to compare with Prometheus's own answers at the same instant.
	Now func() time.Time
	Log *slog.Logger
}

// SLO is one objective. Good and Total are PromQL templates (Go text/template)
// in which {{.window}} is replaced by a Prometheus duration (5m, 30m, 1h, 2h,
// 6h, 1d, 3d, 30d); each is wrapped in sum(), so they must be rates (or
// increases) of counters that sum meaningfully.
type SLO struct {
	Name, Description string
	Objective         float64       // e.g. 0.999
	Window            time.Duration // e.g. 30 days; default 30 days
	Good, Total       string
}

// DefaultWindow is an SLO's window when none is given.
const DefaultWindow = 30 * 24 * time.Hour

// SparkBurnWindow is the window of the burn rate the sparkline plots: the
// long window of the fast-burn page rule, smooth enough to read at a glance.
const SparkBurnWindow = time.Hour

// queryLabel tags each series of a batched query with what it is.
const queryLabel = "flightdeck_q"

// Source is the Prometheus SLO source. It is safe for concurrent use.
type Source struct {
	o    Options
	api  v1.API
	slos []*compiled
	log  *slog.Logger

	mu       sync.Mutex
	isolated map[int]bool // SLOs whose expression failed in a batch: queried alone
	spark    sparkCache
}

type compiled struct {
	SLO
	windows []time.Duration // BurnWindows plus Window, shortest first
	good    []string        // rendered per window
	total   []string
	spark   string // 1h burn-rate expression for the sparkline
}

type sparkCache struct {
	end, start time.Time
	step       time.Duration
	series     map[int][]float64
}

// New validates the options (URL, auth, every SLO's templates) and returns
// the source. It does no I/O.
func New(o Options) (*Source, error) {
	var err error
	if o.Endpoint, err = o.Check("prometheus"); err != nil {
		return nil, err
	}
	if o.SparkWidth <= 0 {
		o.SparkWidth = 40
	}
	if o.SparkRange <= 0 {
		o.SparkRange = 6 * time.Hour
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 10
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	rt, err := newTransport(o)
	if err != nil {
		return nil, err
	}
	client, err := api.NewClient(api.Config{Address: o.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	s := &Source{o: o, api: v1.NewAPI(client), log: o.Log, isolated: map[int]bool{}}
	seen := map[string]bool{}
	for _, slo := range o.SLOs {
		if slo.Name == "" {
			return nil, errors.New("slo: name is required")
		}
		if seen[slo.Name] {
			return nil, fmt.Errorf("slo %q: duplicate name", slo.Name)
		}
		seen[slo.Name] = true
		c, err := compile(slo)
		if err != nil {
			return nil, fmt.Errorf("slo %q: %w", slo.Name, err)
		}
		s.slos = append(s.slos, c)
	}
	return s, nil
}

func compile(slo SLO) (*compiled, error) {
	if !(slo.Objective > 0 && slo.Objective < 1) {
		return nil, fmt.Errorf("objective %v: want a fraction strictly between 0 and 1 (e.g. 0.999)", slo.Objective)
	}
	if slo.Window <= 0 {
		slo.Window = DefaultWindow
	}
	if slo.Window%time.Second != 0 {
		return nil, fmt.Errorf("window %s: want whole seconds", slo.Window)
	}
	c := &compiled{SLO: slo}
	c.windows = slices.Clone(sources.BurnWindows)
	if !slices.Contains(c.windows, slo.Window) {
		c.windows = append(c.windows, slo.Window)
		slices.Sort(c.windows)
	}
	for _, f := range []struct {
		name, text string
		out        *[]string
	}{{"good", slo.Good, &c.good}, {"total", slo.Total, &c.total}} {
		if strings.TrimSpace(f.text) == "" {
			return nil, fmt.Errorf("%s: expression is required", f.name)
		}
		tmpl, err := template.New(f.name).Option("missingkey=error").Parse(f.text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		for _, w := range c.windows {
			e, err := render(tmpl, w)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			*f.out = append(*f.out, e)
		}
		// An expression that ignores the window gives every burn window
		// the same value: the multiwindow rules would be meaningless.
		if (*f.out)[0] == (*f.out)[len(*f.out)-1] {
			return nil, fmt.Errorf("%s: the expression does not use {{.window}}", f.name)
		}
	}
	tg, _ := template.New("good").Parse(slo.Good)
	tt, _ := template.New("total").Parse(slo.Total)
	g1, _ := render(tg, SparkBurnWindow)
	t1, _ := render(tt, SparkBurnWindow)
	c.spark = fmt.Sprintf("(1 - ((sum(%s)) or (0 * sum(%s))) / sum(%s)) / %s",
		g1, t1, t1, strconv.FormatFloat(sources.ErrorBudget(slo.Objective), 'g', -1, 64))
	return c, nil
}

func render(t *template.Template, w time.Duration) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, map[string]string{"window": PromDuration(w)}); err != nil {
		return "", err
	}
	return b.String(), nil
}

// PromDuration renders d in Prometheus duration syntax with the largest unit
// that divides it: 5m, 1h, 1d, 30d, 90s.
func PromDuration(d time.Duration) string {
	units := []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}}
	for _, u := range units {
		if d >= u.d && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return "0s"
}

// Name identifies the source.
func (s *Source) Name() string { return "prom" }

// Kind is KindSLO.
func (s *Source) Kind() sources.Kind { return sources.KindSLO }

// values holds one SLO's answers: good and total per window index; a
// missing series is NaN.
type values struct{ good, total []float64 }

func newValues(n int) values {
	v := values{good: make([]float64, n), total: make([]float64, n)}
	for i := range n {
		v.good[i], v.total[i] = math.NaN(), math.NaN()
	}
	return v
}

// Fetch evaluates every SLO at Options.Now: batched instant queries for the
// SLIs and burn rates, plus the sparkline range query when a new step began.
// A bad expression becomes that SLO's Err; Prometheus down, slow or answering
// garbage fails the whole fetch with a clear error.
func (s *Source) Fetch(ctx context.Context) (sources.Payload, error) {
	limit := httpopt.EffectiveTimeout(ctx, s.o.Timeout, 0)
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	t := &tally{}
	ctx = withTally(ctx, t)
	at := s.o.Now()
	started := time.Now()

	s.mu.Lock()
	var batched, alone []int
	for i := range s.slos {
		if s.isolated[i] {
			alone = append(alone, i)
		} else {
			batched = append(batched, i)
		}
	}
	s.mu.Unlock()

	res := make([]values, len(s.slos))
	errs := make([]string, len(s.slos))
	var wmu sync.Mutex
	var warnings []string
	addWarnings := func(ws []string) {
		wmu.Lock()
		defer wmu.Unlock()
		for _, w := range ws {
			w = sanitize.Text(w)
			if !slices.Contains(warnings, w) {
				warnings = append(warnings, w)
			}
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.o.Parallel)
	for chunk := range slices.Chunk(batched, s.o.BatchSize) {
		g.Go(func() error { return s.runBatch(gctx, chunk, at, res, errs, addWarnings) })
	}
	for _, i := range alone {
		g.Go(func() error { return s.runBatch(gctx, []int{i}, at, res, errs, addWarnings) })
	}
	spark := s.sparkCached(at)
	var sparkErr error
	if spark == nil {
		// A failed sparkline never fails the fetch: when Prometheus is
		// down the instant queries say so, and otherwise the SLO numbers
		// matter more than the picture.
		g.Go(func() error {
			spark, sparkErr = s.querySpark(gctx, at, addWarnings)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		err = describeErr(err, limit)
		s.log.Warn("prometheus fetch failed", "url", s.o.Redacted(), "err", err, "queries", t.requests.Load())
		return nil, err
	}
	if sparkErr != nil && isQueryErr(sparkErr) && s.isolatedCount() > 0 {
		// The sparkline ran alongside the batch that revealed a bad
		// expression; now that it is isolated, try once more without it.
		spark, sparkErr = s.querySpark(ctx, at, addWarnings)
	}
	if sparkErr != nil {
		addWarnings([]string{"sparkline: " + describeErr(sparkErr, limit).Error()})
		spark = s.lastSpark()
	}

	set := &sources.SLOSet{SLOs: make([]sources.SLOStatus, len(s.slos)), Warnings: warnings}
	for i, c := range s.slos {
		st := c.status(res[i])
		if errs[i] != "" {
			st = c.unknown()
			st.Err = errs[i]
		}
		if spark != nil {
			st.Spark, st.SparkStep = spark.series[i], spark.step
			if st.Spark == nil {
				st.Spark = nanSlice(s.o.SparkWidth)
			}
		}
		set.SLOs[i] = st
	}
	set.Queries = int(t.requests.Load())
	set.Bytes = t.bytes.Load()
	s.log.Debug("prometheus fetch", "slos", len(s.slos), "queries", set.Queries, "bytes", set.Bytes, "took", time.Since(started))
	return set, nil
}

// runBatch runs one instant query for the SLOs idx. When Prometheus rejects
// the query (a bad or failing expression), it retries each SLO alone so the
// error lands on the SLO it belongs to, and remembers the culprits so that
// later ticks keep them out of the batch.
func (s *Source) runBatch(ctx context.Context, idx []int, at time.Time, res []values, errs []string, warn func([]string)) error {
	vals, ws, err := s.queryInstant(ctx, idx, at)
	warn(ws)
	if err == nil {
		for i, v := range vals {
			res[i] = v
		}
		if len(idx) == 1 {
			s.setIsolated(idx[0], false)
		}
		return nil
	}
	if !isQueryErr(err) {
		return err
	}
	if len(idx) == 1 {
		i := idx[0]
		errs[i] = fmt.Sprintf("slo %q: %s", s.slos[i].Name, describeErr(err, s.o.Timeout))
		res[i] = newValues(len(s.slos[i].windows))
		s.setIsolated(i, true)
		return nil
	}
	for _, i := range idx {
		if err := s.runBatch(ctx, []int{i}, at, res, errs, warn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) isolatedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.isolated)
}

func (s *Source) setIsolated(i int, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v {
		s.isolated[i] = true
	} else {
		delete(s.isolated, i)
	}
}

func isQueryErr(err error) bool {
	var ae *v1.Error
	return errors.As(err, &ae) && (ae.Type == v1.ErrBadData || ae.Type == v1.ErrExec)
}

// queryInstant evaluates good and total over every window of the SLOs idx
// in one query: each term is tagged by label_replace with
// "<slo>/<g|t>/<window index>" and the terms are joined with `or`, which
// keeps them all since their tags differ.
func (s *Source) queryInstant(ctx context.Context, idx []int, at time.Time) (map[int]values, []string, error) {
	var q strings.Builder
	for _, i := range idx {
		c := s.slos[i]
		for wi := range c.windows {
			for _, gt := range []struct {
				tag  string
				expr string
			}{{"g", c.good[wi]}, {"t", c.total[wi]}} {
				if q.Len() > 0 {
					q.WriteString("\nor ")
				}
				fmt.Fprintf(&q, `label_replace(sum(%s), %q, "%d/%s/%d", "", "")`, gt.expr, queryLabel, i, gt.tag, wi)
			}
		}
	}
	val, ws, _, err := s.api.Query(ctx, q.String(), at)
	if err != nil {
		return nil, ws, err
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, ws, &v1.Error{Type: v1.ErrBadResponse, Msg: "instant query returned " + val.Type().String() + ", want vector"}
	}
	out := make(map[int]values, len(idx))
	for _, i := range idx {
		out[i] = newValues(len(s.slos[i].windows))
	}
	for _, smp := range vec {
		var i, wi int
		var tag string
		if _, err := fmt.Sscanf(strings.ReplaceAll(string(smp.Metric[queryLabel]), "/", " "), "%d %s %d", &i, &tag, &wi); err != nil {
			continue
		}
		v, ok := out[i]
		if !ok || wi < 0 || wi >= len(v.good) {
			continue
		}
		if tag == "g" {
			v.good[wi] = float64(smp.Value)
		} else {
			v.total[wi] = float64(smp.Value)
		}
	}
	return out, ws, nil
}

// status turns good/total per window into the SLO's numbers.
func (c *compiled) status(v values) sources.SLOStatus {
	st := c.unknown()
	// burn is the failed requests over the failures the budget allows:
	// (total − good) / (total × budget). Subtracting counts is exact, so
	// 144 errors in 10000 requests on a 99.9% SLO is 144/10 = 14.4, where
	// (1 − good/total) / (1 − 0.999) was 14.399999999999986.
	budget := sources.ErrorBudget(c.Objective)
	burn := func(wi int) float64 {
		g, t := v.good[wi], v.total[wi]
		if math.IsNaN(t) || t == 0 {
			return math.NaN() // no traffic: unknown, not perfect
		}
		if math.IsNaN(g) {
			// Traffic but no good series at all: every request failed
			// (e.g. only 5xx series exist). An outage must not read as
			// "no data".
			g = 0
		}
		return (t - g) / (t * budget)
	}
	for wi, w := range c.windows {
		b := burn(wi)
		if w == c.Window {
			st.SLI = 1 - b*budget
			st.BudgetLeft = 1 - b
			if !math.IsNaN(st.BudgetLeft) {
				st.BudgetLeftTime = time.Duration(st.BudgetLeft * float64(c.Window))
			}
		}
		if slices.Contains(sources.BurnWindows, w) {
			st.Burn[w] = b
		}
	}
	st.Level, st.Reason = sources.EvaluateBurn(st.Burn)
	return st
}

func (c *compiled) unknown() sources.SLOStatus {
	st := sources.SLOStatus{
		Name:        sanitize.Text(c.Name),
		Description: sanitize.Text(c.Description),
		Objective:   c.Objective,
		Window:      c.Window,
		SLI:         math.NaN(),
		BudgetLeft:  math.NaN(),
		Burn:        make(map[time.Duration]float64, len(sources.BurnWindows)),
		Level:       sources.SLOUnknown,
		Reason:      "no data",
	}
	for _, w := range sources.BurnWindows {
		st.Burn[w] = math.NaN()
	}
	return st
}

// sparkGrid is the sparkline's time grid at: steps aligned to the epoch so
// that consecutive ticks within one step share the same grid (and the cache).
func (s *Source) sparkGrid(at time.Time) (start, end time.Time, step time.Duration) {
	step = max((s.o.SparkRange / time.Duration(s.o.SparkWidth)).Round(time.Second), 15*time.Second)
	end = at.Truncate(step)
	start = end.Add(-step * time.Duration(s.o.SparkWidth-1))
	return start, end, step
}

// sparkCached returns the cached sparklines when at is still in the step
// they were computed for.
func (s *Source) sparkCached(at time.Time) *sparkCache {
	_, end, step := s.sparkGrid(at)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spark.series != nil && s.spark.end.Equal(end) && s.spark.step == step {
		c := s.spark
		return &c
	}
	return nil
}

func (s *Source) lastSpark() *sparkCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spark.series == nil {
		return nil
	}
	c := s.spark
	return &c
}

// querySpark runs one range query for the 1h burn rate of every healthy SLO.
func (s *Source) querySpark(ctx context.Context, at time.Time, warn func([]string)) (*sparkCache, error) {
	start, end, step := s.sparkGrid(at)
	s.mu.Lock()
	var q strings.Builder
	for i, c := range s.slos {
		if s.isolated[i] {
			continue
		}
		if q.Len() > 0 {
			q.WriteString("\nor ")
		}
		fmt.Fprintf(&q, `label_replace(%s, %q, "%d", "", "")`, c.spark, queryLabel, i)
	}
	s.mu.Unlock()
	cache := sparkCache{start: start, end: end, step: step, series: map[int][]float64{}}
	if q.Len() == 0 {
		return &cache, nil
	}
	val, ws, _, err := s.api.QueryRange(ctx, q.String(), v1.Range{Start: start, End: end, Step: step})
	warn(ws)
	if err != nil {
		return nil, err
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, &v1.Error{Type: v1.ErrBadResponse, Msg: "range query returned " + val.Type().String() + ", want matrix"}
	}
	for _, ss := range m {
		i, err := strconv.Atoi(string(ss.Metric[queryLabel]))
		if err != nil || i < 0 || i >= len(s.slos) {
			continue
		}
		pts := nanSlice(s.o.SparkWidth)
		for _, p := range ss.Values {
			k := int(p.Timestamp.Time().Sub(start) / step)
			if k >= 0 && k < len(pts) {
				pts[k] = float64(p.Value)
			}
		}
		cache.series[i] = pts
	}
	s.mu.Lock()
	s.spark = cache
	s.mu.Unlock()
	return &cache, nil
}

func nanSlice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// sortedLabels converts a label set to flightdeck's sorted, sanitized form.
func sortedLabels(ls model.LabelSet) []sources.Label {
	out := make([]sources.Label, 0, len(ls))
	for k, v := range ls {
		out = append(out, sources.Label{Name: sanitize.Text(string(k)), Value: sanitize.Text(string(v))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
