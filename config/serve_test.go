package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// authorizedKey makes a fresh public key in authorized_keys form.
func authorizedKey(t *testing.T, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))) + " " + comment
}

func TestServeSectionLoads(t *testing.T) {
	dir := t.TempDir()
	alice, bob1, bob2 := authorizedKey(t, "alice@laptop"), authorizedKey(t, "bob@laptop"), authorizedKey(t, "bob@desk")
	if err := os.WriteFile(filepath.Join(dir, "bob.pub"), []byte("# bob's keys\n\n"+bob1+"\n"+bob2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "serve:\n" +
		"  listen: 0.0.0.0:2222\n" +
		"  idle_timeout: 0\n" +
		"  truecolor: true\n" +
		"  users:\n" +
		"    - name: alice\n" +
		"      role: operator\n" +
		"      keys: [\"" + alice + "\"]\n" +
		"    - name: bob\n" +
		"      role: observer\n" +
		"      keys_file: bob.pub\n"
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Serve
	if s.Listen != "0.0.0.0:2222" || !s.TrueColor || s.IdleTimeout != 0 {
		t.Errorf("as written: %+v", s)
	}
	if s.MaxSessions != DefaultServeMaxSessions || s.MaxSessionLength.D() != DefaultServeMaxLength ||
		s.RateLimit.PerSecond != DefaultServeRate || s.RateLimit.Burst != DefaultServeBurst ||
		s.HostKeyPath != DefaultHostKeyPath() || !strings.HasSuffix(s.HostKeyPath, "flightdeck/ssh_host_ed25519_key") {
		t.Errorf("defaults: %+v", s)
	}
	a, b := s.Users[0], s.Users[1]
	if a.Role != "operator" || len(a.AuthorizedKeys) != 1 || a.AuthorizedKeys[0].Comment != "alice@laptop" ||
		a.AuthorizedKeys[0].Where != path+":8" {
		t.Errorf("alice: %+v", a)
	}
	if len(b.AuthorizedKeys) != 2 || b.AuthorizedKeys[1].Comment != "bob@desk" ||
		b.AuthorizedKeys[1].Where != filepath.Join(dir, "bob.pub")+":4" {
		t.Errorf("bob: %+v", b.AuthorizedKeys)
	}
	out, err := c.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"serve:", "listen: 0.0.0.0:2222", "idle_timeout: 0s", "max_session_length: 12h", "keys_file: bob.pub", "alice@laptop"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("effective config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "authorizedkeys") {
		t.Errorf("parsed keys printed:\n%s", out)
	}
}

func TestServeDefaultTimeouts(t *testing.T) {
	c, err := Parse("c.yaml", []byte("serve:\n  users:\n    - {name: a, role: observer, keys: [\""+authorizedKey(t, "a")+"\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Serve.Listen != "127.0.0.1:2222" || c.Serve.IdleTimeout.D() != 30*time.Minute {
		t.Errorf("defaults: %+v", c.Serve)
	}
	if c, _ := Parse("c.yaml", []byte("environment: x\n")); c.Serve != nil {
		t.Error("no serve: section must stay nil")
	}
}

func TestServeErrorsNameFieldAndLine(t *testing.T) {
	dir := t.TempDir()
	key := authorizedKey(t, "k")
	badFile := filepath.Join(dir, "bad.pub")
	os.WriteFile(badFile, []byte(authorizedKey(t, "ok")+"\n# comment\nssh-ed25519 AAAAnotbase64\n"), 0o600)
	emptyFile := filepath.Join(dir, "empty.pub")
	os.WriteFile(emptyFile, []byte("# nobody yet\n"), 0o600)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPK, _ := ssh.NewPublicKey(&small.PublicKey)
	smallRSA := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(smallPK)))
	user := func(rest string) string { return "serve:\n  users:\n    - name: alice\n      role: operator\n" + rest }

	cases := []struct{ name, src, want string }{
		{"unknown key", "serve:\n  max_session: 3\n", `c.yaml:2: serve.max_session: unknown key (did you mean "max_sessions"?)`},
		{"unknown user key", user("      key: [x]\n"), `c.yaml:5: serve.users[0].key: unknown key (did you mean "keys"?)`},
		{"no users", "serve:\n  listen: 127.0.0.1:2222\n", "c.yaml:1: serve: users: is required"},
		{"bad listen", "serve:\n  listen: 2222\n  users: []\n", `c.yaml:2: serve.listen: must be host:port`},
		{"bad port", "serve:\n  listen: 'localhost:ssh2'\n", `c.yaml:2: serve.listen: port must be a number`},
		{"max sessions", "serve:\n  max_sessions: 0\n", "c.yaml:2: serve.max_sessions: must be between 1 and 1000"},
		{"idle too short", "serve:\n  idle_timeout: 1s\n", "c.yaml:2: serve.idle_timeout: must be between 10s and 1d, or 0 to disable"},
		{"rate", "serve:\n  rate_limit: {per_second: 0, burst: 0}\n", "c.yaml:2: serve.rate_limit.per_second: must be positive"},
		{"burst", "serve:\n  rate_limit: {per_second: 1, burst: 0}\n", "c.yaml:2: serve.rate_limit.burst: must be between 1 and 1000"},
		{"bad key named by line", user("      keys:\n        - \"" + key + "\"\n        - ssh-ed25519 AAAAnope\n"),
			"c.yaml:7: serve.users[0].keys[1]: not a valid public key"},
		{"bad key in file named by line", user("      keys_file: " + badFile + "\n"),
			"c.yaml:5: serve.users[0].keys_file: " + badFile + ":3: not a valid public key"},
		{"missing keys file", user("      keys_file: /nonexistent/alice.pub\n"), "c.yaml:5: serve.users[0].keys_file: cannot read:"},
		{"empty keys file", user("      keys_file: " + emptyFile + "\n"), "c.yaml:5: serve.users[0].keys_file: has no keys"},
		{"no keys", user(""), "c.yaml:3: serve.users[0]: keys: or keys_file: is required"},
		{"options", user("      keys: ['from=\"10.0.0.0/8\" " + key + "']\n"), "serve.users[0].keys[0]: key options (from=\"10.0.0.0/8\") are not supported"},
		{"short rsa", user("      keys: [\"" + smallRSA + "\"]\n"), "serve.users[0].keys[0]: RSA key of 1024 bits is too weak"},
		{"no role", "serve:\n  users:\n    - name: alice\n      keys: [\"" + key + "\"]\n", "c.yaml:3: serve.users[0]: role is required: operator or observer"},
		{"bad role", "serve:\n  users:\n    - name: alice\n      role: admin\n      keys: [\"" + key + "\"]\n", `c.yaml:4: serve.users[0].role: unknown role "admin"`},
		{"bad name", "serve:\n  users:\n    - name: 'alice smith'\n      role: observer\n      keys: [\"" + key + "\"]\n", `c.yaml:3: serve.users[0].name: "alice smith": use up to 32 letters`},
		{"duplicate name", user("      keys: [\"" + key + "\"]\n    - name: alice\n      role: observer\n      keys: [\"" + authorizedKey(t, "x") + "\"]\n"),
			`c.yaml:6: serve.users[1].name: duplicate user "alice"`},
		{"same key two users", user("      keys: [\"" + key + "\"]\n    - name: bob\n      role: observer\n      keys: [\"" + key + "\"]\n"),
			"c.yaml:6: serve.users[1]: key SHA256:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %q\nwant containing %q", err.Error(), tc.want)
			}
		})
	}
}

func TestServeSameKeyErrorNamesBothPlaces(t *testing.T) {
	key := authorizedKey(t, "shared")
	src := "serve:\n  users:\n    - name: alice\n      role: operator\n      keys: [\"" + key + "\"]\n" +
		"    - name: bob\n      role: observer\n      keys: [\"" + key + "\"]\n"
	_, err := Parse("c.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "(c.yaml:8) is already alice's (c.yaml:5): one key, one person") {
		t.Fatalf("err = %v", err)
	}
}
