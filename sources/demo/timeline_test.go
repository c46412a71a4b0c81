package demo

import (
	"os"
	"strings"
	"testing"

	"flightdeck/sources"
)

// TestTimeline prints the script every 5 s: DEMO_TIMELINE=1 go test -v -run Timeline.
func TestTimeline(t *testing.T) {
	if os.Getenv("DEMO_TIMELINE") == "" {
		t.Skip()
	}
	w, c := newTestWorld(t)
	for s := 0; s <= 480; s += 5 {
		at(c, s)
		pg := pgAt(t, w)
		al := alertsAt(t, w)
		sl := slosAt(t, w)
		k := kubeAt(t, w)
		api := findDep(t, k, "nudgecampaign-api")
		av := findSLO(t, sl, "availability")
		lat := findSLO(t, sl, "latency")
		var as []string
		for _, a := range al.Alerts {
			as = append(as, a.Name+":"+string(a.State))
		}
		tree := sources.BlockingTree(pg.Backends)
		depth := 0
		for _, n := range tree {
			depth = max(depth, n.Depth)
		}
		t.Logf("t=%3d api rev%d %d/%d/%d %s | conns %d waiters %d depth %d | av %s 5m %.1f 1h %.1f 6h %.1f 3d %.2f bl %.2f | lat %s 6h %.2f 3d %.2f bl %.2f | %s",
			s, api.Revision, api.Updated, api.Ready, api.Replicas, api.State, pg.Connections, len(tree), depth,
			av.Level, av.BurnRate(5*60e9), av.BurnRate(3600e9), av.BurnRate(6*3600e9), av.BurnRate(72*3600e9), av.BudgetLeft,
			lat.Level, lat.BurnRate(6*3600e9), lat.BurnRate(72*3600e9), lat.BudgetLeft, strings.Join(as, ","))
	}
}
