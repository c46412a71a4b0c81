package ui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
)

// benchModel is a 200×60 model with the fixtures, idx's payload replaced,
// and the pane focused by key.
func benchModel(b *testing.B, idx int, data sources.Payload, focusKey string) Model {
	e := newEnv(b, true)
	m := New(e.opts)
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	snaps := allSnaps()
	snaps[idx].Data = data
	mm, _ = mm.Update(SnapshotsMsg{Snapshots: snaps})
	m, _ = press(mm.(Model), focusKey)
	return m
}

// BenchmarkViewAlerts: a frame with the Alerts pane focused; 2000 alerts
// must cost about what 20 do (grouping and sorting happen in Update).
func BenchmarkViewAlerts(b *testing.B) {
	for _, n := range []int{20, 2000} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			m := benchModel(b, 1, uitest.ManyAlerts(n), "2")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = m.View()
			}
		})
	}
}

// BenchmarkViewRollouts: a frame with the Rollouts pane focused; 500
// deployments must cost about what 10 do.
func BenchmarkViewRollouts(b *testing.B) {
	for _, n := range []int{10, 500} {
		b.Run(fmt.Sprintf("deployments=%d", n), func(b *testing.B) {
			m := benchModel(b, 3, uitest.ManyRollouts(n), "4")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = m.View()
			}
		})
	}
}

// BenchmarkViewRedraw is the frame after the once-a-second tick: the clock
// moved, so every pane draws again (the cached benchmarks above measure the
// frames in between, after keys and snapshots of other panes).
func BenchmarkViewRedraw(b *testing.B) {
	cases := []struct {
		name string
		m    func(b *testing.B) Model
	}{
		{"postgres/rows=100", func(b *testing.B) Model { return benchModel(b, 2, uitest.ManyBackends(100), "3") }},
		{"postgres/rows=10000", func(b *testing.B) Model { return benchModel(b, 2, uitest.ManyBackends(10000), "3") }},
		{"alerts/alerts=20", func(b *testing.B) Model { return benchModel(b, 1, uitest.ManyAlerts(20), "2") }},
		{"alerts/alerts=2000", func(b *testing.B) Model { return benchModel(b, 1, uitest.ManyAlerts(2000), "2") }},
		{"rollouts/deployments=10", func(b *testing.B) Model { return benchModel(b, 3, uitest.ManyRollouts(10), "4") }},
		{"rollouts/deployments=500", func(b *testing.B) Model { return benchModel(b, 3, uitest.ManyRollouts(500), "4") }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := c.m(b)
			now := m.env.Exact()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = now.Add(time.Second)
				m.env.SetClock(now)
				_ = m.View()
			}
		})
	}
}
