package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkConfig runs `flightdeck config check` on a config with text src.
func checkConfig(t *testing.T, src string) (path, stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	path = filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI(t, "config", "check", "--config", path)
	return path, stdout, stderr, code
}

// TestConfigCheckPrintsNoSecret: one test per form a secret can take; the
// output (and any warning) holds none of them.
func TestConfigCheckPrintsNoSecret(t *testing.T) {
	for _, tc := range []struct{ name, src, secret string }{
		{"DSN URL", "postgres:\n  - dsn: 'postgres://fd:hunter2@127.0.0.1:1/app?sslpassword=topsecret'\n", "hunter2|topsecret"},
		{"key=value password", "postgres:\n  - dsn: 'host=127.0.0.1 port=1 user=fd password=hunter2'\n", "hunter2"},
		{"key=value sslpassword", "postgres:\n  - dsn: 'host=127.0.0.1 port=1 sslpassword=topsecret sslmode=disable'\n", "topsecret"},
		{"prometheus URL userinfo", "prometheus: {url: 'http://admin:hunter2@127.0.0.1:1'}\n", "hunter2"},
		{"alertmanager URL userinfo", "alertmanager: {url: 'http://admin:hunter2@127.0.0.1:1'}\n", "hunter2"},
		{"basic_auth", "alertmanager: {url: 'http://127.0.0.1:1', basic_auth: {username: admin, password: hunter2}}\n", "hunter2"},
		{"bearer_token", "prometheus: {url: 'http://127.0.0.1:1', bearer_token: tok-hunter2}\n", "hunter2"},
		// Issue 16.8.
		{"aws endpoint_url access key and token", "aws: {region: us-east-1, endpoint_url: 'http://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI%2FK7MDENG@127.0.0.1:1/?X-Amz-Security-Token=FwoGZXIvYXdzEBY'}\n",
			"AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI|FwoGZXIvYXdzEBY"},
		{"DSN options password", "postgres:\n  - dsn: \"host=127.0.0.1 port=1 options='-c password=hunter2'\"\n", "hunter2"},
		{"DSN URL options password", "postgres:\n  - dsn: 'postgres://fd@127.0.0.1:1/app?options=-c%20password%3Dhunter2'\n", "hunter2"},
		{"URL fragment", "prometheus: {url: 'http://127.0.0.1:1/#s3cretfrag'}\n", "s3cretfrag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, errs, code := checkConfig(t, tc.src)
			if code != 0 || !strings.Contains(out, "xxxxx") {
				t.Fatalf("exit %d, stderr %q, out:\n%s", code, errs, out)
			}
			for _, s := range strings.Split(tc.secret, "|") {
				if strings.Contains(out, s) || strings.Contains(errs, s) {
					t.Errorf("%q printed:\n%s%s", s, out, errs)
				}
			}
		})
	}
}

// TestConfigCheckBadURLHidesPassword: the URL that fails to parse.
func TestConfigCheckBadURLHidesPassword(t *testing.T) {
	path, _, errs, code := checkConfig(t, "prometheus: {url: 'http://u:pw4711@[::1'}\n")
	if code != 1 || strings.Contains(errs, "pw4711") || !strings.HasPrefix(errs, path+":1: prometheus.url: not a valid URL") {
		t.Fatalf("exit %d: %q", code, errs)
	}
}

// TestConfigCheckBadAWSEndpointHidesKeys: aws.endpoint_url's errors quote
// it only masked (issue 16.8).
func TestConfigCheckBadAWSEndpointHidesKeys(t *testing.T) {
	for _, u := range []string{"http://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI@[::1", "ftp://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI@h/#wJalrXUtnFEMI"} {
		path, _, errs, code := checkConfig(t, "aws:\n  region: us-east-1\n  endpoint_url: '"+u+"'\n")
		if code != 1 || strings.Contains(errs, "wJalrXUtnFEMI") || strings.Contains(errs, "AKIAIOSFODNN7EXAMPLE") || !strings.HasPrefix(errs, path+":3: aws.endpoint_url: ") {
			t.Errorf("%s: exit %d: %q", u, code, errs)
		}
	}
}

// TestConfigCheckRejectsWithPlace: each failure names file:line: field.
func TestConfigCheckRejectsWithPlace(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"bad DSN", "environment: x\npostgres:\n  - name: main\n    dsn: 'host=db port=notaport password=hunter2'\n", ":4: postgres[0].dsn: postgres main: bad DSN"},
		{"binary garbage", "\x7fELF\x02\x01\x01\x00\x00", ":1: control character U+007F at column 1"},
		{"empty file", "", ":1: the file is empty"},
		{"two documents", "environment: a\n---\nenvironment: b\n", ":2: a second YAML document"},
		{"template", "prometheus: {url: 'http://p:9090'}\nslos:\n  - name: a\n    objective: 0.99\n    window: 30d\n    good: 'x[{{.window}}]'\n    total: 'y[{{.window}}]{{index .window 99}}'\n",
			":7: slos[0].total: bad template"},
		{"cancel and terminate on K", "keys:\n  cancel: [K]\n  terminate: [K]\n", `:3: keys.terminate: key "K" is bound to both terminate and cancel in the postgres pane`},
		{"terminate on yes", "keys:\n  terminate: [y]\n", `:2: keys.terminate: key "y" is bound to both terminate and confirm_yes`},
		{"quit on j", "environment: x\nkeys:\n  quit: [j]\n", `:3: keys.quit: key "j" is bound to both down and quit in every pane`},
		{"interval 1ns", "prometheus: {url: 'http://127.0.0.1:1', interval: 1ns}\n", ":1: prometheus.interval: must be at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, out, errs, code := checkConfig(t, tc.src)
			if code != 1 || out != "" || !strings.HasPrefix(errs, path+tc.want) {
				t.Fatalf("exit %d\nstderr %q\nwant   %q", code, errs, path+tc.want)
			}
			if strings.Contains(errs, "hunter2") {
				t.Errorf("secret in %q", errs)
			}
		})
	}
}

// TestConfigCheckEchoesNoControls: bidi and escape characters in the file
// are never printed back.
func TestConfigCheckEchoesNoControls(t *testing.T) {
	_, out, errs, code := checkConfig(t, "environment: \"env\\e]52;c;QQ==\\a\u202e\"\nprometheus: {url: \"http://127.0.0.1:1/\u202e\"}\n")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u009b"} {
		if strings.Contains(out+errs, bad) {
			t.Errorf("%+q echoed:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "environment: env") {
		t.Errorf("out:\n%s", out)
	}
}

// TestConfigCheckExampleNamesKubeconfigPaths is issue 17.15: on the
// README's example config without a kubeconfig, the warning names the
// paths tried and the config key that sets one, not client-go's
// KUBERNETES_MASTER advice.
func TestConfigCheckExampleNamesKubeconfigPaths(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("KUBECONFIG", none)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, errs, code := runCLI(t, "config", "check", "--config", "testdata/config/example.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"warning: kubernetes: no kubeconfig found: $KUBECONFIG names " + none + " (does not exist)", "set kubernetes.kubeconfig"} {
		if !strings.Contains(errs, want) {
			t.Errorf("warning lacks %q: %q", want, errs)
		}
	}
	if strings.Contains(errs, "KUBERNETES_MASTER") {
		t.Errorf("client-go's advice: %q", errs)
	}
}
