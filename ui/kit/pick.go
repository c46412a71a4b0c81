package kit

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Pick is the one pick-list dialog (the action menu, the operator to
// follow): items on a Cursor moved by the list keys (and the dialog's
// next/previous keys), the submit key choosing the selected one. A
// disabled item shows why and cannot be chosen; the list stays open.
type Pick struct {
	Env   *Env
	Title string
	Items []PickItem
	// Hint is the key hint line under the items.
	Hint string
	// Close are the keys that close the list besides the dialog's close
	// key: the key that opened it, quit.
	Close []key.Binding
	// Opened starts the key guard on choosing (the zero time: none).
	Opened time.Time
	// Choose answers item i: the dialog that takes the list's place (nil
	// closes it) and the Cmd that carries the choice on.
	Choose func(i int) (Dialog, tea.Cmd)

	cursor Cursor
}

// PickItem is one line of a Pick.
type PickItem struct {
	Label string
	// Disabled is why the item cannot be chosen, shown after its label;
	// "" when it can.
	Disabled string
}

// pickPage is how far page up and down move in a pick list.
const pickPage = 10

// Selected is the index of the item under the cursor.
func (p *Pick) Selected() int { return p.cursor.Pos }

// Update moves the cursor, closes, or chooses.
func (p *Pick) Update(msg tea.KeyPressMsg) (Dialog, tea.Cmd) {
	k := p.Env.Keys
	n := len(p.Items)
	switch {
	case key.Matches(msg, k.Dialog.Close) || key.Matches(msg, p.Close...):
		return nil, nil
	case key.Matches(msg, k.Dialog.Prev):
		p.cursor.Pos--
		p.cursor.Clamp(n, pickPage)
	case key.Matches(msg, k.Dialog.Next):
		p.cursor.Pos++
		p.cursor.Clamp(n, pickPage)
	case key.Matches(msg, k.Dialog.Submit):
		if n == 0 || Guarded(p.Env, p.Opened) || p.Items[p.cursor.Pos].Disabled != "" {
			return p, nil // a disabled item's reason is on screen; the list stays
		}
		return p.Choose(p.cursor.Pos)
	default:
		p.cursor.Move(msg, k.List, n, pickPage)
	}
	return p, nil
}

// ShortHelp is the status bar's hints while the list is open.
func (p *Pick) ShortHelp() []key.Binding {
	k := p.Env.Keys
	return []key.Binding{k.List.Up, k.List.Down, Hint(k.Dialog.Submit, "choose"), Hint(k.Dialog.Close, "close")}
}

// Content is the items, the selected one highlighted and kept in view.
func (p *Pick) Content() DialogContent {
	th := p.Env.Theme
	items := make([]string, len(p.Items))
	for i, it := range p.Items {
		l := it.Label
		st := th.Paints.Base
		if it.Disabled != "" {
			l += " — " + it.Disabled
			st = th.Paints.Disabled
		}
		if i == p.cursor.Pos {
			st = th.Paints.Selected
		}
		items[i] = st.Render(l)
	}
	return DialogContent{Title: p.Title, Sections: []DialogSection{{Items: items}}, Window: true, Focus: p.cursor.Pos,
		Tail: []string{"", th.Paints.Muted.Render(p.Hint)}}
}
