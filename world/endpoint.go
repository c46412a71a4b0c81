package world

import (
	"flightdeck/config"
	"flightdeck/internal/httpopt"
)

// endpoint maps a server's config section onto the options every HTTP
// backend shares.
func endpoint(url string, timeout config.Duration, h config.HTTPClient) httpopt.Endpoint {
	e := httpopt.Endpoint{URL: url, Timeout: timeout.D(), MaxBody: int64(h.MaxResponseMiB) << 20,
		Auth: httpopt.Auth{BearerToken: h.BearerToken, BearerTokenFile: h.BearerTokenFile}}
	if b := h.BasicAuth; b != nil {
		e.Auth.Username, e.Auth.Password = b.Username, b.Password
	}
	if t := h.TLS; t != nil {
		e.TLS = httpopt.TLS{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
			ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	return e
}
