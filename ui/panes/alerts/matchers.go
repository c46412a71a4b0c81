package alerts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"flightdeck/sources"
)

// parseMatchers reads `{a="b", c=~"d"}` (braces and quotes optional), the
// form Alertmanager prints, so a prefilled silence can be edited as text.
func parseMatchers(s string) ([]sources.Matcher, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var parts []string
	var cur strings.Builder
	inQ, esc := false, false
	for _, r := range s {
		switch {
		case esc:
			esc = false
		case r == '\\' && inQ:
			esc = true
		case r == '"':
			inQ = !inQ
		case r == ',' && !inQ:
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if inQ {
		return nil, errors.New("unterminated quote")
	}
	parts = append(parts, cur.String())
	var out []sources.Matcher
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		i := strings.IndexAny(p, "=!")
		if i <= 0 {
			return nil, fmt.Errorf("matcher %q: want name=\"value\"", p)
		}
		m := sources.Matcher{Name: strings.TrimSpace(p[:i])}
		rest := p[i:]
		switch {
		case strings.HasPrefix(rest, "=~"):
			m.IsRegex, m.IsEqual, rest = true, true, rest[2:]
		case strings.HasPrefix(rest, "!~"):
			m.IsRegex, rest = true, rest[2:]
		case strings.HasPrefix(rest, "!="):
			rest = rest[2:]
		case strings.HasPrefix(rest, "="):
			m.IsEqual, rest = true, rest[1:]
		default:
			return nil, fmt.Errorf("matcher %q: unknown operator", p)
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, `"`) {
			v, err := strconv.Unquote(rest)
			if err != nil {
				return nil, fmt.Errorf("matcher %q: %v", p, err)
			}
			rest = v
		}
		m.Value = rest
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("at least one matcher is needed")
	}
	return out, nil
}
