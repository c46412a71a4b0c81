package sources

import (
	"regexp"
	"slices"
	"strings"
)

// SeverityRank orders severities most urgent first: critical (or page),
// error (or high), warning (or ticket), info, then any other value, and an
// empty severity last. Alertmanager and the Prometheus fallback both sort
// with it, so an alert holds its place when an Alertmanager is added.
func SeverityRank(sev string) int {
	switch strings.ToLower(sev) {
	case "critical", "page":
		return 0
	case "error", "high":
		return 1
	case "warning", "ticket":
		return 2
	case "info":
		return 3
	case "":
		return 5
	}
	return 4
}

// SortAlerts orders alerts by severity (SeverityRank), then oldest first,
// then name and fingerprint. The order is total, so the list does not
// shuffle between ticks.
func SortAlerts(as []Alert) {
	slices.SortStableFunc(as, func(x, y Alert) int {
		if d := SeverityRank(x.Severity) - SeverityRank(y.Severity); d != 0 {
			return d
		}
		if c := x.StartsAt.Compare(y.StartsAt); c != 0 {
			return c
		}
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.Fingerprint, y.Fingerprint)
	})
}

// FillFromLabels sets the fields an alert derives from its labels and
// annotations: Name (alertname), Severity, Summary, Description, and
// RunbookURL (the runbook_url annotation, else runbook). Backends call it
// once Labels and Annotations are set and sanitized, so that an alert reads
// the same whichever backend reported it.
func (a *Alert) FillFromLabels() {
	a.Name = a.Label("alertname")
	a.Severity = a.Label("severity")
	for _, l := range a.Annotations {
		switch l.Name {
		case "summary":
			a.Summary = l.Value
		case "description":
			a.Description = l.Value
		case "runbook_url":
			a.RunbookURL = l.Value
		case "runbook":
			if a.RunbookURL == "" {
				a.RunbookURL = l.Value
			}
		}
	}
}

// CompiledMatcher is a Matcher with its regular expression compiled, for
// matching many label sets with one matcher (a silence against every alert,
// every tick).
type CompiledMatcher struct {
	Matcher
	re *regexp.Regexp // nil unless IsRegex
}

// Compile compiles m's regular expression, anchored at both ends as
// Alertmanager anchors it. The error is the regexp package's own; callers
// add which matcher and which backend.
func (m Matcher) Compile() (CompiledMatcher, error) {
	c := CompiledMatcher{Matcher: m}
	if m.IsRegex {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return c, err
		}
		c.re = re
	}
	return c, nil
}

// MatchesValue reports whether a label value satisfies the matcher. A label
// that is absent has the value "", as in Alertmanager: `team=""` selects
// alerts without a team label.
func (c CompiledMatcher) MatchesValue(v string) bool {
	var hit bool
	if c.re != nil {
		hit = c.re.MatchString(v)
	} else {
		hit = v == c.Value
	}
	return hit == c.IsEqual
}

// Matches reports whether labels satisfy the matcher.
func (c CompiledMatcher) Matches(labels []Label) bool {
	return c.MatchesValue(labelValue(labels, c.Name))
}

// Matches reports whether labels satisfy m, with Alertmanager's semantics:
// =, !=, =~ and !~, regexes fully anchored, a missing label the empty
// string. It compiles m on every call; hold a CompiledMatcher to match many
// label sets.
func (m Matcher) Matches(labels []Label) (bool, error) {
	c, err := m.Compile()
	if err != nil {
		return false, err
	}
	return c.Matches(labels), nil
}

// MatchAll reports whether labels satisfy every matcher of ms (true for
// none, as a conjunction of nothing is). Every matcher is compiled before
// any is tried, so a bad regex is an error whatever the labels.
func MatchAll(ms []Matcher, labels []Label) (bool, error) {
	cs := make([]CompiledMatcher, len(ms))
	for i, m := range ms {
		c, err := m.Compile()
		if err != nil {
			return false, err
		}
		cs[i] = c
	}
	return MatchAllCompiled(cs, labels), nil
}

// MatchAllCompiled is MatchAll for matchers compiled once.
func MatchAllCompiled(cs []CompiledMatcher, labels []Label) bool {
	for _, c := range cs {
		if !c.Matches(labels) {
			return false
		}
	}
	return true
}

// labelValue is the value of label name, "" when absent. It does not rely
// on labels being sorted: matchers also run on label sets straight off the
// wire.
func labelValue(labels []Label, name string) string {
	for _, l := range labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}
