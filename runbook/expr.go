package runbook

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"flightdeck/internal/duration"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// maxExprLen bounds an expression from a file.
const maxExprLen = 2000

// maxDerived bounds the value lines derived from an expression.
const maxDerived = 4

// condition is a compiled boolean expression with the values behind it.
type condition struct {
	src   string
	prog  *vm.Program
	needs need
	// derived are the sub-expressions shown when the step lists no show:.
	derived []Shown
}

// Verdict is what a condition says about the snapshots now.
type Verdict int

// Verdicts. Unknown is a source without data, a name that is not there, or
// an evaluation error: never false.
const (
	Unknown Verdict = iota
	True
	False
)

func (v Verdict) String() string {
	switch v {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}

// Value is one line shown with a step: "connections 92/97 (95%)".
type Value struct {
	Label string
	Text  string
}

func (v Value) String() string {
	if v.Label == "" {
		return v.Text
	}
	return v.Label + " " + v.Text
}

// exprError is a problem compiling an expression: the message and the line
// within the expression (from 1).
type exprError struct {
	msg  string
	line int
}

func (e *exprError) Error() string { return e.msg }

// compileCond compiles a boolean expression against Env.
func compileCond(src string) (*condition, error) {
	prog, tree, err := compile(src, true)
	if err != nil {
		return nil, err
	}
	c := &condition{src: src, prog: prog, needs: needsOf(tree)}
	seen := map[string]bool{}
	for _, n := range chains(tree) {
		text := n.String()
		if seen[text] || len(c.derived) == maxDerived {
			continue
		}
		seen[text] = true
		p, tree, err := compile(text, false)
		if err != nil {
			continue // a piece that does not stand alone (uses a variable): not shown
		}
		c.derived = append(c.derived, Shown{Label: text, Expr: text, prog: p, needs: needsOf(tree)})
	}
	return c, nil
}

// compileValue compiles a show: expression of any type.
func compileValue(src string) (*vm.Program, need, error) {
	prog, tree, err := compile(src, false)
	if err != nil {
		return nil, 0, err
	}
	return prog, needsOf(tree), nil
}

func compile(src string, asBool bool) (*vm.Program, ast.Node, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil, &exprError{msg: "empty expression", line: 1}
	}
	if len(src) > maxExprLen {
		return nil, nil, &exprError{msg: fmt.Sprintf("expression longer than %d characters", maxExprLen), line: 1}
	}
	tree, err := parser.ParseWithConfig(src, parseConfig())
	if err != nil {
		return nil, nil, exprErr(err)
	}
	if err := checkBurnWindows(tree.Node); err != nil {
		return nil, nil, err
	}
	if err := checkFilterLiterals(tree.Node); err != nil {
		return nil, nil, err
	}
	if err := checkLogLiterals(tree.Node); err != nil {
		return nil, nil, err
	}
	if err := checkCost(src, tree.Node); err != nil {
		return nil, nil, err
	}
	prog, err := expr.Compile(src, exprOptions(asBool)...)
	if err != nil {
		return nil, nil, exprErr(err)
	}
	return prog, tree.Node, nil
}

var (
	noField   = regexp.MustCompile(`type runbook\.(\w+) has no field (\w+)`)
	unknownID = regexp.MustCompile(`unknown name (\w+)`)
)

// exprErr turns expr's error into one line that speaks the runbook's names
// (pg, slo(...)) rather than Go's (runbook.PG), with a hint.
func exprErr(err error) error {
	var fe *file.Error
	line, msg := 1, err.Error()
	if errors.As(err, &fe) {
		line, msg = max(fe.Line, 1), fe.Message
		if fe.Column >= 0 {
			msg += fmt.Sprintf(" (column %d)", fe.Column+1)
		}
	}
	if strings.Contains(msg, "exceeds maximum allowed nodes") {
		return &exprError{msg: fmt.Sprintf("expression too large: more than %d parts (names, operators, literals); split it into steps", maxExprNodes), line: line}
	}
	if m := noField.FindStringSubmatch(msg); m != nil {
		if t, ok := envTypes[m[1]]; ok {
			msg = strings.Replace(msg, m[0], fmt.Sprintf("%s has no field %s", t.name, m[2]), 1) +
				suggest(m[2], exprNames(t.typ))
		}
	} else if m := unknownID.FindStringSubmatch(msg); m != nil {
		msg += suggest(m[1], exprNames(reflect.TypeOf(Env{})))
	}
	return &exprError{msg: strings.ReplaceAll(msg, "runbook.", ""), line: line}
}

// envTypes names Env's types as expressions reach them.
var envTypes = map[string]struct {
	name string
	typ  reflect.Type
}{
	"PG":      {"pg", reflect.TypeOf(PG{})},
	"SLO":     {"slo(...)", reflect.TypeOf(SLO{})},
	"Alert":   {"an alert", reflect.TypeOf(Alert{})},
	"Rollout": {"rollout(...)", reflect.TypeOf(Rollout{})},
	"Backend": {"a backend", reflect.TypeOf(Backend{})},
	"AWS":     {"aws", reflect.TypeOf(AWS{})},
	"RDS":     {"aws.instance(...)", reflect.TypeOf(RDS{})},
	"ECS":     {"aws.service(...)", reflect.TypeOf(ECS{})},
	"Env":     {"the environment", reflect.TypeOf(Env{})},
}

// exprNames lists the expr names of a struct's fields.
func exprNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n := t.Field(i).Tag.Get("expr"); n != "" && !strings.HasPrefix(n, "__") {
			out = append(out, n)
		}
	}
	return out
}

// identNeeds maps Env's names to the sources they read.
var identNeeds = map[string]need{
	"pg": needPG, "slo": needSLO, "slos": needSLO,
	"alerts": needAlerts, "firing": needAlerts, "pending": needAlerts, "silenced": needAlerts, "active": needAlerts,
	"alert":    needOpener,
	"rollout":  needRollouts,
	"rollouts": needRollouts,
	"aws":      needAWS,
	"logs":     needLogs,
}

type visitFunc func(n *ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(n) }

func needsOf(n ast.Node) need {
	var out need
	ast.Walk(&n, visitFunc(func(n *ast.Node) {
		if id, ok := (*n).(*ast.IdentifierNode); ok {
			out |= identNeeds[id.Value]
		}
	}))
	return out
}

// methodCalls calls fn for every method call in root (recv.name(args…)),
// the shape every load-time literal check looks for, and turns the first
// error fn returns into the load error.
func methodCalls(root ast.Node, fn func(recv ast.Node, name string, args []ast.Node) error) error {
	var bad error
	ast.Walk(&root, visitFunc(func(n *ast.Node) {
		if bad != nil {
			return
		}
		call, ok := (*n).(*ast.CallNode)
		if !ok {
			return
		}
		m, ok := call.Callee.(*ast.MemberNode)
		if !ok {
			return
		}
		p, ok := m.Property.(*ast.StringNode)
		if !ok {
			return
		}
		if err := fn(m.Node, p.Value, call.Arguments); err != nil {
			bad = &exprError{msg: err.Error(), line: 1}
		}
	}))
	return bad
}

// literal is args[i] when it is a string literal.
func literal(args []ast.Node, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(*ast.StringNode)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// checkBurnWindows rejects .burn("5min") at load rather than showing
// unknown forever.
func checkBurnWindows(root ast.Node) error {
	return methodCalls(root, func(_ ast.Node, name string, args []ast.Node) error {
		w, ok := literal(args, 0)
		if name != "burn" || len(args) != 1 || !ok {
			return nil
		}
		if d, err := duration.Parse(w); err == nil && slices.Contains(sources.BurnWindows, d) {
			return nil
		}
		names := make([]string, len(sources.BurnWindows))
		for i, bw := range sources.BurnWindows {
			names[i] = duration.Format(bw)
		}
		return fmt.Errorf("burn(%q): no such window (one of %s)", w, strings.Join(names, ", "))
	})
}

// checkFilterLiterals validates the Postgres filters given to pg.select and
// pg.count as literals, as a view's or action's filter is.
func checkFilterLiterals(root ast.Node) error {
	return methodCalls(root, func(recv ast.Node, name string, args []ast.Node) error {
		f, ok := literal(args, 0)
		if !isIdent(recv, "pg") || (name != "select" && name != "count") || len(args) != 1 || !ok {
			return nil
		}
		if err := checkBackendFilter(f); err != nil {
			return fmt.Errorf("pg.%s(%q): %v", name, f, err)
		}
		return nil
	})
}

// envData are the Env names that hold data; envFuncs those that look it up.
var (
	envData  = map[string]bool{"pg": true, "slos": true, "alerts": true, "alert": true, "rollouts": true, "aws": true}
	envFuncs = map[string]bool{"slo": true, "rollout": true, "firing": true, "pending": true, "silenced": true, "active": true}
)

// chains returns the largest sub-expressions that read the environment
// (pg.ratio, slo("availability").burn("5m"), firing("X")), in source order:
// the values a condition is about.
func chains(n ast.Node) []ast.Node {
	var out []ast.Node
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if n == nil {
			return
		}
		if isChain(n) {
			out = append(out, n)
			return
		}
		switch x := n.(type) {
		case *ast.UnaryNode:
			walk(x.Node)
		case *ast.BinaryNode:
			walk(x.Left)
			walk(x.Right)
		case *ast.ChainNode:
			walk(x.Node)
		case *ast.MemberNode:
			walk(x.Node)
			walk(x.Property)
		case *ast.SliceNode:
			walk(x.Node)
			walk(x.From)
			walk(x.To)
		case *ast.CallNode:
			walk(x.Callee)
			for _, a := range x.Arguments {
				walk(a)
			}
		case *ast.BuiltinNode:
			for _, a := range x.Arguments {
				walk(a)
			}
		case *ast.PredicateNode:
			walk(x.Node)
		case *ast.ConditionalNode:
			walk(x.Cond)
			walk(x.Exp1)
			walk(x.Exp2)
		case *ast.ArrayNode:
			for _, e := range x.Nodes {
				walk(e)
			}
		}
	}
	walk(n)
	return out
}

func isChain(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return envData[x.Value]
	case *ast.MemberNode:
		return rootedInEnv(x.Node)
	case *ast.ChainNode:
		return isChain(x.Node)
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok {
			return envFuncs[id.Value]
		}
		if m, ok := x.Callee.(*ast.MemberNode); ok {
			return rootedInEnv(m.Node)
		}
	}
	return false
}

func rootedInEnv(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return envData[x.Value] || envFuncs[x.Value]
	case *ast.MemberNode:
		return rootedInEnv(x.Node)
	case *ast.ChainNode:
		return rootedInEnv(x.Node)
	case *ast.CallNode:
		return isChain(x)
	}
	return false
}

// ---------------------------------------------------------------- evaluation

// eval runs a compiled program within its budget; a missing name or source
// is reported as unknown with the reason. An expression over budget is
// unknown too, and env's budget remembers why (the step fails with it).
func eval(prog *vm.Program, env Env) (v any, unknown string) {
	b := env.budget
	if b == nil { // an Env not built by world.env: give it one
		b = &budget{}
		env.bindBudget(b)
	}
	b.start()
	machine := vm.VM{MemoryBudget: maxExprValues}
	out, err := machine.Run(prog, env)
	if err != nil {
		var ob *overBudget
		var fe *file.Error
		var m *missing
		switch {
		case errors.As(err, new(cutShort)):
			return nil, cutShort{}.Error()
		case errors.As(err, &ob):
			return nil, b.exceeded(prog, ob.why)
		case errors.As(err, &fe) && fe.Message == vmMemoryExceeded:
			return nil, b.exceeded(prog, fmt.Sprintf("more than %d values in its lists and maps", maxExprValues))
		case errors.As(err, &m):
			return nil, m.what
		case fe != nil:
			return nil, "error: " + fe.Message
		}
		return nil, "error: " + err.Error()
	}
	return out, ""
}

// exceeded records that prog went over budget for why, and says so.
func (b *budget) exceeded(prog *vm.Program, why string) string {
	src := strings.Join(strings.Fields(prog.Source().String()), " ")
	if len(src) > 60 {
		src = src[:57] + "…"
	}
	msg := fmt.Sprintf("over budget: %s (%s)", why, src)
	if b.over == "" {
		b.over = msg
	}
	return msg
}

// evalCond evaluates c in w for a run opened by opener, with the values
// behind it (shows, or the derived ones when shows is nil). With after set,
// only data fetched after it counts: a verify must not pass on a snapshot
// taken before its action.
func evalCond(c *condition, shows []Shown, w *world, opener *sources.Alert, env *Env, after time.Time) (Verdict, string, []Value) {
	if c == nil {
		return Unknown, "", nil
	}
	if why := w.missingFor(c.needs, opener); why != "" {
		return Unknown, why, nil
	}
	if why := w.olderThan(c.needs, after); why != "" {
		return Unknown, why, evalShows(shows, w, opener, env)
	}
	if shows == nil {
		shows = c.derived
	}
	vals := evalShows(shows, w, opener, env)
	for _, s := range w.staleFor(c.needs) {
		vals = append(vals, Value{Label: "stale", Text: s})
	}
	out, why := eval(c.prog, *env)
	if why != "" {
		return Unknown, why, vals
	}
	if b, _ := out.(bool); b {
		return True, "", vals
	}
	return False, "", vals
}

func evalShows(shows []Shown, w *world, opener *sources.Alert, env *Env) []Value {
	vals := make([]Value, 0, len(shows))
	for _, s := range shows {
		if s.prog == nil {
			continue
		}
		if why := w.missingFor(s.needs, opener); why != "" {
			vals = append(vals, Value{Label: s.Label, Text: "unknown (" + why + ")"})
			continue
		}
		v, why := eval(s.prog, *env)
		if why != "" {
			vals = append(vals, Value{Label: s.Label, Text: "unknown (" + why + ")"})
			continue
		}
		vals = append(vals, Value{Label: s.Label, Text: valueText(v)})
	}
	return vals
}

// valueText is a value as one bounded, sanitized line.
func valueText(v any) string {
	t := sanitize.Text(formatValue(v))
	if len(t) > maxValueText {
		cut := maxValueText
		for cut > 0 && !utf8.RuneStart(t[cut]) {
			cut--
		}
		t = t[:cut] + "…"
	}
	return t
}
