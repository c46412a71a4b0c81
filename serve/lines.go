package serve

import (
	"sync"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// The line cache parses each distinct screen line into cells once for every
// session: 50 observers of one incident see the same lines, and a second of
// the demo world changes a few dozen of them. Bubble Tea's renderer parsed
// every session's whole screen on every frame (a third of serve's CPU).

// lineKey is what a parsed line depends on: its text (with the style it
// inherits from the line above written in front, see styledPrefix), the
// width it is drawn at and how character widths are measured.
type lineKey struct {
	text   string
	width  int
	method ansi.Method
}

// lineEntry is one parsed line. cells is shared by every session that draws
// the line and never written after parse; end is the pen (style and
// hyperlink) the line leaves open for the next one, as Bubble Tea's parser
// carries it across a newline.
type lineEntry struct {
	once  sync.Once
	cells uv.Line
	end   pen
}

// pen is the style and hyperlink in effect.
type pen struct {
	style uv.Style
	link  uv.Link
}

func (p *pen) equal(o *pen) bool { return p.style.Equal(&o.style) && p.link == o.link }

func (p *pen) zero() bool { return p.style.IsZero() && p.link.IsZero() }

// styledPrefix writes the pen in front of a line, so that the line parsed on
// its own gives the cells it gives in the whole frame.
func (p *pen) styledPrefix() string {
	s := ""
	if !p.style.IsZero() {
		s = p.style.String()
	}
	if !p.link.IsZero() {
		s += ansi.SetHyperlink(p.link.URL, p.link.Params)
	}
	return s
}

// The cache keeps the lines asked for in the current generation and the
// one before; a generation ends after lineCacheAge or when it holds
// lineCacheCells cells, so what it holds is bounded (2×lineCacheCells
// cells, about 60 MB at most, a few MB for an incident) whatever the
// sessions show. A line not found is parsed again: the cache only ever
// saves work, each session keeps what is on its own screen.
const (
	lineCacheCells = 1 << 18
	lineCacheAge   = 2 * time.Second
)

// lineCache is shared by a Server's sessions.
type lineCache struct {
	mu      sync.Mutex
	cur     map[lineKey]*lineEntry
	old     map[lineKey]*lineEntry
	cells   int // in cur
	started time.Time
}

func newLineCache() *lineCache {
	return &lineCache{cur: map[lineKey]*lineEntry{}, old: map[lineKey]*lineEntry{}, started: time.Now()}
}

// get returns the line parsed; concurrent callers of a new line wait for
// one parse.
func (c *lineCache) get(k lineKey) *lineEntry {
	c.mu.Lock()
	e, ok := c.cur[k]
	if !ok {
		if now := time.Now(); c.cells+k.width > lineCacheCells || now.Sub(c.started) > lineCacheAge {
			c.old, c.cur, c.cells, c.started = c.cur, make(map[lineKey]*lineEntry, len(c.cur)), 0, now
		}
		if e, ok = c.old[k]; !ok {
			e = &lineEntry{}
		}
		c.cur[k] = e
		c.cells += k.width
	}
	c.mu.Unlock()
	e.once.Do(func() { e.parse(k) })
	return e
}

// parse draws the line into cells exactly as Bubble Tea's renderer draws
// a frame's line (uv.StyledString, truncated at the width).
func (e *lineEntry) parse(k lineKey) {
	buf := uv.NewScreenBuffer(k.width, 1)
	buf.Method = k.method
	uv.NewStyledString(k.text).Draw(buf, buf.Bounds())
	e.cells = buf.Lines[0]
	e.end = endPen(k.text)
}

// endPen is the pen left in effect after s: SGR and OSC 8 sequences
// change it, nothing else does (not a newline, not a carriage return).
func endPen(s string) pen {
	var p pen
	parser := ansi.GetParser()
	defer ansi.PutParser(parser)
	var state byte
	for len(s) > 0 {
		seq, width, n, next := ansi.DecodeSequence(s, state, parser)
		if width == 0 {
			switch {
			case ansi.HasCsiPrefix(seq) && parser.Command() == 'm':
				uv.ReadStyle(parser.Params(), &p.style)
			case ansi.HasOscPrefix(seq) && parser.Command() == 8:
				uv.ReadLink(parser.Data(), &p.link)
			}
		}
		state, s = next, s[n:]
	}
	return p
}
