package ui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
)

// BenchmarkView measures a frame with the Postgres pane focused at 200×60:
// the cost must follow the screen, not the number of backends.
func BenchmarkView(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			act := benchPG(n)
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

// benchPG is the fixture with n generated client backends.
func benchPG(n int) *sources.PGActivity {
	act := pgFixture()
	bs := make([]sources.Backend, 0, n)
	for i := 0; i < n; i++ {
		x := backend(int32(10000+i), fmt.Sprintf("user%d", i%17), fmt.Sprintf("app-%d", i%23), []string{"active", "idle", "idle in transaction"}[i%3],
			time.Duration(i%900)*time.Second, fmt.Sprintf("SELECT * FROM events WHERE contact_id = %d AND kind = 'open' ORDER BY at DESC LIMIT 50", i))
		bs = append(bs, x)
	}
	act.Backends = bs
	return act
}
