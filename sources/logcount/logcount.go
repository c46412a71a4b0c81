// Package logcount is the log sampler: a polled source that reads a
// bounded tail of each target whose logs a runbook expression counts
// (sources.LogWants), through the log reader of the source that owns the
// target, and publishes what it counted (sources.LogCounts). Nothing is
// read while nobody asks.
package logcount

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Name is the sampler's source name.
const Name = "logs"

// Interval is how often the sampler reads what is wanted, and Timeout
// how long one round of reading may take.
const (
	Interval = 30 * time.Second
	Timeout  = 20 * time.Second
)

// Sampler is the log sampler. It is safe for the Hub's one poller.
type Sampler struct {
	readers func(source string) sources.LogReader
	wants   *sources.LogCountWants
	now     func() time.Time
}

// New returns a sampler that reads the targets wants lists through
// readers (nil for a source that reads no logs); now is its clock (nil for
// time.Now), the end of every count's window.
func New(readers func(source string) sources.LogReader, wants *sources.LogCountWants, now func() time.Time) *Sampler {
	if now == nil {
		now = time.Now
	}
	return &Sampler{readers: readers, wants: wants, now: now}
}

// Name is Name.
func (s *Sampler) Name() string { return Name }

// Kind is sources.KindLogCounts.
func (s *Sampler) Kind() sources.Kind { return sources.KindLogCounts }

// Fetch samples every wanted target, one after the other, each within
// its share of what is left of ctx's deadline, so one slow target does
// not cost the others their sample. A target not read in time has a
// sample saying so; the round itself fails only when ctx is cancelled.
func (s *Sampler) Fetch(ctx context.Context) (sources.Payload, error) {
	wanted := s.wants.Wanted(time.Now())
	out := &sources.LogCounts{Samples: make([]sources.LogSample, 0, len(wanted))}
	for i, w := range wanted {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		tctx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			tctx, cancel = context.WithTimeout(ctx, time.Until(dl)/time.Duration(len(wanted)-i))
		}
		out.Samples = append(out.Samples, s.sample(tctx, w))
		cancel()
	}
	return out, nil
}

// sample reads one target's tail and marks its lines.
func (s *Sampler) sample(ctx context.Context, w sources.LogWant) sources.LogSample {
	q := w.Query
	q.Tail, q.Follow, q.Previous = sources.LogSampleTail, false, false
	ls := sources.LogSample{Source: q.Source, Target: q.Target, Filters: w.Filters}
	var r sources.LogReader
	if s.readers != nil {
		r = s.readers(q.Source)
	}
	if r == nil {
		ls.At = s.now()
		ls.Err = q.Source + " reads no logs"
		return ls
	}
	res := make([]*regexp.Regexp, len(w.Filters))
	for i, f := range w.Filters {
		re, err := sources.ParseLogFilter(f)
		if err != nil {
			ls.At = s.now()
			ls.Err = errText("filter " + f + ": " + err.Error())
			return ls
		}
		res[i] = re
	}
	var readErr error
	err := r.ReadLogs(ctx, q, func(b sources.LogBatch) {
		if b.Err != nil && readErr == nil {
			readErr = b.Err
		}
		for _, l := range b.Lines {
			m := sources.LogMark{At: l.At, Level: sources.ClassifyLogLine(l.Text)}
			for i, f := range res {
				if f.MatchString(l.Text) {
					m.Match |= 1 << i
				}
			}
			ls.Marks = append(ls.Marks, m)
			if len(ls.Marks) > 2*sources.MaxLogSampleLines {
				ls.Marks = keepNewest(ls.Marks)
				ls.Truncated = true
			}
		}
	})
	ls.At = s.now()
	if readErr == nil {
		readErr = err
	}
	if readErr == nil && ctx.Err() != nil {
		readErr = ctx.Err() // a reader that stopped quietly: the tail is partial
	}
	if readErr != nil {
		ls.Marks = nil
		ls.Err = errText(readErr.Error())
		if errors.Is(readErr, context.DeadlineExceeded) || ctx.Err() != nil {
			ls.Err = "reading the logs of " + q.Target + " took too long"
		}
		return ls
	}
	if len(ls.Marks) > sources.MaxLogSampleLines {
		ls.Marks = keepNewest(ls.Marks)
		ls.Truncated = true
	} else {
		slices.SortStableFunc(ls.Marks, func(a, b sources.LogMark) int { return a.At.Compare(b.At) })
	}
	return ls
}

// keepNewest sorts marks by time and keeps the newest MaxLogSampleLines.
func keepNewest(ms []sources.LogMark) []sources.LogMark {
	slices.SortStableFunc(ms, func(a, b sources.LogMark) int { return a.At.Compare(b.At) })
	return slices.Clone(ms[len(ms)-sources.MaxLogSampleLines:])
}

// maxErrBytes bounds a sample's error text.
const maxErrBytes = 300

// errText is outside text for Err: sanitized and cut.
func errText(s string) string {
	s = sanitize.Text(s)
	if len(s) <= maxErrBytes {
		return s
	}
	cut := maxErrBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
