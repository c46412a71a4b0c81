package rollouts

import (
	"fmt"
	"testing"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// BenchmarkDraw is one redraw of the focused pane at 198×56, and of the
// narrow unfocused one (54 columns, prefix dropped, names cut).
func BenchmarkDraw(b *testing.B) {
	for _, w := range []int{198, 56} {
		for _, n := range []int{10, 500} {
			b.Run(fmt.Sprintf("w=%d/deployments=%d", w, n), func(b *testing.B) {
				p := New(kit.Slot{Env: uitest.Env(), Key: "4"})
				p.SetSize(w, 56)
				p.SetSnapshot(uitest.Snap("kube", sources.KindRollouts, uitest.ManyRollouts(n), 0))
				b.ReportAllocs()
				for b.Loop() {
					p.Touch()
					p.View(true)
				}
			})
		}
	}
}
