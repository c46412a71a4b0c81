package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
)

// keyGuard is how long a new confirm dialog ignores keys: a burst typed
// for the pane must not confirm a dialog that popped up under it.
const keyGuard = 400 * time.Millisecond

type menuDialog struct {
	entries []actionEntry
	cursor  int
	title   string
}

type formField struct {
	label string
	edit  lineEdit
}

type formDialog struct {
	entry  actionEntry
	fields []formField
	focus  int
	err    string
}

type confirmDialog struct {
	plan     ops.Plan
	openedAt time.Time
	yes      bool // Yes focused; No is focused by default
	edit     lineEdit
	err      string
}

func (m Model) openMenu() (tea.Model, tea.Cmd) {
	es := m.entries()
	title := "Actions"
	if len(es) == 0 {
		m.setStatus("no actions for this pane", false)
		return m, nil
	}
	if m.o.Executor == nil {
		title += " (read-only)"
	}
	m.menu = &menuDialog{entries: es, title: title}
	return m, nil
}

func (m Model) updateMenu(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.c.km
	d := m.menu
	switch {
	case key.Matches(msg, k.Dialog.Close), key.Matches(msg, k.Global.Actions), key.Matches(msg, k.Global.Quit):
		m.menu = nil
	case key.Matches(msg, k.List.Up):
		d.cursor = max0(d.cursor - 1)
	case key.Matches(msg, k.List.Down):
		d.cursor = min(len(d.entries)-1, d.cursor+1)
	case key.Matches(msg, k.Dialog.Submit):
		e := d.entries[d.cursor]
		if e.reason != "" {
			return m, nil // the reason is on screen; the menu stays
		}
		m.menu = nil
		return m.choose(e)
	}
	return m, nil
}

func newForm(e actionEntry, m Model) *formDialog {
	f := &formDialog{entry: e}
	switch e.kind {
	case ops.Scale:
		cur := ""
		if d := e.req.Deployment; d != nil {
			cur = strconv.Itoa(int(d.Replicas))
		}
		f.fields = []formField{{label: "replicas", edit: lineEdit{cur}}, {label: "override scale_max_change (yes/no)", edit: lineEdit{"no"}}}
	case ops.Silence:
		f.fields = []formField{
			{label: "matchers", edit: lineEdit{matchersText(e.req.Params.Matchers)}},
			{label: "duration", edit: lineEdit{"1h"}},
			{label: "comment (required)", edit: lineEdit{}},
		}
		f.focus = 2
	}
	return f
}

// buildRequest turns the form into a request and checks it against policy
// locally, so a bad value is fixed in the form instead of after a round trip.
func (f *formDialog) buildRequest(pol ops.Policy) (ops.Request, error) {
	req := f.entry.req
	switch f.entry.kind {
	case ops.Scale:
		n, err := strconv.Atoi(strings.TrimSpace(f.fields[0].edit.value))
		if err != nil || n < 0 {
			return req, fmt.Errorf("replicas: want a whole number ≥ 0")
		}
		req.Params.Replicas = int32(n)
		ov := strings.ToLower(strings.TrimSpace(f.fields[1].edit.value))
		req.Params.Override = ov == "yes" || ov == "y"
	case ops.Silence:
		ms, err := parseMatchers(f.fields[0].edit.value)
		if err != nil {
			return req, fmt.Errorf("matchers: %v", err)
		}
		d, err := parseDur(strings.TrimSpace(f.fields[1].edit.value))
		if err != nil {
			return req, fmt.Errorf("duration: %v", err)
		}
		req.Params = ops.Params{Matchers: ms, Duration: d, Comment: strings.TrimSpace(f.fields[2].edit.value)}
	}
	if err := pol.Check(req); err != nil {
		return req, err
	}
	return req, nil
}

func (m Model) updateForm(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.c.km
	f := m.form
	switch {
	case key.Matches(msg, k.Dialog.Close):
		m.form = nil
		m.setStatus(f.entry.kind.Title()+": cancelled", false)
	case msg.String() == "tab" || msg.String() == "down":
		f.focus = (f.focus + 1) % len(f.fields)
	case msg.String() == "shift+tab" || msg.String() == "up":
		f.focus = (f.focus + len(f.fields) - 1) % len(f.fields)
	case msg.String() == "enter":
		req, err := f.buildRequest(m.policy)
		if err != nil {
			f.err = err.Error()
			return m, nil
		}
		m.form = nil
		return m.planCmd(req)
	default:
		f.fields[f.focus].edit.handle(msg)
		f.err = ""
	}
	return m, nil
}

func (m Model) updateConfirm(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	d := m.confirm
	if m.c.now.Sub(d.openedAt) < keyGuard {
		return m, nil
	}
	k := m.c.km
	if key.Matches(msg, k.Dialog.Close) {
		m.confirm = nil
		m.setStatus(d.plan.Title+": cancelled", false)
		return m, nil
	}
	if d.plan.Risk == ops.Low {
		switch {
		case key.Matches(msg, k.Dialog.Yes):
			return m.executeCmd(d.plan, d.plan.Phrase)
		case key.Matches(msg, k.Dialog.No):
			m.confirm = nil
			m.setStatus(d.plan.Title+": cancelled", false)
		case key.Matches(msg, k.Dialog.Next), key.Matches(msg, k.Dialog.Prev):
			d.yes = !d.yes
		case key.Matches(msg, k.Dialog.Submit):
			if d.yes {
				return m.executeCmd(d.plan, d.plan.Phrase)
			}
			m.confirm = nil
			m.setStatus(d.plan.Title+": cancelled", false)
		}
		return m, nil
	}
	if msg.String() == "enter" {
		if d.edit.value != d.plan.Phrase {
			d.err = fmt.Sprintf("%q does not match; type %s exactly", d.edit.value, d.plan.Phrase)
			return m, nil
		}
		return m.executeCmd(d.plan, d.edit.value)
	}
	d.edit.handle(msg)
	d.err = ""
	return m, nil
}

// overlayBox renders the open dialog or help as lines of equal width.
func (m Model) overlayBox() []string {
	bodyH := max(3, m.h-3)
	width := min(m.w-2, 84)
	var title string
	var lines []string
	th := m.c.th
	switch {
	case m.confirm != nil:
		title, lines = m.confirmLines(width - 2)
	case m.form != nil:
		title, lines = m.formLines()
	case m.menu != nil:
		title = m.menu.title
		for i, e := range m.menu.entries {
			l := e.label
			st := th.Styles.Base
			if e.reason != "" {
				l += " — " + e.reason
				st = th.Styles.Disabled
			}
			l = fit(l, width-4, th.Ellipsis)
			if i == m.menu.cursor {
				st = th.Styles.Selected
			}
			lines = append(lines, st.Render(l))
		}
		lines = append(lines, "", th.Styles.Muted.Render("enter choose · esc close"))
	case m.help:
		title, lines = m.helpLines()
		width = min(m.w-2, 100)
	default:
		return nil
	}
	h := min(bodyH, len(lines)+2)
	return frame(th, title, "", true, width, h, lines)
}

func (m Model) confirmLines(w int) (string, []string) {
	th := m.c.th
	d := m.confirm
	p := d.plan
	var out []string
	risk := th.Styles.OK.Render("risk: low")
	if p.Risk == ops.High {
		risk = th.Styles.Crit.Render("risk: HIGH")
	}
	env := p.Environment
	if env == "" {
		env = m.o.Environment
	}
	out = append(out, th.Styles.Bold.Render(p.Title), risk+"  environment: "+env+"  source: "+p.Source)
	if len(p.Targets) > 0 {
		out = append(out, th.Styles.Muted.Render(fmt.Sprintf("targets (%d):", len(p.Targets))))
		for i, t := range p.Targets {
			if i == 8 {
				out = append(out, fmt.Sprintf("  … and %d more", len(p.Targets)-8))
				break
			}
			line := t.ID
			if t.Detail != "" {
				line = t.Detail
			}
			out = append(out, "  "+line)
		}
	}
	if len(p.Preview) > 0 {
		out = append(out, th.Styles.Muted.Render("preview:"))
		for _, l := range p.Preview {
			out = append(out, "  "+l)
		}
	}
	if len(p.DryRun) > 0 {
		out = append(out, th.Styles.Muted.Render("dry run:"))
		for _, l := range p.DryRun {
			out = append(out, "  "+l)
		}
	}
	left := m.policy.MaxPlanAge - m.c.now.Sub(p.CreatedAt)
	if left > 0 {
		out = append(out, th.Styles.Muted.Render(fmt.Sprintf("plan valid for %ds", int(left.Round(time.Second)/time.Second))))
	} else {
		out = append(out, th.Styles.Error.Render("plan expired: esc and plan again"))
	}
	out = append(out, "")
	if p.Risk == ops.Low {
		no, yes := th.Styles.ButtonFocused.Render("[ No ]"), th.Styles.Button.Render("[ Yes ]")
		if d.yes {
			no, yes = th.Styles.Button.Render("[ No ]"), th.Styles.ButtonFocused.Render("[ Yes ]")
		}
		out = append(out, "Proceed? (y/N)  "+no+"  "+yes)
	} else {
		out = append(out, "type "+th.Styles.Bold.Render(p.Phrase)+" to confirm, enter submits, esc cancels:")
		out = append(out, th.Styles.Accent.Render("> "+d.edit.view()))
	}
	if d.err != "" {
		out = append(out, th.Styles.Error.Render(d.err))
	}
	for i := range out {
		out[i] = fit(out[i], w, th.Ellipsis)
	}
	return "Confirm", out
}

func (m Model) formLines() (string, []string) {
	th := m.c.th
	f := m.form
	out := []string{th.Styles.Bold.Render(f.entry.label)}
	if d := f.entry.req.Deployment; d != nil && f.entry.kind == ops.Scale {
		lo, hi := scaleBounds(int(d.Replicas), m.policy.ScaleMaxChange)
		out = append(out, th.Styles.Muted.Render(fmt.Sprintf("currently %d replicas; without override %d–%d", d.Replicas, lo, hi)))
	}
	if f.entry.kind == ops.Silence {
		out = append(out, th.Styles.Muted.Render(fmt.Sprintf(`matchers like {alertname="X", severity="critical"}; max %s`, m.policy.SilenceMax)))
	}
	out = append(out, "")
	for i, fl := range f.fields {
		v := fl.edit.value
		if i == f.focus {
			out = append(out, th.Styles.Accent.Render("> "+fl.label+": ")+fl.edit.view())
		} else {
			out = append(out, "  "+th.Styles.Muted.Render(fl.label+": ")+v)
		}
	}
	if f.err != "" {
		out = append(out, "", th.Styles.Error.Render(f.err))
	}
	out = append(out, "", th.Styles.Muted.Render("tab next field · enter plan · esc cancel"))
	return f.entry.kind.Title(), out
}

func scaleBounds(from int, change float64) (int, int) {
	if change <= 0 {
		return 0, from * 100
	}
	lo := int(float64(from)*(1-change) + 0.999999)
	hi := int(float64(from) * (1 + change))
	return lo, hi
}

func (m Model) helpLines() (string, []string) {
	th := m.c.th
	k := m.c.km
	var out []string
	section := func(name string, groups [][]key.Binding) {
		out = append(out, th.Styles.Bold.Render(name))
		for _, g := range groups {
			var parts []string
			for _, b := range g {
				if !b.Enabled() || b.Help().Key == "" {
					continue
				}
				parts = append(parts, th.Styles.HelpKey.Render(b.Help().Key)+" "+th.Styles.HelpDesc.Render(b.Help().Desc))
			}
			out = append(out, "  "+strings.Join(parts, "  "))
		}
	}
	section("global", k.Global.FullHelp())
	names := []string{"SLOs", "Alerts", "Postgres", "Rollouts"}
	section(names[m.focus]+" (focused)", m.focused().FullHelp())
	section("dialogs", k.Dialog.FullHelp())
	if m.focus == focusPostgres {
		out = append(out, th.Styles.Muted.Render("  filter: text user:X app:X db:X state:idle-in-tx wait:Lock >10m blocking blocked"))
	}
	out = append(out, "")
	if m.o.Executor == nil {
		out = append(out, th.Styles.Warn.Render("read-only: actions are disabled"))
	}
	audit := m.o.AuditPath
	if audit == "" {
		audit = "(none)"
	}
	out = append(out, "audit journal: "+audit, th.Styles.Muted.Render("? or esc closes"))
	return "Help", out
}
