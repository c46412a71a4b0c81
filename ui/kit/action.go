package kit

import (
	"charm.land/bubbles/v2/key"

	"flightdeck/ops"
)

// Action is one entry of the action menu: an action the pane's selection
// offers, whether or not it is allowed now. The root asks the policy and
// the read-only mode for the rest of the reason, so a pane only says what
// it alone knows.
type Action struct {
	Kind ops.Kind
	// Label is the menu line: "Terminate backend (pid 4711)".
	Label string
	// Key is the action's direct key (the keymap's binding); a zero
	// binding means the action is only in the menu.
	Key key.Binding
	// Request builds the request from the selection. It runs only when the
	// entry is shown or chosen, so offering a bulk action over thousands of
	// rows costs nothing per key press.
	Request func() ops.Request
	// Form, when set, asks for parameters before planning: it turns the
	// built request into the form the operator fills in.
	Form func(ops.Request) Form
	// Disabled is why the selection cannot take the action at all ("select
	// a silence"); it is the whole reason shown.
	Disabled string
	// Denied is the source's own refusal for this kind (RBAC, a missing
	// grant), "" when the source allows it.
	Denied string
}

// Form is a dialog of text fields that turns into a request. The root
// checks the request against the full policy before planning, so a bad
// value is fixed in the form instead of after a round trip.
type Form struct {
	// Intro is drawn between the action's label and the fields: what is
	// being changed and the limits that apply (already styled).
	Intro  []string
	Fields []Field
	// Focus is the field the cursor starts in.
	Focus int
	// Submit turns the field values, in order, into the request to plan,
	// or says which value is wrong.
	Submit func(values []string) (ops.Request, error)
}

// Field is one labelled text field with its initial value.
type Field struct {
	Label, Value string
}

// KeyName is how a binding's first key is written in a hint ("enter",
// "v"): hints name the key the keymap really binds, remapped or not.
func KeyName(b key.Binding) string {
	if ks := b.Keys(); len(ks) > 0 {
		return ks[0]
	}
	return ""
}
