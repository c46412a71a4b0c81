package alerts

import (
	"fmt"
	"testing"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// BenchmarkDraw is one redraw of the focused pane at 198×56: grouping
// happens in Rebuild, so 2000 alerts cost what 20 do.
func BenchmarkDraw(b *testing.B) {
	for _, n := range []int{20, 2000} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			p := New(kit.Slot{Env: uitest.Env(), Key: "2"})
			p.SetSize(198, 56)
			p.SetSnapshot(uitest.Snap("am", sources.KindAlerts, uitest.ManyAlerts(n), 0))
			b.ReportAllocs()
			for b.Loop() {
				p.Touch()
				p.View(true)
			}
		})
	}
}
