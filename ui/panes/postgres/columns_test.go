package postgres

import "testing"

// TestLayoutColumns: every column from 120 cells, then client, wait, app,
// user and blocked-by go in that order, and the query takes the rest.
func TestLayoutColumns(t *testing.T) {
	has := func(cols []column, id col) bool {
		for _, c := range cols {
			if c.id == id {
				return true
			}
		}
		return false
	}
	for w := 120; w <= 200; w += 5 {
		cols := layout(w, nil)
		if len(cols) != 10 {
			t.Fatalf("width %d: %d columns, want all 10", w, len(cols))
		}
		sum := 0
		for _, c := range cols {
			sum += c.w + 1
		}
		if sum-1 != w {
			t.Errorf("width %d: columns sum to %d", w, sum-1)
		}
	}
	order := []col{colClient, colWait, colApp, colUser, colBlk}
	dropped := 0
	for w := 119; w >= 30; w-- {
		cols := layout(w, nil)
		n := 0
		for n < len(order) && !has(cols, order[n]) {
			n++
		}
		for _, id := range order[n:] {
			if !has(cols, id) {
				t.Fatalf("width %d: %v dropped before %v", w, id, order[n])
			}
		}
		if n < dropped {
			t.Fatalf("width %d: a column came back", w)
		}
		dropped = n
		if q := cols[len(cols)-1]; q.id != colQuery || (n < len(order) && q.w < minQuery) {
			t.Fatalf("width %d: query %+v", w, q)
		}
	}
	if dropped != len(order) {
		t.Errorf("at 30 cells only %d columns dropped", dropped)
	}
}

func TestLayoutWidensNames(t *testing.T) {
	want := map[col]int{colApp: 25, colUser: 17}
	width := func(cols []column, id col) int {
		for _, c := range cols {
			if c.id == id {
				return c.w
			}
		}
		return -1
	}
	// Fixed columns take 99 cells. At 128 there is no room for a longer
	// app name unless the client column goes, so it goes.
	mid := layout(128, want)
	if width(mid, colClient) != -1 || width(mid, colApp) != colW[colApp]+5 || width(mid, colQuery) != roomyQuery {
		t.Errorf("128 cols: client %d app %d query %d", width(mid, colClient), width(mid, colApp), width(mid, colQuery))
	}
	// Wide: every name whole, client kept, the rest to the query.
	wide := layout(200, want)
	if width(wide, colApp) != 25 || width(wide, colUser) != 17 || width(wide, colClient) != colW[colClient] ||
		width(wide, colQuery) != 200-99-12-6 {
		t.Errorf("200 cols: app %d user %d query %d", width(wide, colApp), width(wide, colUser), width(wide, colQuery))
	}
	// Names that fit the fixed widths change nothing.
	short := layout(128, map[col]int{colApp: 8, colUser: 5})
	if width(short, colClient) != colW[colClient] || width(short, colApp) != colW[colApp] {
		t.Errorf("short names: %+v", short)
	}
}
