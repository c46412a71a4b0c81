package rollouts

import (
	"slices"
	"strings"

	"flightdeck/ui/kit"
)

// DrawKey is what the block depends on besides the List's state: the
// cursor in the revision history and the undo targets chosen there.
func (p *Pane) DrawKey(b *strings.Builder) bool {
	kit.WriteInts(b, p.hist.Pos, p.hist.Offset, len(p.undoTo))
	names := make([]string, 0, len(p.undoTo))
	for n := range p.undoTo {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
		kit.WriteInts(b, int(p.undoTo[n]))
	}
	return true
}
