package kit

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/sources"
)

// Cursor is a selection over n rows shown h at a time.
type Cursor struct{ Pos, Offset int }

// Clamp keeps the cursor on a row and the row on screen.
func (c *Cursor) Clamp(n, h int) {
	c.Pos = min(c.Pos, n-1)
	c.Pos = max(c.Pos, 0)
	h = max(h, 1)
	if c.Pos < c.Offset {
		c.Offset = c.Pos
	}
	if c.Pos >= c.Offset+h {
		c.Offset = c.Pos - h + 1
	}
	c.Offset = max(0, min(c.Offset, n-h))
}

// Scroll keeps the cursor on a row and that row among the rows shown in h
// lines, where a line says how many rows are hidden above ("↑ 3 more")
// when the first row shown is not the first, and one says how many are
// hidden below likewise. It scrolls as little as that needs, so the
// selection never jumps, and leaves no blank line under the last row. The
// rows shown are [from, to); with fewer than three lines there is no room
// for the marker lines and every line is a row.
func (c *Cursor) Scroll(n, h int) (from, to int) {
	c.Clamp(n, h)
	if n <= h || h < 3 {
		return c.Offset, min(n, c.Offset+max(h, 1))
	}
	shown := func(o int) int { // rows that fit from o, the markers drawn
		k := h
		if o > 0 {
			k--
		}
		if o+k < n {
			k--
		}
		return k
	}
	// Clamp left the offset at most n-h and the cursor at or under it;
	// the markers may take the cursor's line, at most two rows further.
	o := c.Offset
	for c.Pos >= o+shown(o) {
		o++
	}
	c.Offset = o
	return o, o + shown(o)
}

// Move handles the movement keys; it reports whether msg was one.
func (c *Cursor) Move(msg tea.KeyPressMsg, km keymap.List, n, h int) bool {
	switch {
	case key.Matches(msg, km.Up):
		c.Pos--
	case key.Matches(msg, km.Down):
		c.Pos++
	case key.Matches(msg, km.Top):
		c.Pos = 0
	case key.Matches(msg, km.Bottom):
		c.Pos = n - 1
	case key.Matches(msg, km.PageUp):
		c.Pos -= max(1, h-1)
	case key.Matches(msg, km.PageDn):
		c.Pos += max(1, h-1)
	default:
		return false
	}
	c.Clamp(n, h)
	return true
}

// Rows is what a pane tells the List it embeds.
type Rows interface {
	// Len is the number of rows the list shows now.
	Len() int
	// Visible is how many rows fit on screen (page up/down moves by it).
	Visible() int
	// Rebuild derives the rows again after the data, the filter or the
	// shown feed changed. It runs in Update, so View only formats the rows
	// that fit.
	Rebuild()
	// Draw draws the pane's whole block (frame included) at the List's
	// size, by List.DrawSheet with the pane's parts. It runs only when
	// something changed since the last draw.
	Draw(focused bool) []string
}

// Meta names a list pane.
type Meta struct {
	// Title is the pane's name: "Postgres".
	Title string
	// Kind is the snapshots it owns.
	Kind sources.Kind
	// Reads are the kinds it reads besides (a pane with a Read method):
	// the root hands it their snapshots without making it their owner.
	Reads []sources.Kind
	// Noun is what the pane waits for before the first snapshot
	// ("waiting for postgres…").
	Noun string
	// Help is the pane's own key groups, after the list's in the help
	// overlay.
	Help [][]key.Binding
}

// List is the base every list pane embeds: the feeds of its sources, a
// cursor over rows, the "/" filter prompt, an enter-to-open detail view
// (scrolled with the movement keys), the pause that freezes its rows and
// the cache of its last drawn block.
// It gives the embedding pane Title, Kinds, FullHelp, SetSize, View,
// CapturesKeys, SetSnapshot, SetFilter and a default Visible; the pane
// supplies the rest of Rows and calls HandleKey for the keys every pane
// shares before its own.
type List struct {
	Env  *Env
	Meta Meta
	// Key is the focus key shown before the title ("3").
	Key    string
	Feeds  Feeds
	Cursor Cursor
	// Filter is the filter in force, as typed.
	Filter string
	Prompt Prompt
	// Detail is whether the detail view of the selected row is open, and
	// DetailOff how far it is scrolled.
	Detail    bool
	DetailOff int
	// Picked is whether the person chose the selected row (moved to it,
	// opened it, tagged it). Until then the selection is the top of the
	// sort order, whatever the refreshes bring there; once picked, a pane
	// that keeps its selection by identity follows that row. The top key
	// and a new filter give the choice back to the sort order.
	Picked bool
	// W and H are the block's size, border included.
	W, H int
	// paused freezes the rows (the pause key): the snapshots that arrive
	// meanwhile wait in held, the latest of each source in the order they
	// first came, and come in on resume.
	paused    bool
	held      map[string]sources.Snapshot
	heldOrder []string
	rows      Rows
	cache     Cache
}

// Init binds the List to its slot and to the pane that supplies its rows.
func (l *List) Init(s Slot, m Meta, rows Rows) { l.Env, l.Key, l.Meta, l.rows = s.Env, s.Key, m, rows }

// Title names the pane.
func (l *List) Title() string { return l.Meta.Title }

// Kinds is the data the pane owns.
func (l *List) Kinds() []sources.Kind { return []sources.Kind{l.Meta.Kind} }

// Reads is the data the pane reads besides its own (Meta.Reads).
func (l *List) Reads() []sources.Kind { return l.Meta.Reads }

// FullHelp is the pane's section of the help overlay: the list keys, then
// the pane's own.
func (l *List) FullHelp() [][]key.Binding { return append(l.Env.Keys.List.FullHelp(), l.Meta.Help...) }

// Visible is how many rows fit under a column title line; a pane with more
// above its rows says so with its own Visible.
func (l *List) Visible() int { return max(1, l.H-4) }

// Data is the shown feed's payload as T; the zero T before there is one
// (or when it is of another type).
func Data[T sources.Payload](l *List) T {
	s, _ := l.Feeds.Current()
	d, _ := s.Data.(T)
	return d
}

// Notice is the shown feed's health for the body (see Notice), dim when
// the rows are stale, hasData when there is anything to draw. A pane no
// source feeds says so, and what turns it on.
func (l *List) Notice() (notice []string, dim, hasData bool) {
	s, ok := l.Feeds.Current()
	if how, off := l.unconfigured(); off && !ok {
		msg := "not configured"
		if how != "" {
			msg += ": " + how
		}
		return []string{l.Env.Theme.Paints.Muted.Render(msg)}, false, false
	}
	return Notice(l.Env, s, ok, l.Meta.Noun)
}

func (l *List) unconfigured() (how string, off bool) {
	how, off = l.Env.Unconfigured[l.Meta.Kind]
	return how, off
}

// SetSize is the block's size, border included.
func (l *List) SetSize(w, h int) {
	l.W, l.H = w, h
	l.Cursor.Clamp(l.rows.Len(), l.rows.Visible())
}

// CapturesKeys is true while the filter prompt has the keyboard.
func (l *List) CapturesKeys() bool { return l.Prompt.Editing() }

// Touch marks the drawn block out of date.
func (l *List) Touch() { l.cache.Touch() }

// View is the pane's block, redrawn only when something it shows changed.
func (l *List) View(focused bool) []string {
	return l.cache.Block(l.Env, focused, l.W, l.H, l.draw)
}

// SetSnapshot keeps s as its source's latest data and rebuilds the rows;
// while the pane is paused s waits for the resume (Hold).
func (l *List) SetSnapshot(s sources.Snapshot) {
	if l.Hold(s) {
		return
	}
	l.Touch()
	l.Feeds.Set(s)
	l.rows.Rebuild()
}

// Hold keeps s for the resume while the pane is paused, and reports
// whether it did; a pane with its own SetSnapshot returns at once when it
// did, so its rows stay as they were.
func (l *List) Hold(s sources.Snapshot) bool {
	if !l.paused {
		return false
	}
	l.Touch() // the title says whether the live feed is late
	if _, ok := l.held[s.Source]; !ok {
		l.heldOrder = append(l.heldOrder, s.Source)
	}
	l.held[s.Source] = s
	return true
}

// Paused reports whether the pane's rows are frozen.
func (l *List) Paused() bool { return l.paused }

// TogglePause freezes the rows, or lets the held snapshots in and the rows
// move again; it reports false, doing nothing, when there are no rows to
// freeze yet. The held snapshots go through the pane's own SetSnapshot,
// so they are taken as if they had just arrived.
func (l *List) TogglePause() bool {
	l.Touch()
	if !l.paused {
		if s, ok := l.Feeds.Current(); !ok || s.Data == nil {
			return false
		}
		l.paused, l.held, l.heldOrder = true, map[string]sources.Snapshot{}, nil
		return true
	}
	l.paused = false
	held, order := l.held, l.heldOrder
	l.held, l.heldOrder = nil, nil
	set, ok := l.rows.(interface{ SetSnapshot(sources.Snapshot) })
	if !ok {
		set = l
	}
	for _, name := range order {
		set.SetSnapshot(held[name])
	}
	return true
}

// live is the shown source's latest snapshot: the shown one, or while
// paused the newest held back.
func (l *List) live() (sources.Snapshot, bool) {
	if s, ok := l.held[l.Feeds.Name()]; ok {
		return s, true
	}
	return l.Feeds.Current()
}

// pausedLabel is the title's " · paused 12s": how old the frozen rows'
// data is; "" when the pane is not paused.
func (l *List) pausedLabel() string {
	if !l.paused {
		return ""
	}
	s, _ := l.Feeds.Current()
	return " · paused " + DataAge(l.Env.now, s)
}

// SetFilter puts a filter in force (from the prompt, or a runbook step
// showing the pane) and rebuilds the rows.
func (l *List) SetFilter(f string) {
	l.Touch()
	if f != l.Filter {
		l.Picked = false // a new filter starts at its top
	}
	l.Filter = f
	l.rows.Rebuild()
}

// HandleKey applies the keys every list pane shares and reports whether it
// used msg. While the prompt is open every key edits the filter; in the
// detail view the movement keys scroll it and back or details close it;
// otherwise filter opens the prompt, back clears the filter, details opens
// the detail view of a row, next/prev db switch the source, and the
// movement keys move the cursor (picking a row; top gives the selection
// back to the sort order). Pause freezes or resumes the rows, in the
// detail view too.
func (l *List) HandleKey(msg tea.KeyPressMsg) bool {
	l.Touch()
	k := l.Env.Keys
	if l.Prompt.Editing() {
		if f := l.Prompt.Key(msg, k); f != l.Filter {
			l.Filter, l.Picked = f, false
			l.rows.Rebuild()
		}
		return true
	}
	if key.Matches(msg, k.List.Pause) {
		return l.TogglePause()
	}
	if l.Detail {
		switch {
		case key.Matches(msg, k.List.Back), key.Matches(msg, k.List.Details):
			l.Detail = false
		case key.Matches(msg, k.List.Down), key.Matches(msg, k.List.PageDn):
			l.DetailOff++
		case key.Matches(msg, k.List.Up), key.Matches(msg, k.List.PageUp):
			l.DetailOff = max(0, l.DetailOff-1)
		case key.Matches(msg, k.List.Top):
			l.DetailOff = 0
		default:
			return false
		}
		return true
	}
	switch {
	case key.Matches(msg, k.List.Filter):
		l.Prompt.Open(l.Filter)
	case key.Matches(msg, k.List.Back):
		if l.Filter != "" {
			l.SetFilter("")
		}
	case key.Matches(msg, k.List.Details):
		if l.rows.Len() > 0 {
			l.Detail, l.DetailOff, l.Picked = true, 0, true
		}
	case key.Matches(msg, k.Postgres.NextDB):
		if l.Feeds.Step(1) {
			l.rows.Rebuild()
		}
	case key.Matches(msg, k.Postgres.PrevDB):
		if l.Feeds.Step(-1) {
			l.rows.Rebuild()
		}
	default:
		if !l.Cursor.Move(msg, k.List, l.rows.Len(), l.rows.Visible()) {
			return false
		}
		l.Picked = !key.Matches(msg, k.List.Top)
	}
	return true
}

// Selected is the row under the cursor, -1 when there are none.
func (l *List) Selected() int {
	n := l.rows.Len()
	if n == 0 {
		return -1
	}
	return min(l.Cursor.Pos, n-1)
}

// FrameTitle is the frame title: focus key, the pane's name and the shown
// feed's age while it is late ("3 Postgres · pg main 2s"), and while the
// rows are paused how old their data is ("· paused 40s").
func (l *List) FrameTitle() string {
	s, ok := l.live()
	if _, off := l.unconfigured(); off && !ok {
		return l.label() // nothing to be fresh or late: the body says why
	}
	return l.label() + " · " + FeedTitle(l.Env, s, ok) + l.pausedLabel()
}

// SummaryHead starts a one-line summary: focus key, name and feed age, or
// the feed's notice when there is no data to sum up (then ok is false).
func (l *List) SummaryHead() (head string, ok bool) {
	s, has := l.Feeds.Current()
	if !has || s.Data == nil {
		n, _, _ := l.Notice()
		return l.label() + "  " + n[0], false
	}
	live, _ := l.live()
	return l.label() + "  " + FeedTitle(l.Env, live, has) + l.pausedLabel(), true
}

func (l *List) label() string {
	if l.Key == "" {
		return l.Meta.Title
	}
	return l.Key + " " + l.Meta.Title
}

// FilterLine is the line above the rows: the prompt being typed, or the
// filter in force, or nothing.
func (l *List) FilterLine() []string {
	p := l.Env.Theme.Paints
	switch {
	case l.Prompt.Editing():
		return []string{p.Accent.Render(l.Prompt.View())}
	case l.Filter != "":
		return []string{p.Muted.Render(fmt.Sprintf("filter %q", l.Filter))}
	}
	return nil
}

// Window keeps the cursor on one of n rows and in view in h lines (see
// Cursor.Scroll) and returns the range of rows on screen; the rows hidden
// above from and below to are told by a marker line each (Marker).
func (l *List) Window(n, h int) (from, to int) { return l.Cursor.Scroll(n, h) }

// Marker is the line that says n rows are hidden above (up) or below the
// rows shown: "↑ 3 more".
func (l *List) Marker(up bool, n int) string {
	th := l.Env.Theme
	arrow := "↓"
	switch {
	case up && th.ASCII:
		arrow = "^"
	case up:
		arrow = "↑"
	case th.ASCII:
		arrow = "v"
	}
	return th.Paints.Muted.Render(Fit(fmt.Sprintf("  %s %d more", arrow, n), l.W-2, th.Ellipsis))
}

// Position is the footer's "3/12".
func (l *List) Position(n int) string {
	return fmt.Sprintf("%d/%d", min(l.Cursor.Pos+1, n), n)
}

// Scrolled is the detail view's lines from its scroll offset.
func (l *List) Scrolled(lines []string) []string {
	if l.DetailOff > 0 && len(lines) > 0 {
		l.DetailOff = min(l.DetailOff, len(lines)-1)
		return lines[l.DetailOff:]
	}
	return lines
}

// ContentHeight is the block height that shows every row: border, column
// titles, the rows, and the filter and notice lines when they are shown;
// an open detail view wants all it can get. Panes of a few short rows
// report it as their WantHeight.
func (l *List) ContentHeight() int {
	if l.Detail {
		return 1 << 10
	}
	n := 2 + 1 + max(1, l.rows.Len())
	if l.Prompt.Editing() || l.Filter != "" {
		n++
	}
	notice, _, _ := l.Notice()
	return n + len(notice)
}

// Sheet is what a pane supplies to DrawSheet: its parts of the block. The
// List draws the rest the same way for every pane: the feed's notice, the
// detail view scrolled under it, the filter line, the window of rows that
// fit, the empty text, the position and the frame.
type Sheet struct {
	// Title is the frame title ("": FrameTitle).
	Title string
	// Notice replaces the feed's notice lines when it is not nil.
	Notice []string
	// Ready is whether there is data to draw rows of; without it the
	// block shows only the notice.
	Ready bool
	// Detail is the open detail view's lines for a body w cells wide, nil
	// when the pane has no detail to show now; DetailFooter is its footer
	// ("": back); Unscrolled leaves the scrolling to the pane.
	Detail       func(w int) []string
	DetailFooter string
	Unscrolled   bool
	// Above are the lines over the rows (figures, region errors), then
	// the filter line unless OwnFilter (the pane shows the prompt in
	// Above), then the column titles Head.
	Above     []string
	OwnFilter bool
	Head      []string
	// N is the number of rows; Visible how many fit (0: the lines left
	// under Head).
	N, Visible int
	// Rows appends the lines of rows [from, to) to body; dim says the
	// data is stale.
	Rows func(body []string, from, to int, dim bool) []string
	// Empty is the line shown when there are no rows, painted.
	Empty string
	// Footer follows the position ("3/12") in the bottom border.
	Footer string
}

// DrawSheet draws the pane's block from its parts (see Sheet): the frame
// at the List's size around the notice, then either the detail view or
// the rows that fit. Only the visible rows are formatted.
func (l *List) DrawSheet(focused bool, s Sheet) []string {
	notice, dim, has := l.Notice()
	if s.Notice != nil {
		notice = s.Notice
	}
	body := notice
	footer := ""
	inner := l.W - 2
	switch {
	case !has || !s.Ready:
	case l.Detail && s.Detail != nil:
		lines := s.Detail(inner)
		if !s.Unscrolled {
			lines = l.Scrolled(lines)
		}
		body = append(body, lines...)
		footer = s.DetailFooter
		if footer == "" {
			footer = KeyName(l.Env.Keys.List.Back) + " back"
		}
	default:
		body = append(body, s.Above...)
		if !s.OwnFilter {
			body = append(body, l.FilterLine()...)
		}
		body = append(body, s.Head...)
		h := s.Visible
		if h <= 0 {
			h = l.H - 2 - len(body)
		}
		from, to := l.Window(s.N, h)
		if from > 0 {
			body = append(body, l.Marker(true, from))
		}
		if s.Rows != nil {
			body = s.Rows(body, from, to, dim)
		}
		if to < s.N {
			body = append(body, l.Marker(false, s.N-to))
		}
		if s.N == 0 && s.Empty != "" {
			body = append(body, s.Empty)
		}
		footer = l.Position(s.N) + s.Footer
	}
	title := s.Title
	if title == "" {
		title = l.FrameTitle()
	}
	return Frame(l.Env.Theme, title, footer, focused, l.W, l.H, body)
}
