package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
)

// pileUp is the fixture's pile-up under load: the blocking chain (4711 idle
// in transaction, its waiters) and the long report are the oldest rows,
// over n younger ones, some waiting on 4713 too.
func pileUp(n int) *sources.PGActivity {
	act := uitest.PG()
	for i := 0; i < n; i++ {
		b := uitest.Backend(int32(5000+i), "app", "nudge-api", []string{"active", "idle"}[i%2], time.Duration(25-i%25)*time.Second,
			fmt.Sprintf("SELECT id, email FROM contacts WHERE list_id = %d", i))
		if i%5 == 0 {
			b.BlockedBy, b.WaitType, b.WaitEvent = []int32{4713}, "Lock", "tuple"
		}
		act.Backends = append(act.Backends, b)
	}
	return act
}

// TestGoldenViewport is issue 17's first item on screen at both reference
// sizes: 3 opens the long list at the top of its sort order, the root
// blocker first, with "↓ N more" under the rows; at the bottom "↑ N more"
// over them; paused, a poll that would end the pile-up changes nothing
// and the title says how old the frozen rows are.
func TestGoldenViewport(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		size := itoa(sz[0]) + "x" + itoa(sz[1])
		start := func(t *testing.T) (*env, Model) {
			e := newEnv(t, false)
			m := e.model(sz[0], sz[1])
			mm, _ := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{uitest.Snap("pg main", sources.KindPostgres, pileUp(80), time.Second)}})
			return e, mm.(Model)
		}
		t.Run("open_"+size, func(t *testing.T) {
			_, m := start(t)
			m, _ = press(m, "3")
			golden.RequireEqual(t, []byte(plain(m)+"\n"))
		})
		t.Run("bottom_paused_"+size, func(t *testing.T) {
			e, m := start(t)
			m, _ = press(m, "3", "G", "z")
			e.clk.Add(30 * time.Second)
			over := uitest.PG()
			over.Backends = over.Backends[3:] // the chain is gone
			mm, _ := m.Update(SnapshotsMsg{Snapshots: []sources.Snapshot{uitest.Snap("pg main", sources.KindPostgres, over, -29*time.Second)}})
			golden.RequireEqual(t, []byte(plain(mm.(Model))+"\n"))
		})
	}
}
