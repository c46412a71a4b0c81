package postgres

import (
	"net/url"
	"strings"
)

// mask replaces every secret in printed DSNs.
const mask = "*****"

// secretKeys are the connection parameters whose values are secrets.
var secretKeys = map[string]bool{"password": true, "sslpassword": true}

// MaskDSN returns dsn with its passwords masked, for printing (config check,
// logs, error messages). Both forms libpq accepts are handled: URLs
// (postgres://user:secret@host/db?sslpassword=secret) and key=value strings
// (host=db password='se cret'). A string that cannot be parsed is masked from
// the first secret key onwards, so a malformed DSN never prints its password.
func MaskDSN(dsn string) string {
	out, _ := maskDSN(dsn)
	return out
}

// maskDSN masks dsn and also returns the secrets it found, so error
// messages that quote parts of the DSN can be scrubbed too.
func maskDSN(dsn string) (string, []string) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return maskURL(dsn)
	}
	return maskKeyValue(dsn)
}

func maskURL(dsn string) (string, []string) {
	var secrets []string
	scheme, rest, _ := strings.Cut(dsn, "://")
	// The authority ends at the first '/', '?' or '#'; multi-host lists
	// (h1:5432,h2:5432) defeat net/url, so split by hand.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, hosts := authority[:at], authority[at+1:]
		if user, pw, ok := strings.Cut(userinfo, ":"); ok {
			if pw != "" {
				secrets = appendSecret(secrets, pw)
			}
			userinfo = user + ":" + mask
		}
		authority = userinfo + "@" + hosts
	}
	path, query, hasQuery := strings.Cut(tail, "?")
	if hasQuery {
		frag := ""
		if i := strings.IndexByte(query, '#'); i >= 0 {
			query, frag = query[:i], query[i:]
		}
		params := strings.Split(query, "&")
		for i, p := range params {
			k, v, ok := strings.Cut(p, "=")
			key, err := url.QueryUnescape(k)
			if err != nil {
				key = k
			}
			if ok && secretKeys[strings.ToLower(key)] {
				secrets = appendSecret(secrets, v)
				params[i] = k + "=" + mask
			}
		}
		tail = path + "?" + strings.Join(params, "&") + frag
	}
	return scheme + "://" + authority + tail, secrets
}

// appendSecret records a secret in its raw and URL-decoded spellings.
func appendSecret(secrets []string, raw string) []string {
	if raw == "" {
		return secrets
	}
	secrets = append(secrets, raw)
	if dec, err := url.PathUnescape(raw); err == nil && dec != raw {
		secrets = append(secrets, dec)
	}
	return secrets
}

// maskKeyValue follows libpq's conninfo grammar: key = value pairs separated
// by whitespace, values optionally single-quoted with backslash escapes.
func maskKeyValue(dsn string) (string, []string) {
	var b strings.Builder
	var secrets []string
	i := 0
	for i < len(dsn) {
		// whitespace between pairs
		for i < len(dsn) && isSpace(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
		}
		if i >= len(dsn) {
			break
		}
		// key
		ks := i
		for i < len(dsn) && dsn[i] != '=' && !isSpace(dsn[i]) {
			i++
		}
		key := dsn[ks:i]
		b.WriteString(key)
		for i < len(dsn) && isSpace(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
		}
		if i >= len(dsn) || dsn[i] != '=' {
			return maskRest(dsn, secrets)
		}
		b.WriteByte('=')
		i++
		for i < len(dsn) && isSpace(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
		}
		// value
		vs := i
		var val strings.Builder
		if i < len(dsn) && dsn[i] == '\'' {
			i++
			closed := false
			for i < len(dsn) {
				c := dsn[i]
				if c == '\\' && i+1 < len(dsn) {
					val.WriteByte(dsn[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return maskRest(dsn, secrets)
			}
		} else {
			for i < len(dsn) && !isSpace(dsn[i]) {
				if dsn[i] == '\\' && i+1 < len(dsn) {
					val.WriteByte(dsn[i+1])
					i += 2
					continue
				}
				val.WriteByte(dsn[i])
				i++
			}
		}
		if secretKeys[strings.ToLower(key)] {
			secrets = append(secrets, val.String())
			if raw := dsn[vs:i]; raw != val.String() {
				secrets = append(secrets, raw)
			}
			b.WriteString(mask)
		} else {
			b.WriteString(dsn[vs:i])
		}
	}
	return b.String(), secrets
}

// maskRest handles a DSN we could not parse: everything from the first
// secret key on is replaced, and the raw tail is reported as a secret.
func maskRest(dsn string, secrets []string) (string, []string) {
	lower := strings.ToLower(dsn)
	cut := -1
	for k := range secretKeys {
		if i := strings.Index(lower, k); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return dsn, secrets
	}
	tail := dsn[cut:]
	if _, v, ok := strings.Cut(tail, "="); ok && strings.TrimSpace(v) != "" {
		secrets = append(secrets, strings.TrimSpace(v))
	}
	return dsn[:cut] + mask, secrets
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// scrub removes secrets from a message that may quote the DSN.
func scrub(msg string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 1 {
			msg = strings.ReplaceAll(msg, sec, mask)
		}
	}
	return msg
}
