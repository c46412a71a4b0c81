package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
)

// maxErrorBody is how much of a failing webhook's answer an error quotes
// (sanitized): enough for "invalid_payload", never a flood.
const maxErrorBody = 256

// Webhook POSTs events as JSON to a URL, which is a secret: Name and
// errors never show more than its scheme and host.
type Webhook struct {
	name, url string
	// slack posts {"text": …} (a Slack-compatible incoming webhook) instead
	// of the whole Event.
	slack  bool
	client *http.Client
}

// NewSlack is a Slack-compatible incoming webhook: {"text": "…"}.
func NewSlack(name, url string, client *http.Client) *Webhook {
	return &Webhook{name: name, url: url, slack: true, client: orDefault(client)}
}

// NewWebhook is a generic JSON webhook: the Event as JSON.
func NewWebhook(name, url string, client *http.Client) *Webhook {
	return &Webhook{name: name, url: url, client: orDefault(client)}
}

func orDefault(c *http.Client) *http.Client {
	if c == nil {
		// No redirects: a webhook that moves is a misconfiguration, and a
		// redirect would carry the event somewhere not configured.
		return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return c
}

// Name is the sink's name.
func (w *Webhook) Name() string { return w.name }

// String is the sink as config check shows it, its secret masked.
func (w *Webhook) String() string { return w.name + " → " + redact.Webhook(w.url) }

// Send POSTs e; any status but 2xx is an error quoting a sanitized excerpt
// of the answer.
func (w *Webhook) Send(ctx context.Context, e Event) error {
	var payload any = e
	if w.slack {
		payload = map[string]string{"text": e.body()}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return scrubbed(err, redact.WebhookSecrets(w.url))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "flightdeck")
	resp, err := w.client.Do(req)
	if err != nil {
		return scrubbed(err, redact.WebhookSecrets(w.url))
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode/100 != 2 {
		msg := sanitize.Text(string(bytes.TrimSpace(excerpt)))
		return scrubbed(fmt.Errorf("%s answered %d %s", redact.Webhook(w.url), resp.StatusCode, msg), redact.WebhookSecrets(w.url))
	}
	return nil
}
