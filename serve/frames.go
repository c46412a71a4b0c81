package serve

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// A session's frames are drawn by serve, not by Bubble Tea's renderer (the
// program runs WithoutRenderer): the renderer parsed the whole View string
// into cells and diffed every cell against the previous frame each time
// anything changed, and 50 sessions paid it 50 times (87% of serve's CPU in
// the demo world). Here a frame costs what changed in it:
//
//   - a line whose text did not change since the session's last frame is
//     neither parsed nor diffed (a string comparison);
//   - a changed line is parsed once for all sessions (lineCache) and only
//     changed lines are diffed against what the session's terminal shows;
//   - a session draws when its frame changed, at most fps times a second
//     (observers less often than operators), and sends nothing otherwise;
//   - the bytes go to the SSH channel as they are: the emulated pty of
//     charm's ssh package turned every "\n" into "\r\n" (ONLCR), so
//     Bubble Tea had to assume a newline returns the cursor to column 0
//     and moved to each changed cell with "\r\n" and an absolute column
//     (ESC[94G). The client's terminal (OpenSSH puts it in raw mode, no
//     output processing) keeps the column on a line feed, as a local
//     terminal in raw mode does, so the renderer moves with "\n" and
//     backspaces or tabs, the local renderer's bytes.
//
// What goes to the terminal is otherwise Bubble Tea's: the same
// ultraviolet TerminalRenderer with its cursor optimisation, the alternate
// screen, bracketed paste, the window title and keyboard modes, the
// synchronized-output and Unicode-width queries, and their undoing at the
// end.

// frameWriter draws one session's frames to its terminal.
type frameWriter struct {
	out   io.Writer // the SSH channel, no newline translation (see onlcr)
	lines *lineCache
	every time.Duration // at least this long between two frames
	// onlcr says out turns "\n" into "\r\n" (no raw channel was found).
	onlcr     bool
	scrollOpt bool
	env       []string

	mu      sync.Mutex
	view    tea.View // the newest frame offered
	seq     uint64   // counts offers
	w, h    int
	syncd   bool        // the terminal said it has synchronized output
	method  ansi.Method // how the terminal measures characters
	closed  bool
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}

	// The rest belongs to the drawing goroutine, then to close.
	scr          *uv.TerminalRenderer
	buf          bytes.Buffer // what scr writes, sent once a frame
	out2         bytes.Buffer // buf with the frame's mode changes around it
	next         *uv.RenderBuffer
	drawn        []string // each row's text as last drawn
	in           []pen    // the pen each row inherited when drawn
	ents         []*lineEntry
	prev         []string       // drawn, before this frame
	changed      []int          // the rows this frame changed
	rowOf        map[string]int // prev's rows by text, for moved
	drawnSeq     uint64
	started      bool
	dw, dh       int
	dmethod      ansi.Method
	title        string
	kbdFlags     int
	profile      colorprofile.Profile
	content      string // the frame last composed
	changedShape bool   // size or width method changed since
}

// newFrameWriter starts the drawing goroutine; close ends it.
func newFrameWriter(out io.Writer, onlcr bool, lines *lineCache, env []string, profile colorprofile.Profile, w, h, fps int) *frameWriter {
	f := &frameWriter{out: out, onlcr: onlcr, lines: lines, env: env, profile: profile, w: w, h: h,
		every: time.Second / time.Duration(max(fps, 1)), method: ansi.WcWidth, dmethod: ansi.WcWidth,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go f.run()
	return f
}

// offer is the program's newest frame (called from its event loop).
func (f *frameWriter) offer(v tea.View) {
	f.mu.Lock()
	f.view = v
	f.seq++
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// resize is the size the next frames are drawn at.
func (f *frameWriter) resize(w, h int) {
	f.mu.Lock()
	f.w, f.h = w, h
	f.mu.Unlock()
}

// modeReport takes the terminal's answers to the start-up queries.
func (f *frameWriter) modeReport(m tea.ModeReportMsg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m.Mode {
	case ansi.ModeSynchronizedOutput:
		if m.Value == ansi.ModeReset {
			f.syncd = true
		}
	case ansi.ModeUnicodeCore:
		if m.Value == ansi.ModeReset || m.Value == ansi.ModeSet || m.Value == ansi.ModePermanentlySet {
			f.method = ansi.GraphemeWidth
		}
	}
}

func (f *frameWriter) run() {
	defer close(f.stopped)
	// The first frame waits a frame's time too, as Bubble Tea's does: the
	// start-up messages (the size, the terminal's reports) arrive first.
	pace := time.NewTimer(f.every)
	defer pace.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-pace.C:
		}
		select {
		case <-f.stop:
			return
		case <-f.wake:
		}
		f.draw(false)
		pace.Reset(f.every)
	}
}

// close draws the last frame offered, then leaves the terminal as Bubble
// Tea leaves it: main screen, cursor shown, modes reset. Call it once the
// program has returned.
func (f *frameWriter) close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.mu.Unlock()
	close(f.stop)
	<-f.stopped
	if !f.started {
		return
	}
	f.draw(true)
	b := &f.buf
	b.Reset()
	b.WriteString(ansi.ResetModifyOtherKeys + ansi.PopKittyKeyboard(1))
	f.scr.MoveTo(0, max(f.dh-1, 0))
	_ = f.scr.Flush()
	b.WriteString(ansi.ResetModeAltScreenSaveCursor + ansi.SetModeTextCursorEnable + ansi.ResetModeBracketedPaste)
	if f.title != "" {
		b.WriteString(ansi.SetWindowTitle(""))
	}
	if f.dmethod == ansi.GraphemeWidth {
		b.WriteString(ansi.ResetModeUnicodeCore)
	}
	_, _ = f.out.Write(b.Bytes())
	b.Reset()
}

// draw sends what changed since the last frame; nothing when nothing did
// (unless final, which draws what was offered last).
func (f *frameWriter) draw(final bool) {
	f.mu.Lock()
	v, seq, w, h, syncd, method := f.view, f.seq, f.w, f.h, f.syncd, f.method
	f.mu.Unlock()
	if f.started && seq == f.drawnSeq && w == f.dw && h == f.dh && method == f.dmethod {
		return
	}
	if seq == 0 && !final {
		return
	}
	f.drawnSeq = seq
	w, h = max(w, 1), max(h, 1)
	f.buf.Reset()
	var pre string
	if !f.started {
		pre = f.start(v, w, h)
	}
	if w != f.dw || h != f.dh {
		f.next.Resize(w, h)
		f.scr.Resize(w, h)
		f.scr.Erase()
		f.forget(h)
		f.dw, f.dh = w, h
	}
	if method != f.dmethod {
		if method == ansi.GraphemeWidth {
			f.buf.WriteString(ansi.SetModeUnicodeCore)
		}
		f.dmethod = method
		f.forget(h)
	}
	if v.WindowTitle != f.title {
		f.buf.WriteString(ansi.SetWindowTitle(v.WindowTitle))
		f.title = v.WindowTitle
	}
	if k := kittyFlags(v.KeyboardEnhancements); k != f.kbdFlags {
		f.buf.WriteString(ansi.SetModifyOtherKeys2 + ansi.KittyKeyboard(k, 1))
		f.kbdFlags = k
	}
	// The cockpit returns the very same string while nothing on the
	// screen changed (its frame cache): then there is nothing to compare.
	if v.Content != f.content || f.changedShape {
		moved := f.compose(v.Content, w, h)
		f.content, f.changedShape = v.Content, false
		if len(f.changed) > 0 {
			f.scr.SetScrollOptim(f.scrollOpt || moved)
			f.scr.Render(f.next)
		}
	}
	_ = f.scr.Flush()
	if f.buf.Len() == 0 && pre == "" {
		return
	}
	o := &f.out2
	o.Reset()
	o.WriteString(pre)
	if syncd && f.buf.Len() > 0 {
		o.WriteString(ansi.SetModeSynchronizedOutput)
		o.Write(f.buf.Bytes())
		o.WriteString(ansi.ResetModeSynchronizedOutput)
	} else {
		o.Write(f.buf.Bytes())
	}
	_, _ = f.out.Write(o.Bytes())
	f.buf.Reset()
}

// start sets the renderer up as Bubble Tea does for a program on the
// alternate screen, and returns what goes before the first frame.
func (f *frameWriter) start(v tea.View, w, h int) string {
	f.started = true
	scr := uv.NewTerminalRenderer(&f.buf, f.env)
	scr.SetColorProfile(f.profile)
	scr.SetScrollOptim(f.scrollOpt)
	// A terminal in raw mode: a line feed keeps the column, tabs stop
	// every 8 columns (set below), a backspace moves one left.
	scr.SetMapNewline(f.onlcr)
	scr.SetBackspace(!f.onlcr)
	if f.onlcr {
		scr.SetTabStops(-1)
	} else {
		scr.SetTabStops(w)
	}
	scr.Resize(w, h)
	scr.SaveCursor()
	scr.SetFullscreen(true)
	scr.SetRelativeCursor(false)
	scr.Erase()
	f.scr = scr
	f.next = uv.NewRenderBuffer(w, h)
	f.dw, f.dh = w, h
	f.forget(h)
	f.title = v.WindowTitle
	f.kbdFlags = kittyFlags(v.KeyboardEnhancements)
	f.buf.WriteString(ansi.SetModeBracketedPaste)
	if !f.onlcr {
		f.buf.WriteString(ansi.SetTabEvery8Columns)
	}
	if f.title != "" {
		f.buf.WriteString(ansi.SetWindowTitle(f.title))
	}
	f.buf.WriteString(ansi.SetModifyOtherKeys2 + ansi.PushKittyKeyboard(f.kbdFlags) + ansi.RequestKittyKeyboard)
	pre := ansi.ResetModifyOtherKeys + ansi.SetModeAltScreenSaveCursor + ansi.ResetModeTextCursorEnable
	if querySyncOutput(uv.Environ(f.env)) {
		pre += ansi.RequestModeSynchronizedOutput + ansi.RequestModeUnicodeCore
	}
	return pre
}

// forget makes the next frame compare every row.
func (f *frameWriter) forget(h int) {
	f.drawn = append(f.drawn[:0], make([]string, h)...)
	f.in = append(f.in[:0], make([]pen, h)...)
	f.ents = append(f.ents[:0], make([]*lineEntry, h)...) // nil: drawn next frame
	f.changedShape = true
}

// compose puts the frame's changed rows into the render buffer and marks
// them touched; unchanged rows stay as they are, untouched. It returns
// whether rows moved up or down together (see moved).
func (f *frameWriter) compose(content string, w, h int) bool {
	content = strings.ReplaceAll(content, "\r\n", "\n")
	f.prev = append(f.prev[:0], f.drawn...)
	f.changed = f.changed[:0]
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
		if f.drawn[y] == line && f.in[y].equal(&carry) && f.ents[y] != nil {
			carry = f.ents[y].end
			continue
		}
		text := line
		if !carry.zero() {
			text = carry.styledPrefix() + line
		}
		e := f.lines.get(lineKey{text: text, width: w, method: f.dmethod})
		copy(f.next.Lines[y], e.cells)
		f.next.TouchLine(0, y, w)
		f.drawn[y], f.in[y], f.ents[y] = line, carry, e
		f.changed = append(f.changed, y)
		carry = e.end
	}
	return len(f.changed) >= minScrollRows && f.moved()
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
func (f *frameWriter) moved() bool {
	clear(f.rowOf)
	if f.rowOf == nil {
		f.rowOf = map[string]int{}
	}
	for y, t := range f.prev {
		if t == "" {
			continue
		}
		if _, dup := f.rowOf[t]; dup {
			f.rowOf[t] = -1 // not unique: it cannot tell a move
		} else {
			f.rowOf[t] = y
		}
	}
	run, shift, last := 0, 0, -2
	for _, y := range f.changed {
		old, ok := f.rowOf[f.drawn[y]]
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

// kittyFlags is Bubble Tea's: basic disambiguation always, the rest as
// the view asks.
func kittyFlags(ke tea.KeyboardEnhancements) int {
	flags := 1
	if ke.ReportEventTypes {
		flags |= ansi.KittyReportEventTypes
	}
	if ke.ReportAlternateKeys {
		flags |= ansi.KittyReportAlternateKeys
	}
	if ke.ReportAllKeysAsEscapeCodes {
		flags |= ansi.KittyReportAllKeysAsEscapeCodes
	}
	if ke.ReportAssociatedText {
		flags |= ansi.KittyReportAssociatedKeys
	}
	return flags
}

// querySyncOutput is Bubble Tea's rule for asking the terminal whether it
// has synchronized output (mode 2026).
func querySyncOutput(env uv.Environ) bool {
	termType := env.Getenv("TERM")
	termProg, okTermProg := env.LookupEnv("TERM_PROGRAM")
	_, okSSHTTY := env.LookupEnv("SSH_TTY")
	_, okWTSession := env.LookupEnv("WT_SESSION")
	return (!okTermProg && !okSSHTTY) ||
		okWTSession ||
		(okTermProg && !strings.Contains(termProg, "Apple") && !okSSHTTY) ||
		strings.Contains(termType, "ghostty") ||
		strings.Contains(termType, "wezterm") ||
		strings.Contains(termType, "alacritty") ||
		strings.Contains(termType, "kitty") ||
		strings.Contains(termType, "rio")
}

// framed hands every frame the program makes to the session's
// frameWriter, and the messages that concern drawing (the size, the
// terminal's mode reports) before the model sees them.
type framed struct {
	inner tea.Model
	fw    *frameWriter
}

func (m framed) Init() tea.Cmd { return m.inner.Init() }

func (m framed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.fw.resize(msg.Width, msg.Height)
	case tea.ModeReportMsg:
		m.fw.modeReport(msg)
	}
	var cmd tea.Cmd
	m.inner, cmd = m.inner.Update(msg)
	return m, cmd
}

func (m framed) View() tea.View {
	v := m.inner.View()
	m.fw.offer(v)
	return v
}
