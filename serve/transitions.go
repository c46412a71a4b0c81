package serve

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// frameConfig is everything besides the screen that decides the bytes a
// frame costs: the size, the colours, how characters are measured, the
// terminal type (its capabilities) and how the cursor may move.
type frameConfig struct {
	w, h             int
	profile          colorprofile.Profile
	method           ansi.Method
	term             string
	onlcr, scrollOpt bool
}

// screenState is what a session's terminal shows: a frame the cockpit
// made, the cursor where the last frame left it, no style in effect; or,
// unknown, a screen to erase (the first frame, a new size).
type screenState struct {
	cfg     frameConfig
	content string
	x, y    int
	unknown bool
}

// transition is the bytes that take a terminal from one screen to the
// next, and the state they leave it in.
type transition struct {
	once sync.Once
	out  []byte
	to   screenState
}

type transKey struct {
	from screenState
	to   string
}

// renderHub computes every transition once for all the sessions that
// make it, with a renderer (ultraviolet's, which knows the screen it
// drew) left in the state the last transition put it in. A session whose
// screen no renderer is in (it went its own way while the others went
// on) gets one made for it: the renderer draws the session's screen
// without sending it, once, and goes on from there.
//
// What it holds is bounded by time: transitions of the last
// transitionAge or two, renderers used in the last rendererIdle.
type renderHub struct {
	lines *lineCache

	mu      sync.Mutex
	cur     map[transKey]*transition
	old     map[transKey]*transition
	started time.Time
	idle    map[screenState]*renderer
	swept   time.Time
	made    int // renderers made, for tests
	// asked and computed count transitions, for benchmarks: how many
	// sessions' frames one computation served.
	asked, computed int
}

const (
	transitionAge = 2 * time.Second
	rendererIdle  = 5 * time.Second
)

func newRenderHub(lines *lineCache) *renderHub {
	now := time.Now()
	return &renderHub{lines: lines, cur: map[transKey]*transition{}, old: map[transKey]*transition{},
		idle: map[screenState]*renderer{}, started: now, swept: now}
}

// transition returns the bytes from to the frame to; sessions asking for
// the same one at once wait for one computation.
func (h *renderHub) transition(from screenState, to string) *transition {
	k := transKey{from: from, to: to}
	h.mu.Lock()
	now := time.Now()
	if now.Sub(h.started) > transitionAge {
		h.old, h.cur, h.started = h.cur, make(map[transKey]*transition, len(h.cur)), now
	}
	h.asked++
	t, ok := h.cur[k]
	if !ok {
		if t, ok = h.old[k]; !ok {
			t = &transition{}
		}
		h.cur[k] = t
	}
	h.mu.Unlock()
	t.once.Do(func() { t.out, t.to = h.compute(from, to) })
	return t
}

func (h *renderHub) compute(from screenState, to string) ([]byte, screenState) {
	h.mu.Lock()
	h.computed++
	r := h.idle[from]
	delete(h.idle, from)
	if r == nil {
		h.made++
	}
	h.mu.Unlock()
	if r == nil {
		r = newRenderer(from.cfg, h.lines)
		if !from.unknown {
			r.warm(from)
		}
	}
	out := r.render(to)
	r.state = screenState{cfg: from.cfg, content: to}
	r.state.x, r.state.y = r.scr.Position()
	h.put(r)
	return out, r.state
}

// put keeps r for the next transition from its state, and lets go of
// renderers nobody used for rendererIdle.
func (h *renderHub) put(r *renderer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	r.used = now
	if _, ok := h.idle[r.state]; !ok {
		h.idle[r.state] = r
	}
	if now.Sub(h.swept) > time.Second {
		h.swept = now
		for k, o := range h.idle {
			if now.Sub(o.used) > rendererIdle {
				delete(h.idle, k)
			}
		}
	}
}

// renderer is ultraviolet's terminal renderer with the screen it drew,
// row by row.
type renderer struct {
	cfg   frameConfig
	lines *lineCache
	scr   *uv.TerminalRenderer
	buf   bytes.Buffer
	next  *uv.RenderBuffer
	state screenState
	used  time.Time

	drawn   []string // each row's text as drawn
	in      []pen    // the pen each row inherited when drawn
	ents    []*lineEntry
	prev    []string       // drawn, before this frame
	changed []int          // the rows this frame changed
	rowOf   map[string]int // prev's rows by text, for moved
}

// newRenderer is set up as Bubble Tea sets its renderer up for a program
// on the alternate screen, the screen to be erased.
func newRenderer(cfg frameConfig, lines *lineCache) *renderer {
	r := &renderer{cfg: cfg, lines: lines}
	scr := uv.NewTerminalRenderer(&r.buf, []string{"TERM=" + cfg.term})
	scr.SetColorProfile(cfg.profile)
	// A terminal in raw mode: a line feed keeps the column, tabs stop
	// every 8 columns (the session sets them), a backspace moves one left.
	scr.SetMapNewline(cfg.onlcr)
	scr.SetBackspace(!cfg.onlcr)
	if cfg.onlcr {
		scr.SetTabStops(-1)
	} else {
		scr.SetTabStops(cfg.w)
	}
	scr.Resize(cfg.w, cfg.h)
	scr.SaveCursor()
	scr.SetFullscreen(true)
	scr.SetRelativeCursor(false)
	scr.Erase()
	r.scr = scr
	r.next = uv.NewRenderBuffer(cfg.w, cfg.h)
	r.drawn = make([]string, cfg.h)
	r.in = make([]pen, cfg.h)
	r.ents = make([]*lineEntry, cfg.h) // nil: drawn next frame
	return r
}

// warm brings a new renderer to s without sending anything: the session's
// terminal shows s already.
func (r *renderer) warm(s screenState) {
	r.render(s.content)
	r.scr.MoveTo(s.x, s.y)
	_ = r.scr.Flush()
	r.buf.Reset()
}

// render returns the bytes from the renderer's screen to content.
func (r *renderer) render(content string) []byte {
	moved := r.compose(content)
	if len(r.changed) > 0 {
		r.scr.SetScrollOptim(r.cfg.scrollOpt || moved)
		r.scr.Render(r.next)
	}
	_ = r.scr.Flush()
	out := bytes.Clone(r.buf.Bytes())
	r.buf.Reset()
	return out
}

// compose puts the frame's changed rows into the render buffer and marks
// them touched; unchanged rows stay as they are, untouched. It returns
// whether rows moved up or down together (see moved).
func (r *renderer) compose(content string) bool {
	w, h := r.cfg.w, r.cfg.h
	content = strings.ReplaceAll(content, "\r\n", "\n")
	r.prev = append(r.prev[:0], r.drawn...)
	r.changed = r.changed[:0]
	var carry pen
	rest := content
	for y := range h {
		line := ""
		if rest != "" {
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				line, rest = rest, ""
			}
		}
		if r.drawn[y] == line && r.in[y].equal(&carry) && r.ents[y] != nil {
			carry = r.ents[y].end
			continue
		}
		text := line
		if !carry.zero() {
			text = carry.styledPrefix() + line
		}
		e := r.lines.get(lineKey{text: text, width: w, method: r.cfg.method})
		copy(r.next.Lines[y], e.cells)
		r.next.TouchLine(0, y, w)
		r.drawn[y], r.in[y], r.ents[y] = line, carry, e
		r.changed = append(r.changed, y)
		carry = e.end
	}
	return len(r.changed) >= minScrollRows && r.moved()
}

// minScrollRows is the fewest rows the renderer scrolls together (its
// hunks of fewer are discarded).
const minScrollRows = 3

// moved says whether at least minScrollRows consecutive changed rows show
// what the rows a fixed distance away showed before: a pane grew or shrank
// a line and everything under it moved. Only then does the renderer's
// scroll optimisation pay: it hashes every row of both screens to find
// what moved, which a frame whose ages changed does not need (that
// hashing made it a seventh of serve's CPU), while a moved block redrawn
// row by row costs many bytes.
func (r *renderer) moved() bool {
	if r.rowOf == nil {
		r.rowOf = map[string]int{}
	}
	clear(r.rowOf)
	for y, t := range r.prev {
		if t == "" {
			continue
		}
		if _, dup := r.rowOf[t]; dup {
			r.rowOf[t] = -1 // not unique: it cannot tell a move
		} else {
			r.rowOf[t] = y
		}
	}
	run, shift, last := 0, 0, -2
	for _, y := range r.changed {
		old, ok := r.rowOf[r.drawn[y]]
		if !ok || old < 0 || old == y {
			run = 0
			continue
		}
		if y == last+1 && old-y == shift {
			run++
		} else {
			run, shift = 1, old-y
		}
		last = y
		if run >= minScrollRows {
			return true
		}
	}
	return false
}
