package ui

import (
	tea "charm.land/bubbletea/v2"

	"slices"

	"flightdeck/ui/kit"
)

// pushDialog opens d over whatever is open.
func (m Model) pushDialog(d kit.Dialog) Model {
	m.dialogs = append(slices.Clip(m.dialogs), d)
	return m
}

// popDialog closes the top dialog.
func (m Model) popDialog() Model {
	if n := len(m.dialogs); n > 0 {
		m.dialogs = slices.Clip(m.dialogs[:n-1])
	}
	return m
}

// topDialog is the dialog that has the keyboard, nil when none is open.
func (m Model) topDialog() kit.Dialog {
	if n := len(m.dialogs); n > 0 {
		return m.dialogs[n-1]
	}
	return nil
}

// dialogKey gives a key to the top dialog and puts what it returns in its
// place.
func (m Model) dialogKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	n := len(m.dialogs)
	next, cmd := m.dialogs[n-1].Update(msg)
	ds := slices.Clone(m.dialogs[:n-1])
	if next != nil {
		ds = append(ds, next)
	}
	m.dialogs = ds
	return m, cmd
}

// Dialog sizes: wide enough to read a preview line, never wider than the
// screen.
const (
	dialogMinW = 44
	dialogMaxW = 110
)

// overlayBox renders the top dialog as lines of equal width, sized to the
// content and capped to the whole screen, which it is drawn over.
func (m Model) overlayBox() []string {
	if len(m.dialogs) == 0 {
		return nil
	}
	dc := m.dialogs[len(m.dialogs)-1].Content()
	th := m.env.Theme
	maxW := min(m.w-2, dialogMaxW)
	if maxW < 6 || m.h < 3 {
		return nil
	}
	w := min(maxW, max(dc.Width(), dialogMinW)+2)
	maxH := m.h
	if maxH >= 12 {
		maxH -= 2 // keep the header (environment, mode) and a status line in view
	}
	lines := dc.Lines(maxH-2, w-2, th.Ellipsis)
	box := kit.Frame(th, dc.Title, "", true, w, len(lines)+2, lines)
	// A blank column each side: a border under the box's edge (a pane's,
	// the runbook's, a cut line's "…") read as part of it ("╰╰──╯╯").
	for i, l := range box {
		box[i] = " " + l + " "
	}
	return box
}
