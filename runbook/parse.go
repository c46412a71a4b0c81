package runbook

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"flightdeck/internal/duration"
	"flightdeck/internal/sanitize"
	"flightdeck/internal/yamlpos"
)

// ---------------------------------------------------------------- parsing

// fileParser walks one file's YAML nodes, so every problem has a line, and
// collects every problem rather than stopping at the first.
type fileParser struct {
	file string
	errs Errors
	// step and title prefix errors inside a step.
	step  int
	title string
}

func (p *fileParser) errAt(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Step: p.step, StepTitle: p.title, Field: field,
		Msg: fmt.Sprintf(format, args...)})
}

// entry is one key of a mapping.
type entry struct {
	key, val *yaml.Node
}

// mapping returns n's keys; keys not in known are reported with a hint.
func (p *fileParser) mapping(n *yaml.Node, field string, known []string) map[string]entry {
	out := map[string]entry{}
	if n.Kind != yaml.MappingNode {
		p.errAt(n, field, "expected a mapping of keys (%s)", strings.Join(known, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := out[k.Value]; dup {
			p.errAt(k, yamlpos.Join(field, k.Value), "set twice")
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			p.errAt(k, yamlpos.Join(field, k.Value), "unknown key%s", suggest(k.Value, known))
			continue
		}
		out[k.Value] = entry{k, v}
	}
	return out
}

func (p *fileParser) str(e entry, field string) string {
	if e.val == nil {
		return ""
	}
	if e.val.Kind != yaml.ScalarNode || e.val.Tag == "!!null" {
		p.errAt(e.val, field, "expected a string")
		return ""
	}
	return e.val.Value
}

// text is a string shown on screen: sanitized line by line, bounded.
func (p *fileParser) text(e entry, field string, limit int) string {
	s := p.str(e, field)
	if len(s) > limit {
		p.errAt(e.val, field, "longer than %d characters", limit)
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = sanitize.Text(l)
	}
	return strings.Join(lines, "\n")
}

func (p *fileParser) strList(e entry, field string) []string {
	if e.val == nil {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		p.errAt(e.val, field, "expected a list such as [%s]", e.val.Value)
		return nil
	}
	if len(e.val.Content) > maxList {
		p.errAt(e.val, field, "more than %d entries", maxList)
		return nil
	}
	var out []string
	for i, v := range e.val.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		s := p.text(entry{e.key, v}, f, maxTitle)
		if s == "" && v.Kind == yaml.ScalarNode {
			p.errAt(v, f, "empty")
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *fileParser) duration(e entry, field string) time.Duration {
	s := p.str(e, field)
	if s == "" {
		return 0
	}
	d, err := duration.Parse(s)
	if err != nil {
		p.errAt(e.val, field, "%v", err)
		return 0
	}
	if d <= 0 {
		p.errAt(e.val, field, "must be positive")
	}
	return d
}

func (p *fileParser) integer(e entry, field string) int64 {
	s := p.str(e, field)
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		p.errAt(e.val, field, "expected a whole number, got %q", s)
	}
	return v
}

func (p *fileParser) boolean(e entry, field string) bool {
	switch p.str(e, field) {
	case "true":
		return true
	case "false":
		return false
	}
	p.errAt(e.val, field, "expected true or false")
	return false
}

// exprLine is the file line of line l (from 1) of an expression in node n.
func exprLine(n *yaml.Node, l int) int {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Line + l
	}
	return n.Line + l - 1
}

func (p *fileParser) exprErr(n *yaml.Node, field string, err error) {
	var ee *exprError
	line := n.Line
	msg := err.Error()
	if errors.As(err, &ee) {
		line, msg = exprLine(n, ee.line), ee.msg
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Step: p.step, StepTitle: p.title, Field: field, Msg: msg})
}

func (p *fileParser) cond(e entry, field string) (string, *condition) {
	src := p.str(e, field)
	if e.val == nil || src == "" && e.val.Kind == yaml.ScalarNode {
		if e.val != nil {
			p.errAt(e.val, field, "empty expression")
		}
		return "", nil
	}
	c, err := compileCond(src)
	if err != nil {
		p.exprErr(e.val, field, err)
		return src, nil
	}
	return src, c
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

var topKeys = []string{"name", "title", "description", "opens_on", "symptoms", "steps"}
