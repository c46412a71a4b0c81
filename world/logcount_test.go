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
