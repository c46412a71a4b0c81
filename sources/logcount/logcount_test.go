package logcount_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"flightdeck/ops/opstest"
	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/sources/logcount"
)

var epoch = time.Date(2026, 3, 14, 3, 7, 0, 0, time.UTC)

// queryOf finds target's log query in the demo's rollout snapshot, as a
// runbook expression does.
func queryOf(t *testing.T, w *demo.World, target string) sources.LogQuery {
	t.Helper()
	k := w.Rollouts()
	p, err := k.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	q, ok := sources.LogQueries(sources.Snapshot{Source: k.Name(), Data: p})[target]
	if !ok {
		t.Fatalf("no log query for %s", target)
	}
	return q
}

func fetch(t *testing.T, s *logcount.Sampler) *sources.LogCounts {
	t.Helper()
	p, err := s.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sources.LogCounts)
}

// The demo's bad deploy: no error lines before it, 5xx lines after, and
// the filter counts its own matches; nothing is read while nothing is
// wanted.
func TestSamplerCountsTheBadDeploy(t *testing.T) {
	c := opstest.NewClock(epoch)
	w := demo.NewWorld(demo.Options{Now: c.Now, Seed: 42})
	wants := &sources.LogCountWants{}
	readers := func(name string) sources.LogReader {
		if name == w.Rollouts().Name() {
			return w.Rollouts()
		}
		return nil
	}
	s := logcount.New(readers, wants, c.Now)
	if got := fetch(t, s); len(got.Samples) != 0 {
		t.Fatalf("nothing wanted, yet sampled %+v", got.Samples)
	}
	c.Set(epoch.Add(20 * time.Second))
	const target, filter = "production/nudgecampaign-api", `/ 5\d\d /`
	q := queryOf(t, w, target)
	wants.Want(q, filter, time.Now().Add(time.Minute))
	calm, ok := fetch(t, s).Sample(q.Source, target)
	if !ok || calm.Err != "" || len(calm.Marks) == 0 {
		t.Fatalf("calm sample %+v", calm)
	}
	if n, _ := calm.Count(5*time.Minute, sources.LogLevelError, ""); n != 0 {
		t.Errorf("calm: %d error lines", n)
	}
	c.Set(epoch.Add(130 * time.Second))
	bad, _ := fetch(t, s).Sample(q.Source, target)
	errs, _ := bad.Count(5*time.Minute, sources.LogLevelError, "")
	fives, ok := bad.Count(5*time.Minute, sources.LogLevelNone, filter)
	all, _ := bad.Count(5*time.Minute, sources.LogLevelNone, "")
	t.Logf("bad deploy: %d lines read, %d in 5m, %d errors, %d 5xx", len(bad.Marks), all, errs, fives)
	if !ok || errs == 0 || fives == 0 || fives > all || !bad.At.Equal(c.Now()) {
		t.Errorf("bad deploy: %d errors, %d 5xx (%v) of %d; at %v", errs, fives, ok, all, bad.At)
	}
	if _, ok := bad.Count(time.Minute, 0, "not counted"); ok {
		t.Error("a filter nobody asked for counted")
	}
	if n, _ := bad.Count(time.Second, sources.LogLevelNone, ""); n >= all {
		t.Errorf("a 1s window holds %d of %d lines", n, all)
	}
}

// hostile emits more lines than a sample keeps, then fails.
type hostile struct{ fail error }

func (h hostile) ReadLogs(ctx context.Context, q sources.LogQuery, emit func(sources.LogBatch)) error {
	at := epoch
	for range 4 {
		var b sources.LogBatch
		for i := range 5000 {
			b.Lines = append(b.Lines, sources.LogLine{At: at.Add(time.Duration(i) * time.Millisecond), Text: "panic " + fmt.Sprint(i)})
		}
		at = at.Add(10 * time.Second)
		emit(b)
	}
	if h.fail != nil {
		emit(sources.LogBatch{Err: h.fail, Done: true})
		return h.fail
	}
	emit(sources.LogBatch{Done: true})
	return nil
}

// Bounds: lines kept, error text sanitized and cut, a reader-less source
// and a bad filter say so.
func TestSamplerBounds(t *testing.T) {
	clock := func() time.Time { return epoch.Add(time.Minute) }
	wants := &sources.LogCountWants{}
	until := time.Now().Add(time.Minute)
	many := sources.LogQuery{Source: "many", Target: "a/many"}
	failing := sources.LogQuery{Source: "failing", Target: "a/failing"}
	wants.Want(many, "", until)
	wants.Want(failing, "", until)
	wants.Want(sources.LogQuery{Source: "none", Target: "a/none"}, "", until)
	wants.Want(sources.LogQuery{Source: "many", Target: "a/badfilter"}, "/(/", until)
	hostileErr := errors.New("no rights\x1b[2J" + strings.Repeat("x", 10000))
	s := logcount.New(func(name string) sources.LogReader {
		switch name {
		case "many":
			return hostile{}
		case "failing":
			return hostile{fail: hostileErr}
		}
		return nil
	}, wants, clock)
	got := fetch(t, s)
	m, _ := got.Sample("many", "a/many")
	if len(m.Marks) != sources.MaxLogSampleLines || !m.Truncated || m.Marks[0].Level != sources.LogLevelCrit {
		t.Errorf("many: %d marks, truncated %v", len(m.Marks), m.Truncated)
	}
	for i := 1; i < len(m.Marks); i++ {
		if m.Marks[i].At.Before(m.Marks[i-1].At) {
			t.Fatal("marks not in time order")
		}
	}
	f, _ := got.Sample("failing", "a/failing")
	if len(f.Marks) != 0 || strings.Contains(f.Err, "\x1b") || len(f.Err) > 400 || !strings.HasPrefix(f.Err, "no rights") {
		t.Errorf("failing: %d marks, err %q", len(f.Marks), f.Err)
	}
	if n, _ := got.Sample("none", "a/none"); n.Err != "none reads no logs" {
		t.Errorf("reader-less: %+v", n)
	}
	if b, _ := got.Sample("many", "a/badfilter"); !strings.HasPrefix(b.Err, "filter /(/") {
		t.Errorf("bad filter: %+v", b)
	}
}

// Wants expire, and are bounded in targets and filters.
func TestWantsBounded(t *testing.T) {
	var w sources.LogCountWants
	now := time.Now()
	for i := range sources.MaxLogCountTargets + 3 {
		w.Want(sources.LogQuery{Source: "k", Target: fmt.Sprint("t", i)}, "", now.Add(time.Minute))
	}
	q := sources.LogQuery{Source: "k", Target: "t0"}
	for i := range sources.MaxLogCountFilters + 5 {
		w.Want(q, fmt.Sprint("f", i), now.Add(time.Minute))
	}
	w.Want(q, strings.Repeat("x", sources.MaxLogFilterBytes+1), now.Add(time.Minute))
	got := w.Wanted(now)
	if len(got) != sources.MaxLogCountTargets || got[0].Query != q || len(got[0].Filters) != sources.MaxLogCountFilters {
		t.Fatalf("wanted %d targets, first %+v with %d filters", len(got), got[0].Query, len(got[0].Filters))
	}
	if got := w.Wanted(now.Add(2 * time.Minute)); len(got) != 0 {
		t.Errorf("expired wants still wanted: %+v", got)
	}
}

// slow reads nothing until ctx ends.
type slow struct{}

func (slow) ReadLogs(ctx context.Context, q sources.LogQuery, emit func(sources.LogBatch)) error {
	<-ctx.Done()
	return nil
}

// A slow target takes only its share of the round: the next one is still
// sampled, and the slow one says why it has no counts.
func TestSamplerSlowTargetTakesItsShare(t *testing.T) {
	wants := &sources.LogCountWants{}
	until := time.Now().Add(time.Minute)
	wants.Want(sources.LogQuery{Source: "a-slow", Target: "a/slow"}, "", until)
	wants.Want(sources.LogQuery{Source: "b-fast", Target: "b/fast"}, "", until)
	s := logcount.New(func(name string) sources.LogReader {
		if name == "a-slow" {
			return slow{}
		}
		return hostile{}
	}, wants, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := p.(*sources.LogCounts)
	if a, _ := got.Sample("a-slow", "a/slow"); a.Err != "reading the logs of a/slow took too long" || len(a.Marks) != 0 {
		t.Errorf("slow: %+v", a.Err)
	}
	if b, _ := got.Sample("b-fast", "b/fast"); b.Err != "" || len(b.Marks) == 0 {
		t.Errorf("fast after slow: %q, %d marks", b.Err, len(b.Marks))
	}
}
