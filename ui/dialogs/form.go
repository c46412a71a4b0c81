package dialogs

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/ui/kit"
)

// Form asks for an action's parameters (the form its pane made) and
// sends the request it builds, once the full policy accepts it.
type Form struct {
	env    *kit.Env
	label  string
	kind   ops.Kind
	form   kit.Form
	fields []kit.LineEdit
	focus  int
	err    string
	opened time.Time
}

// NewForm opens the form of action a (its pane's kit.Action) for req.
func NewForm(env *kit.Env, a kit.Action, req ops.Request) *Form {
	f := a.Form(req)
	d := &Form{env: env, label: a.Label, kind: a.Kind, form: f, focus: f.Focus, opened: env.Exact()}
	for _, fl := range f.Fields {
		d.fields = append(d.fields, kit.LineEdit{Value: fl.Value})
	}
	return d
}

// Update moves between fields, edits the focused one, or submits.
func (d *Form) Update(msg tea.KeyPressMsg) (kit.Dialog, tea.Cmd) {
	k := d.env.Keys
	n := len(d.fields)
	switch {
	case key.Matches(msg, k.Dialog.Close):
		return nil, kit.Send(kit.CancelledMsg{What: d.kind.Title()})
	// The arrows move between fields too: the list's up and down keys,
	// when they type nothing.
	case key.Matches(msg, k.Dialog.Next), !kit.Types(msg) && key.Matches(msg, k.List.Down):
		d.focus = (d.focus + 1) % n
	case key.Matches(msg, k.Dialog.Prev), !kit.Types(msg) && key.Matches(msg, k.List.Up):
		d.focus = (d.focus + n - 1) % n
	case key.Matches(msg, k.Dialog.Submit):
		if kit.Guarded(d.env, d.opened) {
			return d, nil
		}
		vs := make([]string, n)
		for i, f := range d.fields {
			vs[i] = f.Value
		}
		req, err := d.form.Submit(vs)
		if err == nil {
			err = d.env.Policy.Check(req) // the whole request now, parameters included
		}
		if err != nil {
			d.err = err.Error()
			return d, nil
		}
		return nil, kit.Send(kit.RequestMsg{Request: req})
	default:
		if kit.Guarded(d.env, d.opened) {
			return d, nil // typed for the pane, not for this form
		}
		d.fields[d.focus].Handle(msg)
		d.err = ""
	}
	return d, nil
}

// ShortHelp is the status bar's hints while the form is open.
func (d *Form) ShortHelp() []key.Binding {
	k := d.env.Keys
	return []key.Binding{kit.Hint(k.Dialog.Next, "next field"), kit.Hint(k.Dialog.Submit, "plan"), kit.Hint(k.Dialog.Close, "cancel")}
}

// Content is the action, its intro and the fields.
func (d *Form) Content() kit.DialogContent {
	th := d.env.Theme
	k := d.env.Keys
	out := append([]string{th.Paints.Bold.Render(d.label)}, d.form.Intro...)
	out = append(out, "")
	for i, fl := range d.form.Fields {
		if i == d.focus {
			out = append(out, th.Paints.Accent.Render("> "+fl.Label+": ")+d.fields[i].View())
		} else {
			out = append(out, "  "+th.Paints.Muted.Render(fl.Label+": ")+d.fields[i].Value)
		}
	}
	if d.err != "" {
		out = append(out, "", th.Paints.Error.Render(d.err))
	}
	hint := kit.KeyName(k.Dialog.Next) + " next field · " + kit.KeyName(k.Dialog.Submit) + " plan · " + kit.KeyName(k.Dialog.Close) + " cancel"
	out = append(out, "", th.Paints.Muted.Render(hint))
	return kit.DialogContent{Title: d.kind.Title(), Tail: out}
}

// Fields are the form's fields as edited so far.
func (d *Form) Fields() []kit.LineEdit { return d.fields }

// Focus is the index of the focused field.
func (d *Form) Focus() int { return d.focus }

// Err is the form's current complaint ("" when none).
func (d *Form) Err() string { return d.err }
