package demo

import (
	"context"
	"testing"
	"time"

	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

var epoch = time.Date(2026, 3, 14, 3, 7, 0, 0, time.UTC)

func newTestWorld(t *testing.T) (*World, *opstest.Clock) {
	t.Helper()
	c := opstest.NewClock(epoch)
	return NewWorld(Options{Now: c.Now, Seed: 42}), c
}

// at moves the clock to s simulated seconds after the world began.
func at(c *opstest.Clock, s int) {
	c.Set(epoch.Add(time.Duration(s) * time.Second))
}

func pgAt(t *testing.T, w *World) *sources.PGActivity {
	t.Helper()
	p, err := w.Postgres().Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sources.PGActivity)
}

func alertsAt(t *testing.T, w *World) *sources.AlertSet {
	t.Helper()
	p, err := w.Alerts().Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sources.AlertSet)
}

func slosAt(t *testing.T, w *World) *sources.SLOSet {
	t.Helper()
	p, err := w.SLOs().Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sources.SLOSet)
}

func kubeAt(t *testing.T, w *World) *sources.RolloutSet {
	t.Helper()
	p, err := w.Rollouts().Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sources.RolloutSet)
}

func findDep(t *testing.T, set *sources.RolloutSet, name string) sources.Deployment {
	t.Helper()
	for _, d := range set.Deployments {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no deployment %s", name)
	return sources.Deployment{}
}

func findAlert(set *sources.AlertSet, name string) *sources.Alert {
	for i := range set.Alerts {
		if set.Alerts[i].Name == name {
			return &set.Alerts[i]
		}
	}
	return nil
}

func findSLO(t *testing.T, set *sources.SLOSet, name string) sources.SLOStatus {
	t.Helper()
	for _, s := range set.SLOs {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no SLO %s", name)
	return sources.SLOStatus{}
}
