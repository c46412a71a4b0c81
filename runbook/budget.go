package runbook

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm/runtime"
)

// An expression comes from a file anyone with access to the bastion's
// config may write, and is evaluated on every snapshot of every open run:
// one expression must not be able to freeze the cockpit or exhaust its
// memory. Each is bounded three ways. At load, its size (maxExprNodes) and,
// where ranges and nesting are written out, its work (maxExprSteps) are
// checked, with the file's line. At run time the expr VM counts the values
// of the lists and maps it builds (maxExprValues), a budget counts every
// iteration of a predicate (all, map, filter, …) and every byte of every
// string the expression's functions and + build (maxString, maxExprBytes),
// and a clock bounds the rest (maxExprTime). An expression over budget
// fails its step with the reason; the run and the UI carry on.
const (
	// maxExprNodes bounds an expression's syntax tree at load.
	maxExprNodes = 500
	// maxExprSteps bounds the predicate iterations of one evaluation: a
	// run's expressions read snapshots of at most a few thousand rows.
	maxExprSteps = 100_000
	// maxExprValues is the expr VM's memory budget: the elements of the
	// ranges, lists and maps one evaluation builds.
	maxExprValues = 100_000
	// maxString bounds one string an expression builds; maxExprBytes all of
	// them in one evaluation.
	maxString    = 16 << 10
	maxExprBytes = 1 << 20
	// maxExprTime bounds one evaluation in time, whatever it does, and
	// maxStepTime all of a step's (its condition and value lines): a
	// backstop behind the counts (100,000 steps take about 10 ms), generous
	// (a sound expression takes microseconds) so that a loaded machine, or
	// a process descheduled mid-expression, does not fail a sound one.
	maxExprTime = time.Second
	maxStepTime = 2 * time.Second
	// maxFormatWidth bounds a sprintf width or precision (%08.3f): a value
	// line needs a few columns, not a million.
	maxFormatWidth = 64
	// maxValueText bounds a value line as shown and journaled.
	maxValueText = 400
)

// overBudget is what an expression that went over its budget panics with
// (the VM turns the panic into its error): it fails the step with why.
type overBudget struct{ why string }

func (o *overBudget) Error() string { return o.why }

// vmMemoryExceeded is the expr VM's own panic when maxExprValues is used up.
const vmMemoryExceeded = "memory budget exceeded"

// budget is one evaluation's allowance; the functions of the Env built
// with it charge it. It is not safe for concurrent use: one Env, one
// goroutine.
type budget struct {
	steps, bytes int
	// deadline is the expression's, stepDeadline its step's (zero outside
	// Evaluate).
	deadline, stepDeadline time.Time
	// until is when the whole evaluation (every expression of a run) must
	// end; zero for no bound beyond each expression's own.
	until time.Time
	// over is the first reason an expression of the current step went over
	// budget: the step fails with it. cut says the evaluation's own time
	// (until) ran out: not the expression's fault.
	over string
	cut  bool
}

// cutShort is what an expression panics with when the evaluation it is
// part of runs out of time.
type cutShort struct{}

func (cutShort) Error() string { return "evaluation cut short" }

// start gives the next expression its allowance.
func (b *budget) start() {
	b.steps, b.bytes = 0, 0
	b.deadline = time.Now().Add(maxExprTime)
}

// startStep gives the next step's expressions their allowance together.
func (b *budget) startStep() {
	b.over, b.cut = "", false
	b.stepDeadline = time.Now().Add(maxStepTime)
}

// step counts one predicate iteration.
func (b *budget) step() {
	b.steps++
	if b.steps > maxExprSteps {
		panic(&overBudget{fmt.Sprintf("more than %d steps (predicate iterations)", maxExprSteps)})
	}
	if b.steps%4 == 0 {
		b.clock()
	}
}

func (b *budget) clock() {
	now := time.Now()
	if !b.until.IsZero() && now.After(b.until) {
		b.cut = true
		panic(cutShort{})
	}
	if now.After(b.deadline) {
		panic(&overBudget{fmt.Sprintf("took more than %s", maxExprTime)})
	}
	if !b.stepDeadline.IsZero() && now.After(b.stepDeadline) {
		panic(&overBudget{fmt.Sprintf("the step's expressions took more than %s", maxStepTime)})
	}
}

// alloc charges a string of n bytes before it is built.
func (b *budget) alloc(n int) {
	if n > maxString || n < 0 {
		panic(&overBudget{fmt.Sprintf("a string of more than %d bytes", maxString)})
	}
	b.charge(n)
}

// charge counts n bytes of what an evaluation builds (strings, lists).
func (b *budget) charge(n int) {
	b.bytes += n
	if b.bytes > maxExprBytes {
		panic(&overBudget{fmt.Sprintf("more than %d KiB of strings and lists", maxExprBytes>>10)})
	}
	b.clock()
}

// The names the compiler routes work through so that the budget sees it;
// an expression may call them too, which costs it the same.
const (
	hookStep = "__step"
	hookCat  = "__cat"
	hookAdd  = "__add"
)

// Builtins of expr replaced by Env functions of the same name that charge
// the budget for what they build, and builtins left out: nothing in a
// runbook needs them and each builds as much as its input allows, uncounted.
// now, date and timezone go too: a time.Time's methods (Format) build
// strings the budget cannot see, and a runbook reads ages, not clocks.
var (
	replacedBuiltins = []string{"repeat", "join", "replace", "upper", "lower", "split", "string", "keys", "values"}
	droppedBuiltins  = []string{"splitAfter", "toJSON", "fromJSON", "toBase64", "fromBase64", "toPairs", "fromPairs", "uniq",
		"now", "date", "timezone"}
)

// exprOptions are the compile options every runbook expression gets.
func exprOptions(asBool bool) []expr.Option {
	opts := []expr.Option{expr.Env(Env{}), expr.MaxNodes(maxExprNodes), expr.Patch(budgetPatch{})}
	for _, n := range replacedBuiltins {
		opts = append(opts, expr.DisableBuiltin(n))
	}
	for _, n := range droppedBuiltins {
		opts = append(opts, expr.DisableBuiltin(n))
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return opts
}

// parseConfig is exprOptions' configuration, for parsing with the same
// builtins (and node bound) before compiling.
func parseConfig() *conf.Config {
	c := conf.CreateNew()
	for _, o := range exprOptions(false) {
		o(c)
	}
	for n := range c.Disabled {
		delete(c.Builtins, n)
	}
	return c
}

// budgetPatch routes an expression's unbounded work through the budget:
// every predicate's body first counts a step, and every + that may join
// strings goes through a function that charges them. It runs after types
// are known (expr checks before each patch).
type budgetPatch struct{}

func (budgetPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		if seq, ok := n.Node.(*ast.SequenceNode); ok && len(seq.Nodes) == 2 && isHookCall(seq.Nodes[0], hookStep) {
			return
		}
		call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: hookStep}}
		call.SetLocation(n.Location())
		call.Callee.SetLocation(n.Location())
		seq := &ast.SequenceNode{Nodes: []ast.Node{call, n.Node}}
		seq.SetLocation(n.Location())
		n.Node = seq
	case *ast.BinaryNode:
		if n.Operator != "+" {
			return
		}
		hook := ""
		switch t := n.Type(); {
		case t == nil || t.Kind() == reflect.Interface:
			hook = hookAdd
		case t.Kind() == reflect.String:
			hook = hookCat
		default:
			return
		}
		call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: hook}, Arguments: []ast.Node{n.Left, n.Right}}
		call.SetLocation(n.Location())
		call.Callee.SetLocation(n.Location())
		*node = call
	}
}

func isHookCall(n ast.Node, name string) bool {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return false
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	return ok && id.Value == name
}

// bindBudget gives e the functions that charge b.
func (e *Env) bindBudget(b *budget) {
	e.budget = b
	e.Step = func() bool { b.step(); return true }
	e.Cat = func(x, y string) string { b.alloc(len(x) + len(y)); return x + y }
	e.Add = func(x, y any) any {
		if xs, ok := x.(string); ok {
			if ys, ok := y.(string); ok {
				b.alloc(len(xs) + len(ys))
				return xs + ys
			}
		}
		return runtime.Add(x, y)
	}
	e.Sprintf = func(format string, args ...any) string {
		if err := checkFormat(format); err != nil {
			panic(err)
		}
		b.alloc(len(format))
		s := fmt.Sprintf(format, args...)
		b.alloc(len(s))
		return s
	}
	e.Repeat = func(s string, n int) string {
		if n < 0 {
			panic(fmt.Errorf("repeat: negative count %d", n))
		}
		if len(s) > 0 && n > maxString/len(s) {
			b.alloc(maxString + 1)
		}
		b.alloc(len(s) * n)
		return strings.Repeat(s, n)
	}
	e.Join = func(parts any, sep ...string) string {
		glue := strings.Join(sep, "")
		ss := stringsOf("join", parts)
		n := 0
		for i, s := range ss {
			if i > 0 {
				n += len(glue)
			}
			n += len(s)
			if n > maxString {
				break
			}
		}
		b.alloc(n)
		return strings.Join(ss, glue)
	}
	e.Replace = func(s, old, repl string) string {
		k := strings.Count(s, old)
		if old == "" {
			k = utf8.RuneCountInString(s) + 1
		}
		n := len(s)
		if k > 0 && len(repl) > len(old) {
			grow := len(repl) - len(old)
			if k > maxString/grow {
				b.alloc(maxString + 1)
			}
			n += k * grow
		}
		b.alloc(n)
		return strings.ReplaceAll(s, old, repl)
	}
	e.Upper = func(s string) string { b.alloc(len(s)); return strings.ToUpper(s) }
	e.Lower = func(s string) string { b.alloc(len(s)); return strings.ToLower(s) }
	e.Split = func(s, sep string) []string {
		k := strings.Count(s, sep) + 1
		if sep == "" {
			k = utf8.RuneCountInString(s)
		}
		b.charge(16 * k) // a string header each
		return strings.Split(s, sep)
	}
	e.String = func(v any) string {
		var s string
		switch x := v.(type) {
		case string:
			return x
		case int:
			s = strconv.Itoa(x)
		default:
			s = fmt.Sprint(v)
		}
		b.alloc(len(s))
		return s
	}
	e.Keys = func(m any) []any { return mapPart(b, "keys", m, true) }
	e.Values = func(m any) []any { return mapPart(b, "values", m, false) }
	if sel := e.PG.Select; sel != nil {
		// A fresh list each call: kept by a map() over many, it counts.
		e.PG.Select = func(filter string) []Backend {
			out := sel(filter)
			b.charge(len(out) * int(backendSize))
			return out
		}
	}
	if count := e.PG.Count; count != nil {
		// A walk over every backend each call: the clock is read after it.
		e.PG.Count = func(filter string) int {
			n := count(filter)
			b.clock()
			return n
		}
	}
}

// backendSize is what one Backend of pg.select's list costs.
var backendSize = reflect.TypeOf(Backend{}).Size()

// stringsOf reads a list of strings for join.
func stringsOf(fn string, v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				panic(fmt.Errorf("%s: element %d is %T, not a string", fn, i, e))
			}
			out[i] = s
		}
		return out
	}
	panic(fmt.Errorf("%s: %T is not a list of strings", fn, v))
}

// mapPart lists a map's keys (or values), charging a slot for each.
func mapPart(b *budget, fn string, m any, keys bool) []any {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map {
		panic(fmt.Errorf("%s: %T is not a map", fn, m))
	}
	b.charge(16 * v.Len())
	out := make([]any, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		if keys {
			out = append(out, it.Key().Interface())
		} else {
			out = append(out, it.Value().Interface())
		}
	}
	return out
}

// checkFormat refuses a sprintf format whose width or precision would
// build a long string from a short one ("%0999999d"), or takes them from
// the arguments ("%*d"). Digits in brackets are argument indexes.
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		inIndex := false
	verb:
		for i++; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '[':
				inIndex = true
			case c == ']':
				inIndex = false
			case c == '*':
				return &overBudget{"sprintf: a width or precision from the arguments (*)"}
			case c >= '1' && c <= '9' && !inIndex:
				j := i
				for j < len(format) && format[j] >= '0' && format[j] <= '9' {
					j++
				}
				if w, err := strconv.Atoi(format[i:j]); err != nil || w > maxFormatWidth {
					return &overBudget{fmt.Sprintf("sprintf: width or precision %s is more than %d", format[i:j], maxFormatWidth)}
				}
				i = j - 1
			case c == '%' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				break verb
			}
		}
	}
	return nil
}

// checkCost reports at load what can be known of an expression's work
// before running it: a range written with literal bounds that holds more
// values than maxExprValues, or predicates (all, map, filter, …) over
// collections of known size — literal ranges and lists, directly or
// through let — whose nesting multiplies past maxExprSteps. A collection
// whose size is known only at run time counts as one element here: the
// run-time budget bounds it.
func checkCost(src string, root ast.Node) error {
	c := costCheck{src: []rune(src)}
	if total := c.cost(root, nil); total > maxExprSteps {
		c.fail(root, "may take %.0f steps (predicate iterations) in all: at most %d", total, maxExprSteps)
	}
	if c.err != nil {
		return c.err
	}
	return nil
}

type costCheck struct {
	src []rune
	err *exprError
}

func (c *costCheck) fail(n ast.Node, format string, args ...any) {
	if c.err != nil {
		return
	}
	line := 1
	for i := 0; i < n.Location().From && i < len(c.src); i++ {
		if c.src[i] == '\n' {
			line++
		}
	}
	c.err = &exprError{msg: fmt.Sprintf(format, args...), line: line}
}

// size is how many elements n holds when that is written out, 0 when it is
// not known.
func (c *costCheck) size(n ast.Node, vars map[string]float64) float64 {
	switch x := n.(type) {
	case *ast.BinaryNode:
		if x.Operator == ".." {
			from, ok1 := intLiteral(x.Left)
			to, ok2 := intLiteral(x.Right)
			if ok1 && ok2 {
				return max(float64(to)-float64(from)+1, 0)
			}
		}
	case *ast.ArrayNode:
		return float64(len(x.Nodes))
	case *ast.IdentifierNode:
		return vars[x.Value]
	case *ast.BuiltinNode:
		switch x.Name {
		case "filter", "map", "sortBy", "sort", "reverse":
			if len(x.Arguments) > 0 {
				return c.size(x.Arguments[0], vars)
			}
		}
	}
	return 0
}

func intLiteral(n ast.Node) (int, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return x.Value, true
	case *ast.UnaryNode:
		if v, ok := intLiteral(x.Node); ok && x.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}

// cost is the most predicate iterations n may take, over the sizes known.
func (c *costCheck) cost(n ast.Node, vars map[string]float64) float64 {
	switch x := n.(type) {
	case nil:
		return 0
	case *ast.VariableDeclaratorNode:
		total := c.cost(x.Value, vars)
		inner := make(map[string]float64, len(vars)+1)
		for k, v := range vars {
			inner[k] = v
		}
		inner[x.Name] = c.size(x.Value, vars)
		return total + c.cost(x.Expr, inner)
	case *ast.BinaryNode:
		if x.Operator == ".." {
			if s := c.size(x, vars); s > maxExprValues {
				c.fail(x, "range of %.0f values: at most %d", s, maxExprValues)
			}
		}
		if r, ok := x.Right.(*ast.BinaryNode); ok && x.Operator == "in" && r.Operator == ".." {
			// x in a..b compares x with a and b: no list is built (and
			// when one is, for a float x, the VM's budget counts it).
			return c.cost(x.Left, vars) + c.cost(r.Left, vars) + c.cost(r.Right, vars)
		}
	case *ast.CallNode:
		c.literalCall(x)
	case *ast.BuiltinNode:
		if len(x.Arguments) > 1 && hasPredicate(x) {
			each := max(c.size(x.Arguments[0], vars), 1)
			total := c.cost(x.Arguments[0], vars)
			for _, a := range x.Arguments[1:] {
				if p, ok := a.(*ast.PredicateNode); ok {
					total += each * (1 + c.cost(p.Node, vars))
				} else {
					total += c.cost(a, vars)
				}
			}
			if total > maxExprSteps {
				c.fail(x, "%s(...) may take %.0f steps (predicate iterations over %.0f values, nested): at most %d",
					x.Name, total, each, maxExprSteps)
			}
			return total
		}
	}
	total := 0.0
	for _, k := range children(n) {
		total += c.cost(k, vars)
	}
	return total
}

func hasPredicate(b *ast.BuiltinNode) bool {
	for _, a := range b.Arguments {
		if _, ok := a.(*ast.PredicateNode); ok {
			return true
		}
	}
	return false
}

// children lists n's direct sub-expressions.
func children(n ast.Node) []ast.Node {
	switch x := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{x.Node}
	case *ast.BinaryNode:
		return []ast.Node{x.Left, x.Right}
	case *ast.ChainNode:
		return []ast.Node{x.Node}
	case *ast.MemberNode:
		return []ast.Node{x.Node, x.Property}
	case *ast.SliceNode:
		return []ast.Node{x.Node, x.From, x.To}
	case *ast.CallNode:
		return append([]ast.Node{x.Callee}, x.Arguments...)
	case *ast.BuiltinNode:
		return x.Arguments
	case *ast.PredicateNode:
		return []ast.Node{x.Node}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{x.Value, x.Expr}
	case *ast.SequenceNode:
		return x.Nodes
	case *ast.ConditionalNode:
		return []ast.Node{x.Cond, x.Exp1, x.Exp2}
	case *ast.ArrayNode:
		return x.Nodes
	case *ast.MapNode:
		return x.Pairs
	case *ast.PairNode:
		return []ast.Node{x.Key, x.Value}
	}
	return nil
}

// literalCall checks at load what a call with literal arguments would
// build: sprintf("%0999999d", …), repeat("x", 1000000).
func (c *costCheck) literalCall(x *ast.CallNode) {
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok || len(x.Arguments) == 0 {
		return
	}
	first, ok := x.Arguments[0].(*ast.StringNode)
	if !ok {
		return
	}
	switch id.Value {
	case "sprintf":
		if err := checkFormat(first.Value); err != nil {
			c.fail(x, "%v", err)
		}
	case "repeat":
		if len(x.Arguments) == 2 {
			if n, ok := intLiteral(x.Arguments[1]); ok && len(first.Value) > 0 && n > maxString/len(first.Value) {
				c.fail(x, "repeat: a string of more than %d bytes", maxString)
			}
		}
	}
}
