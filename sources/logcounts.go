package sources

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// KindLogCounts is the kind of the log sampler's payload (LogCounts): no
// pane shows it; runbook expressions read it (logs("…").errors("5m")).
const KindLogCounts Kind = "logcounts"

// Bounds of log sampling: it reads a bounded tail of each wanted target,
// and only a bounded number of targets and filters.
const (
	// LogSampleTail is how many of the last lines of each stream a sample
	// reads.
	LogSampleTail = 500
	// MaxLogSampleLines bounds the lines a sample keeps (the newest).
	MaxLogSampleLines = 5000
	// MaxLogCountTargets is how many targets are sampled at once; wants
	// for more are dropped until one expires.
	MaxLogCountTargets = 8
	// MaxLogCountFilters is how many filters one target counts.
	MaxLogCountFilters = 16
	// MaxLogFilterBytes bounds a filter's text.
	MaxLogFilterBytes = 256
	// MaxLogCountWindow is the longest window a count looks back.
	MaxLogCountWindow = time.Hour
)

// LogCounts is the latest sample of every wanted target's logs. It is
// immutable, like every payload.
type LogCounts struct {
	Samples []LogSample
}

func (*LogCounts) payloadKind() Kind { return KindLogCounts }

// Sample returns the sample of target read through source.
func (c *LogCounts) Sample(source, target string) (LogSample, bool) {
	if c == nil {
		return LogSample{}, false
	}
	for _, s := range c.Samples {
		if s.Source == source && s.Target == target {
			return s, true
		}
	}
	return LogSample{}, false
}

// LogSample is one reading of a target's log tail, kept as marks (time,
// level, filters matched), not text: counting needs no more.
type LogSample struct {
	// Source and Target are the LogQuery's.
	Source, Target string
	// At is when the sample was read; windows end there.
	At time.Time
	// Err says why the logs could not be read, sanitized; Marks are then
	// empty.
	Err string
	// Filters are the filters Marks record, in bit order (LogMark.Match).
	Filters []string
	// Marks are the lines read, oldest first, at most MaxLogSampleLines.
	Marks []LogMark
	// Truncated is true when more lines were read than kept.
	Truncated bool
}

// LogMark is what a sample keeps of a line.
type LogMark struct {
	At    time.Time
	Level LogLevel
	// Match has bit i set when the line matched Filters[i].
	Match uint16
}

// Count counts the lines at or after At-window that are at least level
// min and match filter (every line when filter is ""). ok is false when
// the filter is not one the sample counted.
func (s LogSample) Count(window time.Duration, min LogLevel, filter string) (n int, ok bool) {
	var bit uint16
	if filter != "" {
		i := slices.Index(s.Filters, filter)
		if i < 0 {
			return 0, false
		}
		bit = 1 << i
	}
	from := s.At.Add(-window)
	for _, m := range s.Marks {
		if m.At.Before(from) || m.Level < min || m.Match&bit != bit {
			continue
		}
		n++
	}
	return n, true
}

// LogWant is one target wanted by the log sampler and the filters to count.
type LogWant struct {
	Query   LogQuery
	Filters []string
}

// LogCountWants records which targets' logs runbook expressions are
// counting, so the sampler reads only those (and stops once nobody asks).
type LogCountWants struct {
	mu sync.Mutex
	m  map[LogQuery]map[string]time.Time // filter ("" for none) → until
	// added are told when a target or a filter is wanted that was not
	// (Added).
	added map[chan struct{}]struct{}
}

// Added returns a channel that receives when a target or a filter comes to
// be wanted that was not wanted before, until ctx ends: the log sampler's
// world reads at once then rather than at the sampler's next round, so a
// runbook check on logs is known in seconds instead of up to a round. A
// want renewed by the next evaluation of the same expression is not news.
func (w *LogCountWants) Added(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.added == nil {
		w.added = map[chan struct{}]struct{}{}
	}
	w.added[ch] = struct{}{}
	w.mu.Unlock()
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		delete(w.added, ch)
		w.mu.Unlock()
	})
	return ch
}

// LogWants is the process's registry: runbook expressions write it, the
// log sampler reads it.
var LogWants = &LogCountWants{}

// Want says the logs of q, counted with filter ("" for only levels), are
// wanted until the given time. A want beyond the bounds, or a filter
// longer than MaxLogFilterBytes, is dropped: it stays unknown.
func (w *LogCountWants) Want(q LogQuery, filter string, until time.Time) {
	if len(filter) > MaxLogFilterBytes {
		return
	}
	q = LogQuery{Source: q.Source, Namespace: q.Namespace, Selector: q.Selector, Region: q.Region, Group: q.Group,
		Prefix: q.Prefix, Target: q.Target}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[LogQuery]map[string]time.Time{}
	}
	f := w.m[q]
	if f == nil {
		if len(w.m) >= MaxLogCountTargets {
			w.pruneLocked(time.Now())
			if len(w.m) >= MaxLogCountTargets {
				return
			}
		}
		f = map[string]time.Time{}
		w.m[q] = f
	}
	prev, had := f[filter]
	if !had && len(f) >= MaxLogCountFilters+1 {
		return
	}
	if until.After(prev) {
		f[filter] = until
	}
	if !had || !time.Now().Before(prev) { // new, or wanted again after it lapsed
		for ch := range w.added {
			select {
			case ch <- struct{}{}:
			default: // one pending read covers every want since
			}
		}
	}
}

// Wanted lists what is wanted at now, in a stable order, and forgets what
// expired.
func (w *LogCountWants) Wanted(now time.Time) []LogWant {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(now)
	out := make([]LogWant, 0, len(w.m))
	for q, fs := range w.m {
		lw := LogWant{Query: q}
		for f := range fs {
			if f != "" {
				lw.Filters = append(lw.Filters, f)
			}
		}
		slices.Sort(lw.Filters)
		out = append(out, lw)
	}
	slices.SortFunc(out, func(a, b LogWant) int {
		return strings.Compare(a.Query.Source+"\x00"+a.Query.Target, b.Query.Source+"\x00"+b.Query.Target)
	})
	return out
}

func (w *LogCountWants) pruneLocked(now time.Time) {
	for q, fs := range w.m {
		for f, until := range fs {
			if !now.Before(until) {
				delete(fs, f)
			}
		}
		if len(fs) == 0 {
			delete(w.m, q)
		}
	}
}

// LogQueries are the log targets a snapshot's data names, by target: a
// deployment's pods by its selector, an ECS service's awslogs streams.
// The log view and runbook log counts find targets by this one rule.
func LogQueries(snap Snapshot) map[string]LogQuery {
	var qs map[string]LogQuery
	switch set := snap.Data.(type) {
	case *RolloutSet:
		qs = make(map[string]LogQuery, len(set.Deployments))
		for _, d := range set.Deployments {
			if d.Selector != "" {
				qs[d.Key()] = LogQuery{Source: snap.Source, Namespace: d.Namespace, Selector: d.Selector, Target: d.Key()}
			}
		}
	case *AWSSet:
		qs = make(map[string]LogQuery, len(set.ECS))
		for _, sv := range set.ECS {
			if sv.Logs.Group != "" {
				qs[sv.Key()] = LogQuery{Source: snap.Source, Region: sv.Logs.Region, Group: sv.Logs.Group, Prefix: sv.Logs.Prefix, Target: sv.Key()}
			}
		}
	}
	return qs
}
