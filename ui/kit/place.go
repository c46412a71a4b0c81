package kit

import "flightdeck/together"

// PlaceKeeper is a list pane with state of its own that a Place must
// carry: its sort, or a selection it keeps by identity rather than by
// position. List.Place asks it for Extra; List.SetPlace hands Extra back
// last, after the feed, the filter and the cursor are set, and the pane
// then rebuilds its rows itself.
type PlaceKeeper interface {
	PlaceExtra() string
	SetPlaceExtra(extra string)
}

// Place is where the pane is now: the shown feed, the filter in force,
// the selected row and the first row on screen, the detail view, and the
// pane's own part (Extra). A session watching another copies its
// leader's Place into its own pane, so both show the same rows with the
// same one selected.
func (l *List) Place() together.Place {
	p := together.Place{Feed: l.Feeds.Name(), Filter: l.Filter, Row: l.Cursor.Pos, Top: l.Cursor.Offset,
		Detail: l.Detail, DetailOff: l.DetailOff}
	if k, ok := l.rows.(PlaceKeeper); ok {
		p.Extra = k.PlaceExtra()
	}
	return p
}

// SetPlace puts the pane where p says. A feed the pane has not seen yet is
// left as it is: the next snapshot brings it, and the next SetPlace shows
// it. A filter prompt being typed is closed: the follower watches.
func (l *List) SetPlace(p together.Place) {
	l.Touch()
	l.Prompt = Prompt{}
	l.Feeds.show(p.Feed)
	l.Filter = p.Filter
	l.Cursor = Cursor{Pos: p.Row, Offset: p.Top}
	l.Picked = p.Row > 0 // a leader on its first row may be on the top of its sort order
	l.DetailOff = p.DetailOff
	if k, ok := l.rows.(PlaceKeeper); ok {
		k.SetPlaceExtra(p.Extra)
	} else {
		l.rows.Rebuild()
	}
	l.Cursor.Clamp(l.rows.Len(), l.rows.Visible())
	l.Detail = p.Detail && l.rows.Len() > 0
}

// show makes the feed named name the shown one, when there is one.
func (f *Feeds) show(name string) {
	for i, n := range f.order {
		if n == name {
			f.cur = i
			return
		}
	}
}
