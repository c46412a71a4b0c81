package runbooks

import (
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

const book = `name: one
title: One
steps:
  - kind: action
    title: Cancel it
    action: cancel
    backends: blocking
`

// A step's request carries a typed origin naming its run and step; a run
// view takes back only the answers to its own run's steps.
func TestStepOrigin(t *testing.T) {
	rb, err := runbook.Load("one.yaml", []byte(book))
	if err != nil {
		t.Fatal(err)
	}
	f := New(uitest.Env(), Options{}, "test@host", true, nil)
	start := func(at time.Duration) *RunView {
		r, _ := runbook.Start(rb, nil, "test@host", ops.DefaultPolicy(), uitest.T0.Add(at))
		return f.newRunView(r)
	}
	a, b := start(0), start(time.Second)
	if a.run.ID() == b.run.ID() {
		t.Fatal("two runs share an ID")
	}
	for _, c := range []struct {
		name   string
		origin kit.Origin
		step   int
		ok     bool
	}{
		{"its own step", a.origin(0), 0, true},
		{"another run's step", b.origin(0), 0, false},
		{"no origin", nil, 0, false},
		{"the old string form", a.ID() + "#0", 0, false},
	} {
		if i, ok := a.stepOf(c.origin); ok != c.ok || i != c.step {
			t.Errorf("%s: step %d ok %v", c.name, i, ok)
		}
	}
	if cmd := a.Update(kit.CancelledMsg{What: "Cancel", Origin: b.origin(0)}); cmd != nil || a.Said() != "" {
		t.Errorf("took another run's answer: %q", a.Said())
	}
}
