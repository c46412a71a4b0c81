package ui

import (
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/sources"
	"flightdeck/themes"
)

// Component is what the root asks of every pane, soft-serve style: each pane
// also has an Update returning its own concrete type, so the root never
// type-asserts its children. Help follows the focused pane through the
// help.KeyMap methods.
type Component interface {
	SetSize(w, h int)
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

// shared is what every pane reads but only the root writes: theme, keys and
// the clock of the current Update (so View never reads the wall clock and
// golden screens are stable).
type shared struct {
	th themes.Theme
	km keymap.KeyMap
	// now is the display clock, whole seconds: every age and duration on
	// screen is computed from it, so a pane's drawing changes at most once a
	// second and a cached block stays valid in between.
	now time.Time
	// exact is the clock of the Update, for the dialog key guard and the
	// plan's validity.
	exact time.Time
	prod  bool
}

func (c *shared) setNow(t time.Time) { c.exact, c.now = t, t.Truncate(time.Second) }

// viewKey is everything a pane's drawing depends on besides its own state,
// whose changes bump rev: an equal key means the cached block is current.
type viewKey struct {
	rev     uint64
	focused bool
	w, h    int
	sec     int64
}

// paneCache keeps a pane's last drawn block. Panes bump rev whenever their
// state changes (every key routed to them, every snapshot), which is
// coarser than needed and never stale.
type paneCache struct {
	rev   uint64
	key   viewKey
	lines []string
	ok    bool
	gen   uint64 // bumped at every redraw, so the root can cache the grid
}

func (pc *paneCache) touch() { pc.rev++ }

// view returns the cached block or draws a new one.
func (pc *paneCache) view(c *shared, focused bool, w, h int, draw func(bool) []string) []string {
	k := viewKey{rev: pc.rev, focused: focused, w: w, h: h, sec: c.now.Unix()}
	if pc.ok && pc.key == k {
		return pc.lines
	}
	pc.key, pc.lines, pc.ok = k, draw(focused), true
	pc.gen++
	return pc.lines
}

// list is a cursor over n rows shown h at a time.
type list struct{ cursor, offset int }

func (l *list) clamp(n, h int) {
	if l.cursor >= n {
		l.cursor = n - 1
	}
	if l.cursor < 0 {
		l.cursor = 0
	}
	if h < 1 {
		h = 1
	}
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+h {
		l.offset = l.cursor - h + 1
	}
	if l.offset > max0(n-h) {
		l.offset = max0(n - h)
	}
	if l.offset < 0 {
		l.offset = 0
	}
}

// move handles the movement keys; it reports whether msg was one.
func (l *list) move(msg tea.KeyPressMsg, km keymap.List, n, h int) bool {
	switch {
	case key.Matches(msg, km.Up):
		l.cursor--
	case key.Matches(msg, km.Down):
		l.cursor++
	case key.Matches(msg, km.Top):
		l.cursor = 0
	case key.Matches(msg, km.Bottom):
		l.cursor = n - 1
	case key.Matches(msg, km.PageUp):
		l.cursor -= max(1, h-1)
	case key.Matches(msg, km.PageDn):
		l.cursor += max(1, h-1)
	default:
		return false
	}
	l.clamp(n, h)
	return true
}

// feeds keeps the latest snapshot of each source feeding one pane; several
// Postgres databases (or clusters) are switched with [ and ].
type feeds struct {
	snaps map[string]sources.Snapshot
	order []string
	cur   int
}

func (f *feeds) set(s sources.Snapshot) {
	if f.snaps == nil {
		f.snaps = map[string]sources.Snapshot{}
	}
	if _, ok := f.snaps[s.Source]; !ok {
		f.order = append(f.order, s.Source)
	}
	f.snaps[s.Source] = s
}

func (f *feeds) current() (sources.Snapshot, bool) {
	if len(f.order) == 0 {
		return sources.Snapshot{}, false
	}
	return f.snaps[f.order[f.cur]], true
}

func (f *feeds) name() string {
	if len(f.order) == 0 {
		return ""
	}
	return f.order[f.cur]
}

func (f *feeds) step(d int) bool {
	if len(f.order) < 2 {
		return false
	}
	f.cur = (f.cur + d + len(f.order)) % len(f.order)
	return true
}

// filterPrompt is a pane's "/" prompt: typing edits the filter live, enter
// keeps it, esc clears it. Every pane filters the same way.
type filterPrompt struct {
	editing bool
	edit    lineEdit
}

// open starts editing from the filter in force.
func (f *filterPrompt) open(current string) { f.editing, f.edit.value = true, current }

// key applies one key while the prompt is open and returns the filter in
// force afterwards.
func (f *filterPrompt) key(km tea.KeyPressMsg, k keymap.KeyMap) string {
	switch {
	case key.Matches(km, k.List.Back):
		f.editing, f.edit.value = false, ""
	case km.String() == "enter":
		f.editing = false
	default:
		f.edit.handle(km)
	}
	return f.edit.value
}

// lineEdit is a minimal single-line editor. It is deliberately not
// bubbles/textinput: no blinking cursor means no timer messages, so
// dialogs stay deterministic for tests and cheap to redraw.
type lineEdit struct {
	value string
}

// handle applies an editing key; it reports whether the key was consumed.
func (e *lineEdit) handle(msg tea.KeyPressMsg) bool {
	switch msg.String() {
	case "backspace", "ctrl+h":
		if e.value != "" {
			_, n := utf8.DecodeLastRuneInString(e.value)
			e.value = e.value[:len(e.value)-n]
		}
		return true
	case "ctrl+u":
		e.value = ""
		return true
	case "ctrl+w":
		v := []rune(e.value)
		i := len(v)
		for i > 0 && v[i-1] == ' ' {
			i--
		}
		for i > 0 && v[i-1] != ' ' {
			i--
		}
		e.value = string(v[:i])
		return true
	}
	if msg.Text != "" && msg.Mod&(tea.ModCtrl|tea.ModAlt) == 0 {
		for _, r := range msg.Text {
			if r < 0x20 || r == 0x7f {
				return true
			}
		}
		e.value += msg.Text
		return true
	}
	return false
}

func (e lineEdit) view() string { return e.value + "_" }

// dataNotice describes a feed's health for the pane body: waiting, error
// without data, or error with stale data (dimmed). hasData says whether
// there is anything to draw.
func dataNotice(c *shared, s sources.Snapshot, ok bool, what string) (notice []string, dim, hasData bool) {
	if !ok {
		return []string{c.th.Paints.Muted.Render("waiting for " + what + "…")}, false, false
	}
	if s.Data == nil {
		if s.Err != nil {
			return []string{c.th.Paints.Error.Render(s.Source + ": " + s.Err.Error())}, false, false
		}
		return []string{c.th.Paints.Muted.Render("waiting for " + s.Source + "…")}, false, false
	}
	if s.Err != nil || s.Stale {
		msg := "stale"
		if s.Err != nil {
			msg = s.Err.Error()
		}
		return []string{c.th.Paints.Error.Render("ERR " + msg + " — showing data from " + fmtAge(s.Age(c.now)) + " ago")}, true, true
	}
	return nil, false, true
}

// feedTitle is the data-age part of a pane title.
func feedTitle(c *shared, s sources.Snapshot, ok bool) string {
	if !ok {
		return "…"
	}
	age := "-"
	if !s.FetchedAt.IsZero() {
		age = fmtAge(s.Age(c.now))
	}
	if s.Err != nil {
		return s.Source + " ERR " + age
	}
	return s.Source + " " + age
}
