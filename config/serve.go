package config

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"flightdeck/internal/duration"
)

// Serve configures `flightdeck serve`, the SSH server that gives every
// engineer on the incident their own cockpit on one shared world.
type Serve struct {
	// Listen is host:port (default 127.0.0.1:2222; a bastion sets 0.0.0.0:2222
	// or its private address).
	Listen string `yaml:"listen"`
	// HostKeyPath is the server's ed25519 private key, generated (0600) on
	// first start. Default $XDG_STATE_HOME/flightdeck/ssh_host_ed25519_key.
	HostKeyPath string `yaml:"host_key_path"`
	// MaxSessions caps concurrent SSH sessions (default 32).
	MaxSessions int `yaml:"max_sessions"`
	// IdleTimeout closes a session after this long without a key press
	// (default 30m; 0 disables). Screen output does not count.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxSessionLength closes any session after this long (default 12h; 0
	// disables).
	MaxSessionLength Duration `yaml:"max_session_length"`
	// RateLimit limits new sessions per client IP address.
	RateLimit RateLimit `yaml:"rate_limit"`
	// TrueColor sends 24-bit colour to clients whose TERM says 256 colours:
	// SSH clients rarely forward COLORTERM.
	TrueColor bool `yaml:"truecolor,omitempty"`
	// Users are who may connect, and what each may do.
	Users []ServeUser `yaml:"users"`
}

// RateLimit is a token bucket per client IP address.
type RateLimit struct {
	// PerSecond is the sustained rate of new sessions (default 1).
	PerSecond float64 `yaml:"per_second"`
	// Burst is how many may come at once (default 10).
	Burst int `yaml:"burst"`
}

// ServeUser is one person (or team account) allowed in, identified by key.
type ServeUser struct {
	// Name is shown to the other sessions and written to the audit journal.
	Name string `yaml:"name"`
	// Role is operator (may act) or observer (sees everything, acts on
	// nothing).
	Role string `yaml:"role"`
	// Keys are public keys in authorized_keys form: "ssh-ed25519 AAAA… comment".
	Keys []string `yaml:"keys,omitempty"`
	// KeysFile is an authorized_keys-style file read at load time; ~ is
	// expanded and a relative path is relative to the config file.
	KeysFile string `yaml:"keys_file,omitempty"`

	// AuthorizedKeys are Keys and KeysFile's keys, parsed and checked at load.
	AuthorizedKeys []AuthorizedKey `yaml:"-"`
}

// AuthorizedKey is one parsed public key of a ServeUser.
type AuthorizedKey struct {
	Key     ssh.PublicKey
	Comment string
	// Where is the key's place for messages: "config.yaml:14" or
	// "/etc/flightdeck/alice.pub:2".
	Where string
}

// Defaults for the serve: section.
const (
	DefaultServeListen      = "127.0.0.1:2222"
	DefaultServeMaxSessions = 32
	DefaultServeIdleTimeout = 30 * time.Minute
	DefaultServeMaxLength   = 12 * time.Hour
	DefaultServeRate        = 1.0
	DefaultServeBurst       = 10
)

// DefaultHostKeyPath is $XDG_STATE_HOME/flightdeck/ssh_host_ed25519_key.
func DefaultHostKeyPath() string {
	return filepath.Join(filepath.Dir(DefaultAuditPath()), "ssh_host_ed25519_key")
}

// maxKeysFile bounds a keys_file: authorized_keys files are a few KB.
const maxKeysFile = 1 << 20

// userName is what a user name may contain: it is shown in every session's
// header and written to the journal, so no spaces or control characters.
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,31}$`)

// loadServe applies the serve: section's defaults, reads keys files and
// validates it. It runs after the file decoded, with c.lines filled.
func (c *Config) loadServe() Errors {
	s := c.Serve
	if s == nil {
		return nil
	}
	var errs Errors
	add := func(path, format string, args ...any) { errs = append(errs, c.errAt(path, format, args...)) }
	set := func(path string) bool { return c.lines[path] > 0 }

	if s.Listen == "" {
		s.Listen = DefaultServeListen
	}
	if s.HostKeyPath == "" {
		s.HostKeyPath = DefaultHostKeyPath()
	}
	s.HostKeyPath = ExpandHome(s.HostKeyPath)
	if s.MaxSessions == 0 && !set("serve.max_sessions") {
		s.MaxSessions = DefaultServeMaxSessions
	}
	// An explicit 0 disables a timeout; only a missing key gets the default.
	if s.IdleTimeout == 0 && !set("serve.idle_timeout") {
		s.IdleTimeout = Duration(DefaultServeIdleTimeout)
	}
	if s.MaxSessionLength == 0 && !set("serve.max_session_length") {
		s.MaxSessionLength = Duration(DefaultServeMaxLength)
	}
	if s.RateLimit.PerSecond == 0 && !set("serve.rate_limit.per_second") {
		s.RateLimit.PerSecond = DefaultServeRate
	}
	if s.RateLimit.Burst == 0 && !set("serve.rate_limit.burst") {
		s.RateLimit.Burst = DefaultServeBurst
	}

	if host, port, err := net.SplitHostPort(s.Listen); err != nil {
		add("serve.listen", "must be host:port such as 127.0.0.1:2222, got %q", s.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add("serve.listen", "port must be a number up to 65535, got %q", port)
	} else if strings.ContainsAny(host, " /") {
		add("serve.listen", "not a host name or address: %q", host)
	}
	if s.MaxSessions < 1 || s.MaxSessions > 1000 {
		add("serve.max_sessions", "must be between 1 and 1000, got %d", s.MaxSessions)
	}
	if d := s.IdleTimeout.D(); d < 0 || (d > 0 && d < 10*time.Second) || d > MaxServeIdle {
		add("serve.idle_timeout", "must be between 10s and %s, or 0 to disable", duration.Format(MaxServeIdle))
	}
	if d := s.MaxSessionLength.D(); d < 0 || (d > 0 && d < time.Minute) || d > MaxServeLength {
		add("serve.max_session_length", "must be between 1m and %s, or 0 to disable", duration.Format(MaxServeLength))
	}
	if !(s.RateLimit.PerSecond > 0 && s.RateLimit.PerSecond <= MaxServeRate) {
		add("serve.rate_limit.per_second", "must be positive, at most %d (new sessions per second per client address)", MaxServeRate)
	}
	if s.RateLimit.Burst < 1 || s.RateLimit.Burst > MaxServeBurst {
		add("serve.rate_limit.burst", "must be between 1 and %d", MaxServeBurst)
	}

	if len(s.Users) == 0 {
		add("serve", "users: is required: nobody could log in")
	}
	names := map[string]bool{}
	owner := map[string]string{} // key fingerprint → "user (where)"
	for i := range s.Users {
		u := &s.Users[i]
		base := "serve.users[" + strconv.Itoa(i) + "]"
		switch {
		case u.Name == "":
			add(base, "name is required")
		case !userName.MatchString(u.Name):
			add(base+".name", "%q: use up to 32 letters, digits, . _ @ -", u.Name)
		case names[u.Name]:
			add(base+".name", "duplicate user %q", u.Name)
		}
		names[u.Name] = true
		if u.Role != "operator" && u.Role != "observer" {
			if u.Role == "" {
				add(base, "role is required: operator or observer")
			} else {
				add(base+".role", "unknown role %q (operator or observer)", u.Role)
			}
		}
		u.AuthorizedKeys = nil
		for j, line := range u.Keys {
			path := base + ".keys[" + strconv.Itoa(j) + "]"
			k, err := parseAuthorizedKey([]byte(line))
			if err != nil {
				add(path, "%v", err)
				continue
			}
			k.Where = c.file + ":" + strconv.Itoa(c.lines[path])
			u.AuthorizedKeys = append(u.AuthorizedKeys, k)
		}
		if u.KeysFile != "" {
			keys, err := c.readKeysFile(u.KeysFile)
			switch {
			case err != nil:
				add(base+".keys_file", "%v", err)
			case len(keys) == 0:
				add(base+".keys_file", "has no keys: this user could never log in")
			}
			u.AuthorizedKeys = append(u.AuthorizedKeys, keys...)
		}
		if len(u.Keys) == 0 && u.KeysFile == "" {
			add(base, "keys: or keys_file: is required: this user could never log in")
		}
		for _, k := range u.AuthorizedKeys {
			fp := ssh.FingerprintSHA256(k.Key)
			if prev, ok := owner[fp]; ok {
				add(base, "key %s (%s) is already %s: one key, one person", fp, k.Where, prev)
				continue
			}
			owner[fp] = fmt.Sprintf("%s's (%s)", u.Name, k.Where)
		}
	}
	return errs
}

// readKeysFile parses an authorized_keys-style file: one key a line, blank
// lines and # comments skipped. A bad line is named by file and line.
func (c *Config) readKeysFile(name string) ([]AuthorizedKey, error) {
	path := ExpandHome(name)
	if !filepath.IsAbs(path) && c.file != "" {
		path = filepath.Join(filepath.Dir(c.file), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeysFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", err)
	}
	if len(data) > maxKeysFile {
		return nil, fmt.Errorf("%s is larger than 1 MiB: not an authorized_keys file", path)
	}
	var keys []AuthorizedKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), maxKeysFile)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, err := parseAuthorizedKey(line)
		if err != nil {
			return keys, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		k.Where = path + ":" + strconv.Itoa(n)
		keys = append(keys, k)
	}
	return keys, sc.Err()
}

// parseAuthorizedKey reads one "type base64 comment" line and refuses what
// flightdeck would silently not honour (options such as from=) or should
// not trust (certificates, DSA, short RSA).
func parseAuthorizedKey(line []byte) (AuthorizedKey, error) {
	key, comment, options, rest, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		return AuthorizedKey{}, fmt.Errorf("not a valid public key (want \"ssh-ed25519 AAAA… comment\"): %v", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return AuthorizedKey{}, fmt.Errorf("one key per entry: found more after %q", comment)
	}
	if len(options) > 0 {
		return AuthorizedKey{}, fmt.Errorf("key options (%s) are not supported: remove them", strings.Join(options, ","))
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return AuthorizedKey{}, fmt.Errorf("certificates are not supported: list the user's public key")
	}
	switch key.Type() {
	case ssh.KeyAlgoDSA: //nolint:staticcheck // named to refuse it
		return AuthorizedKey{}, fmt.Errorf("ssh-dss keys are too weak: use ed25519")
	case ssh.KeyAlgoRSA:
		if ck, ok := key.(ssh.CryptoPublicKey); ok {
			if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
				return AuthorizedKey{}, fmt.Errorf("RSA key of %d bits is too weak: use ed25519 (or RSA of 2048 bits or more)", rk.N.BitLen())
			}
		}
	}
	return AuthorizedKey{Key: key, Comment: comment}, nil
}
