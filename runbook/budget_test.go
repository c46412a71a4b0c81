package runbook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/sources"
)

// The expressions of issue 16 item 5, as written there: what can be known
// from the text is refused at load, with the file's line.
func TestBudgetRefusedAtLoad(t *testing.T) {
	var b strings.Builder
	b.WriteString(`name: freeze
title: Freeze
steps:
  - kind: check
    title: Nested
    expr: let r = 1..1000; all(r, {all(r, {all(r, {true})})})
`)
	// 150 value lines, 50 a step (the most a step may list).
	for step := range 3 {
		fmt.Fprintf(&b, "  - kind: check\n    title: Wide %d\n    expr: pg.ratio > 0\n    show:\n", step+1)
		for i := range 50 {
			fmt.Fprintf(&b, "      - v%d: sprintf(\"%%0999999d\", 1)\n", i)
		}
	}
	b.WriteString(`  - kind: check
    title: Big range
    expr: |
      pg.ratio > 0 &&
        len(1..10000000) > 0
  - kind: check
    title: Big repeat
    expr: len(repeat("ab", 1000000)) > 0
  - kind: check
    title: Long
    expr: ` + strings.Repeat("1+", 700) + `1 > 0
`)
	_, err := Load("freeze.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("loaded")
	}
	lines := strings.Split(err.Error(), "\n")
	t.Logf("%d errors, the first and last:\n%s\n%s", len(lines), strings.Join(lines[:3], "\n"), strings.Join(lines[len(lines)-3:], "\n"))
	want := []string{
		`freeze.yaml:6: step 1 "Nested": expr: all(...) may take 1001000 steps`,
		`freeze.yaml:11: step 2 "Wide 1": show[0]: sprintf: width or precision 999999 is more than 64`,
		`freeze.yaml:168: step 4 "Wide 3": show[49]: sprintf: width or precision 999999`,
		`freeze.yaml:173: step 5 "Big range": expr: range of 10000000 values: at most 100000`,
		`freeze.yaml:176: step 6 "Big repeat": expr: repeat: a string of more than 16384 bytes`,
		`freeze.yaml:179: step 7 "Long": expr: expression too large: more than 500 parts (names, operators, literals); split it into steps`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("no %q", w)
		}
	}
	if len(lines) != 1+150+3 {
		t.Errorf("%d errors, want 154:\n%v", len(lines), err)
	}
}

// budgetBook has what only running can tell: the same work, with sizes and
// formats that come from the data.
const budgetBook = `name: budget
title: Budget
steps:
  - kind: check
    title: Nested
    expr: let r = 1..(pg.connections * 0 + 1000); all(r, {all(r, {all(r, {true})})})
%s  - kind: check
    title: Concat
    expr: 'len(reduce(1..40, #acc + #acc, pg.source)) > 0'
  - kind: verify
    title: Values
    expr: len(1..(pg.connections * 10000)) > 0
    within: 1m
  - kind: check
    title: Fine
    expr: pg.ratio > 0.5
    show:
      - connections: sprintf("%%d/%%d", pg.connections, pg.usable)
      - upper: upper(pg.source) + " " + join(["a", "b"], "-") + " " + replace("aa", "a", "b") + " " + string(len(split("a,b", ",")))
  - kind: note
    title: Then
    text: go on
`

func budgetRunbook(t *testing.T) *Runbook {
	t.Helper()
	// 150 value lines whose format only running can tell, 50 a step.
	var shows strings.Builder
	for step := range 3 {
		fmt.Fprintf(&shows, "  - kind: check\n    title: Wide %d\n    expr: pg.ratio > 0\n    show:\n", step+1)
		for i := range 50 {
			fmt.Fprintf(&shows, "      - v%d: sprintf(lower(\"%%0999999d\"), 1)\n", i)
		}
	}
	b, err := Load("budget.yaml", []byte(fmt.Sprintf(budgetBook, shows.String())))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// measure runs f and reports the time it took and the bytes it allocated.
func measure(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc
}

// Over budget at run time, each step fails with the reason, the others go
// on; the run is not ended and the step is not evaluated again. Before the
// budget the nested check ran for minutes and the show built 150 MB a
// snapshot.
func TestBudgetFailsTheStep(t *testing.T) {
	rb := budgetRunbook(t)
	r, _ := Start(rb, nil, "oncall@test", ops.DefaultPolicy(), t0)
	var recs []ops.Record
	took, alloc := measure(func() { recs = r.Observe([]sources.Snapshot{pgSnap(t0, 90)}, t0) })
	t.Logf("first evaluation: %s, %.1f MiB allocated", took, float64(alloc)/(1<<20))
	if got := results(recs); got != "0:failed 1:failed 2:failed 3:failed 4:failed 5:failed" {
		t.Errorf("records %s", got)
	}
	steps := r.Steps(t0)
	// The nested check runs out of steps, or (slowed down by -race on a
	// loaded machine) of time first.
	if s := steps[0]; s.State != Failed || !strings.HasPrefix(s.Reason, "over budget: more than 100000 steps (predicate iterations) (let r = 1..(pg.connections") &&
		!strings.HasPrefix(s.Reason, "over budget: took more than 1s (let r = 1..(pg.connections") {
		t.Errorf("step 1: %s %q", s.State, s.Reason)
	}
	for i, want := range []string{
		"",
		"over budget: sprintf: width or precision 999999 is more than 64 (sprintf(lower(",
		"over budget: sprintf: width or precision 999999 is more than 64 (sprintf(lower(",
		"over budget: sprintf: width or precision 999999 is more than 64 (sprintf(lower(",
		"over budget: a string of more than 16384 bytes (len(reduce(1..40, #acc + #acc, pg.source)) > 0)",
		// A verify over budget could never pass: it fails at once.
		"over budget: more than 100000 values in its lists and maps (len(1..(pg.connections * 10000)) > 0)",
	} {
		if i == 0 {
			continue
		}
		if steps[i].State != Failed || !strings.HasPrefix(steps[i].Reason, want) {
			t.Errorf("step %d: %s %q, want failed %q", i+1, steps[i].State, steps[i].Reason, want)
		}
	}
	if steps[6].Live != True || fmt.Sprint(steps[6].Values) != "[connections 90/100 upper PG MAIN a-b bb 2]" {
		t.Errorf("the sound step: %s %q %v", steps[6].Live, steps[6].Why, steps[6].Values)
	}
	if r.Ended() || r.Next() != 6 {
		t.Errorf("ended %v, next %d", r.Ended(), r.Next())
	}
	// Once failed, a step is not evaluated again: the next snapshot costs
	// only the sound step.
	took, alloc = measure(func() { recs = r.Observe([]sources.Snapshot{pgSnap(t0.Add(time.Second), 90)}, t0.Add(time.Second)) })
	t.Logf("next evaluation: %s, %.1f KiB allocated", took, float64(alloc)/(1<<10))
	if len(recs) != 0 {
		t.Errorf("second observe: %s", results(recs))
	}
	for i := range 6 {
		if !r.Prepare(nil, t0).steps[i].skip {
			t.Errorf("step %d is evaluated again", i+1)
		}
	}
	if alloc > 64<<20 {
		t.Errorf("the next evaluation allocated %d bytes", alloc)
	}
}

// A run resumed from the journal with a step over budget does not freeze
// again: the first evaluation finds it over budget within the budget, writes
// nothing more (the journal already says it failed), and later ones skip it.
func TestBudgetResumed(t *testing.T) {
	rb := budgetRunbook(t)
	r, recs := Start(rb, nil, "oncall@test", ops.DefaultPolicy(), t0)
	recs = append(recs, r.Observe([]sources.Snapshot{pgSnap(t0, 90)}, t0)...)
	runs, err := Resume(recs, NewSet(rb), ops.DefaultPolicy())
	if err != nil || len(runs) != 1 {
		t.Fatalf("resume: %v %v", runs, err)
	}
	again := runs[0]
	took, alloc := measure(func() { recs = again.Observe([]sources.Snapshot{pgSnap(t0.Add(time.Minute), 90)}, t0.Add(time.Minute)) })
	t.Logf("first evaluation after resume: %s, %.1f MiB allocated", took, float64(alloc)/(1<<20))
	if len(recs) != 0 {
		t.Errorf("records after resume: %s", results(recs))
	}
	if s := again.Steps(t0)[0]; s.State != Failed || !strings.Contains(s.Reason, "over budget") {
		t.Errorf("resumed step: %s %q", s.State, s.Reason)
	}
	if !again.Prepare(nil, t0).steps[0].skip {
		t.Error("resumed step over budget is evaluated again")
	}
}

// Evaluate runs on another goroutine while the run goes on; a step that
// changed meanwhile keeps its new state when the evaluation comes back.
func TestEvaluateOffTheCallersGoroutine(t *testing.T) {
	r := start(t)
	snaps := []sources.Snapshot{pgSnap(t0, 95), kubeSnap(t0, 7, time.Hour, true), amSnap(t0, opener)}
	r.Observe(snaps, t0)
	ev := r.Prepare(snaps, t0.Add(time.Second))
	var obs *Observation
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		obs = ev.Evaluate(ctx)
	}()
	_, recs := r.Do(0, t0.Add(time.Second)) // the check is recorded while evaluating
	wg.Wait()
	if results(recs) != "0:ok" {
		t.Fatalf("do: %s", results(recs))
	}
	if recs := r.Apply(obs, t0.Add(2*time.Second)); len(recs) != 0 {
		t.Errorf("apply: %s", results(recs))
	}
	if s := r.Steps(t0)[0]; s.State != OK || s.Live != True {
		t.Errorf("check after apply: %s %s", s.State, s.Live)
	}
	// Another run's observation is not taken.
	other := start(t)
	if recs := other.Apply(obs, t0); recs != nil || other.Steps(t0)[0].Live != Unknown {
		t.Error("applied another run's observation")
	}
	// Evaluations may overlap: one prepared earlier and back later is
	// dropped.
	early := r.Prepare(snaps, t0.Add(2*time.Second))
	late := r.Prepare([]sources.Snapshot{pgSnap(t0, 10)}, t0.Add(2*time.Second))
	r.Apply(late.Evaluate(context.Background()), t0.Add(2*time.Second))
	r.Apply(early.Evaluate(context.Background()), t0.Add(2*time.Second))
	if s := r.Steps(t0)[0]; s.Live != False {
		t.Errorf("an older evaluation was applied over a newer one: %s", s.Live)
	}
	// A context already over evaluates nothing: the verdicts stay.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Apply(r.Prepare(nil, t0.Add(3*time.Second)).Evaluate(ctx), t0.Add(3*time.Second))
	if s := r.Steps(t0)[0]; s.Live != False {
		t.Errorf("a cancelled evaluation changed the check: %s %q", s.Live, s.Why)
	}
}

// The functions standing in for expr's builtins build at most maxString
// bytes a string and maxExprBytes an evaluation, and the + on strings too;
// sprintf's widths are bounded; what they build within bounds is as before.
func TestBoundedFunctions(t *testing.T) {
	var bs []sources.Backend
	for pid := range int32(10) {
		bs = append(bs, backend(100+pid, "app", "active", time.Minute, t0))
	}
	w := newWorld([]sources.Snapshot{pgSnap(t0, 90, bs...)}, t0)
	cases := []struct{ src, want string }{
		{`upper("ab") + lower("CD")`, "ABcd"},
		{`join(["a", "b"], ", ") + join(["c"])`, "a, bc"},
		{`join(rollout("x").images)`, "unknown"},
		{`replace("a.b.c", ".", "::")`, "a::b::c"},
		{`repeat("ab", 3)`, "ababab"},
		{`string(42) + string(1.5) + string(true)`, "421.5true"},
		{`len(keys(pg.by_state)) + len(values({"a": 1}))`, "2"},
		{`sprintf("%05.1f|%-4d|%[1]v", 3.14159, 7)`, "003.1|7   |3.14159"},
		{`sprintf("%d%%", 5)`, "5%"},
		{`repeat(pg.source, pg.connections * 1000)`, "over budget: a string of more than 16384 bytes"},
		{`repeat("x", pg.connections * 100000000000000000)`, "over budget: a string of more than 16384 bytes"},
		{`replace(repeat("a", 5000), "", repeat("b", 100))`, "over budget: a string of more than 16384 bytes"},
		{`join(map(1..2000, {repeat("x", 10)}), ",")`, "over budget: a string of more than 16384 bytes"},
		{`len(map(1..1000, {repeat("y", 2000) + pg.source}))`, "over budget: more than 1024 KiB of strings and lists"},
		{`len(map(1..1000, {split(repeat("a,", 4000), ",")}))`, "over budget: more than 1024 KiB of strings and lists"},
		{`sprintf(pg.source + "%*d", 100000, 1)`, "over budget: sprintf: a width or precision from the arguments (*)"},
		{`sprintf(pg.source + "%.100000f", 1.0)`, "over budget: sprintf: width or precision 100000 is more than 64"},
		{`pg.connections in 1..10000000`, "true"},
		{`len(map(1..60000, {#})) + len(map(1..60000, {#}))`, "compile: may take 120000 steps (predicate iterations) in all: at most 100000"},
		{`len(map(1..50000, {pg.select("")}))`, "over budget: more than 1024 KiB of strings and lists"},
		{`toJSON(pg)`, "compile: unknown name toJSON"},
		{`now().Format("2006")`, "compile: unknown name now"},
	}
	for _, c := range cases {
		prog, _, err := compileValue(c.src)
		if err != nil {
			if got := "compile: " + err.Error(); !strings.HasPrefix(got, c.want) {
				t.Errorf("%s: %s, want %s", c.src, got, c.want)
			}
			continue
		}
		v, why := eval(prog, w.env(nil))
		got := fmt.Sprint(v)
		if why != "" {
			got = why
			if !strings.HasPrefix(why, "over budget") {
				got = "unknown"
			}
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
}

// A value line is bounded as shown and journaled.
func TestValueTextBounded(t *testing.T) {
	if s := valueText(strings.Repeat("é", 1000)); len(s) > maxValueText+len("…") || !strings.HasSuffix(s, "é…") {
		t.Errorf("%d bytes: %q", len(s), s[len(s)-8:])
	}
}

// Item 14: every runbook error names file:line, a duplicate name too (and
// where the other one is).
func TestDuplicateNameHasLine(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.yaml"} {
		body := "# " + f + "\n\n" + valid
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadAll([]string{dir})
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	want := b + `:3: name: runbook "demo-book" is also defined in ` + a + ":3"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	// The errors of a whole file name a line too.
	if _, err := Load("empty.yaml", nil); err == nil || !strings.HasPrefix(err.Error(), "empty.yaml:1: empty file") {
		t.Errorf("empty: %v", err)
	}
	big := strings.Repeat("# a comment line of forty characters...\n", maxFileSize/40+10)
	if _, err := Load("big.yaml", []byte(big)); err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("big.yaml:%d: file larger than", maxFileSize/40+1)) {
		t.Errorf("big: %v", err)
	}
}

// Work the counts do not see (each step calls a function over every
// backend) is bounded by the clock: the expression is over budget in about
// maxExprTime, where it would run for seconds.
func TestTimeBudget(t *testing.T) {
	var bs []sources.Backend
	for pid := range int32(5000) {
		bs = append(bs, backend(100+pid, "app", "active", time.Minute, t0))
	}
	w := newWorld([]sources.Snapshot{pgSnap(t0, 90, bs...)}, t0)
	prog, _, err := compileValue(`all(1..90000, {pg.count("state:idle") >= 0})`)
	if err != nil {
		t.Fatal(err)
	}
	var why string
	took, alloc := measure(func() { _, why = eval(prog, w.env(nil)) })
	t.Logf("%s, %.1f MiB allocated: %s", took, float64(alloc)/(1<<20), why)
	if !strings.HasPrefix(why, "over budget: took more than 1s") {
		t.Errorf("got %q", why)
	}
}
