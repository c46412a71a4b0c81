package slo

import (
	"fmt"
	"testing"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// manySLOs repeats the fixture's objectives under numbered names.
func manySLOs(n int) *sources.SLOSet {
	base := uitest.SLOs().SLOs
	set := &sources.SLOSet{}
	for i := range n {
		x := base[i%len(base)]
		x.Name = fmt.Sprintf("%s-%03d", x.Name, i)
		set.SLOs = append(set.SLOs, x)
	}
	return set
}

// BenchmarkDraw is one redraw of the focused pane, wide (198) and narrow
// (78), with a screenful of objectives and with many more.
func BenchmarkDraw(b *testing.B) {
	for _, w := range []int{198, 78} {
		for _, n := range []int{4, 500} {
			b.Run(fmt.Sprintf("w=%d/slos=%d", w, n), func(b *testing.B) {
				p := New(kit.Slot{Env: uitest.Env(), Key: "1"})
				p.SetSize(w, 56)
				p.SetSnapshot(uitest.Snap("prom", sources.KindSLO, manySLOs(n), 0))
				b.ReportAllocs()
				for b.Loop() {
					p.Touch()
					p.View(true)
				}
			})
		}
	}
}
