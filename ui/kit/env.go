// Package kit is what every cockpit component shares, and the contracts
// through which the root and the components outside it meet: the
// environment the root hands them (theme, keys, policy, the clock of the
// current Update), the List base that list panes embed (cursor, filter
// prompt, detail view, render cache), the action entries a selection
// offers, the Dialog and View contracts with the messages of the data
// feed and of the one action flow (a request's typed Origin), the one
// pick-list dialog (Pick), the Feature and Screen contracts of what the
// global keys open, and the text fitting and formatting every block is
// drawn with. It imports no pane, view or root, so panes (ui/panes/...),
// views (ui/views/...) and the root (ui) all build on it.
package kit

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/themes"
)

// Env is what every component reads and only the root writes: one per
// session, shared by pointer.
type Env struct {
	Theme themes.Theme
	Keys  keymap.KeyMap
	// Policy is the session's complete policy, for hints and menu reasons
	// (scale bounds, the longest silence); the Executor enforces it.
	Policy ops.Policy
	// Unconfigured are the kinds no source provides, with what turns each
	// on: their panes say so instead of waiting (List.Notice).
	Unconfigured map[sources.Kind]string
	// Burns is the flight recorder's knowledge of when each SLO's burn
	// began, shared by every session (record.Recorder); nil when no
	// recorder runs. The SLO pane asks it rather than tracking what this
	// session happened to see, so it says what the timeline says.
	Burns BurnStarts
	// Blocks are the pane blocks this session shares with the other
	// sessions of its world (serve); nil: it draws every block itself.
	Blocks *Blocks

	// now is the display clock, whole seconds: every age and duration on
	// screen is computed from it, so a block's drawing changes at most once
	// a second and a cached block stays valid in between.
	now time.Time
	// exact is the clock of the Update, for the dialog key guard and a
	// plan's validity.
	exact time.Time
}

// BurnStarts says when an SLO's current burn began, as the flight
// recorder saw it (record.Recorder.BurnStart); known is false when it is
// not burning or was already burning when the recorder started.
type BurnStarts interface {
	BurnStart(source, slo string) (since time.Time, known bool)
}

// SetClock sets the clock of the current Update. Only the root calls it,
// once per message, so View never reads the wall clock and golden screens
// are stable.
func (e *Env) SetClock(t time.Time) { e.exact, e.now = t, t.Truncate(time.Second) }

// Now is the display clock (whole seconds).
func (e *Env) Now() time.Time { return e.now }

// Exact is the clock of the current Update.
func (e *Env) Exact() time.Time { return e.exact }

// Slot is where the root registered a pane: the session's Env and the
// focus key that selects it ("3"; "" past the ninth pane), which the pane
// shows before its title.
type Slot struct {
	Env *Env
	Key string
}

// Types reports whether a key press types text (a printable character
// without ctrl or alt). In a text field such a key is text: only the
// dialog's own bindings are checked before it, and a global binding on a
// printable key (q, j) gives way to typing.
func Types(msg tea.KeyPressMsg) bool {
	return msg.Text != "" && msg.Mod&(tea.ModCtrl|tea.ModAlt) == 0
}

// Cache keeps a component's last drawn block. The component Touches it
// whenever its state changes (every key routed to it, every snapshot),
// which is coarser than needed and never stale; size, focus and the
// display second are part of the key.
type Cache struct {
	rev   uint64
	key   cacheKey
	lines []string
	ok    bool
}

type cacheKey struct {
	rev     uint64
	focused bool
	w, h    int
	sec     int64
}

// Touch marks the cached block out of date.
func (c *Cache) Touch() { c.rev++ }

// Block returns the cached block, or draws and keeps a new one. A redraw is
// a new slice, so the root can tell by identity that a block changed.
func (c *Cache) Block(env *Env, focused bool, w, h int, draw func(focused bool) []string) []string {
	k := cacheKey{rev: c.rev, focused: focused, w: w, h: h, sec: env.now.Unix()}
	if c.ok && c.key == k {
		return c.lines
	}
	c.key, c.lines, c.ok = k, draw(focused), true
	return c.lines
}
