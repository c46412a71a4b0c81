package logs

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"flightdeck/sources"
)

// level is how loudly a line is drawn: sources' log level, the rule
// runbook log counts share.
type level = sources.LogLevel

const (
	levelNone  = sources.LogLevelNone
	levelError = sources.LogLevelError // "error", an HTTP 5xx status
	levelCrit  = sources.LogLevelCrit  // panic, fatal, OOM
)

// classify is a line's level: the level highlight of the view.
func classify(text string) level { return sources.ClassifyLogLine(text) }

// entry is a line as the view keeps it: the tag and level are made once,
// when it arrives.
type entry struct {
	sources.LogLine
	tag   string
	level level
}

// shortPod is the part of a pod name that tells it from its siblings: the
// ReplicaSet's hash and the pod's suffix ("nudgecampaign-api-7d9f8b6c5-x2k4p"
// → "7d9f8b6c5-x2k4p" cut to its last 11 bytes, "…8b6c5-x2k4p"). A name
// without them stays whole when short.
func shortPod(pod string) string {
	parts := strings.Split(pod, "-")
	if len(parts) >= 3 {
		pod = parts[len(parts)-2] + "-" + parts[len(parts)-1]
	}
	if len(pod) > 16 {
		pod = "…" + pod[len(pod)-15:]
	}
	return pod
}

func newEntry(l sources.LogLine) entry {
	tag := shortPod(l.Pod)
	if l.Container != "" {
		tag += "/" + l.Container
	}
	if l.Previous {
		tag += " prev"
	}
	return entry{LogLine: l, tag: tag, level: classify(l.Text)}
}

// buffer keeps at most cap lines in time order (the oldest go first) and,
// while a filter is set, the indexes of the lines it matches.
type buffer struct {
	lines []entry
	cap   int
	// dropped counts lines let go to keep the cap.
	dropped int
	filter  *matcher
	shown   []int // indexes into lines matching filter; nil without one
}

// add merges es (each batch in time order; batches roughly so) into the
// buffer by time and keeps the cap. It reports how many lines now follow
// the ones that were last before (for keeping a scrolled window still).
func (b *buffer) add(es []entry) {
	appended := true
	start := len(b.lines)
	n := len(b.lines)
	switch {
	case len(es) == 0:
	case n == 0 || !es[0].At.Before(b.lines[n-1].At):
		b.lines = append(b.lines, es...)
	default:
		// Late lines (a pod whose tail came in after the others'): the
		// lines after the earliest of them are merged with the batch in
		// one pass, lines already kept first among equal times.
		i := sort.Search(n, func(i int) bool { return b.lines[i].At.After(es[0].At) })
		tail := slices.Clone(b.lines[i:])
		b.lines = b.lines[:i]
		for len(tail) > 0 && len(es) > 0 {
			if es[0].At.Before(tail[0].At) {
				b.lines, es = append(b.lines, es[0]), es[1:]
			} else {
				b.lines, tail = append(b.lines, tail[0]), tail[1:]
			}
		}
		b.lines = append(append(b.lines, tail...), es...)
		appended = false
	}
	// Trimming a quarter at a time keeps the copying amortized.
	if len(b.lines) > b.cap+b.cap/4 {
		drop := len(b.lines) - b.cap
		b.dropped += drop
		n := copy(b.lines, b.lines[drop:])
		clear(b.lines[n:])
		b.lines = b.lines[:n]
		appended = false
	}
	if b.filter == nil {
		return
	}
	if !appended {
		b.refilter()
		return
	}
	for i := start; i < len(b.lines); i++ {
		if b.filter.match(b.lines[i].Text) {
			b.shown = append(b.shown, i)
		}
	}
}

// setFilter applies m (nil clears it).
func (b *buffer) setFilter(m *matcher) {
	b.filter = m
	b.refilter()
}

func (b *buffer) refilter() {
	b.shown = b.shown[:0]
	if b.filter == nil {
		b.shown = nil
		return
	}
	for i := range b.lines {
		if b.filter.match(b.lines[i].Text) {
			b.shown = append(b.shown, i)
		}
	}
}

// count is how many lines are shown (all, or those the filter matches).
func (b *buffer) count() int {
	if b.filter == nil {
		return len(b.lines)
	}
	return len(b.shown)
}

// at is the i-th shown line.
func (b *buffer) at(i int) *entry {
	if b.filter == nil {
		return &b.lines[i]
	}
	return &b.lines[b.shown[i]]
}

// matcher is a filter: a substring (case-insensitive), or a regular
// expression written between slashes ("/5\d\d/").
type matcher struct {
	text string
	re   *regexp.Regexp
}

// newMatcher parses a filter (sources.ParseLogFilter); "" is no filter
// (nil).
func newMatcher(f string) (*matcher, error) {
	re, err := sources.ParseLogFilter(f)
	if re == nil || err != nil {
		return nil, err
	}
	return &matcher{text: f, re: re}, nil
}

func (m *matcher) match(s string) bool { return m.re.MatchString(s) }
