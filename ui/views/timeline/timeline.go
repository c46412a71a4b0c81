// Package timeline is the incident timeline view the timeline key shows:
// the same entries as `flightdeck timeline` (the flight recorder's events,
// the actions and the runbook steps, with who did what), oldest first and
// opened at the newest, scrolled with the list keys. The session's
// Builder reads the journals in a Cmd; pressing the key again builds the
// timeline anew. Feature is a kit.Feature; the view a kit.View.
package timeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// Builder builds the incident timeline, one line per entry, oldest first.
// It reads files: it runs in a Cmd.
type Builder func(ctx context.Context) ([]string, error)

// viewID is fixed: one timeline at a time.
const viewID = "timeline"

// buildTimeout bounds one build of the timeline.
const buildTimeout = 15 * time.Second

// Feature is the timeline key.
type Feature struct {
	env   *kit.Env
	ctx   context.Context
	build Builder
}

// New is the timeline feature of a session whose context is ctx; build
// nil means the session has no journals to read.
func New(env *kit.Env, ctx context.Context, build Builder) *Feature {
	return &Feature{env: env, ctx: ctx, build: build}
}

// Key answers the timeline key: a fresh timeline, built in a Cmd.
func (f *Feature) Key(s kit.Screen, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if !key.Matches(msg, f.env.Keys.Global.Timeline) {
		return nil, false
	}
	if f.build == nil {
		s.Status("no timeline: this session has no journals to read", true)
		return nil, true
	}
	tv := &view{env: f.env, loading: true, bottom: true}
	s.Close(viewID)
	s.Push(tv)
	build, ctx := f.build, f.ctx
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, buildTimeout)
		defer cancel()
		lines, err := build(c)
		return builtMsg{view: tv, lines: lines, err: err}
	}, true
}

// view is the timeline on screen.
type view struct {
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

// builtMsg is the Builder's answer for view.
type builtMsg struct {
	view  *view
	lines []string
	err   error
}

// ID is fixed: one timeline at a time.
func (v *view) ID() string { return viewID }

// Title names the view in help.
func (v *view) Title() string { return "Timeline" }

// SetSnapshot: the timeline is read from the journals, not the snapshots.
func (v *view) SetSnapshot(sources.Snapshot) {}

// CapturesKeys: the timeline types no text.
func (v *view) CapturesKeys() bool { return false }

// Update takes its lines and the scrolling keys.
func (v *view) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case builtMsg:
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
func (v *view) rows() int { return max(1, v.h-2) }

func (v *view) scroll(d int) {
	n := len(v.wrapped)
	if v.bottom {
		v.off = max(0, n-v.rows())
	}
	v.off = max(0, min(v.off+d, n-v.rows()))
	v.bottom = v.off >= n-v.rows()
}

// ShortHelp is the status bar's hints while the timeline is shown.
func (v *view) ShortHelp() []key.Binding {
	k := v.env.Keys
	return []key.Binding{k.List.Up, k.List.Down, k.List.Top, k.List.Bottom, k.Global.Timeline, k.List.Back}
}

// FullHelp is the view's section of the help overlay.
func (v *view) FullHelp() [][]key.Binding {
	k := v.env.Keys
	return [][]key.Binding{{k.List.Up, k.List.Down, k.List.PageUp, k.List.PageDn, k.List.Top, k.List.Bottom}, {k.Global.Timeline, k.List.Back}}
}

// View draws the window of the timeline in view.
func (v *view) View(w, h int) []string {
	v.w, v.h = w, h
	if v.wrapW != w-2 || v.wrapped == nil {
		// Wrapped here, not per frame: only when the lines or the width
		// change.
		v.wrapW, v.wrapped = w-2, nil
		for _, l := range v.lines {
			v.wrapped = append(v.wrapped, hang(l, max(1, w-2))...)
		}
		v.cache.Touch()
	}
	return v.cache.Block(v.env, true, w, h, v.draw)
}

func (v *view) draw(bool) []string {
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

// entryTime is how a timeline entry starts: its time ("15:04:05", or
// "01-02 15:04:05" when the timeline spans days). After it come the
// offset and the source, padded to fixed columns (record.Timeline.Lines).
var entryTime = regexp.MustCompile(`^(\d\d-\d\d )?\d\d:\d\d:\d\d `)

// textCol is where an entry's text starts after its time: the offset
// ("%-8s") and the source ("%-10s"), each with its space.
const textCol = 1 + 8 + 1 + 10 + 1

// hang wraps one timeline line to w cells; an entry's continuation lines
// start under its text column, so the time, offset and source columns
// stay clear down the screen. A screen too narrow for that wraps them
// flush.
func hang(l string, w int) []string {
	m := entryTime.FindString(l)
	ind := len(m) - 1 + textCol
	if m == "" || w-ind < 20 || len(l) <= ind || strings.TrimSpace(l[:ind]) == "" {
		return kit.Wrap(l, w)
	}
	out := kit.Wrap(l, w)
	if len(out) == 1 {
		return out
	}
	first := out[0]
	rest := strings.TrimLeft(strings.TrimPrefix(l, first), " ")
	if rest == l { // the wrap changed the text: keep it flush
		return out
	}
	pad := kit.Spaces(ind)
	out = []string{first}
	for _, r := range kit.Wrap(rest, w-ind) {
		out = append(out, pad+r)
	}
	return out
}
