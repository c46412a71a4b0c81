package ui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"

	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// header is the top line: environment (production in its own colours, as
// the caller decided), the mode, the features' notes (whom this session
// follows, who is connected), and the clock.
func (m Model) header() string {
	th := m.env.Theme
	mode := "LIVE"
	switch {
	case m.o.Identity.Demo && m.o.Identity.ReadOnly:
		mode = "DEMO · READ-ONLY"
	case m.o.Identity.Demo:
		mode = "DEMO"
	case m.o.Identity.ReadOnly || m.o.Actions.Executor == nil:
		mode = "READ-ONLY"
	}
	env := m.o.Identity.Environment
	if env == "" {
		env = "unknown env"
	}
	envS := th.Paints.Header.Render(" " + env + " ")
	if m.o.Identity.Production {
		envS = th.Paints.HeaderProd.Render(" " + strings.ToUpper(env) + " ")
	}
	left := th.Paints.Header.Render(" flightdeck ") + " " + envS + " " + th.Paints.Bold.Render(mode)
	var groups [][]string
	for _, f := range m.features {
		if n, ok := f.(kit.HeaderNoter); ok {
			groups = append(groups, n.HeaderNotes()...)
		}
	}
	right := m.env.Now().Format("15:04:05") + " "
	room := m.w - kit.Width(right) - 1 // a space before the clock
	return kit.Fit(left+headerNotes(groups, room-kit.Width(left), th.Paints.Muted), m.w-kit.Width(right), th.Ellipsis) + right
}

// headerNotes joins the features' note groups into at most w cells:
// groups after two spaces, items after " · ". What does not fit goes as
// whole items from the end, counted ("+3 more"), so a name is never cut
// in half nor run into the clock.
func headerNotes(groups [][]string, w int, muted themes.Paint) string {
	type item struct {
		text string
		sep  string
	}
	var items []item
	for _, g := range groups {
		for j, it := range g {
			sep := " · "
			if j == 0 {
				sep = "  "
			}
			items = append(items, item{it, sep})
		}
	}
	line := func(n int) string {
		var b strings.Builder
		for _, it := range items[:n] {
			b.WriteString(it.sep + it.text)
		}
		if n < len(items) {
			b.WriteString("  " + muted.Render("+"+strconv.Itoa(len(items)-n)+" more"))
		}
		return b.String()
	}
	for n := len(items); n >= 0; n-- {
		if s := line(n); kit.Width(s) <= w || n == 0 {
			return s
		}
	}
	return ""
}

// statusBar is every source's health (its name, and its data's age once
// late), then the action in flight, the last result, or the key hints of
// what has focus.
func (m Model) statusBar() []string {
	th := m.env.Theme
	now := m.env.Now()
	var parts []string
	for _, name := range m.health.order {
		s := m.health.snaps[name]
		age := kit.DataAge(now, s)
		switch {
		case s.Err != nil:
			parts = append(parts, th.Paints.Crit.Render(name+" ERR "+age))
		case s.Stale:
			parts = append(parts, th.Paints.Warn.Render(name+" stale "+age))
		case s.OnTime(now):
			// On time: the name alone, so the bar changes when the data
			// is late, not every second between polls.
			parts = append(parts, th.Paints.OK.Render(name))
		default:
			parts = append(parts, th.Paints.OK.Render(name)+" "+th.Paints.Muted.Render(age))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, th.Paints.Muted.Render("no sources yet"))
	}
	if m.recErr != "" {
		// First: a cut line must not hide that nothing is being recorded.
		parts = append([]string{th.Paints.Crit.Render("recorder ERR " + m.recErr)}, parts...)
	}
	line1 := kit.Fit(" "+strings.Join(parts, "  "), m.w, th.Ellipsis)
	var line2 string
	switch {
	case m.pending != "":
		line2 = th.Paints.Accent.Render(" " + m.pending)
	case m.statusNow() != "":
		st := th.Paints.OK
		if m.statusBad {
			st = th.Paints.Error
		}
		line2 = st.Render(" " + m.status)
	default:
		line2 = " " + strings.Join(m.hints(), "  ")
	}
	return []string{line1, kit.Fit(line2, m.w, th.Ellipsis)}
}

// hints are the key hints of what has the keyboard: the open dialog's
// (its own, or submit and close), else the shown view's or the focused
// pane's, and help.
func (m Model) hints() []string {
	th := m.env.Theme
	k := m.env.Keys
	var bs []key.Binding
	switch d := m.topDialog(); {
	case d != nil:
		if h, ok := d.(kit.DialogHelp); ok {
			bs = h.ShortHelp()
		} else {
			bs = []key.Binding{k.Dialog.Submit, k.Dialog.Close}
		}
	case m.shownView() != nil:
		bs = m.shownView().ShortHelp()
	default:
		bs = m.panes[m.focus].ShortHelp()
		if m.returnTo != "" {
			// Back to the run first: the way out of a view step.
			bs = append([]key.Binding{kit.Hint(k.Global.Return, "back to "+m.returnView().Title())}, bs...)
		}
	}
	var hs []string
	for _, b := range bs {
		if b.Help().Key == "" {
			continue
		}
		hs = append(hs, th.Paints.HelpKey.Render(b.Help().Key)+" "+th.Paints.HelpDesc.Render(b.Help().Desc))
	}
	if m.topDialog() == nil {
		hs = append(hs, th.Paints.HelpKey.Render(k.Global.Help.Help().Key)+" "+th.Paints.HelpDesc.Render("help"))
	}
	return hs
}

// returnNote is what the pane a view step showed carries in its top
// border: the key back to the view it left ("" when none).
func (m Model) returnNote(i int) string {
	if m.returnTo == "" || i != m.returnPane || m.shownView() != nil {
		return ""
	}
	arrow := "↩"
	if m.env.Theme.ASCII {
		arrow = "<-"
	}
	return " " + kit.KeyName(m.env.Keys.Global.Return) + " " + arrow + " " + m.returnView().Title() + " "
}
