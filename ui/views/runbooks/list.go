package runbooks

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/internal/redact"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// runList is the runbook key's list: the open runs (kept run views) to go
// back to, then the runbooks to start. Opened on an alert, it lists the
// runbooks the alert opens to pick one, or, when none does, says so and
// how to add one.
type runList struct {
	env   *kit.Env
	alert *sources.Alert
	// matched: books are the alert's matches (else every runbook).
	matched bool
	books   []*runbook.Runbook
	runs    []*RunView
	// done are the runs that ended this session, kept to be read again:
	// a run that completes says so here rather than vanishing.
	done []*RunView
	// others are the runs open in other sessions, listed after this
	// session's: enter follows their operator.
	others []kit.SharedRun
	cursor int
	cache  kit.Cache
	w, h   int
}

func newRunList(env *kit.Env, alert *sources.Alert, books []*runbook.Runbook, runs []*RunView) *runList {
	return &runList{env: env, alert: alert, books: books, runs: runs}
}

// matching says whether the books are the alert's matches.
func (l *runList) matching(b bool) *runList {
	l.matched = b
	return l
}

// ID is fixed: the root replaces the list each time the key is pressed.
func (l *runList) ID() string { return listViewID }

// Title names the view in help.
func (l *runList) Title() string { return "Runbooks" }

// SetSnapshot: the list shows no live data.
func (l *runList) SetSnapshot(sources.Snapshot) {}

// CapturesKeys: the list types no text.
func (l *runList) CapturesKeys() bool { return false }

func (l *runList) n() int { return len(l.runs) + len(l.others) + len(l.done) + len(l.books) }

// withOthers adds the runs open in other sessions.
func (l *runList) withOthers(others []kit.SharedRun) *runList {
	l.others = others
	return l
}

// withDone adds the runs that ended this session.
func (l *runList) withDone(done []*RunView) *runList {
	l.done = done
	return l
}

// Update moves the cursor; enter shows the open run or starts the runbook.
func (l *runList) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	l.cache.Touch()
	k := l.env.Keys
	if key.Matches(km, k.List.Details) {
		i := l.cursor
		switch {
		case i < len(l.runs):
			return kit.Send(kit.PushViewMsg{View: l.runs[i]})
		case i-len(l.runs) < len(l.others):
			o := l.others[i-len(l.runs)]
			if o.Follow == nil {
				return kit.Send(kit.StatusMsg{Text: "this session cannot follow " + o.Who, Bad: true})
			}
			return tea.Batch(kit.Send(kit.CloseViewMsg{ID: listViewID}), o.Follow)
		}
		i -= len(l.runs) + len(l.others)
		switch {
		case i < len(l.done):
			return kit.Send(kit.PushViewMsg{View: l.done[i]})
		case i < len(l.done)+len(l.books):
			return kit.Send(startRunMsg{book: l.books[i-len(l.done)], alert: l.alert})
		}
		return nil
	}
	c := kit.Cursor{Pos: l.cursor}
	c.Move(km, k.List, l.n(), max(1, l.h-4))
	l.cursor = c.Pos
	return nil
}

// ShortHelp is the status bar's hints while the list is shown.
func (l *runList) ShortHelp() []key.Binding {
	k := l.env.Keys
	d := k.List.Details
	return []key.Binding{k.List.Up, k.List.Down, key.NewBinding(key.WithKeys(d.Keys()...), key.WithHelp(d.Help().Key, "open")), k.List.Back}
}

// FullHelp is the view's section of the help overlay.
func (l *runList) FullHelp() [][]key.Binding {
	k := l.env.Keys
	return [][]key.Binding{l.ShortHelp(), {k.List.Top, k.List.Bottom, k.List.PageUp, k.List.PageDn}}
}

// View draws the list.
func (l *runList) View(w, h int) []string {
	l.w, l.h = w, h
	return l.cache.Block(l.env, true, w, h, l.draw)
}

func (l *runList) draw(bool) []string {
	th := l.env.Theme
	inner := l.w - 2
	now := l.env.Now()
	var head []string
	switch {
	case l.alert != nil && !l.matched:
		name := l.alert.Name
		file := strings.ToLower(name)
		if file == "" {
			file = "my-alert"
		}
		head = append(head,
			th.Paints.Warn.Render("No runbook opens on alert "+name+"."),
			"To add one, write a YAML file in a directory listed under runbooks: in the config, e.g.",
			th.Paints.Accent.Render("  runbooks: [~/.config/flightdeck/runbooks]"),
			"and in it "+th.Paints.Accent.Render("~/.config/flightdeck/runbooks/"+file+".yaml")+" with",
			th.Paints.Accent.Render("  opens_on: {alerts: ["+name+"]}"),
			th.Paints.Muted.Render("The README's \"Runbooks\" section has a complete example; flightdeck config check validates it."),
			"Or start one of the runbooks below for this alert.", "")
	case l.alert != nil:
		head = append(head, fmt.Sprintf("%d runbooks open on alert %s: pick one.", len(l.books), l.alert.Name), "")
	}
	type row struct{ text, sub string }
	var rows []row
	var labels = map[int]string{}
	if len(l.runs) > 0 {
		labels[0] = fmt.Sprintf("Open runs (%d)", len(l.runs))
	}
	for _, rv := range l.runs {
		r := rv.run
		by := "from the list"
		if a := r.Alert(); a != nil {
			by = "for " + a.Name
		}
		next := "all steps done"
		if i := r.Next(); i >= 0 {
			next = fmt.Sprintf("next: %d. %s", i+1, r.Runbook().Steps[i].Title)
		}
		rows = append(rows, row{r.Runbook().Title + " · " + by, fmt.Sprintf("started %s ago by %s · %s", kit.Age(now.Sub(r.StartedAt())), r.Operator(), next)})
	}
	if len(l.others) > 0 {
		labels[len(rows)] = fmt.Sprintf("Open in other sessions (%d)", len(l.others))
	}
	for _, o := range l.others {
		rows = append(rows, row{o.Who + ": " + o.Line, "enter follows " + o.Who + " (read-only); any key stops following"})
	}
	if len(l.done) > 0 {
		labels[len(rows)] = fmt.Sprintf("Finished runs (%d)", len(l.done))
	}
	for _, rv := range l.done {
		r := rv.run
		by := "from the list"
		if a := r.Alert(); a != nil {
			by = "for " + a.Name
		}
		rows = append(rows, row{r.Runbook().Title + " · " + by + " · " + th.Paints.OK.Render(rv.ended.result),
			fmt.Sprintf("%s at %s UTC · started by %s", rv.ended.result, rv.ended.at.UTC().Format("15:04:05"), r.Operator())})
	}
	if len(l.books) > 0 {
		name := "Runbooks"
		if l.alert != nil && !l.matched {
			name = "Other runbooks"
		}
		labels[len(rows)] = fmt.Sprintf("%s (%d)", name, len(l.books))
	}
	for _, b := range l.books {
		rows = append(rows, row{b.Title + th.Paints.Muted.Render("  "+b.Name), "opens on " + opensOn(b) + " · " + b.File})
	}
	body := head
	if len(rows) == 0 {
		body = append(body, th.Paints.Muted.Render("no runbooks loaded"))
	}
	// Two lines a row, and the section labels: keep the cursor's row on
	// screen.
	var lines []string
	selFrom, selTo := 0, 0
	for i, r := range rows {
		if lbl, ok := labels[i]; ok {
			lines = append(lines, th.Paints.Bold.Render(lbl))
		}
		if i == l.cursor {
			selFrom = len(lines)
		}
		text := kit.Fit("  "+r.text, inner, th.Ellipsis)
		if i == l.cursor {
			text = th.Paints.Selected.Render(kit.Fit("▸ "+r.text, inner, th.Ellipsis))
			if th.ASCII {
				text = th.Paints.Selected.Render(kit.Fit("> "+r.text, inner, th.Ellipsis))
			}
		}
		lines = append(lines, text, th.Paints.Muted.Render(kit.Fit("    "+r.sub, inner, th.Ellipsis)))
		if i == l.cursor {
			selTo = len(lines)
		}
	}
	avail := max(1, l.h-2-len(body))
	if selTo > avail {
		lines = lines[min(selFrom, selTo-avail):]
	}
	return kit.Frame(th, "Runbooks", fmt.Sprintf("%d/%d", min(l.cursor+1, len(rows)), len(rows)), true, l.w, l.h, append(body, lines...))
}

// opensOn says which alerts open a runbook.
func opensOn(b *runbook.Runbook) string {
	var parts []string
	if len(b.OpensOn.Alerts) > 0 {
		parts = append(parts, "alerts "+strings.Join(b.OpensOn.Alerts, ", "))
	}
	if len(b.OpensOn.Matchers) > 0 {
		parts = append(parts, "labels "+ops.FormatMatchers(b.OpensOn.Matchers))
	}
	if len(b.OpensOn.RunbookURLs) > 0 {
		links := make([]string, len(b.OpensOn.RunbookURLs))
		for i, u := range b.OpensOn.RunbookURLs {
			links[i] = redact.Link(u)
		}
		parts = append(parts, "runbook_url "+strings.Join(links, ", "))
	}
	if len(parts) == 0 {
		return "no alert (start it from this list)"
	}
	return strings.Join(parts, "; ")
}
