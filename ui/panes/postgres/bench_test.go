package postgres

import (
	"fmt"
	"testing"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// BenchmarkDraw is one redraw of the focused pane at 198×56 (the Postgres
// pane of a 200×60 screen): formatting the rows that fit, whatever the
// number of backends.
func BenchmarkDraw(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			p := New(kit.Slot{Env: uitest.Env(), Key: "3"})
			p.SetSize(198, 56)
			p.SetSnapshot(uitest.Snap("pg main", sources.KindPostgres, uitest.ManyBackends(n), 0))
			b.ReportAllocs()
			for b.Loop() {
				p.Touch()
				p.View(true)
			}
		})
	}
}
