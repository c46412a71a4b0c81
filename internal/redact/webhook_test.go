package redact

import (
	"strings"
	"testing"
)

func TestWebhook(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.slack.com/services/T000/B000/XXXXsecret": "https://hooks.slack.com/" + Mask,
		"https://user:pw@hooks.example.com/x?token=abc":         "https://hooks.example.com/" + Mask,
		"http://127.0.0.1:8080":                                 "http://127.0.0.1:8080",
		"http://127.0.0.1:8080?k=v":                             "http://127.0.0.1:8080/" + Mask,
		"hooks.slack.com/services/T000":                         Mask,
		"":                                                      "",
	} {
		if got := Webhook(raw); got != want {
			t.Errorf("Webhook(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestWebhookSecretsScrubAnErrorQuotingTheURL(t *testing.T) {
	raw := "https://hooks.slack.com/services/T000/B000/XXXXsecret"
	msg := `Post "` + raw + `": dial tcp: lookup hooks.slack.com: no such host; path /services/T000/B000/XXXXsecret`
	got := Scrub(msg, WebhookSecrets(raw)...)
	if strings.Contains(got, "XXXXsecret") || !strings.Contains(got, Mask) {
		t.Fatalf("scrubbed = %q", got)
	}
}
