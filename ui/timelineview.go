package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// timelineView is the incident timeline the timeline key shows: the same
// entries as `flightdeck timeline` (the flight recorder's events, the
// actions and the runbook steps, with who did what), oldest first and
// opened at the newest, scrolled with the list keys. The lines are built
// in a Cmd (Options.Timeline reads the journals); pressing the key again
// builds it anew.
type timelineView struct {
	env     *kit.Env
	lines   []string
	err     error
	loading bool
	// off is the first wrapped line shown; bottom keeps the view at the
	// newest entries until the operator scrolls up.
	off    int
	bottom bool
	cache  kit.Cache
	w, h   int
	// wrapped are lines wrapped to wrapW.
	wrapped []string
	wrapW   int
}

// timelineMsg is Options.Timeline's answer for view.
type timelineMsg struct {
	view  *timelineView
	lines []string
	err   error
}

func newTimelineView(env *kit.Env) *timelineView {
	return &timelineView{env: env, loading: true, bottom: true}
}

// ID is fixed: one timeline at a time.
func (v *timelineView) ID() string { return timelineViewID }

// Title names the view in help.
func (v *timelineView) Title() string { return "Timeline" }

// SetSnapshot: the timeline is read from the journals, not the snapshots.
func (v *timelineView) SetSnapshot(sources.Snapshot) {}

// CapturesKeys: the timeline types no text.
func (v *timelineView) CapturesKeys() bool { return false }

// Update takes its lines and the scrolling keys.
func (v *timelineView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case timelineMsg:
		if msg.view == v {
			v.cache.Touch()
			v.lines, v.err, v.loading, v.wrapped = msg.lines, msg.err, false, nil
		}
	case tea.KeyPressMsg:
		v.cache.Touch()
		k := v.env.Keys
		page := max(1, v.rows()-1)
		switch {
		case key.Matches(msg, k.List.Up):
			v.scroll(-1)
		case key.Matches(msg, k.List.Down):
			v.scroll(1)
		case key.Matches(msg, k.List.PageUp):
			v.scroll(-page)
		case key.Matches(msg, k.List.PageDn):
			v.scroll(page)
		case key.Matches(msg, k.List.Top):
			v.off, v.bottom = 0, false
		case key.Matches(msg, k.List.Bottom):
			v.bottom = true
		}
	}
	return nil
}

// rows is how many lines fit in the frame.
func (v *timelineView) rows() int { return max(1, v.h-2) }

func (v *timelineView) scroll(d int) {
	n := len(v.wrapped)
	if v.bottom {
		v.off = max(0, n-v.rows())
	}
	v.off = max(0, min(v.off+d, n-v.rows()))
	v.bottom = v.off >= n-v.rows()
}

// ShortHelp is the status bar's hints while the timeline is shown.
func (v *timelineView) ShortHelp() []key.Binding {
	k := v.env.Keys
	return []key.Binding{k.List.Up, k.List.Down, k.List.Top, k.List.Bottom, k.Global.Timeline, k.List.Back}
}

// FullHelp is the view's section of the help overlay.
func (v *timelineView) FullHelp() [][]key.Binding {
	k := v.env.Keys
	return [][]key.Binding{{k.List.Up, k.List.Down, k.List.PageUp, k.List.PageDn, k.List.Top, k.List.Bottom}, {k.Global.Timeline, k.List.Back}}
}

// View draws the window of the timeline in view.
func (v *timelineView) View(w, h int) []string {
	v.w, v.h = w, h
	if v.wrapW != w-2 || v.wrapped == nil {
		// Wrapped here, not per frame: only when the lines or the width
		// change.
		v.wrapW, v.wrapped = w-2, nil
		for _, l := range v.lines {
			v.wrapped = append(v.wrapped, kit.Wrap(l, max(1, w-2))...)
		}
		v.cache.Touch()
	}
	return v.cache.Block(v.env, true, w, h, v.draw)
}

func (v *timelineView) draw(bool) []string {
	th := v.env.Theme
	var body []string
	switch {
	case v.loading:
		body = append(body, th.Paints.Muted.Render("reading the journals…"))
	case v.err != nil:
		body = append(body, th.Paints.Error.Render("timeline: "+v.err.Error()))
	}
	n, rows := len(v.wrapped), max(1, v.h-2-len(body))
	off := v.off
	if v.bottom {
		off = max(0, n-rows)
	}
	off = max(0, min(off, n-rows))
	body = append(body, v.wrapped[off:min(n, off+rows)]...)
	footer := kit.KeyName(v.env.Keys.Global.Timeline) + " reloads"
	if n > 0 {
		footer = fmt.Sprintf("lines %d–%d of %d · %s", off+1, min(n, off+rows), n, footer)
	}
	return kit.Frame(th, "Incident timeline (UTC, newest last)", footer, true, v.w, v.h, body)
}
