// Package serve is `flightdeck serve`: an SSH server on which every SSH
// session gets its own cockpit (its own Bubble Tea program, pty size and
// colour profile) while all of them share one world, so N engineers cost the
// upstreams what one does.
//
// Who may connect, and whether they may act, is decided here, from the key
// alone: public-key authentication only, keys listed per user in the
// config, the key that completed authentication checked again when the
// session starts. The cockpit itself comes from a SessionFactory the caller
// provides; serve hands it the session's identity and role and nothing that
// can act.
//
// Whatever a client sends costs the server bounded memory, because the
// least trusted key (an observer's) must not be able to take the bastion
// down for everyone on the incident:
//
//   - before SSH: a connection that has not proved a listed key counts
//     against its address (MaxUnauthenticatedPerAddr, default 8) and
//     against everyone's (MaxUnauthenticated, 64), and one over either is
//     closed at accept; it has HandshakeTimeout (10 s) to authenticate.
//     MaxConnections caps all connections; a connection holds at most
//     four session channels;
//   - before the session starts: env requests beyond 64, or over 1 KiB,
//     are refused as they arrive (below charm's session handler, which
//     would store them all);
//   - the window: a session renders at most MaxWidth×MaxHeight (500×200),
//     on the pty request, every window change and an in-band size report;
//     a bigger terminal gets the cockpit at that size with a line saying so;
//   - input: a bracketed paste over MaxPaste (8 KiB) is dropped with a
//     notice instead of being held whole by Bubble Tea's input reader,
//     which also never gets more than 16 KiB without a pause (so it never
//     holds more of an unfinished escape sequence); see inputGuard.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"
	"charm.land/wish/v2/ratelimiter"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"

	"flightdeck/together"
	"flightdeck/ui"
)

// Defaults for zero Options fields.
const (
	DefaultListen      = "127.0.0.1:2222"
	DefaultMaxSessions = 32
	// DefaultFPS caps each session's redraw rate: the cockpit's own.
	DefaultFPS = ui.FPS
	// DefaultObserverFPS caps an observer's: it watches, nothing it types
	// waits on the next frame.
	DefaultObserverFPS = 10
	// DefaultHandshakeTimeout bounds an unauthenticated connection: long
	// enough to unlock a key, short enough that idle ones go.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultMaxUnauthenticated caps connections that have not proved a
	// key yet, from everyone together; DefaultMaxUnauthenticatedPerAddr
	// from one client IP address.
	DefaultMaxUnauthenticated        = 64
	DefaultMaxUnauthenticatedPerAddr = 8
	// drainFor is how long Shutdown waits for clients to close their
	// connections after their sessions ended.
	drainFor = time.Second
	// rateLimitAddrs is how many client addresses the rate limiter remembers.
	rateLimitAddrs = 4096
)

// User is someone allowed in: a name for people and the journal, a role,
// and the public keys that prove it is them.
type User struct {
	Name string
	Role together.Role
	Keys []gossh.PublicKey
}

// RateLimit is a token bucket of new sessions per client IP address.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// Options configure a Server.
type Options struct {
	// Listen is host:port; default DefaultListen. Port 0 picks a free port
	// (see Server.Addr).
	Listen string
	// HostKeyPath is the ed25519 host key; generated with mode 0600 when
	// missing, refused when readable by others. Required.
	HostKeyPath string
	// Users are everyone who may connect; a key not listed is refused.
	Users []User
	// MaxSessions caps concurrent sessions; default DefaultMaxSessions.
	MaxSessions int
	// MaxConnections caps open connections, authenticated or not; default
	// 2×MaxSessions + MaxUnauthenticated. One over it is closed at accept.
	MaxConnections int
	// MaxUnauthenticated caps connections whose client has not proved a
	// listed key yet, in total; MaxUnauthenticatedPerAddr from one IP
	// address. One over either is closed at accept, before any SSH is
	// spoken. Defaults DefaultMaxUnauthenticated and
	// DefaultMaxUnauthenticatedPerAddr.
	MaxUnauthenticated        int
	MaxUnauthenticatedPerAddr int
	// HandshakeTimeout is how long a connection may take to authenticate;
	// default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// RateLimit limits new sessions per client IP; zero means none.
	RateLimit RateLimit
	// IdleTimeout ends a session after this long without a key press, paste
	// or mouse click (output does not count: a live cockpit always has
	// output). Zero means none.
	IdleTimeout time.Duration
	// MaxSessionLength ends any session after this long. Zero means none.
	MaxSessionLength time.Duration
	// TrueColor sends 24-bit colour to clients whose TERM says 256 colours
	// (SSH clients rarely forward COLORTERM).
	TrueColor bool
	// FPS caps each session's redraws per second; default DefaultFPS.
	// ObserverFPS caps an observer's, at most FPS; default
	// DefaultObserverFPS. A session whose frame did not change sends
	// nothing, whatever the rate.
	FPS         int
	ObserverFPS int
	// ScrollOptim makes the renderer look for rows that moved on every
	// frame, as Bubble Tea does. Off, it looks only on the frames where
	// rows moved together (a pane grew a line), which saves the same bytes
	// without hashing both screens on every frame; see renderer.moved.
	ScrollOptim bool
	// Presence, Announcer and Follow are shared with the sessions; nil
	// makes the Server its own. serve joins every session to Presence and
	// removes it as a Follow leader when it ends.
	Presence  *together.Presence
	Announcer *together.Announcer
	Follow    *together.Views
	// Log receives connection, session and refusal records; nil discards.
	Log *slog.Logger
}

// Server is the SSH server. Create it with New, then Start and Shutdown.
type Server struct {
	opts    Options
	factory SessionFactory
	log     *slog.Logger
	keys    *keyring
	hostKey gossh.Signer
	limiter ratelimiter.RateLimiter
	ssh     *ssh.Server
	gate    *gate      // set by Start
	frames  *renderHub // every session's frames, computed once

	mu       sync.Mutex
	sessions map[ssh.Session]*session
	closing  bool
	wg       sync.WaitGroup // one per registered session
	served   chan struct{}  // closed when Serve returned; nil before Start
	addr     net.Addr
}

// New checks o, loads (or on first start creates) the host key and builds
// the server; nothing listens until Start.
func New(o Options, f SessionFactory) (*Server, error) {
	if f == nil {
		return nil, errors.New("serve: no SessionFactory")
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.FPS <= 0 {
		o.FPS = DefaultFPS
	}
	if o.ObserverFPS <= 0 {
		o.ObserverFPS = DefaultObserverFPS
	}
	if o.MaxUnauthenticated <= 0 {
		o.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if o.MaxUnauthenticatedPerAddr <= 0 {
		o.MaxUnauthenticatedPerAddr = DefaultMaxUnauthenticatedPerAddr
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 2*o.MaxSessions + o.MaxUnauthenticated
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.Presence == nil {
		o.Presence = together.NewPresence()
	}
	if o.Announcer == nil {
		o.Announcer = together.NewAnnouncer()
	}
	if o.Follow == nil {
		o.Follow = together.NewViews()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	keys, err := newKeyring(o.Users)
	if err != nil {
		return nil, err
	}
	signer, created, err := loadOrCreateHostKey(o.HostKeyPath)
	if err != nil {
		return nil, err
	}
	if created {
		o.Log.Info("ssh host key created", "path", o.HostKeyPath, "fingerprint", gossh.FingerprintSHA256(signer.PublicKey()))
	}
	s := &Server{opts: o, factory: f, log: o.Log, keys: keys, hostKey: signer, sessions: map[ssh.Session]*session{},
		frames: newRenderHub(newLineCache())}
	if o.RateLimit.PerSecond > 0 {
		s.limiter = ratelimiter.NewRateLimiter(rate.Limit(o.RateLimit.PerSecond), max(o.RateLimit.Burst, 1), rateLimitAddrs)
	}
	// Middleware runs last-listed first: limits and checks, then the
	// session's registration, then its Bubble Tea program.
	srv, err := wish.NewServer(
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		wish.WithAddress(o.Listen),
		wish.WithVersion("flightdeck"),
		// Public keys only: no password or keyboard-interactive handler is
		// set, so neither method is ever offered.
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithMiddleware(
			bubbletea.MiddlewareWithProgramHandler(s.program),
			s.sessionMiddleware,
			s.limitMiddleware,
		),
	)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	srv.HandshakeTimeout = o.HandshakeTimeout
	installGate(srv)
	if o.MaxSessionLength > 0 {
		// A backstop for a connection whose session could not be ended
		// politely; sessions themselves end at MaxSessionLength.
		srv.MaxTimeout = o.MaxSessionLength + time.Minute
	}
	srv.ConnectionFailedCallback = func(c net.Conn, err error) {
		s.log.Info("ssh connection failed", "addr", c.RemoteAddr().String(), "err", err.Error())
	}
	s.ssh = srv
	return s, nil
}

// Start listens on Options.Listen and serves in the background. A listen
// error (port in use) is returned here.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	g := newGate(ln, s.opts.MaxUnauthenticatedPerAddr, s.opts.MaxUnauthenticated, s.opts.MaxConnections, s.log)
	s.mu.Lock()
	s.served = make(chan struct{})
	served := s.served
	s.addr = ln.Addr()
	s.gate = g
	s.mu.Unlock()
	s.log.Info("ssh listening", "addr", ln.Addr().String(), "host_key", gossh.FingerprintSHA256(s.hostKey.PublicKey()),
		"users", len(s.opts.Users), "max_sessions", s.opts.MaxSessions, "max_connections", s.opts.MaxConnections,
		"max_unauthenticated", s.opts.MaxUnauthenticated, "max_unauthenticated_per_addr", s.opts.MaxUnauthenticatedPerAddr)
	go func() {
		defer close(served)
		if err := s.ssh.Serve(g); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
			s.log.Error("ssh server stopped", "err", err.Error())
		}
	}()
	return nil
}

// Addr is the address Start listens on (useful with port 0); nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// SSHCommand is the command that reaches the server where it listens, for
// its start message: "ssh -p 2222 bastion". A wildcard address (0.0.0.0,
// ::) is named by the machine's host name, and the port flag is left out
// on 22; "" before Start.
func (s *Server) SSHCommand() string {
	a, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := a.IP.String()
	if a.IP == nil || a.IP.IsUnspecified() {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	cmd := "ssh "
	if a.Port != 22 {
		cmd += "-p " + strconv.Itoa(a.Port) + " "
	}
	return cmd + host
}

// HostKey is the server's public host key, for known_hosts and logs.
func (s *Server) HostKey() gossh.PublicKey { return s.hostKey.PublicKey() }

// Presence is who is connected; every session is joined to it.
func (s *Server) Presence() *together.Presence { return s.opts.Presence }

// Announcer broadcasts to every session.
func (s *Server) Announcer() *together.Announcer { return s.opts.Announcer }

// Follow lets a session mirror another's view.
func (s *Server) Follow() *together.Views { return s.opts.Follow }

// Sessions is how many sessions are connected now.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// ReasonShutdown is what every session is told when the server stops.
const ReasonShutdown = "flightdeck serve is shutting down"

// Shutdown stops accepting connections, tells every session goodbye (a
// final frame, then a line left on the client's terminal) and waits for
// them to end, at most until ctx ends; then it closes every connection
// left. It returns ctx's error when sessions had to be cut off.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	list := make([]*session, 0, len(s.sessions))
	for _, se := range s.sessions {
		list = append(list, se)
	}
	served := s.served
	s.mu.Unlock()

	// ssh.Server.Shutdown closes the listeners at once, then waits for
	// connections; the wait ends when Close below drops them.
	stopCtx, stop := context.WithCancel(context.Background())
	defer stop()
	drained := make(chan struct{})
	go func() { _ = s.ssh.Shutdown(stopCtx); close(drained) }()

	s.log.Info("ssh shutting down", "sessions", len(list))
	for _, se := range list {
		se.end(ReasonShutdown)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
		// Clients close their connections after the exit status; give
		// them a moment so they see a clean close, not a dropped one.
		select {
		case <-drained:
		case <-ctx.Done():
		case <-time.After(drainFor):
		}
	case <-ctx.Done():
		err = ctx.Err()
		s.log.Warn("ssh sessions cut off", "err", err.Error())
	}
	_ = s.ssh.Close()
	if served != nil {
		<-served
	}
	return err
}
