package world

import (
	"context"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"flightdeck/config"
	"flightdeck/serve"
	"flightdeck/together"
	"flightdeck/ui"
)

// shutdownGrace is how long sessions get to say goodbye when serving ends.
const shutdownGrace = 5 * time.Second

// Serve is flightdeck serve on this world: an SSH server, configured by the
// serve: section, whose every session is a cockpit on the world. It starts
// polling and the server, calls listening with the address, the host
// key's fingerprint and the ssh command that connects (serve.SSHCommand)
// once connections are accepted, and when ctx ends
// (SIGTERM) gives the sessions shutdownGrace to say goodbye, their data
// still flowing, before the world stops polling. Errors are serve's, fit
// to show.
func (w *World) Serve(ctx context.Context, sc *config.Serve, log *slog.Logger, listening func(addr, hostKey, connect string)) error {
	srv, err := w.server(sc, log)
	if err != nil {
		return err
	}
	w.Start()
	defer w.Wait()
	defer w.stop()
	if err := srv.Start(); err != nil {
		return err
	}
	listening(srv.Addr().String(), gossh.FingerprintSHA256(srv.HostKey()), srv.SSHCommand())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err.Error())
	}
	return nil
}

// server makes the SSH server for the serve: section, sharing the world's
// sessions (ShareSessions) first.
func (w *World) server(sc *config.Serve, log *slog.Logger) (*serve.Server, error) {
	presence, announcer, follow := w.ShareSessions()
	return serve.New(serve.Options{
		Listen:           sc.Listen,
		HostKeyPath:      sc.HostKeyPath,
		Users:            serveUsers(sc),
		MaxSessions:      sc.MaxSessions,
		RateLimit:        serve.RateLimit{PerSecond: sc.RateLimit.PerSecond, Burst: sc.RateLimit.Burst},
		IdleTimeout:      sc.IdleTimeout.D(),
		MaxSessionLength: sc.MaxSessionLength.D(),
		TrueColor:        sc.TrueColor,
		Presence:         presence,
		Announcer:        announcer,
		Follow:           follow,
		Log:              log,
	}, &cockpits{world: w})
}

// serveUsers turns the config's users into serve's.
func serveUsers(sc *config.Serve) []serve.User {
	users := make([]serve.User, 0, len(sc.Users))
	for _, u := range sc.Users {
		role, _ := together.ParseRole(u.Role) // config checked it; anything else is an observer
		su := serve.User{Name: u.Name, Role: role}
		for _, k := range u.AuthorizedKeys {
			su.Keys = append(su.Keys, k.Key)
		}
		users = append(users, su)
	}
	return users
}

// cockpits makes each session's cockpit on the one World: its own hub
// subscription, colours from the client's environment, and for operators an
// Executor journaling under the session's identity. Observers get no
// Executor at all: the role is decided here, below the UI.
type cockpits struct{ world *World }

func (c *cockpits) NewSession(ctx context.Context, info serve.SessionInfo) (tea.Model, error) {
	environ := append([]string(nil), info.Environ...)
	if info.Term != "" {
		environ = append(environ, "TERM="+info.Term)
	}
	s, err := c.world.NewSession(SessionInfo{
		Context:     ctx,
		ID:          info.ID,
		User:        info.User,
		Fingerprint: info.Fingerprint,
		Addr:        info.Addr,
		Identity:    info.Identity,
		ReadOnly:    !info.Role.CanAct(),
		Environ:     environ,
	})
	if err != nil {
		return nil, err
	}
	return ui.New(s.Options()), nil
}
