package config

import (
	"net/url"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mask is what secrets are replaced with in every output.
const Mask = "xxxxx"

var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// MaskDSN hides the password of a libpq DSN in URL form
// (postgres://u:secret@h/db, ?password=secret) or key=value form
// (password=secret).
func MaskDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// Unparseable: mask everything between :// and @ to be safe.
			if i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@"); i >= 0 && j > i {
				return dsn[:i+3] + Mask + dsn[j:]
			}
			return dsn
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", Mask)
			u.RawQuery = q.Encode()
		}
		return strings.Replace(u.String(), url.QueryEscape(Mask), Mask, 1)
	}
	return kvPassword.ReplaceAllString(dsn, "${1}"+Mask)
}

// Masked returns a copy of c with every secret replaced by Mask.
func (c *Config) Masked() *Config {
	m := *c
	m.Postgres = append([]Postgres(nil), c.Postgres...)
	for i := range m.Postgres {
		m.Postgres[i].DSN = MaskDSN(m.Postgres[i].DSN)
	}
	if c.Prometheus != nil {
		p := *c.Prometheus
		p.HTTPClient = p.HTTPClient.masked()
		m.Prometheus = &p
	}
	if c.Alertmanager != nil {
		a := *c.Alertmanager
		a.HTTPClient = a.HTTPClient.masked()
		m.Alertmanager = &a
	}
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

// EffectiveYAML renders the config with defaults applied and secrets masked.
func (c *Config) EffectiveYAML() ([]byte, error) {
	return yaml.Marshal(c.Masked())
}
