package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ui/kit"
)

// onKey routes a key: a quit key that types nothing quits, then the
// features that watch every key, the open dialog, the shown view, the
// global keys, the pane's actions, and last the focused pane.
func (m Model) onKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.env.Keys
	// A quit key that types nothing (ctrl+c) quits from anywhere.
	if key.Matches(msg, k.Global.Quit) && !kit.Types(msg) {
		return m.quit()
	}
	for _, f := range m.features {
		if i, ok := f.(kit.Interceptor); ok {
			if cmd, ok := i.Intercept(screen{&m}, msg); ok {
				return m, cmd
			}
		}
	}
	if len(m.dialogs) > 0 {
		return m.dialogKey(msg)
	}
	if m.planning && !m.dropPlan && key.Matches(msg, k.Dialog.Close) {
		// The confirm dialog is not open yet: cancelling must work now
		// all the same, not land in the pane and leave the dialog to
		// open under whatever is typed next.
		m.dropPlan = true
		m.pending = "cancelling…"
		return m, nil
	}
	if v := m.shownView(); v != nil {
		return m.viewKey(v, msg)
	}
	p := m.panes[m.focus]
	if !p.CapturesKeys() {
		if mm, cmd, ok := m.globalKey(msg); ok {
			return mm, cmd
		}
		switch {
		case key.Matches(msg, k.Global.NextPane):
			return m.setFocus((m.focus + 1) % len(m.panes)), nil
		case key.Matches(msg, k.Global.PrevPane):
			return m.setFocus((m.focus + len(m.panes) - 1) % len(m.panes)), nil
		case key.Matches(msg, k.Global.Actions):
			return m.openMenu(), nil
		}
		for _, a := range p.Actions() {
			if len(a.Key.Keys()) > 0 && key.Matches(msg, a.Key) {
				return m.choose(a)
			}
		}
		if !bound(msg, p.FullHelp()) {
			m = m.unbound(msg)
		}
	}
	return m, p.HandleKey(msg)
}

// bound reports whether msg is one of the keys in groups.
func bound(msg tea.KeyPressMsg, groups [][]key.Binding) bool {
	for _, g := range groups {
		if key.Matches(msg, g...) {
			return true
		}
	}
	return false
}

// unbound answers a key that does nothing where it was pressed (K over
// the SLOs, f outside serve, :), always the same way: a short line that
// goes by itself, not an error. The key still reaches the pane or view,
// which may know it without listing it.
func (m Model) unbound(msg tea.KeyPressMsg) Model {
	m.setStatusFor(msg.String()+": not a key here · "+kit.KeyName(m.env.Keys.Global.Help)+" lists the keys", false, statusKeyTTL)
	return m
}

// globalKey handles the keys that work over panes and views alike: quit,
// help, the features' keys and the focus keys (which also leave a view).
func (m Model) globalKey(msg tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	k := m.env.Keys
	switch {
	case key.Matches(msg, k.Global.Quit):
		mm, cmd := m.quit()
		return mm, cmd, true
	case key.Matches(msg, k.Global.Help):
		return m.pushDialog(m.newHelp()), nil, true
	case key.Matches(msg, k.Global.Return) && m.shownView() == nil && len(m.views) > 0:
		return m.returnToView(), nil, true
	}
	for _, f := range m.features {
		if cmd, ok := f.Key(screen{&m}, msg); ok {
			return m, cmd, true
		}
	}
	for i, fk := range m.keyOf {
		if fk < len(k.Global.Focus) && key.Matches(msg, k.Global.Focus[fk]) {
			m.viewOn = false
			return m.setFocus(i), nil, true
		}
	}
	return m, nil, false
}

func (m Model) quit() (Model, tea.Cmd) {
	m.quitting = true
	m.cancel()
	return m, tea.Quit
}

func (m Model) setFocus(i int) Model {
	m.focus = i
	return m
}

// showPane focuses the first pane owning the kind and filters it.
func (m Model) showPane(msg ShowPaneMsg) Model {
	owners := m.owners[msg.Kind]
	if len(owners) == 0 {
		m.setStatus("no pane shows "+string(msg.Kind), true)
		return m
	}
	if v := m.shownView(); v != nil {
		m.returnTo, m.returnPane = v.ID(), owners[0]
	}
	m.viewOn = false
	m = m.setFocus(owners[0])
	if msg.View != "" {
		if vs, ok := m.panes[owners[0]].(kit.ViewShower); !ok || !vs.ShowView(msg.View) {
			m.setStatus(fmt.Sprintf("the %s pane has no %s view", m.panes[owners[0]].Title(), msg.View), true)
		}
	}
	if f, ok := m.panes[owners[0]].(Filterable); ok {
		f.SetFilter(msg.Filter)
	}
	return m
}

// returnView is the view the return key goes back to: the one a view
// step left, else the last one shown; nil when no view is kept.
func (m Model) returnView() View {
	for _, v := range m.views {
		if v.ID() == m.returnTo {
			return v
		}
	}
	if n := len(m.views); n > 0 {
		return m.views[n-1]
	}
	return nil
}

// returnToView shows the return key's view again, with its state.
func (m Model) returnToView() Model {
	return m.pushView(m.returnView())
}
