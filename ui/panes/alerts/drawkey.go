package alerts

import (
	"strings"

	"flightdeck/ui/kit"
)

// DrawKey is what the block depends on besides the List's state: which
// list is shown and the rollouts the detail's correlation names. (The
// hidden list's cursor is not drawn.)
func (p *Pane) DrawKey(b *strings.Builder) bool {
	kit.WriteFlags(b, p.silences)
	p.rollouts.DrawKey(b)
	return true
}
