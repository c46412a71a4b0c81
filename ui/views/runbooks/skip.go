package runbooks

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ui/kit"
)

// SkipDialog asks why a step is skipped and answers with a skipMsg for
// the run view that asked. A reason is required: the journal keeps it.
type SkipDialog struct {
	env    *kit.Env
	step   stepOrigin
	title  string
	edit   kit.LineEdit
	err    string
	opened time.Time
}

// skipMsg is the reason typed to skip a step.
type skipMsg struct {
	step   stepOrigin
	reason string
}

// Problem is what is wrong with the reason typed, "" when nothing is.
func (d *SkipDialog) Problem() string { return d.err }

// Update takes the reason; submit skips once one is typed.
func (d *SkipDialog) Update(msg tea.KeyPressMsg) (kit.Dialog, tea.Cmd) {
	k := d.env.Keys
	switch {
	case key.Matches(msg, k.Dialog.Close):
		return nil, nil
	case key.Matches(msg, k.Dialog.Submit):
		if kit.Guarded(d.env, d.opened) {
			return d, nil
		}
		reason := strings.TrimSpace(d.edit.Value)
		if reason == "" {
			d.err = "say why: the journal keeps the reason"
			return d, nil
		}
		return nil, kit.Send(skipMsg{step: d.step, reason: reason})
	}
	if kit.Guarded(d.env, d.opened) {
		return d, nil // typed before the dialog was seen
	}
	d.edit.Handle(msg)
	d.err = ""
	return d, nil
}

// ShortHelp is the status bar's hints while the dialog is open.
func (d *SkipDialog) ShortHelp() []key.Binding {
	k := d.env.Keys
	return []key.Binding{kit.Hint(k.Dialog.Submit, "skip the step"), kit.Hint(k.Dialog.Close, "cancel")}
}

// Content is the step, the reason being typed and the keys.
func (d *SkipDialog) Content() kit.DialogContent {
	th := d.env.Theme
	k := d.env.Keys
	tail := []string{th.Paints.Bold.Render(d.title), "", th.Paints.Accent.Render("> reason: ") + d.edit.View()}
	if d.err != "" {
		tail = append(tail, th.Paints.Error.Render(d.err))
	}
	tail = append(tail, "", th.Paints.Muted.Render(kit.KeyName(k.Dialog.Submit)+" skips · "+kit.KeyName(k.Dialog.Close)+" cancels"))
	return kit.DialogContent{Title: "Skip step", Tail: tail}
}
