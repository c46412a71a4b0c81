package serve

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// The gate admits TCP connections before a byte of SSH is spoken. A
// connection is unauthenticated from accept until its client proved a
// listed key; until then it is counted against its address and against
// everyone's, and one over either limit is closed at once, so a flood of
// idle connections from one address costs the server a few file
// descriptors and leaves room for everyone else's login. Every connection,
// authenticated or not, counts against MaxConnections.

// gate wraps the listener: Accept only returns admitted connections.
type gate struct {
	net.Listener
	perAddr, unauthMax, connMax int
	log                         *slog.Logger

	mu          sync.Mutex
	unauth      map[string]int // unauthenticated connections by client IP
	unauthTotal int
	conns       int
	refused     int       // since the last refusal was logged
	loggedAt    time.Time // when a refusal was last logged
}

// refusalLogEvery spaces the log records of refused connections: a flood
// must not become a flood of log lines.
const refusalLogEvery = 10 * time.Second

func newGate(ln net.Listener, perAddr, unauthMax, connMax int, log *slog.Logger) *gate {
	return &gate{Listener: ln, perAddr: perAddr, unauthMax: unauthMax, connMax: connMax, log: log, unauth: map[string]int{}}
}

// Accept returns the next admitted connection; refused ones are closed
// here and never reach the SSH server.
func (g *gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrIP(c.RemoteAddr())
		if why := g.admit(ip); why != "" {
			_ = c.Close()
			g.noteRefusal(ip, why)
			continue
		}
		return &gatedConn{Conn: c, g: g, ip: ip}, nil
	}
}

// admit counts a new connection from ip, or says why it is refused.
func (g *gate) admit(ip string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.conns >= g.connMax:
		return "connections"
	case g.unauthTotal >= g.unauthMax:
		return "unauthenticated connections"
	case g.unauth[ip] >= g.perAddr:
		return "unauthenticated connections from one address"
	}
	g.conns++
	g.unauthTotal++
	g.unauth[ip]++
	return ""
}

func (g *gate) noteRefusal(ip, why string) {
	g.mu.Lock()
	g.refused++
	now := time.Now()
	if now.Sub(g.loggedAt) < refusalLogEvery {
		g.mu.Unlock()
		return
	}
	n := g.refused
	g.refused, g.loggedAt = 0, now
	g.mu.Unlock()
	g.log.Warn("ssh connections refused", "limit", why, "addr", ip, "refused", n)
}

// authenticated moves a connection from ip out of the unauthenticated
// counts.
func (g *gate) authenticated(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unauthTotal--
	if g.unauth[ip]--; g.unauth[ip] <= 0 {
		delete(g.unauth, ip)
	}
}

// closed forgets a connection; authed says whether it had been moved out
// of the unauthenticated counts.
func (g *gate) closed(ip string, authed bool) {
	if !authed {
		g.authenticated(ip)
	}
	g.mu.Lock()
	g.conns--
	g.mu.Unlock()
}

// counts is how many connections are open and how many of them are
// unauthenticated (for tests and logs).
func (g *gate) counts() (conns, unauth int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns, g.unauthTotal
}

// addrIP is a connection's client IP: what "one address" means.
func addrIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// gatedConn is an admitted connection; it tells the gate when its client
// authenticated and when it closed.
type gatedConn struct {
	net.Conn
	g  *gate
	ip string

	mu       sync.Mutex
	authed   bool
	isClosed bool
	sessions int // session channels open on it
}

func (c *gatedConn) authenticated() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.authed || c.isClosed {
		return
	}
	c.authed = true
	c.g.authenticated(c.ip)
}

func (c *gatedConn) Close() error {
	c.mu.Lock()
	if !c.isClosed {
		c.isClosed = true
		c.g.closed(c.ip, c.authed)
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// openSession counts a new session channel, refusing one over the limit.
func (c *gatedConn) openSession() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions >= maxChannelsPerConn {
		return false
	}
	c.sessions++
	return true
}

func (c *gatedConn) closeSession() {
	c.mu.Lock()
	c.sessions--
	c.mu.Unlock()
}

// ctxKeyConn finds a connection's gatedConn from its SSH context.
var ctxKeyConn = &struct{ name string }{"flightdeck-gated-conn"}

func connOf(ctx ssh.Context) *gatedConn {
	c, _ := ctx.Value(ctxKeyConn).(*gatedConn)
	return c
}

// installGate hooks the SSH server to the gate's connections: each one is
// remembered on its context, marked authenticated once its client proved
// its key (the signature checked, not merely a key offered), and limited
// to maxChannelsPerConn session channels, whose env requests are bounded
// as they arrive.
func installGate(srv *ssh.Server) {
	srv.ConnCallback = func(ctx ssh.Context, c net.Conn) net.Conn {
		if gc, ok := c.(*gatedConn); ok {
			ctx.SetValue(ctxKeyConn, gc)
		}
		return c
	}
	srv.ServerConfigCallback = func(ctx ssh.Context) *gossh.ServerConfig {
		return &gossh.ServerConfig{
			VerifiedPublicKeyCallback: func(_ gossh.ConnMetadata, _ gossh.PublicKey, p *gossh.Permissions, _ string) (*gossh.Permissions, error) {
				if gc := connOf(ctx); gc != nil {
					gc.authenticated()
				}
				return p, nil
			},
		}
	}
	if srv.ChannelHandlers == nil {
		srv.ChannelHandlers = map[string]ssh.ChannelHandler{}
	}
	srv.ChannelHandlers["session"] = func(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
		if gc := connOf(ctx); gc != nil {
			if !gc.openSession() {
				_ = nc.Reject(gossh.ResourceShortage, "too many sessions on one connection")
				return
			}
			defer gc.closeSession()
		}
		raw := &rawChannel{}
		ssh.DefaultSessionHandler(srv, conn, boundedChannel{NewChannel: nc, raw: raw}, channelContext{Context: ctx, raw: raw})
	}
}

// rawChannel is a session channel as gossh accepted it. charm's session
// writes through an emulated pty that turns "\n" into "\r\n"; frames go
// to the channel itself (see frameWriter).
type rawChannel struct{ ch gossh.Channel }

// ctxKeyRawChannel finds a session's rawChannel from its SSH context.
var ctxKeyRawChannel = &struct{ name string }{"flightdeck-raw-channel"}

// channelContext is the connection's SSH context as one session channel
// sees it: the same values, and its own raw channel. (The connection's
// context is shared by the up to four channels a connection may open.)
type channelContext struct {
	ssh.Context
	raw *rawChannel
}

func (c channelContext) Value(key any) any {
	if key == ctxKeyRawChannel {
		return c.raw
	}
	return c.Context.Value(key)
}

// rawOutput is the session's channel without newline translation, or nil.
func rawOutput(sess ssh.Session) io.Writer {
	if r, ok := sess.Context().Value(ctxKeyRawChannel).(*rawChannel); ok && r.ch != nil {
		return r.ch
	}
	return nil
}

// maxChannelsPerConn caps session channels on one connection: each may
// hold its environment (maxEnviron × maxEnvironVar) before it starts.
const maxChannelsPerConn = 4

// boundedChannel is a session channel whose requests are screened before
// charm's session handler sees them: it stores every env request it is
// given, so only the first maxEnviron that fit maxEnvironVar are passed on
// and the rest are refused as they arrive.
type boundedChannel struct {
	gossh.NewChannel
	raw *rawChannel // set on Accept
}

func (b boundedChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := b.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	if b.raw != nil {
		b.raw.ch = ch
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		envs := 0
		for req := range reqs {
			if req.Type == "env" {
				if envs >= maxEnviron || !envFits(req.Payload) {
					_ = req.Reply(false, nil)
					continue
				}
				envs++
			}
			out <- req
		}
	}()
	return ch, out, nil
}

// envFits says whether an env request's NAME=value fits maxEnvironVar.
func envFits(payload []byte) bool {
	var kv struct{ Key, Value string }
	if err := gossh.Unmarshal(payload, &kv); err != nil {
		return false
	}
	return len(kv.Key)+1+len(kv.Value) <= maxEnvironVar
}
