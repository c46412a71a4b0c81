package postgres

import (
	"fmt"
	"strings"

	"flightdeck/sources"

	"flightdeck/ui/kit"
)

// PlaceExtra is what a follower needs beyond the List's place: the sort,
// whether non-client backends are shown, and the selected backend by its
// identity (pid and start), since the cursor follows that backend through
// refreshes rather than staying on a row number; then, after "|", the view
// shown and the statements' order.
func (p *Pane) PlaceExtra() string {
	s := fmt.Sprintf("%d %t", p.sortKey, p.showSys)
	if v := p.view(); v != nil && v.hasSel {
		s += fmt.Sprintf(" %d %d", v.sel.pid, v.sel.start)
	}
	return s + fmt.Sprintf("|%d %d", p.viewIdx, p.stmtSort)
}

// SetPlaceExtra takes a leader's PlaceExtra, after kit.List set the feed,
// the filter and the cursor, and rebuilds the rows with the same order and
// the same backend selected. Text it cannot read changes nothing.
func (p *Pane) SetPlaceExtra(extra string) {
	extra, views, _ := strings.Cut(extra, "|")
	var vi, ss int
	if n, _ := fmt.Sscanf(views, "%d %d", &vi, &ss); n == 2 && vi >= 0 && vi < len(sources.PGViewOrder) &&
		ss >= 0 && ss < len(stmtSorts) {
		p.stmtSort = ss
		if vi != p.viewIdx {
			cur := p.Cursor
			p.switchView(vi)
			p.Cursor = cur
		}
	}
	var (
		sortKey int
		sys     bool
		sel     bkey
	)
	n, _ := fmt.Sscanf(extra, "%d %t %d %d", &sortKey, &sys, &sel.pid, &sel.start)
	if n < 2 || sortKey < 0 || sortKey >= len(SortKeys) {
		p.Rebuild()
		return
	}
	cur := p.Cursor
	p.parse() // a new filter resets the cursor; the leader's comes back below
	p.Cursor = cur
	p.sortKey, p.showSys = sortKey, sys
	if v := p.view(); v != nil {
		v.sel, v.hasSel = sel, n == 4
		if n != 4 {
			p.Cursor = kit.Cursor{}
		}
	}
	p.Rebuild()
}
