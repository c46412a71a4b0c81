package rollouts

import (
	"strings"

	"flightdeck/ui/kit"
)

// DrawKey is what the block depends on besides the List's state: the
// cursor in the revision history and the undo targets chosen there.
func (p *Pane) DrawKey(b *strings.Builder) bool {
	kit.WriteInts(b, p.hist.Pos, p.hist.Offset)
	kit.WriteNumbered(b, p.undoTo)
	return true
}
