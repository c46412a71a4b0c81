package redact

import "strings"

// Webhook masks a webhook URL: everything after the host is the secret (a
// Slack incoming webhook's path is its only credential), and so are
// userinfo and query. What stays, scheme://host/…, still tells an operator
// which service it posts to. Text without a scheme:// is masked whole.
func Webhook(raw string) string {
	if raw == "" {
		return ""
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/?#@") {
		return Mask
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	if host == rest && !strings.Contains(raw[len(scheme)+3:], "@") {
		return raw
	}
	return scheme + "://" + host + "/" + Mask
}

// WebhookSecrets are the spellings of a webhook URL that a message may
// quote (the URL whole, its path and query), for Scrub: an HTTP client's
// error quotes the URL it failed to reach.
func WebhookSecrets(raw string) []string {
	if raw == "" {
		return nil
	}
	out := []string{raw}
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		if i := strings.IndexAny(rest, "/?#"); i >= 0 && len(rest[i:]) > 1 {
			out = append(out, rest[i:])
		}
		if at := strings.Index(rest, "@"); at >= 0 {
			out = append(out, rest[:at])
		}
	}
	return out
}
