package ui

import (
	"strings"
	"testing"
	"time"

	"flightdeck/runbook"
)

// A runbook whose check is over its budget (issue 16 item 5): opening its
// run does not evaluate in Update (the UI never waits on an expression); the
// evaluation comes back as a message and fails the step with the reason,
// and the run, the view and the keys go on.
func TestRunbookOverBudgetDoesNotFreeze(t *testing.T) {
	rb, err := runbook.Load("freeze.yaml", []byte(`name: freeze
title: Freeze
steps:
  - kind: check
    title: Nested
    expr: let r = 1..(pg.connections * 0 + 1000); all(r, {all(r, {all(r, {true})})})
  - kind: note
    title: Then
    text: go on
`))
	if err != nil {
		t.Fatal(err)
	}
	e := runbookEnv(t, false, rb)
	m := e.model(160, 60)
	start := time.Now()
	m, cmd := m.startRun(startRunMsg{book: rb})
	inUpdate := time.Since(start)
	rv := shownRun(t, m)
	if s := rv.run.Steps(e.clk.Now())[0]; s.State != runbook.Pending || s.Live != runbook.Unknown || s.Why != "" {
		t.Fatalf("evaluated in Update: %s %s %q", s.State, s.Live, s.Why)
	}
	start = time.Now()
	m = drive(t, m, cmd)
	t.Logf("opening the run: %s in Update, %s in its Cmds", inUpdate, time.Since(start))
	s := rv.run.Steps(e.clk.Now())[0]
	if s.State != runbook.Failed || !strings.HasPrefix(s.Reason, "over budget: ") {
		t.Fatalf("step: %s %q", s.State, s.Reason)
	}
	if out := plain(m); !strings.Contains(out, "over budget") {
		t.Errorf("the reason is not shown:\n%s", out)
	}
	if rv.run.Ended() || rv.run.Next() != 1 {
		t.Errorf("run ended %v, next %d", rv.run.Ended(), rv.run.Next())
	}
	m = e.key(t, m, "enter") // the note: the run goes on
	if !rv.run.Ended() {
		t.Errorf("run not ended after the note:\n%s", plain(m))
	}
}
