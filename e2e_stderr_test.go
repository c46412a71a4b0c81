package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
)

// hostileHelper is a credential helper that writes an OSC 52 clipboard
// write, an 8-bit CSI (U+009B) and a right-to-left override to stderr,
// notes each call, and fails, as a broken or hostile AWS credential_process
// or kubeconfig exec plugin would.
const hostileHelper = `#!/bin/sh
echo "$1" >> "$(dirname "$0")/calls"
printf 'helper %s says \033]52;c;cHduZWQ=\007 \302\2332J \342\200\256 evil-marker\n' "$1" >&2
exit 1
`

// TestCredentialHelpersWriteToTheLog is issue 16's item 7 on the real
// binary in tmux: an AWS credential_process and a kubeconfig exec plugin
// write escape sequences to stderr each time they run. Not one of those
// bytes reaches the terminal, and what they wrote is in the --log file,
// sanitized.
func TestCredentialHelpersWriteToTheLog(t *testing.T) {
	dir := t.TempDir()
	helper := filepath.Join(dir, "helper")
	if err := os.WriteFile(helper, []byte(hostileHelper), 0o700); err != nil {
		t.Fatal(err)
	}
	awsConfig := filepath.Join(dir, "aws-config")
	if err := os.WriteFile(awsConfig, []byte("[profile hostile]\nregion = us-east-1\ncredential_process = "+helper+" aws\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users:
  - name: u
    user:
      exec: {apiVersion: client.authentication.k8s.io/v1, command: `+helper+`, args: [kube], interactiveMode: Never}
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`environment: staging
audit: {path: %s}
kubernetes: {kubeconfig: %s, namespaces: [default]}
aws:
  region: us-east-1
  profile: hostile
  endpoint_url: http://127.0.0.1:1
  interval: 1s
  timeout: 2s
  rds: {instances: [db]}
`, filepath.Join(dir, "audit.jsonl"), kubeconfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "flightdeck.log")
	env := []string{"XDG_STATE_HOME=" + dir, "AWS_CONFIG_FILE=" + awsConfig, "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE="}
	s := startTmux(t, env, buildBinary(t), "--config", cfgPath, "--log", logPath)
	s.waitFor("the cockpit", contains("staging"))
	// Each helper ran a few times while the UI owned the terminal.
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
		return strings.Count(string(calls), "aws\n") >= 2 && strings.Count(string(calls), "kube\n") >= 2,
			fmt.Sprintf("the helpers ran: %q", calls)
	})
	s.keys("q")
	testsrv.WaitFor(t, 30*time.Second, func() (bool, string) {
		return exec.Command(s.tmux, "-S", s.sock, "has-session", "-t", "fd").Run() != nil, "flightdeck still running after q"
	})

	raw, err := os.ReadFile(s.raw)
	if err != nil || len(raw) == 0 {
		t.Fatalf("pipe-pane captured nothing: %v", err)
	}
	logged, err := os.ReadFile(logPath)
	t.Logf("log:\n%s", logged)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"an OSC 52 clipboard write":         "\x1b]52",
		"the clipboard payload":             "cHduZWQ=",
		"a C1 CSI (U+009B)":                 "\u009b",
		"a right-to-left override (U+202E)": "\u202e",
		"the helper's text":                 "evil-marker",
	} {
		if n := bytes.Count(raw, []byte(bad)); n > 0 {
			i := bytes.Index(raw, []byte(bad))
			t.Errorf("%s reached the terminal %d times: …%q…", name, n, raw[max(0, i-40):min(len(raw), i+40)])
		}
		if bad != "evil-marker" && bytes.Contains(logged, []byte(bad)) {
			t.Errorf("%s is in the log unsanitized", name)
		}
	}
	if bytes.Contains(logged, []byte(`\u001b`)) {
		t.Error("an escape is in the log")
	}
	for _, who := range []string{"aws", "kube"} {
		if !bytes.Contains(logged, []byte("helper "+who+" says")) || !bytes.Contains(logged, []byte("evil-marker")) {
			t.Errorf("the %s helper's stderr is not in the log:\n%s", who, logged)
		}
	}
}
