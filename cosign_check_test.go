package main

import (
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
}

// TestConfigCheckMasksWebhookURL: a Slack webhook's path is its secret.
func TestConfigCheckMasksWebhookURL(t *testing.T) {
	_, out, errs, code := checkConfig(t, "notify:\n  sinks:\n    - {name: incidents, type: slack, url: 'https://hooks.slack.com/services/T0/B0/XXXXsecret'}\n")
	if code != 0 || strings.Contains(out+errs, "XXXXsecret") || !strings.Contains(out, "hooks.slack.com") {
		t.Fatalf("exit %d, stderr %q, out:\n%s", code, errs, out)
	}
}
