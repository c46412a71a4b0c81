package ui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ui/kit"
)

// menuDialog lists the actions of the focused pane's selection. Choosing
// an entry opens its form in the menu's place, or sends its RequestMsg.
type menuDialog struct {
	env     *kit.Env
	title   string
	entries []entry
	cursor  int
	opened  time.Time
}

func (d *menuDialog) update(msg tea.KeyPressMsg) (dialog, tea.Cmd) {
	k := d.env.Keys
	switch {
	case key.Matches(msg, k.Dialog.Close, k.Global.Actions, k.Global.Quit):
		return nil, nil
	case key.Matches(msg, k.List.Up, k.Dialog.Prev):
		d.cursor = max(0, d.cursor-1)
	case key.Matches(msg, k.List.Down, k.Dialog.Next):
		d.cursor = min(len(d.entries)-1, d.cursor+1)
	case key.Matches(msg, k.Dialog.Submit):
		e := d.entries[d.cursor]
		if guarded(d.env, d.opened) || e.reason != "" {
			return d, nil // a disabled entry's reason is on screen; the menu stays
		}
		if e.Form != nil {
			return newForm(d.env, e), nil
		}
		return nil, send(RequestMsg{Request: e.req})
	}
	return d, nil
}

func (d *menuDialog) content() dialogContent {
	th := d.env.Theme
	k := d.env.Keys
	items := make([]string, len(d.entries))
	for i, e := range d.entries {
		l := e.Label
		st := th.Paints.Base
		if e.reason != "" {
			l += " — " + e.reason
			st = th.Paints.Disabled
		}
		if i == d.cursor {
			st = th.Paints.Selected
		}
		items[i] = st.Render(l)
	}
	hint := kit.KeyName(k.Dialog.Submit) + " choose · " + kit.KeyName(k.Dialog.Close) + " close"
	return dialogContent{title: d.title, sections: []dialogSection{{items: items}}, window: true, focus: d.cursor,
		tail: []string{"", th.Paints.Muted.Render(hint)}}
}
