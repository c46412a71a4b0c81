package kit_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// TestScrollKeepsTheSelectionInView walks the cursor down every list and
// back up at every height: the selected row is always on screen, a marker
// line stands for the rows hidden above and below, the lines are exactly
// filled (no blank line under the last row, none too many), and the view
// moves only as far as the selection needs, in the selection's direction.
func TestScrollKeepsTheSelectionInView(t *testing.T) {
	for n := 0; n <= 25; n++ {
		for h := 1; h <= 12; h++ {
			var c kit.Cursor
			check := func(step string, prevFrom int, down bool) int {
				from, to := c.Scroll(n, h)
				where := fmt.Sprintf("n=%d h=%d %s pos=%d: rows [%d,%d)", n, h, step, c.Pos, from, to)
				if n == 0 {
					if from != 0 || to != 0 {
						t.Fatalf("%s with no rows", where)
					}
					return 0
				}
				if c.Pos < from || c.Pos >= to || from < 0 || to > n {
					t.Fatalf("%s: the selection is off screen", where)
				}
				lines := to - from
				if h >= 3 && n > h {
					if from > 0 {
						lines++
					}
					if to < n {
						lines++
					}
				}
				if lines != min(n, h) {
					t.Fatalf("%s: %d lines used of %d", where, lines, h)
				}
				if f2, t2 := c.Scroll(n, h); f2 != from || t2 != to {
					t.Fatalf("%s: a second Scroll moved the view to [%d,%d)", where, f2, t2)
				}
				if down && from < prevFrom || !down && from > prevFrom {
					t.Fatalf("%s: the view moved against the selection (from %d)", where, prevFrom)
				}
				return from
			}
			from := check("start", 0, true)
			if from != 0 {
				t.Fatalf("n=%d h=%d: opens at row %d, not the top", n, h, from)
			}
			for c.Pos < n-1 {
				c.Pos++
				from = check("down", from, true)
			}
			for c.Pos > 0 {
				c.Pos--
				from = check("up", from, false)
			}
		}
	}
}

// rows is a list pane with n numbered rows that counts the snapshots it
// took.
type rows struct {
	kit.List
	n, taken int
}

func newRows(n int) *rows {
	r := &rows{n: n}
	r.Init(kit.Slot{Env: uitest.Env(), Key: "3"}, kit.Meta{Title: "Rows", Kind: sources.KindPostgres, Noun: "rows"}, r)
	r.SetSize(40, 12)
	return r
}

func (r *rows) Len() int { return r.n }
func (r *rows) Rebuild() {}
func (r *rows) Draw(f bool) []string {
	return r.DrawSheet(f, kit.Sheet{Ready: true, N: r.n, Rows: func(body []string, from, to int, _ bool) []string {
		for i := from; i < to; i++ {
			body = append(body, fmt.Sprintf("row %d", i))
		}
		return body
	}})
}

func (r *rows) SetSnapshot(s sources.Snapshot) {
	if r.Hold(s) {
		return
	}
	r.taken++
	r.List.SetSnapshot(s)
}

func (r *rows) press(keys ...string) {
	for _, k := range keys {
		r.HandleKey(uitest.Key(k))
	}
}

func (r *rows) screen() string { return ansi.Strip(strings.Join(r.View(true), "\n")) }

func snap(fetched time.Duration, n int) sources.Snapshot {
	s := uitest.Snap("src", sources.KindPostgres, uitest.ManyBackends(n), fetched)
	s.Interval = 2 * time.Second
	return s
}

// TestMarkersSayWhatIsHidden: a list longer than its block opens at its
// top with "↓ N more" under the rows; at the bottom "↑ N more" over them.
func TestMarkersSayWhatIsHidden(t *testing.T) {
	r := newRows(30)
	r.SetSnapshot(snap(time.Second, 1))
	// 12 lines less the border: 10 lines, 9 rows and the marker.
	scr := r.screen()
	if !strings.Contains(scr, "row 0") || !strings.Contains(scr, "row 8") || strings.Contains(scr, "row 9") ||
		!strings.Contains(scr, "↓ 21 more") || strings.Contains(scr, "↑") || !strings.Contains(scr, "1/30") {
		t.Fatalf("opening screen:\n%s", scr)
	}
	r.press("G")
	scr = r.screen()
	if !strings.Contains(scr, "↑ 21 more") || !strings.Contains(scr, "row 29") || strings.Contains(scr, "↓") {
		t.Fatalf("at the bottom:\n%s", scr)
	}
	r.press("k", "k", "k", "k", "k", "k", "k", "k", "k")
	scr = r.screen()
	if !strings.Contains(scr, "↑ 20 more") || !strings.Contains(scr, "row 20") || !strings.Contains(scr, "↓ 2 more") {
		t.Fatalf("in the middle:\n%s", scr)
	}
	short := newRows(5)
	short.SetSnapshot(snap(time.Second, 1))
	if scr := short.screen(); strings.Contains(scr, "more") {
		t.Fatalf("a list that fits has a marker:\n%s", scr)
	}
}

// TestPickedSelection: the movement keys pick a row, the top key and a new
// filter give the selection back to the top of the sort order.
func TestPickedSelection(t *testing.T) {
	r := newRows(30)
	if r.Picked {
		t.Fatal("a new pane has a picked row")
	}
	r.press("j")
	if !r.Picked {
		t.Fatal("j did not pick a row")
	}
	r.press("g")
	if r.Picked || r.Cursor.Pos != 0 {
		t.Fatalf("g: picked %v at %d", r.Picked, r.Cursor.Pos)
	}
	r.press("j", "enter")
	if !r.Picked || !r.Detail {
		t.Fatalf("enter: picked %v detail %v", r.Picked, r.Detail)
	}
	r.press("esc")
	r.SetFilter("x")
	if r.Picked {
		t.Fatal("a new filter kept the picked row")
	}
}

// TestPauseHoldsTheRows: while paused the snapshots wait, the title says
// how old the frozen rows are and still says when the live feed is late;
// on resume the latest comes in through the pane's own SetSnapshot.
func TestPauseHoldsTheRows(t *testing.T) {
	r := newRows(3)
	if r.HandleKey(uitest.Key("z")) || r.Paused() {
		t.Fatal("paused a pane with nothing to freeze")
	}
	first := snap(3*time.Second, 1)
	r.SetSnapshot(first)
	r.press("z")
	if !r.Paused() || !strings.Contains(r.FrameTitle(), "3 Rows · src · paused 3s") {
		t.Fatalf("after z: paused %v title %q", r.Paused(), r.FrameTitle())
	}
	r.SetSnapshot(snap(time.Second, 2))
	r.SetSnapshot(snap(0, 3))
	if s, _ := r.Feeds.Current(); s.Data != first.Data || r.taken != 1 {
		t.Fatalf("paused rows changed: %d snapshots taken", r.taken)
	}
	if h, ok := r.SummaryHead(); !ok || !strings.HasSuffix(h, "src · paused 3s") {
		t.Fatalf("summary %q", h)
	}
	late := snap(30*time.Second, 4) // the live feed stopped 30 s ago
	r.SetSnapshot(late)
	if got := r.FrameTitle(); got != "3 Rows · src 30s · paused 3s" {
		t.Fatalf("late live feed while paused: title %q", got)
	}
	r.press("z")
	if s, _ := r.Feeds.Current(); r.Paused() || s.Data != late.Data || r.taken != 2 {
		t.Fatalf("after resume: paused %v, %d snapshots taken", r.Paused(), r.taken)
	}
	if strings.Contains(r.FrameTitle(), "paused") {
		t.Fatalf("resumed title %q", r.FrameTitle())
	}
}
