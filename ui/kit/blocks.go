package kit

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Blocks are the pane blocks the sessions of one world share (flightdeck
// serve): sessions that show a pane in the same state, at the same size
// and second, draw it once between them. Most of a crowd watching an
// incident are observers who never touch the panes, and each of them
// formatting the same rows every second was the biggest part of serve's
// CPU after the renderer.
//
// A pane takes part by saying what its drawing depends on (DrawKeyer);
// the List adds its own state (the feeds it shows, cursor, filter, prompt,
// detail). Whoever draws first for a key draws for everyone; the others
// get the very same lines, and the cursor and detail offset the drawing
// left. Only sessions that agree on everything an Env holds besides the
// theme and the clock (key map, policy, what is unconfigured, the
// recorder: one world) may share a Blocks.
//
// What it holds is bounded: the blocks of the current and the previous
// display second, at most maxSharedBlocks each (past that a session draws
// for itself).
type Blocks struct {
	mu       sync.Mutex
	sec      int64
	cur, old map[blockKey]*sharedBlock
	// grids are the panes' blocks joined into a screen body, by the
	// blocks (the same slices: shared blocks) and how they sit.
	grids, oldGrids map[any]*sharedGrid
	// frames are whole screens: the body with a header and status bar.
	frames, oldFrames map[frameKey]string

	draws, shared atomic.Int64
}

// maxSharedBlocks bounds the blocks kept per second: a few panes in a few
// states each (most sessions share one), not one per keystroke of 64
// operators.
const maxSharedBlocks = 512

// NewBlocks is an empty set of shared blocks, for one world.
func NewBlocks() *Blocks {
	return &Blocks{cur: map[blockKey]*sharedBlock{}, old: map[blockKey]*sharedBlock{},
		grids: map[any]*sharedGrid{}, oldGrids: map[any]*sharedGrid{},
		frames: map[frameKey]string{}, oldFrames: map[frameKey]string{}}
}

// Counts are how many blocks were drawn and how many were handed to a
// session that did not draw them, since the start (tests, benchmarks).
func (b *Blocks) Counts() (draws, shared int64) { return b.draws.Load(), b.shared.Load() }

// DrawKeyer is a pane whose drawing sessions may share: DrawKey writes
// everything its Draw reads besides the List's own state (Cursor, Filter,
// Prompt, Detail, DetailOff, Picked, the feeds' snapshots, the size, the
// focus, the theme and the display second): its own modes, second
// cursors, marks, and any state it kept from earlier snapshots. It
// reports false when the pane cannot say now (it draws for itself).
// TestSharedDrawKeys holds every built-in pane to it: two panes whose
// keys agree draw the same block.
type DrawKeyer interface {
	DrawKey(b *strings.Builder) bool
}

type blockKey struct {
	state   string
	theme   string
	focused bool
	w, h    int
	sec     int64
}

// sharedBlock is one drawing, made once.
type sharedBlock struct {
	once   sync.Once
	lines  []string
	cursor Cursor // what drawing left the drawer's cursor and
	off    int    // detail offset at (the window keeps the row in view)
}

// entry is the block for k, new or shared; nil when it is not to be kept
// (a second already past, or the second's room is full).
func (b *Blocks) entry(k blockKey) (e *sharedBlock, existed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case k.sec > b.sec:
		gap := k.sec > b.sec+1
		b.old, b.cur, b.sec = b.cur, make(map[blockKey]*sharedBlock, len(b.cur)), k.sec
		b.oldGrids, b.grids = b.grids, make(map[any]*sharedGrid, len(b.grids))
		b.oldFrames, b.frames = b.frames, make(map[frameKey]string, len(b.frames))
		if gap {
			clear(b.old)
			clear(b.oldGrids)
			clear(b.oldFrames)
		}
	case k.sec < b.sec-1:
		return nil, false
	}
	m := b.cur
	if k.sec < b.sec {
		m = b.old
	}
	if e = m[k]; e != nil {
		return e, true
	}
	if len(m) >= maxSharedBlocks {
		return nil, false
	}
	e = &sharedBlock{}
	m[k] = e
	return e, false
}

// sharedGrid is one joined body, made once.
type sharedGrid struct {
	once  sync.Once
	lines []string
	text  string
}

// Grid is the screen body joined from the panes' blocks, made once for
// every session whose blocks are the same slices sitting the same way:
// key says so (comparable; it holds the blocks, so none is reused while it
// is kept). join returns the body's lines and its text; neither may be
// changed by whoever gets them. Bounded like the screens.
func (b *Blocks) Grid(key any, join func() ([]string, string)) ([]string, string) {
	b.mu.Lock()
	g := b.grids[key]
	if g == nil {
		g = b.oldGrids[key]
	}
	switch {
	case g != nil:
		b.grids[key] = g
	case len(b.grids) < maxSharedFrames:
		g = &sharedGrid{}
		b.grids[key] = g
	}
	b.mu.Unlock()
	if g == nil {
		return join()
	}
	g.once.Do(func() { g.lines, g.text = join() })
	return g.lines, g.text
}

type frameKey struct{ head, body, status string }

// maxSharedFrames bounds the screens (and joined grid bodies) kept per
// second: each is the size of a screen, and only sessions showing the very
// same one gain from it.
const maxSharedFrames = 128

// Frame is the screen of head, body and status lines, one string for
// every session that shows the same: most observers' screens differ in
// nothing, and each building its own was a copy of the whole screen per
// session and frame.
func (b *Blocks) Frame(head, body, status string) string {
	k := frameKey{head, body, status}
	b.mu.Lock()
	f, ok := b.frames[k]
	if !ok {
		if f, ok = b.oldFrames[k]; ok {
			b.frames[k] = f
		}
	}
	b.mu.Unlock()
	if ok {
		return f
	}
	// Joined outside the lock every session's drawing takes: two sessions
	// may both join a new screen, and the first kept is the one shared.
	f = head + "\n" + body + "\n" + status
	b.mu.Lock()
	defer b.mu.Unlock()
	if kept, ok := b.frames[k]; ok {
		return kept
	}
	if len(b.frames) < maxSharedFrames {
		b.frames[k] = f
	}
	return f
}

// draw is the List's block through the shared set when the pane can say
// what it depends on, else its own drawing.
func (l *List) draw(focused bool) []string {
	b := l.Env.Blocks
	if b == nil {
		return l.rows.Draw(focused)
	}
	state, ok := l.drawKey()
	if !ok {
		b.draws.Add(1)
		return l.rows.Draw(focused)
	}
	th := l.Env.Theme
	look := th.Name
	if th.NoColor {
		look += "/nocolor"
	}
	if th.ASCII {
		look += "/ascii"
	}
	e, existed := b.entry(blockKey{state: state, theme: look, focused: focused, w: l.W, h: l.H, sec: l.Env.now.Unix()})
	if e == nil {
		b.draws.Add(1)
		return l.rows.Draw(focused)
	}
	e.once.Do(func() {
		b.draws.Add(1)
		e.lines = l.rows.Draw(focused)
		e.cursor, e.off = l.Cursor, l.DetailOff
	})
	if e.lines == nil { // the drawing did not finish (it panicked)
		return l.rows.Draw(focused)
	}
	if existed {
		b.shared.Add(1)
	}
	l.Cursor, l.DetailOff = e.cursor, e.off
	return e.lines
}

// drawKey is everything the pane's block depends on besides the size, the
// focus, the theme and the second; ok is false when the pane cannot share
// (it says nothing of its own state, or it is paused: the held snapshots
// are this session's alone).
func (l *List) drawKey() (string, bool) {
	k, ok := l.rows.(DrawKeyer)
	if !ok || l.paused {
		return "", false
	}
	var b strings.Builder
	b.Grow(128)
	b.WriteString(l.Meta.Title)
	b.WriteByte(0)
	b.WriteString(l.Key)
	b.WriteByte(0)
	l.Feeds.drawKey(&b)
	WriteInts(&b, l.Cursor.Pos, l.Cursor.Offset, l.DetailOff)
	WriteFlags(&b, l.Detail, l.Picked, l.Prompt.editing)
	b.WriteString(l.Filter)
	b.WriteByte(0)
	b.WriteString(l.Prompt.edit.Value)
	b.WriteByte(0)
	if !k.DrawKey(&b) {
		return "", false
	}
	return b.String(), true
}

// drawKey writes which snapshot of which source the feeds hold, in their
// order, and which is shown: the hub numbers each source's snapshots, and
// the sessions of one world get the same snapshot for a number.
func (f *Feeds) drawKey(b *strings.Builder) {
	WriteInts(b, f.cur, len(f.order))
	for _, n := range f.order {
		s := f.snaps[n]
		b.WriteString(n)
		b.WriteByte(0)
		WriteInts(b, int(s.Seq), int(s.FetchedAt.UnixNano()))
	}
}

// WriteInts writes numbers to a draw key, each ended so that no two lists
// read the same.
func WriteInts(b *strings.Builder, ns ...int) {
	var buf [20]byte
	for _, n := range ns {
		b.Write(strconv.AppendInt(buf[:0], int64(n), 10))
		b.WriteByte(',')
	}
}

// WriteNumbered writes a map of names to numbers to a draw key, by name.
func WriteNumbered[N int64 | uint64](b *strings.Builder, m map[string]N) {
	WriteInts(b, len(m))
	for _, n := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(n)
		b.WriteByte(0)
		WriteInts(b, int(m[n]))
	}
}

// WriteFlags writes yes/no answers to a draw key.
func WriteFlags(b *strings.Builder, vs ...bool) {
	for _, v := range vs {
		if v {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	b.WriteByte(',')
}
