package kit

import (
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
)

// Prompt is a pane's "/" filter prompt: typing edits the filter live,
// submit keeps it, close (or the list's back key) clears it. Every pane
// filters the same way.
type Prompt struct {
	editing bool
	edit    LineEdit
}

// Open starts editing from the filter in force.
func (p *Prompt) Open(current string) { p.editing, p.edit.Value = true, current }

// Editing reports whether the prompt has the keyboard.
func (p *Prompt) Editing() bool { return p.editing }

// Key applies one key while the prompt is open and returns the filter in
// force afterwards.
func (p *Prompt) Key(msg tea.KeyPressMsg, k keymap.KeyMap) string {
	switch {
	case key.Matches(msg, k.Dialog.Close), key.Matches(msg, k.List.Back):
		p.editing, p.edit.Value = false, ""
	case key.Matches(msg, k.Dialog.Submit):
		p.editing = false
	default:
		p.edit.Handle(msg)
	}
	return p.edit.Value
}

// View is the prompt line being typed: "/ text_".
func (p *Prompt) View() string { return "/ " + p.edit.View() }

// LineEdit is a minimal single-line editor. It is deliberately not
// bubbles/textinput: no blinking cursor means no timer messages, so dialogs
// stay deterministic for tests and cheap to redraw. Its editing keys
// (backspace, ctrl+w, ctrl+u) are a text field's own, as in a shell; every
// key that moves between fields, submits or closes comes from the keymap
// and is checked by the dialog before the editor sees the key.
type LineEdit struct {
	Value string
}

// Handle applies an editing key; it reports whether the key was consumed.
func (e *LineEdit) Handle(msg tea.KeyPressMsg) bool {
	switch msg.String() {
	case "backspace", "ctrl+h":
		if e.Value != "" {
			_, n := utf8.DecodeLastRuneInString(e.Value)
			e.Value = e.Value[:len(e.Value)-n]
		}
		return true
	case "ctrl+u":
		e.Value = ""
		return true
	case "ctrl+w":
		v := []rune(e.Value)
		i := len(v)
		for i > 0 && v[i-1] == ' ' {
			i--
		}
		for i > 0 && v[i-1] != ' ' {
			i--
		}
		e.Value = string(v[:i])
		return true
	}
	if Types(msg) {
		for _, r := range msg.Text {
			if r < 0x20 || r == 0x7f {
				return true
			}
		}
		e.Value += msg.Text
		return true
	}
	return false
}

// View is the value with the cursor drawn after it.
func (e LineEdit) View() string { return e.Value + "_" }
