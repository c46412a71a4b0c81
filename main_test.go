package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		errb.WriteString(ee.msg)
	default:
		code = 1
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func TestConfigCheckExample(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	out, errs, code := runCLI(t, "config", "check", "--config", "testdata/config/example.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// No kubeconfig on this machine is worth saying, but the file is valid.
	if !strings.Contains(errs, "warning: kubernetes:") {
		t.Errorf("no kubeconfig warning: %q", errs)
	}
	for _, want := range []string{"OK (effective config, secrets masked)", "environment: production", "max_targets: 5", "window: 30d"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigCheckMasksSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("postgres:\n  - name: main\n    dsn: postgres://fd:hunter2@127.0.0.1:1/app\n"), 0o600)
	out, errs, code := runCLI(t, "config", "check", "--config", path)
	if code != 0 || strings.Contains(out, "hunter2") || !strings.Contains(out, "fd:xxxxx@") {
		t.Fatalf("exit %d, stderr %q, out:\n%s", code, errs, out)
	}
}

func TestConfigCheckTypoNamesKeyAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("environment: staging\npolicy:\n  max_targets: 5\n  protected_role: [postgres]\n"), 0o600)
	out, errs, code := runCLI(t, "config", "check", "--config", path)
	want := path + `:4: policy.protected_role: unknown key (did you mean "protected_roles"?)`
	if code != 1 || strings.TrimSpace(errs) != want || out != "" {
		t.Fatalf("exit %d\nstderr %q\nwant   %q", code, errs, want)
	}
}

func TestConfigCheckUnknownKeyBinding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("keys:\n  terminate: [K]\n  nuke: [N]\n"), 0o600)
	_, errs, code := runCLI(t, "config", "check", "--config", path)
	if code != 1 || !strings.Contains(errs, path+":3: keys.nuke:") {
		t.Fatalf("exit %d: %q", code, errs)
	}
}

func TestNoConfigSaysHowToStart(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("FLIGHTDECK_CONFIG", "")
	_, errs, code := runCLI(t)
	if code != 1 || !strings.Contains(errs, "flightdeck --demo") || !strings.Contains(errs, "config check") {
		t.Fatalf("exit %d: %q", code, errs)
	}
}

func TestMissingConfigFileNamed(t *testing.T) {
	_, errs, code := runCLI(t, "--config", "/nonexistent/fd.yaml")
	if code != 1 || !strings.Contains(errs, "/nonexistent/fd.yaml: file does not exist") {
		t.Fatalf("exit %d: %q", code, errs)
	}
}

func TestVersionAndBadFlags(t *testing.T) {
	out, _, code := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "flightdeck ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if _, _, code := runCLI(t, "--bogus"); code != 2 {
		t.Errorf("unknown flag exit = %d", code)
	}
	if _, errs, code := runCLI(t, "config", "frobnicate"); code != 2 || !strings.Contains(errs, "config check") {
		t.Errorf("config usage: %d %q", code, errs)
	}
}

// TestDumbTerminalRefused: issue 11's TERM=dumb gets no cursor addressing
// and no alternate screen, only a message saying why, and exit status 1.
func TestDumbTerminalRefused(t *testing.T) {
	t.Setenv("TERM", "dumb")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	out, errs, code := runCLI(t, "--demo")
	if code != 1 || !strings.HasPrefix(errs, "flightdeck needs a terminal with cursor addressing (TERM=dumb has none)") {
		t.Fatalf("exit %d: %q", code, errs)
	}
	if out != "" || strings.Contains(errs, "\x1b") {
		t.Fatalf("escape sequences or output on a dumb terminal: %q %q", out, errs)
	}
}

// TestHelpAsAGoCLIUserExpects is issue 17 item 14: help on stdout with
// exit 0 for every command and every way of asking, help and version
// subcommands, --flag spelling, a description and an example per command,
// the environment listed; bad input is exit 2 on stderr.
func TestHelpAsAGoCLIUserExpects(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage:\n  flightdeck [--config PATH]", "Commands:", "  serve ", "  timeline ", "config check",
			"--read-only", "--log FILE", "Examples:", "Environment:", "FLIGHTDECK_CONFIG", "FLIGHTDECK_DEMO_SPEED"}},
		{[]string{"-h"}, []string{"Usage:\n  flightdeck [--config PATH]"}},
		{[]string{"help"}, []string{"Usage:\n  flightdeck [--config PATH]"}},
		{[]string{"help", "serve"}, []string{"flightdeck serve [--config PATH] [--listen HOST:PORT]", "--listen HOST:PORT", "Examples:"}},
		{[]string{"serve", "--help"}, []string{"flightdeck serve [--config PATH] [--listen HOST:PORT]"}},
		{[]string{"help", "timeline"}, []string{"--since TIME", "--format FORMAT", "1.5d", "Examples:"}},
		{[]string{"timeline", "-help"}, []string{"--until TIME"}},
		{[]string{"config", "--help"}, []string{"flightdeck config check [--config PATH]", "Commands:\n  check"}},
		{[]string{"help", "config", "check"}, []string{"file, line and field", "--config PATH"}},
		{[]string{"config", "check", "--help"}, []string{"Usage:\n  flightdeck config check [--config PATH]", "Examples:"}},
		{[]string{"help", "version"}, []string{"flightdeck --version"}},
		{[]string{"version"}, []string{"flightdeck "}},
	} {
		out, errs, code := runCLI(t, c.args...)
		if code != 0 || errs != "" {
			t.Errorf("%q: exit %d, stderr %q", c.args, code, errs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q: stdout lacks %q:\n%s", c.args, w, out)
			}
		}
		if singleDash.MatchString(out) || strings.Contains(out, "Usage of") {
			t.Errorf("%q: single-dash flags or the flag package's own usage:\n%s", c.args, out)
		}
	}
	for _, bad := range [][]string{{"--bogus"}, {"serve", "--bogus"}, {"help", "frobnicate"}, {"timeline", "stray"}, {"version", "x"}} {
		out, errs, code := runCLI(t, bad...)
		if code != 2 || out != "" || !strings.Contains(errs, "--help") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", bad, code, out, errs)
		}
	}
}

var singleDash = regexp.MustCompile(`\n  -[a-z]`)

// A build from a git checkout says which commit it is, not "dev".
func TestVersionFromTheBuild(t *testing.T) {
	out, _, _ := runCLI(t, "--version")
	if out == "flightdeck dev\n" {
		t.Skip("test binary built without VCS stamping (go test does not stamp)")
	}
	if !strings.HasPrefix(out, "flightdeck ") {
		t.Fatalf("%q", out)
	}
}
