package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckTwoPersonActions: policy.two_person names actions as ops
// does; a typo is refused at its line, since it would leave the action
// meant uncovered.
func TestConfigCheckTwoPersonActions(t *testing.T) {
	_, out, errs, code := checkConfig(t, "policy:\n  two_person:\n    actions: [promote_read_replica, failover_db_cluster]\n")
	if code != 0 || !strings.Contains(out, "two_person:") || !strings.Contains(out, "promote_read_replica") {
		t.Fatalf("exit %d, stderr %q, out:\n%s", code, errs, out)
	}
	path, _, errs, code := checkConfig(t, "policy:\n  two_person:\n    actions: [promote_read_replica, promote_replica]\n")
	if code != 1 || !strings.HasPrefix(errs, path+":3: policy.two_person.actions[1]: unknown action \"promote_replica\"") {
		t.Fatalf("exit %d: %q", code, errs)
	}
	// The risk tier: high only, at its line; alone it is a whole rule.
	_, out, errs, code = checkConfig(t, "policy:\n  two_person:\n    risk: high\n    environments: [production]\n")
	if code != 0 || !strings.Contains(out, "risk: high") {
		t.Fatalf("risk: high: exit %d, stderr %q, out:\n%s", code, errs, out)
	}
	path, _, errs, code = checkConfig(t, "policy:\n  two_person:\n    risk: low\n")
	if code != 1 || !strings.HasPrefix(errs, path+":3: policy.two_person.risk: only high is a tier the rule selects") {
		t.Fatalf("risk: low: exit %d: %q", code, errs)
	}
}

// TestConfigCheckMasksWebhookURL: a Slack webhook's path is its secret.
func TestConfigCheckMasksWebhookURL(t *testing.T) {
	_, out, errs, code := checkConfig(t, "notify:\n  sinks:\n    - {name: incidents, type: slack, url: 'https://hooks.slack.com/services/T0/B0/XXXXsecret'}\n")
	if code != 0 || strings.Contains(out+errs, "XXXXsecret") || !strings.Contains(out, "hooks.slack.com") {
		t.Fatalf("exit %d, stderr %q, out:\n%s", code, errs, out)
	}
}

// A runbook of one's own whose notify step names a sink the config does
// not have is a warning at its file and line in config check (the step
// would be refused mid-incident); the shipped runbooks' optional sinks
// are not.
func TestConfigCheckNotifySinkOfARunbook(t *testing.T) {
	dir := t.TempDir()
	book := "name: tell-the-pager\ntitle: Tell the pager\nsteps:\n" +
		"  - kind: note\n    title: Look\n    text: look first\n" +
		"  - kind: notify\n    title: Page\n    sink: pager\n    message: database failed over\n"
	if err := os.WriteFile(filepath.Join(dir, "pager.yaml"), []byte(book), 0o600); err != nil {
		t.Fatal(err)
	}
	sinks := "notify:\n  sinks:\n    - {name: incidents, type: slack, url: 'https://hooks.slack.com/services/T0/B0/X'}\n"
	_, _, errs, code := checkConfig(t, "runbooks: ["+dir+"]\n"+sinks)
	want := filepath.Join(dir, "pager.yaml") + `:7: runbook "tell-the-pager" step 2: notify sink "pager" is not in config's notify.sinks (configured: incidents)`
	if code != 0 || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q\nwant %q", code, errs, want)
	}
	if strings.Contains(errs, "builtin/") {
		t.Errorf("a shipped runbook's sink is warned of: %q", errs)
	}
	_, _, errs, code = checkConfig(t, "runbooks: ["+dir+"]\n"+strings.Replace(sinks, "{name: incidents", "{name: pager", 1))
	if code != 0 || strings.Contains(errs, "notify sink") {
		t.Errorf("with the sink: exit %d, stderr %q", code, errs)
	}
}
