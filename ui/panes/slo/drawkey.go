package slo

import "strings"

// DrawKey is what the block depends on besides the List's state: the
// rollouts the detail's correlation names. (The burn start the detail
// shows is the flight recorder's, the same for every session.)
func (p *Pane) DrawKey(b *strings.Builder) bool {
	p.rollouts.DrawKey(b)
	return true
}
