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
//   - sessions whose terminals show the same screen and go to the same
//     next frame (most observers, every follower) get the bytes of one
//     diff, computed once (renderHub): a frame is a transition between
//     two screens, and a session is only the screen it is on;
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
	hub   *renderHub
	every time.Duration // at least this long between two frames
	// aligned draws on the wall clock's beats of every (see run).
	aligned bool
	// onlcr says out turns "\n" into "\r\n" (no raw channel was found).
	onlcr     bool
	scrollOpt bool
	env       []string
	profile   colorprofile.Profile

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
	state    screenState // what the terminal shows
	buf      bytes.Buffer
	drawnSeq uint64
	started  bool
	title    string
	kbdFlags int
}

// newFrameWriter starts the drawing goroutine; close ends it.
func newFrameWriter(out io.Writer, onlcr bool, hub *renderHub, env []string, profile colorprofile.Profile, w, h, fps int) *frameWriter {
	f := &frameWriter{out: out, onlcr: onlcr, hub: hub, env: env, profile: profile, w: w, h: h,
		every: time.Second / time.Duration(max(fps, 1)), method: ansi.WcWidth,
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
	last := time.Now()
	var pace *time.Timer
	for {
		select {
		case <-f.stop:
			return
		case <-f.wake:
		}
		// A timer only when frames come faster than every: a session
		// drawing once a second wakes once a second. An aligned session
		// (an observer) draws on the next beat instead, as every other
		// aligned session does: they all sample their cockpits at one
		// instant, having taken the same messages, so their frames are
		// the same and one transition serves them all; drawing as soon
		// as each woke, a few caught a snapshot half-way through the
		// others and needed a renderer of their own.
		wait := f.every - time.Since(last)
		if f.aligned {
			wait = beatWait(time.Now(), f.every)
		}
		if wait > 0 {
			if pace == nil {
				pace = time.NewTimer(wait)
				defer pace.Stop()
			} else {
				pace.Reset(wait)
			}
			select {
			case <-f.stop:
				return
			case <-pace.C:
			}
		}
		f.draw(false)
		last = time.Now()
	}
}

// beatWait is how long from now to the next beat of every: the middle of
// each period of the wall clock (x.050, x.150 … for 10 a second), away
// from the whole second, when the cockpits' clocks turn and their ages
// change.
func beatWait(now time.Time, every time.Duration) time.Duration {
	next := now.Truncate(every).Add(every / 2)
	if !next.After(now) {
		next = next.Add(every)
	}
	return next.Sub(now)
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
	b.WriteString(ansi.CursorPosition(1, max(f.state.cfg.h, 1)))
	b.WriteString(ansi.ResetModeAltScreenSaveCursor + ansi.SetModeTextCursorEnable + ansi.ResetModeBracketedPaste)
	if f.title != "" {
		b.WriteString(ansi.SetWindowTitle(""))
	}
	if f.state.cfg.method == ansi.GraphemeWidth {
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
	cfg := frameConfig{w: max(w, 1), h: max(h, 1), profile: f.profile, method: method,
		term: uv.Environ(f.env).Getenv("TERM"), onlcr: f.onlcr, scrollOpt: f.scrollOpt}
	if f.started && seq == f.drawnSeq && cfg == f.state.cfg {
		return
	}
	if seq == 0 && !final {
		return
	}
	f.drawnSeq = seq
	b := &f.buf
	b.Reset()
	var pre string
	if !f.started {
		pre = f.start(v)
		f.state = screenState{cfg: cfg, unknown: true}
	}
	if cfg != f.state.cfg {
		// A new size (or way of measuring characters): the whole
		// screen again, as Bubble Tea redraws it.
		if cfg.method != f.state.cfg.method && cfg.method == ansi.GraphemeWidth {
			b.WriteString(ansi.SetModeUnicodeCore)
		}
		f.state = screenState{cfg: cfg, unknown: true}
	}
	if v.WindowTitle != f.title {
		b.WriteString(ansi.SetWindowTitle(v.WindowTitle))
		f.title = v.WindowTitle
	}
	if k := kittyFlags(v.KeyboardEnhancements); k != f.kbdFlags {
		b.WriteString(ansi.SetModifyOtherKeys2 + ansi.KittyKeyboard(k, 1))
		f.kbdFlags = k
	}
	// The cockpit returns the very same string while nothing on the
	// screen changed (its frame cache): then there is nothing to compare.
	var frame []byte
	if f.state.unknown || v.Content != f.state.content {
		t := f.hub.transition(f.state, v.Content)
		frame, f.state = t.out, t.to
	}
	if b.Len() == 0 && len(frame) == 0 && pre == "" {
		return
	}
	out := make([]byte, 0, len(pre)+b.Len()+len(frame)+16)
	out = append(out, pre...)
	if syncd && b.Len()+len(frame) > 0 {
		out = append(out, ansi.SetModeSynchronizedOutput...)
		out = append(append(out, b.Bytes()...), frame...)
		out = append(out, ansi.ResetModeSynchronizedOutput...)
	} else {
		out = append(append(out, b.Bytes()...), frame...)
	}
	_, _ = f.out.Write(out)
	b.Reset()
}

// start writes the modes Bubble Tea sets for a program on the alternate
// screen, and returns what goes before the first frame.
func (f *frameWriter) start(v tea.View) string {
	f.started = true
	f.title = v.WindowTitle
	f.kbdFlags = kittyFlags(v.KeyboardEnhancements)
	b := &f.buf
	b.WriteString(ansi.SetModeBracketedPaste)
	if !f.onlcr {
		b.WriteString(ansi.SetTabEvery8Columns)
	}
	if f.title != "" {
		b.WriteString(ansi.SetWindowTitle(f.title))
	}
	b.WriteString(ansi.SetModifyOtherKeys2 + ansi.PushKittyKeyboard(f.kbdFlags) + ansi.RequestKittyKeyboard)
	pre := ansi.ResetModifyOtherKeys + ansi.SetModeAltScreenSaveCursor + ansi.ResetModeTextCursorEnable
	if querySyncOutput(uv.Environ(f.env)) {
		pre += ansi.RequestModeSynchronizedOutput + ansi.RequestModeUnicodeCore
	}
	return pre
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
