// Package dialogs holds the action flow's two dialogs: the form that asks
// for an action's parameters and the confirmation that shows a plan and
// asks for its phrase. The ui root opens them; they answer with the flow's
// typed messages (kit.RequestMsg, kit.ConfirmedMsg, kit.CancelledMsg).
package dialogs

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/ops"
	"flightdeck/ui/kit"
)

// Confirm shows a plan and asks for its confirmation: y/N with No
// focused for low risk, the typed phrase for high risk. It answers with a
// ConfirmedMsg (the plan and what was typed) or a CancelledMsg. For
// kit.KeyGuard after it opens it ignores every key that confirms or types
// (a burst meant for the pane must not land in the phrase); the keys that
// cancel work at once.
type Confirm struct {
	env  *kit.Env
	plan ops.Plan
	// environment is the session's, shown when the plan names none.
	environment string
	opened      time.Time
	yes         bool // Yes focused; No is focused by default
	edit        kit.LineEdit
	err         string
	origin      kit.Origin // the RequestMsg's, carried into the answer
}

// Update confirms, cancels, switches the focused button or edits the
// phrase.
func (d *Confirm) Update(msg tea.KeyPressMsg) (kit.Dialog, tea.Cmd) {
	k := d.env.Keys
	p := d.plan
	confirm := func(typed string) (kit.Dialog, tea.Cmd) {
		return nil, kit.Send(kit.ConfirmedMsg{Plan: p, Typed: typed, Origin: d.origin})
	}
	cancel := func() (kit.Dialog, tea.Cmd) { return nil, kit.Send(kit.CancelledMsg{What: p.Title, Origin: d.origin}) }
	if key.Matches(msg, k.Dialog.Close) || (p.Risk == ops.Low && key.Matches(msg, k.Dialog.No)) {
		return cancel()
	}
	if kit.Guarded(d.env, d.opened) {
		return d, nil
	}
	if p.Risk == ops.Low {
		switch {
		case key.Matches(msg, k.Dialog.Yes):
			return confirm(p.Phrase)
		case key.Matches(msg, k.Dialog.No):
			return cancel()
		case key.Matches(msg, k.Dialog.Next, k.Dialog.Prev):
			d.yes = !d.yes
		case key.Matches(msg, k.Dialog.Submit):
			if d.yes {
				return confirm(p.Phrase)
			}
			return cancel()
		}
		return d, nil
	}
	if key.Matches(msg, k.Dialog.Submit) {
		if d.edit.Value != p.Phrase {
			d.err = fmt.Sprintf("%q does not match; type %s exactly", d.edit.Value, p.Phrase)
			return d, nil
		}
		return confirm(d.edit.Value)
	}
	d.edit.Handle(msg)
	d.err = ""
	return d, nil
}

// ShortHelp is the status bar's hints while the dialog is open.
func (d *Confirm) ShortHelp() []key.Binding {
	k := d.env.Keys
	if d.plan.Risk == ops.Low {
		return []key.Binding{kit.Hint(k.Dialog.Yes, "yes"), kit.Hint(k.Dialog.No, "no"), kit.Hint(k.Dialog.Next, "switch"),
			kit.Hint(k.Dialog.Submit, "choose"), kit.Hint(k.Dialog.Close, "cancel")}
	}
	return []key.Binding{kit.Hint(k.Dialog.Submit, "submit the phrase"), kit.Hint(k.Dialog.Close, "cancel")}
}

// Content is the plan: title, risk, targets, preview, dry run, then what
// must be typed or chosen.
func (d *Confirm) Content() kit.DialogContent {
	th := d.env.Theme
	k := d.env.Keys
	p := d.plan
	risk := th.Paints.OK.Render("risk: low")
	if p.Risk == ops.High {
		risk = th.Paints.Crit.Render("risk: HIGH")
	}
	env := p.Environment
	if env == "" {
		env = d.environment
	}
	dc := kit.DialogContent{Title: "Confirm", Head: []string{th.Paints.Bold.Render(p.Title), risk + "  environment: " + env + "  source: " + p.Source}}
	if len(p.Targets) > 0 {
		items := make([]string, len(p.Targets))
		for i, t := range p.Targets {
			line := t.ID
			if t.Detail != "" {
				line = t.Detail
			}
			items[i] = "  " + line
		}
		dc.Sections = append(dc.Sections, kit.DialogSection{Label: th.Paints.Muted.Render(fmt.Sprintf("targets (%d):", len(p.Targets))), Items: items, Max: 8})
	}
	indent := func(ls []string) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = "  " + l
		}
		return out
	}
	if len(p.Preview) > 0 {
		dc.Sections = append(dc.Sections, kit.DialogSection{Label: th.Paints.Muted.Render("preview:"), Items: indent(p.Preview)})
	}
	if len(p.DryRun) > 0 {
		dc.Sections = append(dc.Sections, kit.DialogSection{Label: th.Paints.Muted.Render("dry run:"), Items: indent(p.DryRun)})
	}
	if left := d.env.Policy.MaxPlanAge - d.env.Exact().Sub(p.CreatedAt); left > 0 {
		dc.Tail = append(dc.Tail, th.Paints.Muted.Render(fmt.Sprintf("plan valid for %ds", int(left.Round(time.Second)/time.Second))))
	} else {
		dc.Tail = append(dc.Tail, th.Paints.Error.Render("plan expired: "+kit.KeyName(k.Dialog.Close)+" and plan again"))
	}
	dc.Tail = append(dc.Tail, "")
	if p.Risk == ops.Low {
		no, yes := th.Paints.ButtonFocused.Render("[ No ]"), th.Paints.Button.Render("[ Yes ]")
		if d.yes {
			no, yes = th.Paints.Button.Render("[ No ]"), th.Paints.ButtonFocused.Render("[ Yes ]")
		}
		hint := kit.KeyName(k.Dialog.Yes) + " yes · " + kit.KeyName(k.Dialog.No) + "/" + kit.KeyName(k.Dialog.Close) + " no · " +
			kit.KeyName(k.Dialog.Next) + " switch · " + kit.KeyName(k.Dialog.Submit) + " choose"
		// (y/N): the capital is the default, as shells write it.
		ask := "Proceed? (" + kit.KeyName(k.Dialog.Yes) + "/" + strings.ToUpper(kit.KeyName(k.Dialog.No)) + ")  "
		dc.Tail = append(dc.Tail, ask+no+"  "+yes, th.Paints.Muted.Render(hint))
	} else {
		dc.Tail = append(dc.Tail, "type "+th.Paints.Bold.Render(p.Phrase)+" to confirm, "+kit.KeyName(k.Dialog.Submit)+" submits, "+kit.KeyName(k.Dialog.Close)+" cancels:")
		dc.Tail = append(dc.Tail, th.Paints.Accent.Render("> "+d.edit.View()))
	}
	if d.err != "" {
		dc.Tail = append(dc.Tail, th.Paints.Error.Render(d.err))
	}
	return dc
}

// Preview is the plan as the dialog shows it, for an operator watching
// this session (crew): title, risk, targets, preview and dry run; not the
// phrase being typed.
func (d *Confirm) Preview() []string {
	dc := d.Content()
	var out []string
	for _, l := range dc.Head {
		out = append(out, ansi.Strip(l))
	}
	for _, s := range dc.Sections {
		if s.Label != "" {
			out = append(out, ansi.Strip(s.Label))
		}
		for _, it := range s.Items {
			out = append(out, ansi.Strip(it))
		}
	}
	return out
}

// NewConfirm opens the confirmation of plan; environment is the session's,
// shown when the plan names none; origin is the request's, carried into
// the answer.
func NewConfirm(env *kit.Env, plan ops.Plan, environment string, origin kit.Origin) *Confirm {
	return &Confirm{env: env, plan: plan, environment: environment, opened: env.Exact(), origin: origin}
}

// Plan is the plan being confirmed.
func (d *Confirm) Plan() ops.Plan { return d.plan }

// Typed is what has been typed of the phrase so far.
func (d *Confirm) Typed() string { return d.edit.Value }

// YesFocused says whether Yes has the focus of a low-risk confirmation
// (No has it when it opens).
func (d *Confirm) YesFocused() bool { return d.yes }

// Err is the confirmation's current complaint ("" when none).
func (d *Confirm) Err() string { return d.err }
