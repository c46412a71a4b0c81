package runbook_test

import (
	"strings"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/sources/logcount"
)

var epochLogs = time.Date(2026, 3, 14, 3, 7, 0, 0, time.UTC)

const logCountsBook = `name: log-counts
title: Log counts
steps:
  - kind: check
    title: The API logs errors
    expr: logs("production/nudgecampaign-api").errors("5m") > 0
    show:
      - errors: logs("production/nudgecampaign-api").errors("5m")
      - lines: logs("production/nudgecampaign-api").lines
  - kind: check
    title: The API answers 5xx
    expr: 'logs("nudgecampaign-api").count("5m", "/ 5\\d\\d /") > 0'
  - kind: check
    title: The ECS service's logs are read
    expr: logs("us-east-1/nudgecampaign-production/api").lines > 0
  - kind: check
    title: No such target
    expr: logs("production/nope").errors("5m") == 0
`

// Literal windows and filters that could never be counted are load errors.
func TestLogCountLiteralsCheckedAtLoad(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`logs("production/api").errors("5 minutes") > 0`, "log window"},
		{`logs("production/api").count("2h", "") > 0`, "log window"},
		{`logs("production/api").count("5m", "/(/") > 0`, "log filter /(/"},
		{`logs("production/api").count("5m", "` + strings.Repeat("x", 300) + `") > 0`, "log filter longer"},
	} {
		book := "name: b\ntitle: b\nsteps:\n  - kind: check\n    title: c\n    expr: '" + c.expr + "'\n"
		if _, err := runbook.Load("b.yaml", []byte(book)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want %q, got %v", c.expr, c.want, err)
		}
	}
	ok := "name: b\ntitle: b\nsteps:\n  - kind: check\n    title: c\n    expr: 'logs(\"production/api\").count(\"1h\", \"503\") > 0'\n"
	if _, err := runbook.Load("b.yaml", []byte(ok)); err != nil {
		t.Errorf("a good count: %v", err)
	}
}

// On the demo's bad deploy, log-count expressions are unknown until the
// sampler's first sample with their filter, then true, for a deployment
// and an ECS service; a missing target stays unknown, never false.
func TestLogCountExpressionsOnTheDemo(t *testing.T) {
	c := opstest.NewClock(epochLogs)
	w := demo.NewWorld(demo.Options{Now: c.Now, Seed: 7, Speed: 20})
	readers := func(name string) sources.LogReader {
		switch name {
		case w.Rollouts().Name():
			return w.Rollouts()
		case w.AWS().Name():
			return w.AWS()
		}
		return nil
	}
	srcs := append(w.Sources(), logcount.New(readers, sources.LogWants, c.Now))
	caps := ops.Capabilities{w.Rollouts().Name(): w.Rollouts()}
	d := newDriver(t, c.Now, func() { c.Advance(100 * time.Millisecond) }, srcs, caps, ops.DefaultPolicy())
	d.pollUntil("the bad deploy's 5xx", 600, func(s []sources.Snapshot) bool {
		for _, snap := range s {
			if set, ok := snap.Data.(*sources.RolloutSet); ok {
				for _, dep := range set.Deployments {
					if dep.Key() == "production/nudgecampaign-api" && dep.Revision >= 2 && dep.Updated > 0 {
						return true
					}
				}
			}
		}
		return false
	})
	for range 20 { // 40 simulated seconds of its errors
		d.poll()
	}
	rb, err := runbook.Load("log-counts.yaml", []byte(logCountsBook))
	if err != nil {
		t.Fatal(err)
	}
	d.start(rb, nil)
	for i := range 2 {
		if v := d.view(i); v.Live != runbook.Unknown || !strings.Contains(v.Why, "not been") {
			t.Errorf("step %d before a sample: %v (%s)", i, v.Live, v.Why)
		}
	}
	// Up to three polls: the target, then the filter, is sampled.
	for range 3 {
		d.observe()
	}
	for i := range 3 {
		if v := d.view(i); v.Live != runbook.True {
			t.Errorf("step %d: %v (%s) %v", i, v.Live, v.Why, v.Values)
		}
	}
	t.Logf("values: %v", d.view(0).Values)
	if v := d.view(3); v.Live != runbook.Unknown || !strings.Contains(v.Why, "no deployment or ECS service production/nope") {
		t.Errorf("missing target: %v (%s)", v.Live, v.Why)
	}
}
