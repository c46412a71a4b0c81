package world

import (
	"testing"
	"time"

	"flightdeck/sources"
	"flightdeck/sources/logcount"
)

// The world's hub runs the log sampler over the demo's readers: a wanted
// deployment is sampled through the same reader as the log view.
func TestWorldSamplesWantedLogs(t *testing.T) {
	w, _ := demoWorld(t, true, nil)
	name, deps := deployments(t, w)
	q, ok := sources.LogQueries(sources.Snapshot{Source: name, Data: &sources.RolloutSet{Deployments: deps}})["production/nudgecampaign-api"]
	if !ok {
		t.Fatal("no log query for the demo's API")
	}
	w.Start()
	sources.LogWants.Want(q, "GET", time.Now().Add(time.Minute))
	deadline := time.Now().Add(30 * time.Second)
	for {
		w.hub.Refresh(logcount.Name)
		for _, s := range w.hub.Latest() {
			c, _ := s.Data.(*sources.LogCounts)
			if sample, ok := c.Sample(q.Source, q.Target); ok {
				n, counted := sample.Count(time.Hour, sources.LogLevelNone, "GET")
				if sample.Err != "" || !counted || len(sample.Marks) == 0 {
					t.Fatalf("sample %+v (GET %d, %v)", sample.Err, n, counted)
				}
				t.Logf("%d lines, %d GET", len(sample.Marks), n)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the wanted logs were not sampled in 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A runbook expression asking for logs nobody was asking for is sampled at
// once, not at the sampler's next round (30 s): the world refreshes the
// sampler when a target or filter is new.
func TestNewLogWantIsSampledAtOnce(t *testing.T) {
	w, _ := demoWorld(t, true, nil)
	name, deps := deployments(t, w)
	q := sources.LogQueries(sources.Snapshot{Source: name, Data: &sources.RolloutSet{Deployments: deps}})["production/nudgecampaign-api"]
	w.Start()
	sampled := func(filter string) bool {
		for _, s := range w.hub.Latest() {
			if c, ok := s.Data.(*sources.LogCounts); ok {
				if sample, ok := c.Sample(q.Source, q.Target); ok {
					_, counted := sample.Count(time.Hour, sources.LogLevelNone, filter)
					return counted
				}
			}
		}
		return false
	}
	// The sampler's first round is over (it read nothing new for this
	// filter); the next would be 30 s away.
	deadline := time.Now().Add(10 * time.Second)
	for first := false; !first && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, s := range w.hub.Latest() {
			first = first || s.Source == logcount.Name
		}
	}
	filter := "GET /api/v1/campaigns " + time.Now().Format("150405.000000")
	start := time.Now()
	sources.LogWants.Want(q, filter, time.Now().Add(time.Minute))
	for !sampled(filter) {
		if time.Since(start) > logcount.Interval/3 {
			t.Fatalf("a new want was not sampled in %s", logcount.Interval/3)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("sampled %s after the want", time.Since(start).Round(time.Millisecond))
}
