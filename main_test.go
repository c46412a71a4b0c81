package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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

func TestUsageMentionsServe(t *testing.T) {
	_, errs, code := runCLI(t, "--help")
	if code != 0 || !strings.Contains(errs, "flightdeck serve [--config PATH] [--listen HOST:PORT]") {
		t.Fatalf("exit %d: %q", code, errs)
	}
}
