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

// BenchmarkDrawStatements is one redraw of the statements view at 198×56
// with 5,000 statements: only the rows that fit are formatted.
func BenchmarkDrawStatements(b *testing.B) {
	act := uitest.ManyBackends(100)
	st := &sources.PGStatements{Statements: make([]sources.Statement, 5000)}
	for i := range st.Statements {
		st.Statements[i] = sources.Statement{QueryID: int64(i + 1), User: "app", Calls: int64(i * 7), MeanMs: float64(i%977) * 0.7,
			TotalMs: float64(i) * 31, Query: fmt.Sprintf("SELECT id FROM s%d WHERE id IN ($1, $2, $3)", i)}
	}
	act.Views = &sources.PGViews{Statements: st}
	p := New(kit.Slot{Env: uitest.Env(), Key: "3"})
	p.SetSize(198, 56)
	p.SetSnapshot(uitest.Snap("pg main", sources.KindPostgres, act, 0))
	p.switchView(1)
	b.ReportAllocs()
	for b.Loop() {
		p.Touch()
		p.View(true)
	}
}
