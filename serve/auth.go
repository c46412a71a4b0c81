package serve

import (
	"errors"
	"fmt"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Permission extensions the key check leaves on the connection, read again
// when a session starts.
const (
	extUser        = "flightdeck-user"
	extFingerprint = "flightdeck-fingerprint"
)

// keyring maps each allowed public key to its user.
type keyring struct {
	byKey map[string]*User // key: the key's wire encoding
}

func newKeyring(users []User) (*keyring, error) {
	k := &keyring{byKey: map[string]*User{}}
	if len(users) == 0 {
		return nil, errors.New("serve: no users: nobody could log in (add serve.users to the config)")
	}
	names := map[string]bool{}
	for i := range users {
		u := &users[i]
		if u.Name == "" {
			return nil, errors.New("serve: a user has no name")
		}
		if names[u.Name] {
			return nil, fmt.Errorf("serve: user %q listed twice", u.Name)
		}
		names[u.Name] = true
		for _, key := range u.Keys {
			w := string(key.Marshal())
			if other := k.byKey[w]; other != nil {
				return nil, fmt.Errorf("serve: key %s belongs to both %s and %s", gossh.FingerprintSHA256(key), other.Name, u.Name)
			}
			k.byKey[w] = u
		}
	}
	return k, nil
}

// lookup returns the user whose key this is, nil for an unknown key.
// Certificates never match: they are not plain keys.
func (k *keyring) lookup(key gossh.PublicKey) *User {
	if key == nil {
		return nil
	}
	return k.byKey[string(key.Marshal())]
}

// authorize is the public-key callback: a listed key is accepted and its
// user and fingerprint are recorded on the connection's permissions.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	fp := gossh.FingerprintSHA256(key)
	u := s.keys.lookup(key)
	if u == nil {
		s.log.Debug("ssh key refused", "addr", ctx.RemoteAddr().String(), "ssh_user", ctx.User(), "fingerprint", fp)
		return false
	}
	p := ctx.Permissions()
	if p.Extensions == nil {
		p.Extensions = map[string]string{}
	}
	p.Extensions[extUser] = u.Name
	p.Extensions[extFingerprint] = fp
	return true
}

// errNotVerified is what a session hears when its key cannot be confirmed.
var errNotVerified = errors.New("your key could not be confirmed: reconnect")

// verify checks again, as the session starts, that the key which completed
// authentication is a listed key and is the one the key callback accepted.
// The callback may have been asked about other keys (a client offers
// several), so whatever it saw last proves nothing; the key and permissions
// bound to the finished handshake do.
func (s *Server) verify(sess ssh.Session) (*User, string, error) {
	key := sess.PublicKey()
	if key == nil {
		return nil, "", errNotVerified
	}
	fp := gossh.FingerprintSHA256(key)
	u := s.keys.lookup(key)
	ext := sess.Permissions().Extensions
	if u == nil || ext[extUser] != u.Name || ext[extFingerprint] != fp {
		return nil, fp, errNotVerified
	}
	return u, fp, nil
}
