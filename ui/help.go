package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ui/kit"
)

// helpDialog is the help overlay: every key of the session, the focused
// pane's (or shown view's) first, and who and where the record is.
type helpDialog struct {
	env *kit.Env
	dc  kit.DialogContent
}

// Update closes the help on its key, back, close or quit.
func (d *helpDialog) Update(msg tea.KeyPressMsg) (kit.Dialog, tea.Cmd) {
	k := d.env.Keys
	if key.Matches(msg, k.Global.Help, k.List.Back, k.Dialog.Close, k.Global.Quit) {
		return nil, nil
	}
	return d, nil
}

// ShortHelp is the status bar's hints while the help is open.
func (d *helpDialog) ShortHelp() []key.Binding {
	k := d.env.Keys
	keys := append(append([]string(nil), k.Global.Help.Keys()...), k.Dialog.Close.Keys()...)
	return []key.Binding{key.NewBinding(key.WithKeys(keys...), key.WithHelp(kit.KeyName(k.Global.Help)+"/"+kit.KeyName(k.Dialog.Close), "close"))}
}

// Content is the help as written when it opened.
func (d *helpDialog) Content() kit.DialogContent { return d.dc }

// newHelp writes the help for what is on screen now.
func (m Model) newHelp() *helpDialog {
	th := m.env.Theme
	k := m.env.Keys
	var out []string
	section := func(name string, groups [][]key.Binding) {
		out = append(out, th.Paints.Bold.Render(name))
		for _, g := range groups {
			var parts []string
			for _, b := range g {
				if !b.Enabled() || b.Help().Key == "" {
					continue
				}
				parts = append(parts, th.Paints.HelpKey.Render(b.Help().Key)+" "+th.Paints.HelpDesc.Render(b.Help().Desc))
			}
			out = append(out, "  "+strings.Join(parts, "  "))
		}
	}
	// The focus keys are named after the panes they focus, in their order.
	var focus []key.Binding
	for i, fk := range m.keyOf {
		if fk >= len(k.Global.Focus) {
			break
		}
		b := k.Global.Focus[fk]
		focus = append(focus, key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(b.Help().Key, m.panes[i].Title())))
	}
	section("global", append([][]key.Binding{focus}, k.Global.FullHelp()...))
	var notes []string
	if v := m.shownView(); v != nil {
		section(v.Title()+" (shown)", v.FullHelp())
	} else {
		p := m.panes[m.focus]
		section(p.Title()+" (focused)", p.FullHelp())
		if n, ok := p.(HelpNoter); ok {
			notes = n.HelpNotes()
		}
	}
	section("dialogs", k.Dialog.FullHelp())
	for _, n := range notes {
		out = append(out, th.Paints.Muted.Render("  "+n))
	}
	tail := []string{""}
	if m.o.Actions.Executor == nil {
		tail = append(tail, th.Paints.Warn.Render("read-only: actions are disabled"))
	}
	if m.o.Identity.Operator != "" {
		tail = append(tail, "operator: "+m.o.Identity.Operator)
	}
	audit := m.o.Journals.AuditPath
	if audit == "" {
		audit = "(none)"
	}
	hint := kit.KeyName(k.Global.Help) + " or " + kit.KeyName(k.Dialog.Close) + " closes"
	tail = append(tail, "audit journal: "+audit, th.Paints.Muted.Render(hint))
	return &helpDialog{env: m.env, dc: kit.DialogContent{Title: "Help", Sections: []kit.DialogSection{{Items: out}}, Tail: tail}}
}
