package ui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// shownView is the view on screen, nil when the panes are.
func (m Model) shownView() View {
	if !m.viewOn || len(m.views) == 0 {
		return nil
	}
	return m.views[len(m.views)-1]
}

// pushView shows v on top; a kept view with v's ID comes back instead, with
// its state.
func (m Model) pushView(v View) Model {
	if v == nil {
		return m
	}
	views := slices.Clone(m.views)
	if i := slices.IndexFunc(views, func(x View) bool { return x.ID() == v.ID() }); i >= 0 {
		v = views[i]
		views = slices.Delete(views, i, i+1)
	} else {
		// A new view starts from the data everyone else already has.
		for _, name := range m.health.order {
			v.SetSnapshot(m.health.snaps[name])
		}
	}
	m.views, m.viewOn = append(views, v), true
	m.returnTo = ""
	return m
}

// popView returns from the shown view to the panes; the view is kept.
func (m Model) popView() Model {
	m.viewOn = false
	return m
}

// closeView forgets the view with id.
func (m Model) closeView(id string) Model {
	m.views = slices.DeleteFunc(slices.Clone(m.views), func(v View) bool { return v.ID() == id })
	if m.returnTo == id {
		m.returnTo = ""
	}
	if len(m.views) == 0 {
		m.viewOn = false
	}
	return m
}

// viewKey handles a key while a view is shown: quit, help and the focus
// keys work as over the panes, back or close returns to the panes (the
// view is kept), and the rest is the view's.
func (m Model) viewKey(v View, msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.env.Keys
	if !v.CapturesKeys() {
		if mm, cmd, ok := m.globalKey(msg); ok {
			return mm, cmd
		}
		if key.Matches(msg, k.List.Back, k.Dialog.Close) {
			return m.popView(), nil
		}
		if !bound(msg, v.FullHelp()) {
			m = m.unbound(msg)
		}
	}
	return m, v.Update(msg)
}

// toViews hands msg to every kept view and collects their Cmds.
func (m Model) toViews(msg tea.Msg) []tea.Cmd {
	var cmds []tea.Cmd
	for _, v := range m.views {
		if cmd := v.Update(msg); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}
