package config

import (
	"strings"

	"gopkg.in/yaml.v3"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
)

// Mask is what secrets are replaced with in every output (redact.Mask).
const Mask = redact.Mask

// Masked returns a copy of c with every secret replaced by Mask: DSN
// passwords (URL and key=value forms, sslpassword too), passwords and
// tokens in the Prometheus, Alertmanager and AWS endpoint URLs (userinfo,
// query, fragment), bearer tokens and basic-auth passwords, and webhook
// URLs (all but scheme and host).
func (c *Config) Masked() *Config {
	m := *c
	m.Postgres = append([]Postgres(nil), c.Postgres...)
	for i := range m.Postgres {
		m.Postgres[i].DSN = redact.DSN(m.Postgres[i].DSN)
	}
	if c.Prometheus != nil {
		p := *c.Prometheus
		p.URL = redact.URL(p.URL)
		p.HTTPClient = p.HTTPClient.masked()
		m.Prometheus = &p
	}
	if c.Alertmanager != nil {
		a := *c.Alertmanager
		a.URL = redact.URL(a.URL)
		a.HTTPClient = a.HTTPClient.masked()
		m.Alertmanager = &a
	}
	if c.AWS != nil {
		a := *c.AWS
		a.EndpointURL = redact.URL(a.EndpointURL)
		m.AWS = &a
	}
	m.Notify = c.Notify.masked()
	return &m
}

func (h HTTPClient) masked() HTTPClient {
	if h.BearerToken != "" {
		h.BearerToken = Mask
	}
	if h.BasicAuth != nil {
		b := *h.BasicAuth
		if b.Password != "" {
			b.Password = Mask
		}
		h.BasicAuth = &b
	}
	return h
}

// EffectiveYAML renders the config with defaults applied and secrets
// masked, every line sanitized: values that address something (a query, a
// URL) are kept as written in the config, so they may still hold bidi or
// escape characters that must not reach the terminal.
func (c *Config) EffectiveYAML() ([]byte, error) {
	out, err := yaml.Marshal(c.Masked())
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		lines[i] = sanitize.Text(l)
	}
	return []byte(strings.Join(lines, "\n")), nil
}
