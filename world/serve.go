package world

import (
	"context"
	"log/slog"

	tea "charm.land/bubbletea/v2"

	"flightdeck/config"
	"flightdeck/serve"
	"flightdeck/together"
	"flightdeck/ui"
)

// Server is the serve adapter: an SSH server, configured by the serve:
// section, whose every session is a cockpit on this one world; it shares
// the world's sessions (ShareSessions) first. The caller starts the world
// and the server, and shuts the server down before the world ends.
func (w *World) Server(sc *config.Serve, log *slog.Logger) (*serve.Server, error) {
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
