package postgres

import "testing"

// widths lays the table out in w cells for names user and app cells wide
// and returns each column's width (0: not shown) and their sum with gaps.
func widths(w, user, app int) (ws []int, sum int) {
	t := newTable()
	fit(&t, w, user, app, "…")
	first := true
	for i := range columns {
		cw := t.Width(i)
		ws = append(ws, cw)
		if cw == 0 {
			continue
		}
		if !first {
			sum += columns[i].Gap
		}
		first = false
		sum += cw
	}
	return ws, sum
}

// TestLayoutColumns: every column from 120 cells, then client, wait, app,
// user and blocked-by go in that order, and the query takes the rest.
func TestLayoutColumns(t *testing.T) {
	for w := 120; w <= 200; w += 5 {
		ws, sum := widths(w, 0, 0)
		for i, cw := range ws {
			if cw == 0 {
				t.Fatalf("width %d: column %d dropped", w, i)
			}
		}
		if sum != w {
			t.Errorf("width %d: columns sum to %d", w, sum)
		}
	}
	order := []int{colClient, colWait, colApp, colUser, colBlk}
	dropped := 0
	for w := 119; w >= 30; w-- {
		ws, _ := widths(w, 0, 0)
		n := 0
		for n < len(order) && ws[order[n]] == 0 {
			n++
		}
		for _, id := range order[n:] {
			if ws[id] == 0 {
				t.Fatalf("width %d: %v dropped before %v", w, id, order[n])
			}
		}
		if n < dropped {
			t.Fatalf("width %d: a column came back", w)
		}
		dropped = n
		if q := ws[colQuery]; n < len(order) && q < minQuery {
			t.Fatalf("width %d: query %d", w, q)
		}
	}
	if dropped != len(order) {
		t.Errorf("at 30 cells only %d columns dropped", dropped)
	}
}

func TestLayoutWidensNames(t *testing.T) {
	// Fixed columns take 99 cells. At 128 there is no room for a longer
	// app name unless the client column goes, so it goes.
	mid, _ := widths(128, 17, 25)
	if mid[colClient] != 0 || mid[colApp] != columns[colApp].W+5 || mid[colQuery] != roomyQuery {
		t.Errorf("128 cols: client %d app %d query %d", mid[colClient], mid[colApp], mid[colQuery])
	}
	// Wide: every name whole, client kept, the rest to the query.
	wide, _ := widths(200, 17, 25)
	if wide[colApp] != 25 || wide[colUser] != 17 || wide[colClient] != columns[colClient].W || wide[colQuery] != 200-99-12-6 {
		t.Errorf("200 cols: app %d user %d query %d", wide[colApp], wide[colUser], wide[colQuery])
	}
	// Names that fit the fixed widths change nothing.
	short, _ := widths(128, 5, 8)
	if short[colClient] != columns[colClient].W || short[colApp] != columns[colApp].W {
		t.Errorf("short names: %v", short)
	}
}
