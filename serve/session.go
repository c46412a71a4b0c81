package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
	// 1 KiB, TERM up to 64 bytes.
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
	ptyRequired = "flightdeck serve needs a terminal: connect with ssh -t (your client asked for none)"
)

// session is one SSH session's state on the server.
type session struct {
	info   SessionInfo
	ctx    context.Context
	cancel context.CancelFunc
	model  tea.Model
	leave  func()

	lastInput atomic.Int64 // unix nanoseconds of the last key press, paste or click

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
			s.refuse(sess, "flightdeck serve runs no commands: connect with ssh -t and no command", "command", "user", u.Name)
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
			"color", se.info.ColorProfile.String())
		next(sess)
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

// refuse tells the client why, on stderr, and ends the session with exit
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
	now := time.Now()
	id := newSessionID()
	for s.idTaken(id) {
		id = newSessionID()
	}
	addr := sess.RemoteAddr().String()
	info := SessionInfo{
		ID: id, User: u.Name, Role: u.Role, Fingerprint: fp, Addr: addr,
		Term: term, Environ: env, Width: pty.Window.Width, Height: pty.Window.Height,
		ColorProfile: colorProfile(env, term, s.opts.TrueColor),
		Identity:     together.Actor{Name: u.Name, Fingerprint: fp, Addr: addr, Session: id}.String(),
		Since:        now,
	}
	ctx, cancel := context.WithCancel(sess.Context())
	se := &session{info: info, ctx: ctx, cancel: cancel}
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

// program builds the session's Bubble Tea program for wish's middleware.
func (s *Server) program(sess ssh.Session) *tea.Program {
	s.mu.Lock()
	se := s.sessions[sess]
	s.mu.Unlock()
	if se == nil || se.model == nil {
		return nil
	}
	opts := append(bubbletea.MakeOptions(sess),
		tea.WithoutSignalHandler(), // the server owns signals, not a session
		tea.WithColorProfile(se.info.ColorProfile),
		tea.WithFPS(s.opts.FPS),
		tea.WithFilter(se.filter), // replaces MakeOptions' filter; se.filter does its job too
	)
	p := tea.NewProgram(cockpit{inner: se.model, width: se.info.Width, height: se.info.Height}, opts...)
	se.start(p, s.opts.IdleTimeout, s.opts.MaxSessionLength)
	return p
}

// filter sees every message before the model: human input (keys, paste,
// clicks; not output, not terminal replies) is what keeps a session from
// going idle. Suspend (ctrl+z) is refused: there is no shell to return to.
func (se *session) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg, tea.MouseClickMsg, tea.MouseWheelMsg:
		se.lastInput.Store(time.Now().UnixNano())
	case tea.SuspendMsg:
		return tea.ResumeMsg{}
	}
	return msg
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

// cockpit wraps the factory's model: on endMsg it freezes the cockpit
// behind a goodbye frame for goodbyeFor, then quits.
type cockpit struct {
	inner         tea.Model
	ending        string
	width, height int
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
	}
	if m.ending != "" {
		return m, nil
	}
	var cmd tea.Cmd
	m.inner, cmd = m.inner.Update(msg)
	return m, cmd
}

var goodbyeBox = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(1, 3)

func (m cockpit) View() tea.View {
	v := m.inner.View()
	if m.ending != "" {
		v.Content = lipgloss.Place(max(m.width, 1), max(m.height, 1), lipgloss.Center, lipgloss.Center,
			goodbyeBox.Render(m.ending+"\n\ngoodbye"))
		v.Cursor = nil
	}
	return v
}
