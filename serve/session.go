package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/internal/duration"
	"flightdeck/termcap"
	"flightdeck/together"
)

// SessionFactory makes one cockpit per SSH session.
//
// The contract on roles: when info.Role is together.Observer the factory
// must give the cockpit nothing that can act — no Executor, exactly like
// --read-only — whatever else it shares. When it is together.Operator the
// cockpit's Executor must journal under info.Identity.
//
// ctx ends when the session ends (the user quit, the server shut down, the
// connection dropped); release per-session resources (hub subscriptions,
// Roster, Announcements, Following) then. An error refuses the session
// with the error's text, so it must be fit to show.
type SessionFactory interface {
	NewSession(ctx context.Context, info SessionInfo) (tea.Model, error)
}

// SessionInfo is who a session is and what terminal it has.
type SessionInfo struct {
	// ID is short and random ("7f3a09c1"), unique among connected sessions;
	// Presence and Follow know the session by it.
	ID string
	// User is the configured user name the key belongs to.
	User string
	// Role decides whether the cockpit may act.
	Role together.Role
	// Fingerprint is the key's SHA256 fingerprint ("SHA256:…").
	Fingerprint string
	// Addr is the client's host:port.
	Addr string
	// Term, Environ and the size are what the client sent: untrusted, for
	// terminal decisions only, and bounded: at most 64 variables of up to
	// 1 KiB, TERM up to 64 bytes, the size at most MaxWidth×MaxHeight.
	Term          string
	Environ       []string
	Width, Height int
	// ColorProfile is derived from TERM and the client's environment
	// (NO_COLOR, COLORTERM), raised to TrueColor by Options.TrueColor.
	ColorProfile colorprofile.Profile
	// Identity is who the audit journal says acted:
	// "alice (SHA256:…) from 10.0.0.5:53122, session 7f3a09c1".
	Identity string
	// Since is when the session started.
	Since time.Time
}

// Bounds on what the client sent that is handed on: entries of its
// environment, the length of each, and of TERM.
const (
	maxEnviron    = 64
	maxEnvironVar = 1024
	maxTerm       = 64
)

// MaxWidth and MaxHeight cap the window a session renders at, whatever the
// client's terminal says (on the pty request, a window change, or an
// in-band size report): the renderer's memory grows with the cells. A
// bigger terminal gets the cockpit at this size, with a line under it
// saying so.
const (
	MaxWidth  = 500
	MaxHeight = 200
)

// capSize bounds a window size to MaxWidth×MaxHeight; capped says whether
// it had to.
func capSize(w, h int) (cw, ch int, capped bool) {
	return min(w, MaxWidth), min(h, MaxHeight), w > MaxWidth || h > MaxHeight
}

func boundEnviron(env []string) []string {
	out := make([]string, 0, min(len(env), maxEnviron))
	for _, kv := range env {
		if len(out) == maxEnviron {
			break
		}
		if len(kv) <= maxEnvironVar {
			out = append(out, kv)
		}
	}
	return out
}

// How long the goodbye frame stays before the program quits, and how long
// after that a program that did not quit is killed.
const (
	goodbyeFor  = time.Second
	killAfter   = 5 * time.Second
	ptyRequired = "needs a terminal: connect with ssh -t (your client asked for none)"
)

// session is one SSH session's state on the server.
type session struct {
	info   SessionInfo
	ctx    context.Context
	cancel context.CancelFunc
	model  tea.Model
	leave  func()

	lastInput atomic.Int64 // unix nanoseconds of the last key press, paste or click
	capped    atomic.Bool  // the client's window is larger than the cap
	droppedAt atomic.Int64 // unix nanoseconds of the last paste-dropped notice

	frames *frameWriter // set with the program

	mu      sync.Mutex
	program *tea.Program
	reason  string // why the server ended it; "" when the user quit
}

func newSessionID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// limitMiddleware applies the per-address rate limit (wish's ratelimiter)
// before anything else is spent on the session.
func (s *Server) limitMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if s.limiter != nil {
			if err := s.limiter.Allow(sess); err != nil {
				s.refuse(sess, "too many new sessions from your address: try again in a minute", "rate limit")
				return
			}
		}
		next(sess)
	}
}

// sessionMiddleware checks the session (key again, a pty, no command,
// room left), registers it, asks the factory for its cockpit, lets the
// Bubble Tea middleware run it, and leaves the reason it ended on the
// client's terminal.
func (s *Server) sessionMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		u, fp, err := s.verify(sess)
		if err != nil {
			s.refuse(sess, err.Error(), "key not confirmed", "fingerprint", fp)
			return
		}
		if cmd := sess.RawCommand(); cmd != "" {
			s.refuse(sess, "runs no commands: connect with ssh -t and no command", "command", "user", u.Name)
			return
		}
		pty, _, ok := sess.Pty()
		if !ok {
			s.refuse(sess, ptyRequired, "no pty", "user", u.Name)
			return
		}
		if err := termcap.Check([]string{"TERM=" + pty.Term}); err != nil {
			s.refuse(sess, strings.TrimPrefix(err.Error(), "flightdeck "), "terminal", "user", u.Name)
			return
		}
		se, err := s.register(sess, u, fp, pty)
		if err != nil {
			s.refuse(sess, err.Error(), "limit", "user", u.Name)
			return
		}
		defer s.unregister(sess, se)
		model, err := s.factory.NewSession(se.ctx, se.info)
		if err != nil {
			s.refuse(sess, "could not start a cockpit: "+err.Error(), "factory", "session", se.info.ID)
			return
		}
		se.model = model
		s.log.Info("session start", "session", se.info.ID, "user", u.Name, "role", u.Role.String(), "fingerprint", fp,
			"addr", se.info.Addr, "term", se.info.Term, "width", se.info.Width, "height", se.info.Height,
			"capped", se.capped.Load(), "color", se.info.ColorProfile.String())
		next(newCappedSession(sess, se))
		if se.frames != nil {
			se.frames.close() // the last frame, then the terminal as it was
		}
		if r := se.endReason(); r != "" {
			// The program has left the alternate screen: this line stays
			// on the client's terminal after the connection closes.
			fmt.Fprintf(sess, "\nflightdeck: %s\n", r)
		}
		// Send the exit status before unregistering: Shutdown closes the
		// connections once every session is unregistered, and a client cut
		// off before its exit status reports a lost connection (255).
		_ = sess.Exit(0)
	}
}

// refuse tells the client why, on stderr after "flightdeck serve: " (so
// msg does not name the program again), and ends the session with exit
// status 1.
func (s *Server) refuse(sess ssh.Session, msg, why string, attrs ...any) {
	fmt.Fprintf(sess.Stderr(), "flightdeck serve: %s\n", msg)
	_ = sess.Exit(1)
	s.log.Info("session refused", append([]any{"why", why, "addr", sess.RemoteAddr().String()}, attrs...)...)
}

// errFull and errClosing are shown to the refused client.
type refusal string

func (r refusal) Error() string { return string(r) }

const errClosing = refusal(ReasonShutdown + ": try again later")

func (s *Server) register(sess ssh.Session, u *User, fp string, pty ssh.Pty) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, errClosing
	}
	if len(s.sessions) >= s.opts.MaxSessions {
		return nil, refusal(fmt.Sprintf("all %d sessions are in use: try again later", s.opts.MaxSessions))
	}
	env := boundEnviron(sess.Environ())
	term := pty.Term
	if len(term) > maxTerm {
		term = term[:maxTerm]
	}
	width, height, capped := capSize(pty.Window.Width, pty.Window.Height)
	now := time.Now()
	id := newSessionID()
	for s.idTaken(id) {
		id = newSessionID()
	}
	addr := sess.RemoteAddr().String()
	info := SessionInfo{
		ID: id, User: u.Name, Role: u.Role, Fingerprint: fp, Addr: addr,
		Term: term, Environ: env, Width: width, Height: height,
		ColorProfile: colorProfile(env, term, s.opts.TrueColor),
		Identity:     together.Actor{Name: u.Name, Fingerprint: fp, Addr: addr, Session: id}.String(),
		Since:        now,
	}
	ctx, cancel := context.WithCancel(sess.Context())
	se := &session{info: info, ctx: ctx, cancel: cancel}
	se.capped.Store(capped)
	se.lastInput.Store(now.UnixNano())
	se.leave = s.opts.Presence.Join(together.Member{ID: id, Name: u.Name, Role: u.Role, Since: now, Addr: addr})
	s.sessions[sess] = se
	s.wg.Add(1)
	return se, nil
}

func (s *Server) idTaken(id string) bool {
	for _, se := range s.sessions {
		if se.info.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) unregister(sess ssh.Session, se *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	se.leave()
	s.opts.Follow.Leave(se.info.ID)
	se.cancel()
	se.mu.Lock()
	p, reason := se.program, se.reason
	se.mu.Unlock()
	if p != nil {
		p.Kill() // no-op when it already ended; frees a Send still waiting
	}
	if reason == "" {
		reason = "quit"
	}
	s.log.Info("session end", "session", se.info.ID, "user", se.info.User, "addr", se.info.Addr,
		"duration", time.Since(se.info.Since).Round(time.Second).String(), "reason", reason)
	s.wg.Done()
}

// serialWriter lets one Write at a time through to w.
type serialWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *serialWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// programOutputFPS is how often a session's program sends what it queued
// for the terminal besides frames (OSC 52 copies, queries).
const programOutputFPS = 4

// program builds the session's Bubble Tea program for wish's middleware.
func (s *Server) program(sess ssh.Session) *tea.Program {
	cs, ok := sess.(*cappedSession)
	if !ok || cs.se.model == nil {
		return nil
	}
	se := cs.se
	// Later options win: the input through the guard, the size capped.
	opts := append(bubbletea.MakeOptions(sess),
		tea.WithInput(newInputGuard(sess, func() {
			if se.pasteDropped() {
				s.log.Info("paste dropped", "session", se.info.ID, "user", se.info.User, "max_bytes", MaxPaste)
			}
		})),
		tea.WithWindowSize(se.info.Width, se.info.Height),
		tea.WithoutSignalHandler(), // the server owns signals, not a session
		tea.WithColorProfile(se.info.ColorProfile),
		// Without its renderer, Bubble Tea's frame ticker only sends
		// what the program queued itself (a copy to the clipboard, a
		// terminal query): 20 wake-ups a second per session for that
		// were a fifth of an idle server's CPU, in the scheduler.
		tea.WithFPS(programOutputFPS),
		tea.WithFilter(se.filter), // replaces MakeOptions' filter; se.filter does its job too
		tea.WithoutRenderer(),     // serve draws the frames: see frameWriter
	)
	raw, onlcr := rawOutput(sess), false
	if raw == nil { // not through the gate (never in a Server): the pty writer
		raw, onlcr = sess, true
	}
	// The frames and what the program queues (copies, queries; never a
	// newline) are written from two goroutines: one at a time, as an SSH
	// channel needs.
	out := &serialWriter{w: raw}
	opts = append(opts, tea.WithOutput(out))
	fps := s.opts.FPS
	if se.info.Role == together.Observer {
		fps = min(fps, s.opts.ObserverFPS)
	}
	env := append(slices.Clone(se.info.Environ), "TERM="+se.info.Term)
	se.frames = newFrameWriter(out, onlcr, s.frames, env, se.info.ColorProfile, se.info.Width, se.info.Height, fps)
	se.frames.scrollOpt = s.opts.ScrollOptim
	se.frames.aligned = se.info.Role == together.Observer
	p := tea.NewProgram(framed{fw: se.frames,
		inner: cockpit{inner: se.model, width: se.info.Width, height: se.info.Height, capped: &se.capped}}, opts...)
	se.start(p, s.opts.IdleTimeout, s.opts.MaxSessionLength)
	return p
}

// filter sees every message before the model (and before the renderer
// resizes): human input (keys, paste, clicks; not output, not terminal
// replies) is what keeps a session from going idle. Suspend (ctrl+z) is
// refused: there is no shell to return to. Every window size, from the pty
// or reported in-band, is capped. An empty paste is what the input guard
// leaves of one it dropped.
func (se *session) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	switch m := msg.(type) {
	case tea.PasteMsg:
		if m.Content == "" {
			return nil
		}
		se.lastInput.Store(time.Now().UnixNano())
	case tea.KeyPressMsg, tea.MouseClickMsg, tea.MouseWheelMsg:
		se.lastInput.Store(time.Now().UnixNano())
	case tea.SuspendMsg:
		return tea.ResumeMsg{}
	case tea.WindowSizeMsg:
		// The pty's sizes come capped already (cappedSession, which knows
		// the client's real one); a size reported in-band is capped here.
		w, h, over := capSize(m.Width, m.Height)
		if over {
			se.capped.Store(true)
		}
		return tea.WindowSizeMsg{Width: w, Height: h}
	}
	return msg
}

// pasteDropped shows the paste-dropped notice, at most once per noticeFor
// however many pastes are dropped (each notice costs a timer), and says
// whether it did.
func (se *session) pasteDropped() bool {
	now := time.Now().UnixNano()
	last := se.droppedAt.Load()
	if now-last < int64(noticeFor) || !se.droppedAt.CompareAndSwap(last, now) {
		return false
	}
	se.notify(pasteDroppedMsg{})
	return true
}

// notify hands the program a message from another goroutine without
// waiting for it; dropped when the program is not running yet.
func (se *session) notify(msg tea.Msg) {
	se.mu.Lock()
	p := se.program
	se.mu.Unlock()
	if p != nil {
		go p.Send(msg)
	}
}

// start records the program and watches the session's clocks: idle time
// since the last key press, and total length.
func (se *session) start(p *tea.Program, idle, maxLen time.Duration) {
	se.mu.Lock()
	se.program = p
	pending := se.reason
	se.mu.Unlock()
	if pending != "" { // ended (by Shutdown) before it had a program
		se.send(p, pending)
	}
	go se.watch(idle, maxLen)
}

func (se *session) watch(idle, maxLen time.Duration) {
	var idleC, maxC <-chan time.Time
	var idleT *time.Timer
	if idle > 0 {
		idleT = time.NewTimer(idle)
		defer idleT.Stop()
		idleC = idleT.C
	}
	if maxLen > 0 {
		t := time.NewTimer(time.Until(se.info.Since.Add(maxLen)))
		defer t.Stop()
		maxC = t.C
	}
	for {
		select {
		case <-se.ctx.Done():
			return
		case <-idleC:
			quiet := time.Since(time.Unix(0, se.lastInput.Load()))
			if quiet >= idle {
				se.end("closed after " + duration.Format(idle) + " without a key press")
				return
			}
			idleT.Reset(idle - quiet)
		case <-maxC:
			se.end("sessions last at most " + duration.Format(maxLen) + ": reconnect to go on")
			return
		}
	}
}

// end asks the session to say goodbye with reason and close; the first
// reason wins.
func (se *session) end(reason string) {
	se.mu.Lock()
	if se.reason != "" {
		se.mu.Unlock()
		return
	}
	se.reason = reason
	p := se.program
	se.mu.Unlock()
	if p != nil {
		se.send(p, reason)
	}
}

// send delivers the goodbye without blocking the caller, and kills the
// program if it has not quit well after the goodbye frame.
func (se *session) send(p *tea.Program, reason string) {
	go p.Send(endMsg{reason: reason})
	kill := time.AfterFunc(goodbyeFor+killAfter, p.Kill)
	context.AfterFunc(se.ctx, func() { kill.Stop() })
}

func (se *session) endReason() string {
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.reason
}

// colorProfile reads the client's TERM (from the pty request, which wins)
// and environment, by termcap's rule; truecolor upgrades a 256-colour
// terminal, never one that asked for less (NO_COLOR, a vt100).
func colorProfile(env []string, term string, trueColor bool) colorprofile.Profile {
	p := termcap.Profile(append(slices.Clone(env), "TERM="+term))
	if trueColor && p == colorprofile.ANSI256 {
		p = colorprofile.TrueColor
	}
	return p
}

// endMsg tells the cockpit wrapper to show the goodbye frame and quit.
type endMsg struct{ reason string }

// pasteDroppedMsg says the input guard dropped a paste over MaxPaste.
type pasteDroppedMsg struct{}

// noticeDoneMsg ends the notice it names.
type noticeDoneMsg struct{ seq int }

// How long a notice stays on the bottom line.
const noticeFor = 5 * time.Second

// Notices and notes the server writes on the bottom line.
var (
	pasteDroppedNotice = fmt.Sprintf("paste dropped: longer than %d KiB", MaxPaste>>10)
	cappedNote         = fmt.Sprintf("window capped at %d×%d: the cockpit does not draw beyond that", MaxWidth, MaxHeight)
)

// cockpit wraps the factory's model: on endMsg it freezes the cockpit
// behind a goodbye frame for goodbyeFor, then quits. When the client's
// window is over the cap the model gets one line less, and that line says
// the window is capped; a notice (a paste dropped) takes the bottom line
// for noticeFor.
type cockpit struct {
	inner         tea.Model
	ending        string
	width, height int // what the program renders at (capped)
	capped        *atomic.Bool
	notice        string
	noticeSeq     int
}

func (m cockpit) Init() tea.Cmd { return m.inner.Init() }

func (m cockpit) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case endMsg:
		if m.ending != "" {
			return m, nil
		}
		m.ending = msg.reason
		return m, tea.Tick(goodbyeFor, func(time.Time) tea.Msg { return tea.QuitMsg{} })
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		if m.isCapped() {
			msg.Height = max(msg.Height-1, 1)
		}
		if m.ending != "" {
			return m, nil
		}
		var cmd tea.Cmd
		m.inner, cmd = m.inner.Update(msg)
		return m, cmd
	case pasteDroppedMsg:
		m.notice = pasteDroppedNotice
		m.noticeSeq++
		seq := m.noticeSeq
		return m, tea.Tick(noticeFor, func(time.Time) tea.Msg { return noticeDoneMsg{seq: seq} })
	case noticeDoneMsg:
		if msg.seq == m.noticeSeq {
			m.notice = ""
		}
		return m, nil
	}
	if m.ending != "" {
		return m, nil
	}
	var cmd tea.Cmd
	m.inner, cmd = m.inner.Update(msg)
	return m, cmd
}

var goodbyeBox = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(1, 3)

func (m cockpit) isCapped() bool { return m.capped != nil && m.capped.Load() }

var noteStyle = lipgloss.NewStyle().Reverse(true)

func (m cockpit) View() tea.View {
	v := m.inner.View()
	if m.ending != "" {
		v.Content = lipgloss.Place(max(m.width, 1), max(m.height, 1), lipgloss.Center, lipgloss.Center,
			goodbyeBox.Render(m.ending+"\n\ngoodbye"))
		v.Cursor = nil
		return v
	}
	line := m.notice
	if line == "" && m.isCapped() {
		line = cappedNote
	}
	if line == "" {
		return v
	}
	line = noteStyle.Render(ansi.Truncate(line, max(m.width, 1), "…"))
	if m.isCapped() {
		// The model drew one line less: the note goes under it.
		v.Content = padLines(v.Content, max(m.height-1, 0)) + "\n" + line
	} else {
		v.Content = replaceLastLine(v.Content, line)
	}
	return v
}

// padLines makes s exactly n lines: cut, or padded with empty lines.
func padLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// replaceLastLine puts line in place of s's last line.
func replaceLastLine(s, line string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1] + line
	}
	return line
}

// cappedSession is the SSH session as the Bubble Tea middleware sees it:
// its pty window, first and on every change, capped to MaxWidth×MaxHeight,
// the session's capped flag following the client's real size.
type cappedSession struct {
	ssh.Session
	se    *session
	pty   ssh.Pty
	winch chan ssh.Window
	ok    bool
}

func newCappedSession(sess ssh.Session, se *session) *cappedSession {
	pty, winch, ok := sess.Pty()
	pty.Window.Width, pty.Window.Height, _ = capSize(pty.Window.Width, pty.Window.Height)
	cs := &cappedSession{Session: sess, se: se, pty: pty, ok: ok}
	if winch == nil {
		return cs
	}
	cs.winch = make(chan ssh.Window, 1)
	go func() {
		defer close(cs.winch)
		for w := range winch {
			var over bool
			w.Width, w.Height, over = capSize(w.Width, w.Height)
			se.capped.Store(over)
			select {
			case cs.winch <- w:
			case <-se.ctx.Done():
				for range winch { // keep the request loop from blocking
				}
				return
			}
		}
	}()
	return cs
}

func (cs *cappedSession) Pty() (ssh.Pty, <-chan ssh.Window, bool) { return cs.pty, cs.winch, cs.ok }
