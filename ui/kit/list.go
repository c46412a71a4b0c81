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
// (scrolled with the movement keys) and the cache of its last drawn block.
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
	// W and H are the block's size, border included.
	W, H  int
	rows  Rows
	cache Cache
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
	return l.cache.Block(l.Env, focused, l.W, l.H, l.rows.Draw)
}

// SetSnapshot keeps s as its source's latest data and rebuilds the rows.
func (l *List) SetSnapshot(s sources.Snapshot) {
	l.Touch()
	l.Feeds.Set(s)
	l.rows.Rebuild()
}

// SetFilter puts a filter in force (from the prompt, or a runbook step
// showing the pane) and rebuilds the rows.
func (l *List) SetFilter(f string) {
	l.Touch()
	l.Filter = f
	l.rows.Rebuild()
}

// HandleKey applies the keys every list pane shares and reports whether it
// used msg. While the prompt is open every key edits the filter; in the
// detail view the movement keys scroll it and back or details close it;
// otherwise filter opens the prompt, back clears the filter, details opens
// the detail view of a row, next/prev db switch the source, and the
// movement keys move the cursor.
func (l *List) HandleKey(msg tea.KeyPressMsg) bool {
	l.Touch()
	k := l.Env.Keys
	if l.Prompt.Editing() {
		if f := l.Prompt.Key(msg, k); f != l.Filter {
			l.Filter = f
			l.rows.Rebuild()
		}
		return true
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
			l.Detail, l.DetailOff = true, 0
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
		return l.Cursor.Move(msg, k.List, l.rows.Len(), l.rows.Visible())
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
// feed's age ("3 Postgres · pg main 2s").
func (l *List) FrameTitle() string {
	s, ok := l.Feeds.Current()
	if _, off := l.unconfigured(); off && !ok {
		return l.label() // nothing to be fresh or late: the body says why
	}
	return l.label() + " · " + FeedTitle(l.Env, s, ok)
}

// SummaryHead starts a one-line summary: focus key, name and feed age, or
// the feed's notice when there is no data to sum up (then ok is false).
func (l *List) SummaryHead() (head string, ok bool) {
	s, has := l.Feeds.Current()
	if !has || s.Data == nil {
		n, _, _ := l.Notice()
		return l.label() + "  " + n[0], false
	}
	return l.label() + "  " + FeedTitle(l.Env, s, has), true
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

// Window clamps the cursor to n rows shown h at a time and returns the
// range of rows on screen.
func (l *List) Window(n, h int) (from, to int) {
	l.Cursor.Clamp(n, h)
	return l.Cursor.Offset, min(n, l.Cursor.Offset+h)
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
		if s.Rows != nil {
			body = s.Rows(body, from, to, dim)
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
