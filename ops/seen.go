package ops

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxSeenText bounds each piece of outside text (a query, a comment) in a
// target's Seen line: enough to recognise the statement in a postmortem,
// never a megabyte of SQL in every audit record.
const maxSeenText = 200

// seen builds a Target.Seen line: a head naming the target, then key=value
// pairs, values quoted when they hold spaces. Empty values are left out.
type seen struct{ b strings.Builder }

func (s *seen) head(h string) { s.b.WriteString(h) }

func (s *seen) add(k, v string) {
	if v == "" {
		return
	}
	s.b.WriteString(" " + k + "=")
	if strings.ContainsAny(v, " \t\"=") {
		v = strconv.Quote(v)
	}
	s.b.WriteString(v)
}

func (s *seen) time(k string, t time.Time) {
	if !t.IsZero() {
		s.add(k, t.UTC().Format(time.RFC3339))
	}
}

// text adds outside text as a quoted, bounded excerpt, its runs of
// whitespace (a query's newlines and indentation) folded to one space.
func (s *seen) text(k, v string) {
	v = strings.Join(strings.Fields(v), " ")
	if v == "" {
		return
	}
	s.b.WriteString(" " + k + "=" + strconv.Quote(excerpt(v, maxSeenText)))
}

func (s *seen) String() string { return s.b.String() }

// excerpt cuts s to at most n runes, on a rune boundary, marking the cut.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i] + "…"
}
