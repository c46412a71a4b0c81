package postgres

import (
	"cmp"
	"slices"
	"strings"

	"flightdeck/ui/kit"
)

// DrawKey is what the block depends on besides the List's state: the
// view shown and each view's cursor, the orders, whether system backends
// show, and of the shown source the backend followed and the tags. It
// cannot say when the optional views' rows are older than the shown
// reading (they are rebuilt when next shown).
func (p *Pane) DrawKey(b *strings.Builder) bool {
	kit.WriteFlags(b, p.showSys)
	kit.WriteInts(b, p.viewIdx, p.sortKey, p.stmtSort, len(p.cursors))
	for _, c := range p.cursors {
		kit.WriteInts(b, c.Pos, c.Offset)
	}
	v := p.view()
	if v == nil {
		return true
	}
	if v.act != nil && p.viewIdx != 0 && v.rows.from != v.act.Views {
		return false
	}
	kit.WriteFlags(b, v.hasSel)
	kit.WriteInts(b, int(v.sel.pid), int(v.sel.start), len(v.tags))
	tags := make([]bkey, 0, len(v.tags))
	for t := range v.tags {
		tags = append(tags, t)
	}
	slices.SortFunc(tags, func(x, y bkey) int { return cmp.Or(cmp.Compare(x.pid, y.pid), cmp.Compare(x.start, y.start)) })
	for _, t := range tags {
		kit.WriteInts(b, int(t.pid), int(t.start))
	}
	return true
}
