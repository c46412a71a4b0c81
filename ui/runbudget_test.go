package ui

import (
	"strings"
	"testing"
	"time"

	"flightdeck/runbook"
	"flightdeck/ui/views/runbooks"
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
	m = e.key(t, m, "1") // a pane without an alert: r opens the list
	m = e.key(t, m, "r")
	start := time.Now()
	mm, cmd := m.Update(keyMsg("enter")) // start the one runbook listed
	inUpdate := time.Since(start)
	m = mm.(Model)
	for i := 0; i < 8 && cmd != nil; i++ {
		// Run what Update asked for, except the evaluation itself, until
		// the run view is shown: the step is still unevaluated then.
		if _, ok := m.shownView().(*runbooks.RunView); ok {
			break
		}
		mm, cmd = m.Update(cmd())
		m = mm.(Model)
	}
	rv := shownRun(t, m)
	if s := rv.Run().Steps(e.clk.Now())[0]; s.State != runbook.Pending || s.Live != runbook.Unknown || s.Why != "" {
		t.Fatalf("evaluated in Update: %s %s %q", s.State, s.Live, s.Why)
	}
	start = time.Now()
	m = drive(t, m, cmd)
	t.Logf("opening the run: %s in Update, %s in its Cmds", inUpdate, time.Since(start))
	s := rv.Run().Steps(e.clk.Now())[0]
	if s.State != runbook.Failed || !strings.HasPrefix(s.Reason, "over budget: ") {
		t.Fatalf("step: %s %q", s.State, s.Reason)
	}
	if out := plain(m); !strings.Contains(out, "over budget") {
		t.Errorf("the reason is not shown:\n%s", out)
	}
	if rv.Run().Ended() || rv.Run().Next() != 1 {
		t.Errorf("run ended %v, next %d", rv.Run().Ended(), rv.Run().Next())
	}
	m = e.key(t, m, "enter") // the note: the run goes on
	if !rv.Run().Ended() {
		t.Errorf("run not ended after the note:\n%s", plain(m))
	}
}
