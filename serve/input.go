package serve

import (
	"io"
	"time"
	"unicode/utf8"
)

// What a client types is bounded before Bubble Tea's input reader sees it.
// That reader (ultraviolet's) keeps a bracketed paste whole until its end
// marker arrives, and keeps an unfinished escape sequence for as long as
// more bytes follow within its 50 ms escape timeout: fed without a pause,
// either grows without limit. The SSH channel itself holds at most its
// window (2 MiB), so the bound belongs between the two: inputGuard.
const (
	// MaxPaste is the longest bracketed paste passed on; a longer one is
	// dropped whole, with a notice.
	MaxPaste = 8 << 10
	// paceAfter is how many bytes are passed on without a pause; after
	// that the guard waits paceGap, longer than the reader's escape
	// timeout, so whatever it holds unfinished is flushed. Typing never
	// comes near it.
	paceAfter = 16 << 10
	paceGap   = 60 * time.Millisecond
	// readChunk is how much is read from the channel at a time.
	readChunk = 4 << 10
)

// pasteEnd is the end marker the guard passes on, whatever form the
// client's took.
const pasteEnd = "\x1b[201~"

// guardState is where the guard is in the client's byte stream.
type guardState int

const (
	inText      guardState = iota // plain input (keys, runes)
	inEsc                         // after ESC
	inCSI                         // ESC [ …, up to its final byte
	inString                      // OSC, DCS, APC, PM or SOS, up to its terminator
	inStringEsc                   // an ESC inside a string sequence
)

// inputGuard reads the client's input and passes on a bounded version of
// it:
//
//   - a bracketed paste is held (at most MaxPaste bytes) until its end
//     marker and then passed on whole, as text; a longer one is dropped
//     and onDrop is called, and the rest of it is discarded as it arrives;
//   - only valid UTF-8 is passed on, and no byte above 0x7f inside an
//     escape sequence, so no C1 control (an 8-bit CSI that could open a
//     paste unseen) reaches the reader;
//   - at most two ESC in a row (a run makes the reader recurse once per
//     byte);
//   - after paceAfter bytes without a pause, a pause of paceGap.
//
// It reads and passes on from one goroutine: Bubble Tea's reader.
type inputGuard struct {
	r      io.Reader
	onDrop func() // called once for each paste dropped
	now    func() time.Time
	sleep  func(time.Duration)

	in  []byte
	out []byte // ready to pass on

	state    guardState
	escRun   int    // ESC bytes in a row just passed on
	rune     []byte // a UTF-8 rune begun, not yet complete
	strKind  byte   // ']' 'P' '_' '^' or 'X' while inString
	csi      csiScan
	watch    pasteWatch
	pasting  bool   // inside a bracketed paste
	dropping bool   // the paste in progress is being dropped
	paste    []byte // the paste held so far

	burst    int       // bytes passed on since the last pause
	lastRead time.Time // when Read last returned
}

func newInputGuard(r io.Reader, onDrop func()) *inputGuard {
	return &inputGuard{r: r, onDrop: onDrop, now: time.Now, sleep: time.Sleep, in: make([]byte, readChunk)}
}

func (g *inputGuard) Read(p []byte) (int, error) {
	for len(g.out) == 0 {
		n, err := g.r.Read(g.in)
		for _, b := range g.in[:n] {
			g.feed(b)
		}
		if err != nil && len(g.out) == 0 {
			return 0, err
		}
	}
	now := g.now()
	if now.Sub(g.lastRead) > paceGap {
		g.burst = 0
	}
	if g.burst >= paceAfter {
		g.sleep(paceGap)
		g.burst = 0
		now = g.now()
	}
	n := copy(p, g.out)
	g.out = g.out[n:]
	if len(g.out) == 0 {
		g.out = nil
	}
	g.burst += n
	g.lastRead = now
	return n, nil
}

// feed takes one byte of the client's stream.
func (g *inputGuard) feed(b byte) {
	if g.pasting {
		g.feedPaste(b)
		return
	}
	switch g.state {
	case inText:
		g.text(b)
	case inEsc:
		g.afterEsc(b)
	case inCSI:
		switch g.csi.add(b) {
		case csiMore:
			g.emit(b)
		case csiDone:
			g.emit(b)
			g.state = inText
		case csiBroken:
			// The reader gives up on the sequence at this byte and reads
			// it afresh; so does the guard.
			g.state = inText
			g.text(b)
		}
	case inString:
		switch {
		case b == 0x1b:
			g.emit(b)
			g.state = inStringEsc
		case b >= 0x80:
			// Never passed on: the reader ends a string at the C1 ST (0x9c)
			// even inside a rune, and would read what follows as controls.
		case stringEnds(g.strKind, b):
			g.emit(b)
			g.state = inText
		default:
			g.emit(b)
		}
	case inStringEsc:
		g.state = inText
		if b == '\\' {
			g.emit(b)
			return
		}
		g.text(b)
	}
}

// stringEnds says whether b ends a string sequence of kind, as the reader
// decides it (besides ESC, which ends them all).
func stringEnds(kind, b byte) bool {
	switch kind {
	case ']': // OSC
		return b == 0x07 || b == 0x18 || b == 0x1a
	case 'P': // DCS
		return false
	default: // APC, PM, SOS
		return b == 0x18 || b == 0x1a
	}
}

// text takes a byte outside any escape sequence.
func (g *inputGuard) text(b byte) {
	if b == 0x1b {
		g.rune = g.rune[:0]
		if g.escRun >= 2 {
			return
		}
		g.emit(b)
		g.escRun++
		g.state = inEsc
		return
	}
	g.escRun = 0
	g.utf8(b, g.emitRune)
}

// utf8 passes on only whole, valid runes: stray continuation bytes and
// invalid leads (C1 controls among them) are dropped.
func (g *inputGuard) utf8(b byte, emit func([]byte)) {
	if b < 0x80 {
		g.rune = g.rune[:0]
		emit([]byte{b})
		return
	}
	if len(g.rune) > 0 && b >= 0x80 && b < 0xc0 {
		g.rune = append(g.rune, b)
		if utf8.FullRune(g.rune) {
			if utf8.Valid(g.rune) {
				emit(g.rune)
			}
			g.rune = g.rune[:0]
		}
		return
	}
	g.rune = g.rune[:0]
	if b >= 0xc2 && b <= 0xf4 {
		g.rune = append(g.rune, b)
	}
}

func (g *inputGuard) emitRune(r []byte) {
	for _, b := range r {
		g.emit(b)
	}
}

// emit passes b on, and watches what is passed on for a paste's start
// marker: what the reader will see, whatever the guard thought the bytes
// were, so that a sequence the two read differently cannot open a paste
// the guard does not hold.
func (g *inputGuard) emit(b byte) {
	g.out = append(g.out, b)
	if g.watch.see(b) {
		g.pasting, g.dropping, g.paste = true, false, g.paste[:0]
		g.state, g.rune = inText, g.rune[:0]
	}
}

// pasteWatch finds CSI 200 ~ in what is passed on: after ESC [ or a lone
// 0x9b (the 8-bit CSI; never passed on outside a rune, but a rune the
// reader splits could leave one at the start of an event).
type pasteWatch struct {
	esc  bool
	in   bool
	scan csiScan
}

func (w *pasteWatch) see(b byte) bool {
	if w.in {
		switch w.scan.add(b) {
		case csiMore:
			return false
		case csiDone:
			w.in = false
			return w.scan.isPaste(200)
		case csiBroken:
			w.in = false
		}
	}
	switch {
	case w.esc && b == '[':
		w.esc, w.in, w.scan = false, true, csiScan{}
	case b == 0x9b:
		w.esc, w.in, w.scan = false, true, csiScan{}
	default:
		w.esc = b == 0x1b
	}
	return false
}

// afterEsc takes the byte after an ESC outside a paste.
func (g *inputGuard) afterEsc(b byte) {
	switch b {
	case '[':
		g.emit(b)
		g.csi = csiScan{}
		g.state = inCSI
	case ']', 'P', '_', '^', 'X':
		g.emit(b)
		g.strKind = b
		g.state = inString
	default:
		// ESC then a key (alt+key), another ESC, or a rune: read afresh.
		g.state = inText
		g.text(b)
		return
	}
	g.escRun = 0
}

// feedPaste takes a byte inside a bracketed paste. The paste is held as
// text (valid UTF-8, no escape sequences: nothing that could hide its end
// from the reader); any CSI in it is read only to find the end marker.
func (g *inputGuard) feedPaste(b byte) {
	switch g.state {
	case inEsc:
		if b == '[' {
			g.csi = csiScan{}
			g.state = inCSI
			return
		}
		g.state = inText // the ESC is dropped
	case inCSI:
		switch g.csi.add(b) {
		case csiMore:
			return
		case csiDone:
			g.state = inText
			if g.csi.isPaste(201) {
				g.endPaste()
			}
			return
		case csiBroken:
			g.state = inText
		}
	}
	if b == 0x1b {
		g.rune = g.rune[:0]
		g.state = inEsc
		return
	}
	if g.dropping {
		return
	}
	g.utf8(b, func(r []byte) {
		if len(g.paste)+len(r) > MaxPaste {
			g.dropPaste()
			return
		}
		g.paste = append(g.paste, r...)
	})
}

// endPaste passes on the paste held and the end marker.
func (g *inputGuard) endPaste() {
	if !g.dropping {
		g.out = append(g.out, g.paste...)
		g.out = append(g.out, pasteEnd...)
	}
	g.pasting, g.dropping = false, false
	g.watch = pasteWatch{}
	g.paste = g.paste[:0]
	if cap(g.paste) > MaxPaste*2 {
		g.paste = nil
	}
}

// dropPaste gives up the paste in progress: the reader is told it ended
// (empty), the rest is discarded up to its end marker.
func (g *inputGuard) dropPaste() {
	g.dropping = true
	g.paste = g.paste[:0]
	g.out = append(g.out, pasteEnd...)
	if g.onDrop != nil {
		g.onDrop()
	}
}

// csiScan follows a CSI sequence after ESC [ the way the reader parses it,
// enough to tell a bracketed-paste marker (CSI 200 ~ or CSI 201 ~).
type csiScan struct {
	n         int  // bytes after ESC [
	phase     int  // 0 parameters, 1 intermediates
	prefix    bool // a private prefix (< = > ?) opened it
	first     int  // the first parameter's value
	digits    int  // its digits
	firstDone bool // ; or : ended it
	final     byte
}

type csiStep int

const (
	csiMore   csiStep = iota // the sequence goes on
	csiDone                  // b was its final byte
	csiBroken                // b cannot be part of it
)

func (c *csiScan) add(b byte) csiStep {
	c.n++
	switch {
	case c.phase == 0 && b >= 0x30 && b <= 0x3f:
		if c.n == 1 && b >= '<' {
			c.prefix = true
		}
		switch {
		case b >= '0' && b <= '9' && !c.firstDone:
			c.digits++
			if c.digits <= 9 {
				c.first = c.first*10 + int(b-'0')
			}
		case b == ';' || b == ':':
			c.firstDone = true
		}
		return csiMore
	case b >= 0x20 && b <= 0x2f:
		c.phase = 1
		return csiMore
	case b >= 0x40 && b <= 0x7e:
		c.final = b
		return csiDone
	}
	return csiBroken
}

// isPaste says whether the finished sequence is CSI marker ~. More digits
// than a parameter is ever written with count as a marker: the reader's
// arithmetic overflows, and a guard that misses a paste start is worse than
// one that holds something that was not one.
func (c *csiScan) isPaste(marker int) bool {
	if c.final != '~' || c.prefix || c.phase != 0 || c.digits == 0 {
		return false
	}
	return c.first == marker || c.digits > 5
}
