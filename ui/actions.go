package ui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/ui/dialogs"
	"flightdeck/ui/kit"
)

// entry is an action as the menu shows it: its request, built once, and
// every reason it is disabled ("" when it is not).
type entry struct {
	kit.Action
	req    ops.Request
	reason string
}

// label is the entry's label, or its action's title when the label names
// an empty target ("Terminate backend ()": nothing selected), which the
// reason then says.
func (e entry) label() string {
	if strings.HasSuffix(e.Label, "()") {
		return e.Kind.Title()
	}
	return e.Label
}

// entry builds a's request and collects why it is disabled.
func (m Model) entry(a kit.Action) entry {
	e := entry{Action: a, req: ops.Request{Action: a.Kind}}
	if a.Request != nil {
		e.req = a.Request()
	}
	e.reason = m.reason(a, e.req)
	return e
}

// reason collects why an entry is disabled: the pane's own reason alone
// when it has one, else every reason (read-only, the source's denial,
// policy), so the operator learns all of them at once.
func (m Model) reason(a kit.Action, req ops.Request) string {
	if a.Disabled != "" {
		return a.Disabled
	}
	var rs []string
	if m.o.Actions.Executor == nil {
		rs = append(rs, "read-only mode")
	}
	if a.Denied != "" {
		rs = append(rs, a.Denied)
	}
	// CheckTarget: whether the action can apply to this selection at all;
	// parameters still to be typed in a form are checked when submitted.
	if err := m.env.Policy.CheckTarget(req); err != nil {
		// "invalid request: pid 7 is idle…" reads as a fault; the reason
		// alone says it. Policy refusals keep their "refused by policy".
		var r *ops.Refusal
		if errors.As(err, &r) && errors.Is(r.Kind, ops.ErrInvalid) && r.Reason != "" {
			rs = append(rs, r.Reason)
		} else {
			rs = append(rs, err.Error())
		}
	}
	return strings.Join(rs, "; ")
}

// choose starts an action from its direct key: the same as choosing it in
// the menu, except that a disabled one says why in the status bar.
func (m Model) choose(a kit.Action) (Model, tea.Cmd) {
	if m.o.Actions.Executor == nil {
		m.setStatus(kit.ReadOnlyRefusal, true)
		return m, nil
	}
	e := m.entry(a)
	if e.reason != "" {
		m.setStatus("refused: "+e.label()+": "+e.reason, true)
		return m, nil
	}
	if e.Form != nil {
		return m.pushDialog(dialogs.NewForm(m.env, e.Action, e.req)), nil
	}
	return m.request(e.req, nil)
}

// openMenu lists the focused pane's actions, disabled ones with the reason.
// Choosing an entry opens its form in the menu's place, or sends its
// RequestMsg.
func (m Model) openMenu() Model {
	var es []entry
	for _, a := range m.panes[m.focus].Actions() {
		es = append(es, m.entry(a))
	}
	if len(es) == 0 {
		m.setStatus("no actions for this pane", false)
		return m
	}
	title := "Actions"
	if m.o.Actions.Executor == nil {
		title += " (read-only)"
	}
	return m.pushDialog(newMenu(m.env, title, es))
}

// menuDialog is the action menu: the one pick list (kit.Pick) over the
// entries. Choosing an entry opens its form in the menu's place, or sends
// its RequestMsg.
type menuDialog struct {
	*kit.Pick
	entries []entry
}

func newMenu(env *kit.Env, title string, es []entry) *menuDialog {
	k := env.Keys
	items := make([]kit.PickItem, len(es))
	for i, e := range es {
		items[i] = kit.PickItem{Label: e.label(), Disabled: e.reason}
	}
	return &menuDialog{entries: es, Pick: &kit.Pick{Env: env, Title: title, Items: items, Opened: env.Exact(),
		Hint:  kit.KeyName(k.Dialog.Submit) + " choose · " + kit.KeyName(k.Dialog.Close) + " close",
		Close: []key.Binding{k.Global.Actions, k.Global.Quit},
		Choose: func(i int) (kit.Dialog, tea.Cmd) {
			if es[i].Form != nil {
				return dialogs.NewForm(env, es[i].Action, es[i].req), nil
			}
			return nil, kit.Send(RequestMsg{Request: es[i].req})
		}}}
}

// Update is the pick list's; the menu stays itself while it is open.
func (d *menuDialog) Update(msg tea.KeyPressMsg) (kit.Dialog, tea.Cmd) {
	next, cmd := d.Pick.Update(msg)
	if next == kit.Dialog(d.Pick) {
		return d, cmd
	}
	return next, cmd
}
