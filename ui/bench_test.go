package ui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ui/internal/uitest"
)

// BenchmarkView measures a frame with the Postgres pane focused at 200×60:
// the cost must follow the screen, not the number of backends.
func BenchmarkView(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			act := uitest.ManyBackends(n)
			e := newEnv(b, true)
			m := New(e.opts)
			mm, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
			snaps := allSnaps()
			snaps[2].Data = act
			mm, _ = mm.Update(SnapshotsMsg{Snapshots: snaps})
			m, _ = press(mm.(Model), "3")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = m.View()
			}
		})
	}
}
