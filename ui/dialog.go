package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
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
			{label: "matchers", edit: lineEdit{ops.FormatMatchers(e.req.Params.Matchers)}},
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
		d, err := sources.ParseDuration(strings.TrimSpace(f.fields[1].edit.value))
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
	if m.c.exact.Sub(d.openedAt) < keyGuard {
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

// dialogSection is a run of dialog lines that may be cut short when the
// screen is too small: a label line and items, the hidden ones counted in
// an "… N more" line.
type dialogSection struct {
	label string
	items []string
	max   int // most items ever shown (0 = no limit)
}

// dialogContent is a dialog as parts that must always be visible (head,
// tail) around sections that give way when the screen is short. The tail
// carries what the operator must act on: the phrase prompt, the input, the
// validity countdown and the key hints.
type dialogContent struct {
	title    string
	head     []string
	sections []dialogSection
	tail     []string
	// window keeps item `focus` of the only section visible (menus) instead
	// of cutting the end.
	window bool
	focus  int
}

// layoutLines fits the content into at most h lines: sections shrink first
// (the longest loses an item at a time), then sections go, then the head;
// the tail is cut last, from its top.
func (dc dialogContent) layoutLines(h int, ell string) []string {
	shown := make([]int, len(dc.sections))
	keep := make([]bool, len(dc.sections))
	for i, s := range dc.sections {
		shown[i] = len(s.items)
		if s.max > 0 && shown[i] > s.max {
			shown[i] = s.max
		}
		keep[i] = true
	}
	secLines := func(i int) int {
		if !keep[i] {
			return 0
		}
		n := shown[i]
		if dc.sections[i].label != "" {
			n++
		}
		if shown[i] < len(dc.sections[i].items) {
			n++
		}
		return n
	}
	total := func() int {
		n := len(dc.head) + len(dc.tail)
		for i := range dc.sections {
			n += secLines(i)
		}
		return n
	}
	for total() > h {
		best := -1
		for i := range dc.sections {
			if keep[i] && shown[i] > 0 && (best < 0 || shown[i] > shown[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		shown[best]--
	}
	for i := len(dc.sections) - 1; i >= 0 && total() > h; i-- {
		keep[i] = false
	}
	var out []string
	head := dc.head
	if over := total() - h; over > 0 {
		head = head[:max0(len(head)-over)]
	}
	out = append(out, head...)
	for i, s := range dc.sections {
		if !keep[i] {
			continue
		}
		if s.label != "" {
			out = append(out, s.label)
		}
		from := 0
		if dc.window && shown[i] < len(s.items) {
			from = min(max0(dc.focus-shown[i]/2), len(s.items)-shown[i])
		}
		out = append(out, s.items[from:from+shown[i]]...)
		if hidden := len(s.items) - shown[i]; hidden > 0 {
			out = append(out, fmt.Sprintf("  %s %d more", ell, hidden))
		}
	}
	tail := dc.tail
	if over := len(out) + len(tail) - h; over > 0 {
		tail = tail[min(over, len(tail)):]
	}
	return append(out, tail...)
}

// width is the widest line of the content, the title included.
func (dc dialogContent) width() int {
	w := ansiWidth(dc.title) + 4
	grow := func(ls []string) {
		for _, l := range ls {
			w = max(w, ansiWidth(l))
		}
	}
	grow(dc.head)
	grow(dc.tail)
	for _, s := range dc.sections {
		w = max(w, ansiWidth(s.label))
		grow(s.items)
	}
	return w
}

// Dialog sizes: wide enough to read a preview line, never wider than the
// screen.
const (
	dialogMinW = 44
	dialogMaxW = 110
)

// overlayBox renders the open dialog or help as lines of equal width, sized
// to the content and capped to the whole screen, which it is drawn over.
func (m Model) overlayBox() []string {
	var dc dialogContent
	th := m.c.th
	switch {
	case m.confirm != nil:
		dc = m.confirmContent()
	case m.form != nil:
		dc = m.formContent()
	case m.menu != nil:
		dc = m.menuContent()
	case m.help:
		dc = m.helpContent()
	default:
		return nil
	}
	maxW := min(m.w-2, dialogMaxW)
	if maxW < 6 || m.h < 3 {
		return nil
	}
	w := min(maxW, max(dc.width(), dialogMinW)+2)
	maxH := m.h
	if maxH >= 12 {
		maxH -= 2 // keep the header (environment, mode) and a status line in view
	}
	lines := dc.layoutLines(maxH-2, th.Ellipsis)
	return frame(th, dc.title, "", true, w, len(lines)+2, lines)
}

func (m Model) menuContent() dialogContent {
	th := m.c.th
	d := m.menu
	items := make([]string, len(d.entries))
	for i, e := range d.entries {
		l := e.label
		st := th.Paints.Base
		if e.reason != "" {
			l += " — " + e.reason
			st = th.Paints.Disabled
		}
		if i == d.cursor {
			st = th.Paints.Selected
		}
		items[i] = st.Render(l)
	}
	return dialogContent{title: d.title, sections: []dialogSection{{items: items}}, window: true, focus: d.cursor,
		tail: []string{"", th.Paints.Muted.Render("enter choose · esc close")}}
}

func (m Model) confirmContent() dialogContent {
	th := m.c.th
	d := m.confirm
	p := d.plan
	risk := th.Paints.OK.Render("risk: low")
	if p.Risk == ops.High {
		risk = th.Paints.Crit.Render("risk: HIGH")
	}
	env := p.Environment
	if env == "" {
		env = m.o.Environment
	}
	dc := dialogContent{title: "Confirm", head: []string{th.Paints.Bold.Render(p.Title), risk + "  environment: " + env + "  source: " + p.Source}}
	if len(p.Targets) > 0 {
		items := make([]string, len(p.Targets))
		for i, t := range p.Targets {
			line := t.ID
			if t.Detail != "" {
				line = t.Detail
			}
			items[i] = "  " + line
		}
		dc.sections = append(dc.sections, dialogSection{label: th.Paints.Muted.Render(fmt.Sprintf("targets (%d):", len(p.Targets))), items: items, max: 8})
	}
	indent := func(ls []string) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = "  " + l
		}
		return out
	}
	if len(p.Preview) > 0 {
		dc.sections = append(dc.sections, dialogSection{label: th.Paints.Muted.Render("preview:"), items: indent(p.Preview)})
	}
	if len(p.DryRun) > 0 {
		dc.sections = append(dc.sections, dialogSection{label: th.Paints.Muted.Render("dry run:"), items: indent(p.DryRun)})
	}
	left := m.policy.MaxPlanAge - m.c.exact.Sub(p.CreatedAt)
	if left > 0 {
		dc.tail = append(dc.tail, th.Paints.Muted.Render(fmt.Sprintf("plan valid for %ds", int(left.Round(time.Second)/time.Second))))
	} else {
		dc.tail = append(dc.tail, th.Paints.Error.Render("plan expired: esc and plan again"))
	}
	dc.tail = append(dc.tail, "")
	if p.Risk == ops.Low {
		no, yes := th.Paints.ButtonFocused.Render("[ No ]"), th.Paints.Button.Render("[ Yes ]")
		if d.yes {
			no, yes = th.Paints.Button.Render("[ No ]"), th.Paints.ButtonFocused.Render("[ Yes ]")
		}
		dc.tail = append(dc.tail, "Proceed? (y/N)  "+no+"  "+yes, th.Paints.Muted.Render("y yes · n/esc no · tab switch · enter choose"))
	} else {
		dc.tail = append(dc.tail, "type "+th.Paints.Bold.Render(p.Phrase)+" to confirm, enter submits, esc cancels:")
		dc.tail = append(dc.tail, th.Paints.Accent.Render("> "+d.edit.view()))
	}
	if d.err != "" {
		dc.tail = append(dc.tail, th.Paints.Error.Render(d.err))
	}
	return dc
}

func (m Model) formContent() dialogContent {
	th := m.c.th
	f := m.form
	out := []string{th.Paints.Bold.Render(f.entry.label)}
	if d := f.entry.req.Deployment; d != nil && f.entry.kind == ops.Scale {
		lo, hi := scaleBounds(int(d.Replicas), m.policy.ScaleMaxChange)
		out = append(out, th.Paints.Muted.Render(fmt.Sprintf("currently %d replicas; without override %d–%d", d.Replicas, lo, hi)))
	}
	if f.entry.kind == ops.Silence {
		out = append(out, th.Paints.Muted.Render(fmt.Sprintf(`matchers like {alertname="X", severity="critical"}; max %s`, sources.FormatDuration(m.policy.SilenceMax))))
	}
	out = append(out, "")
	for i, fl := range f.fields {
		v := fl.edit.value
		if i == f.focus {
			out = append(out, th.Paints.Accent.Render("> "+fl.label+": ")+fl.edit.view())
		} else {
			out = append(out, "  "+th.Paints.Muted.Render(fl.label+": ")+v)
		}
	}
	if f.err != "" {
		out = append(out, "", th.Paints.Error.Render(f.err))
	}
	out = append(out, "", th.Paints.Muted.Render("tab next field · enter plan · esc cancel"))
	return dialogContent{title: f.entry.kind.Title(), tail: out}
}

func scaleBounds(from int, change float64) (int, int) {
	if change <= 0 {
		return 0, from * 100
	}
	lo := int(float64(from)*(1-change) + 0.999999)
	hi := int(float64(from) * (1 + change))
	return lo, hi
}

func (m Model) helpContent() dialogContent {
	th := m.c.th
	k := m.c.km
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
	section("global", k.Global.FullHelp())
	names := []string{"SLOs", "Alerts", "Postgres", "Rollouts"}
	section(names[m.focus]+" (focused)", m.focused().FullHelp())
	section("dialogs", k.Dialog.FullHelp())
	if m.focus == focusPostgres {
		out = append(out, th.Paints.Muted.Render("  filter: text user:X app:X db:X state:idle-in-tx wait:Lock >10m blocking blocked"))
	}
	tail := []string{""}
	if m.o.Executor == nil {
		tail = append(tail, th.Paints.Warn.Render("read-only: actions are disabled"))
	}
	audit := m.o.AuditPath
	if audit == "" {
		audit = "(none)"
	}
	tail = append(tail, "audit journal: "+audit, th.Paints.Muted.Render("? or esc closes"))
	return dialogContent{title: "Help", sections: []dialogSection{{items: out}}, tail: tail}
}
