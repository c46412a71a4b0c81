package alerts

import "flightdeck/ui/kit"

// PlaceExtra tells a follower which list the leader shows: "silences" or
// "" for the alerts.
func (p *Pane) PlaceExtra() string {
	if p.silences {
		return "silences"
	}
	return ""
}

// SetPlaceExtra shows the list the leader shows; kit.List has already put
// the cursor where the leader's is, in that list.
func (p *Pane) SetPlaceExtra(extra string) {
	if want := extra == "silences"; want != p.silences {
		p.silences = want
		p.other = kit.Cursor{} // the list now hidden starts at its top
	}
	p.Rebuild()
}
