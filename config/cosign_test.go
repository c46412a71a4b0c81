package config

import (
	"strings"
	"testing"
	"time"
)

// policy.two_person loads; a rule that covers nothing, an empty name and
// an expiry out of bounds are refused with file:line.
func TestTwoPersonSection(t *testing.T) {
	c, err := Parse("c.yaml", []byte("policy:\n  two_person:\n    actions: [promote_read_replica, failover_db_cluster]\n    environments: [production]\n    bulk_only: true\n    expiry: 90s\n"))
	if err != nil {
		t.Fatal(err)
	}
	tp := c.Policy.TwoPerson
	if tp == nil || len(tp.Actions) != 2 || tp.Environments[0] != "production" || !tp.BulkOnly || tp.Expiry.D() != 90*time.Second {
		t.Fatalf("%+v", tp)
	}
	_, err = Parse("c.yaml", []byte("theme: dark\npolicy:\n  two_person:\n    expiry: 1s\n"))
	if err == nil || !strings.Contains(err.Error(), "cover nothing") ||
		!strings.Contains(err.Error(), "c.yaml:4") || !strings.Contains(err.Error(), "policy.two_person.expiry") {
		t.Fatalf("want both errors with lines, got %v", err)
	}
	_, err = Parse("c.yaml", []byte("policy:\n  two_person:\n    actions: [terminate, terminate]\n    nope: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown key not refused: %v", err)
	}
}

// notify: loads with defaults; every output masks a webhook URL's path;
// nonsense is refused with file:line and without the secret.
func TestNotifySection(t *testing.T) {
	const secret = "https://hooks.slack.com/services/T000/B000/XXXXsecret"
	src := "notify:\n  sinks:\n" +
		"    - {name: incidents, type: slack, url: '" + secret + "', events: [action, cosign, step]}\n" +
		"    - {name: dr, type: sns, topic_arn: 'arn:aws:sns:us-east-1:123456789012:dr', endpoint: 'http://127.0.0.1:5000'}\n"
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if n.Timeout.D() != DefaultNotifyTimeout || *n.Retries != DefaultNotifyRetries || n.Queue != DefaultNotifyQueue || len(n.Sinks) != 2 {
		t.Fatalf("%+v", n)
	}
	out, err := c.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "XXXXsecret") || !strings.Contains(string(out), "https://hooks.slack.com/"+Mask) {
		t.Fatalf("effective config leaks or loses the webhook:\n%s", out)
	}
	if c.Notify.Sinks[0].URL != secret {
		t.Fatal("masking changed the config itself")
	}
	bad := "notify:\n  timeout: 1h\n  sinks:\n" +
		"    - {name: a, type: slack, url: 'ftp://hooks.slack.com/services/XXXXsecret'}\n" +
		"    - {name: a, type: sns, topic_arn: nope}\n" +
		"    - {name: c, type: pager}\n" +
		"    - {name: d, type: webhook, url: 'http://x', events: [everything]}\n"
	_, err = Parse("c.yaml", []byte(bad))
	if err == nil {
		t.Fatal("bad notify accepted")
	}
	msg := err.Error()
	for _, want := range []string{"c.yaml:2", "notify.timeout", "c.yaml:4", "notify.sinks[0].url", "duplicate sink name", "topic_arn", "unknown sink type", "unknown event \"everything\""} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "XXXXsecret") {
		t.Errorf("error leaks the webhook secret:\n%s", msg)
	}
}
