package sources

import (
	"math"
	"testing"
	"time"
)

func TestBlockingTreeThreeLevels(t *testing.T) {
	bs := []Backend{
		{PID: 100},                          // root: idle in transaction
		{PID: 200, BlockedBy: []int32{100}}, // waits on root
		{PID: 300, BlockedBy: []int32{200}}, // waits on 200
		{PID: 301, BlockedBy: []int32{200, 100}},
		{PID: 400},                                      // unrelated
		{PID: 500}, {PID: 501, BlockedBy: []int32{500}}, // a smaller pile-up
	}
	got := BlockingTree(bs)
	want := []BlockNode{
		{PID: 100, Depth: 0, Root: true, Waiters: 3},
		{PID: 200, Depth: 1, Waiters: 2},
		{PID: 300, Depth: 2},
		{PID: 301, Depth: 2},
		{PID: 301, Depth: 1},
		{PID: 500, Depth: 0, Root: true, Waiters: 1},
		{PID: 501, Depth: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("node %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestBlockingTreeCycleTerminates(t *testing.T) {
	bs := []Backend{{PID: 1, BlockedBy: []int32{2}}, {PID: 2, BlockedBy: []int32{1}}}
	got := BlockingTree(bs)
	if len(got) != 2 || got[0].PID != 1 || got[0].Root {
		t.Fatalf("cycle: %+v", got)
	}
	if BlockingTree([]Backend{{PID: 1}}) != nil {
		t.Fatal("no blocking should give nil")
	}
}

func TestEvaluateBurn(t *testing.T) {
	nan := math.NaN()
	w := func(m map[string]float64) map[time.Duration]float64 {
		out := map[time.Duration]float64{}
		names := map[string]time.Duration{"5m": 5 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour, "2h": 2 * time.Hour, "6h": 6 * time.Hour, "1d": 24 * time.Hour, "3d": 72 * time.Hour}
		for k, v := range m {
			out[names[k]] = v
		}
		return out
	}
	cases := []struct {
		name string
		burn map[string]float64
		want SLOLevel
	}{
		{"fast page", map[string]float64{"5m": 20, "1h": 15, "6h": 2, "30m": 3}, SLOPage},
		{"1h burning but 5m recovered: no page", map[string]float64{"5m": 1, "1h": 15, "30m": 2, "6h": 2, "2h": 2, "1d": 1, "3d": 0.5}, SLOOK},
		{"slow page", map[string]float64{"5m": 3, "1h": 5, "30m": 7, "6h": 6}, SLOPage},
		{"ticket fast", map[string]float64{"5m": 1, "1h": 1, "30m": 1, "6h": 1, "2h": 3.5, "1d": 3}, SLOTicket},
		{"ticket slow", map[string]float64{"6h": 1.2, "3d": 1.1, "5m": 0, "1h": 0}, SLOTicket},
		{"ok", map[string]float64{"5m": 0.5, "1h": 0.5, "6h": 0.5, "3d": 0.5}, SLOOK},
		{"unknown", map[string]float64{"5m": nan, "1h": nan}, SLOUnknown},
		{"nan never triggers", map[string]float64{"5m": nan, "1h": 100, "6h": 0.1}, SLOOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := EvaluateBurn(w(tc.burn))
			if got != tc.want {
				t.Errorf("level = %v (%s), want %v", got, reason, tc.want)
			}
		})
	}
	_, reason := EvaluateBurn(w(map[string]float64{"5m": 20, "1h": 15.2}))
	if reason != "1h 15.2x and 5m 20.0x ≥ 14.4x" {
		t.Errorf("reason = %q", reason)
	}
}

func TestFormatBurn(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0x", 14.4: "14.4x", 250: "250x", 1500: "1.5kx", math.NaN(): "-", math.Inf(1): "-"} {
		if got := FormatBurn(v); got != want {
			t.Errorf("FormatBurn(%v) = %q, want %q", v, got, want)
		}
	}
}
