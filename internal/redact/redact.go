// Package redact masks secrets in text that is about to be shown or logged:
// libpq DSNs (URL and key=value forms), URLs (the password in userinfo,
// tokens in query strings) and errors that quote them (a *url.Error carries
// its whole URL). It is the one place that knows what a secret looks like;
// config check, the backends, their errors and their logs all go through it.
//
// Masking is done by hand rather than through net/url, because the strings
// that most need it are the ones net/url rejects: a URL that fails to parse
// ("parse \"http://u:pw@[::1\": missing ']'") or a libpq multi-host URL. When
// in doubt it masks too much, never too little.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every secret (the same as net/url's URL.Redacted).
const Mask = "xxxxx"

// SecretKey reports whether a query parameter or conninfo key names a
// secret: passwords (password, sslpassword, passwd, pwd), tokens
// (token, access_token, …), secrets (secret, client_secret), API keys (key,
// api_key, apikey) and signatures. Comparison ignores case.
func SecretKey(name string) bool {
	k := strings.ToLower(strings.TrimSpace(name))
	switch k {
	case "key", "apikey", "api_key", "api-key", "access_key", "secret_key", "private_key", "pwd", "pass", "auth", "sig", "signature", "credential", "credentials":
		return true
	}
	for _, part := range []string{"password", "passwd", "token", "secret", "signature", "x-amz-credential"} {
		if strings.Contains(k, part) {
			return true
		}
	}
	return false
}

// URL returns raw with its secrets replaced by Mask: the password of its
// userinfo (and the user too when it is a credential, such as an AWS access
// key ID or a token), the values of secret query parameters, a password
// inside a libpq options parameter (options=-c password=…), and the whole
// fragment, which a server never sees and so can only hold something meant
// for someone else (an OAuth token). It works on URLs net/url cannot parse,
// and returns anything without a scheme:// unchanged but for secret
// key=value pairs.
func URL(raw string) string {
	out, _ := URLSecrets(raw)
	return out
}

// URLSecrets is URL, also returning the secrets it masked (raw and
// percent-decoded spellings), so messages that quote them can be scrubbed.
func URLSecrets(raw string) (string, []string) { return urlSecrets(raw, true) }

// Link is URL for a link a person is meant to follow (an alert's runbook
// URL): the same secrets are masked, but a fragment is kept when it is a
// plain anchor (#section), and only its secret key=value pairs are masked.
func Link(raw string) string {
	out, _ := urlSecrets(raw, false)
	return out
}

// urlSecrets masks raw; wholeFragment masks any fragment whole, otherwise
// only the secret parameters in it.
func urlSecrets(raw string, wholeFragment bool) (string, []string) {
	var secrets []string
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return maskParams(raw, "&", &secrets), secrets
	}
	// Userinfo ends at the last '@' before the query or fragment: a
	// password may hold '/' or '@' (unescaped, which is why such URLs fail
	// to parse), so the first '/' cannot be trusted to end the authority.
	head := rest
	if i := strings.IndexAny(head, "?#"); i >= 0 {
		head = head[:i]
	}
	if at := strings.LastIndexByte(head, '@'); at >= 0 && !pathAt(head[:at]) {
		user, pw, hasPassword := strings.Cut(rest[:at], ":")
		if Credential(user) {
			secrets = appendSecret(secrets, user)
			user = Mask
		}
		if hasPassword {
			secrets = appendSecret(secrets, pw)
			user += ":" + Mask
		}
		rest = user + rest[at:]
	}
	// Query parameters, then the fragment, masked whole.
	var query, fragment string
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, fragment = rest[:i], rest[i+1:]
		switch {
		case fragment == "":
			fragment = "#"
		case wholeFragment:
			secrets = appendSecret(secrets, fragment)
			fragment = "#" + Mask
		default:
			fragment = "#" + maskParams(fragment, "&", &secrets)
		}
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], "?"+maskParams(rest[i+1:], "&", &secrets)
	}
	return scheme + "://" + rest + query + fragment, secrets
}

// Credential reports whether a URL's user name is itself a secret rather
// than a name: an AWS access key ID (AKIA…, ASIA…), a token with a
// well-known prefix (ghp_, glpat-, xoxb-, sk-, …), or a long opaque
// string of letters and digits such as an API key. A person's or a
// service's user name is none of these.
func Credential(user string) bool {
	if dec, err := url.PathUnescape(user); err == nil {
		user = dec
	}
	if len(user) >= 16 && len(user) <= 128 && awsKeyID(user) {
		return true
	}
	for _, p := range []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "xoxa-", "sk-", "AIza", "ya29."} {
		if strings.HasPrefix(user, p) {
			return true
		}
	}
	if len(user) < 32 {
		return false
	}
	letters, digits := false, false
	for _, c := range user {
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letters = true
		case strings.ContainsRune("-_+/=.", c):
		default:
			return false
		}
	}
	return letters && digits
}

// awsKeyID reports whether s is shaped like an AWS access key ID: a known
// four-letter prefix, then upper-case letters and digits.
func awsKeyID(s string) bool {
	switch s[:4] {
	case "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA":
	default:
		return false
	}
	for _, c := range s[4:] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// pathAt reports whether the text before an '@' is a host followed by a
// path (http://host/users/@me): then the '@' is in the path and there is no
// userinfo. A colon before the first '/' may be a password holding a '/'
// (http://u:p/w@host), so it counts as userinfo: masking too much is the
// safe mistake.
func pathAt(before string) bool {
	hostport, _, hasPath := strings.Cut(before, "/")
	return hasPath && !strings.Contains(hostport, ":")
}

// maskParams masks the values of secret keys in sep-separated key=value
// pairs (a query string), and secrets inside a libpq options value.
func maskParams(s, sep string, secrets *[]string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	params := strings.Split(s, sep)
	for i, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		switch {
		case SecretKey(key):
			*secrets = appendSecret(*secrets, v)
			params[i] = k + "=" + Mask
		case isOptions(key):
			val, err := url.QueryUnescape(v)
			if err != nil {
				// Options that do not decode cannot be read for secrets.
				*secrets = appendSecret(*secrets, v)
				params[i] = k + "=" + Mask
				continue
			}
			if masked, found := maskOptions(val); len(found) > 0 {
				*secrets = append(*secrets, found...)
				*secrets = appendSecret(*secrets, v)
				params[i] = k + "=" + url.PathEscape(masked)
			}
		}
	}
	return strings.Join(params, sep)
}

// isOptions reports whether a conninfo key is libpq's options: command-line
// options sent to the server (-c name=value), where a secret setting may
// hide.
func isOptions(key string) bool { return strings.EqualFold(strings.TrimSpace(key), "options") }

// maskOptions masks the value of every secret setting in a libpq options
// value: "-c name=value", "-cname=value" or "--name=value", separated by
// unescaped whitespace (a backslash escapes the next character). It returns
// the masked options and the secrets it found.
func maskOptions(opts string) (string, []string) {
	var b strings.Builder
	var secrets []string
	i := 0
	for i < len(opts) {
		if isSpace(opts[i]) {
			b.WriteByte(opts[i])
			i++
			continue
		}
		start := i
		for i < len(opts) && !isSpace(opts[i]) {
			if opts[i] == '\\' && i+1 < len(opts) {
				i++
			}
			i++
		}
		tok := opts[start:i]
		name, val, ok := strings.Cut(tok, "=")
		name = strings.TrimPrefix(strings.TrimPrefix(name, "--"), "-c")
		if ok && SecretKey(name) {
			secrets = appendSecret(secrets, val)
			if unesc := strings.ReplaceAll(val, "\\", ""); unesc != val {
				secrets = appendSecret(secrets, unesc)
			}
			tok = tok[:len(tok)-len(val)] + Mask
		}
		b.WriteString(tok)
	}
	return b.String(), secrets
}

// appendSecret records a secret in its raw and decoded spellings.
func appendSecret(secrets []string, raw string) []string {
	if raw == "" || raw == Mask {
		return secrets
	}
	secrets = append(secrets, raw)
	for _, dec := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		if d, err := dec(raw); err == nil && d != raw && d != "" {
			secrets = append(secrets, d)
		}
	}
	return secrets
}

// DSN returns a libpq connection string with its secrets masked: in URL
// form (postgres://user:secret@host/db?sslpassword=secret) the userinfo
// password and secret query parameters; in key=value form (host=db
// password='se cret' sslpassword=x) the values of secret keys. A string
// that cannot be parsed is masked from its first secret key on.
func DSN(dsn string) string {
	out, _ := DSNSecrets(dsn)
	return out
}

// DSNSecrets is DSN, also returning the secrets it masked, so error
// messages that quote parts of the DSN can be scrubbed (Scrub).
func DSNSecrets(dsn string) (string, []string) {
	if strings.Contains(dsn, "://") {
		return URLSecrets(dsn)
	}
	return maskKeyValue(dsn)
}

// maskKeyValue follows libpq's conninfo grammar: key = value pairs separated
// by whitespace, values optionally single-quoted with backslash escapes.
func maskKeyValue(dsn string) (string, []string) {
	var b strings.Builder
	var secrets []string
	i := 0
	skipSpace := func() {
		for i < len(dsn) && isSpace(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
		}
	}
	for i < len(dsn) {
		skipSpace()
		if i >= len(dsn) {
			break
		}
		ks := i
		for i < len(dsn) && dsn[i] != '=' && !isSpace(dsn[i]) {
			i++
		}
		key := dsn[ks:i]
		b.WriteString(key)
		skipSpace()
		if i >= len(dsn) || dsn[i] != '=' {
			return maskRest(dsn, secrets)
		}
		b.WriteByte('=')
		i++
		skipSpace()
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
				i++
				if c == '\'' {
					closed = true
					break
				}
				val.WriteByte(c)
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
		switch masked, found := maskOptions(val.String()); {
		case SecretKey(key):
			secrets = appendSecret(secrets, val.String())
			secrets = appendSecret(secrets, dsn[vs:i])
			b.WriteString(Mask)
		case isOptions(key) && len(found) > 0:
			secrets = append(secrets, found...)
			secrets = appendSecret(secrets, dsn[vs:i])
			b.WriteString(quoteConninfo(masked))
		default:
			b.WriteString(dsn[vs:i])
		}
	}
	return b.String(), secrets
}

// maskRest handles a conninfo string that does not parse: everything from
// the first secret key (or options, which may hold one) on is replaced, and
// the raw tail is a secret.
func maskRest(dsn string, secrets []string) (string, []string) {
	cut := -1
	for i := range len(dsn) {
		if i > 0 && !isSpace(dsn[i-1]) {
			continue
		}
		end := i
		for end < len(dsn) && dsn[end] != '=' && !isSpace(dsn[end]) {
			end++
		}
		if SecretKey(dsn[i:end]) || isOptions(dsn[i:end]) {
			cut = i
			break
		}
	}
	if cut < 0 {
		return dsn, secrets
	}
	tail := dsn[cut:]
	if _, v, ok := strings.Cut(tail, "="); ok {
		v = strings.TrimSpace(v)
		secrets = appendSecret(secrets, v)
		secrets = appendSecret(secrets, strings.Trim(v, "'"))
	}
	return dsn[:cut] + Mask, secrets
}

// quoteConninfo is v as a single-quoted conninfo value.
func quoteConninfo(v string) string {
	return "'" + strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(v) + "'"
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// Scrub replaces every occurrence of each secret in msg with Mask, longest
// first, so a secret that contains another is replaced whole.
func Scrub(msg string, secrets ...string) string {
	sorted := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" && s != Mask {
			sorted = append(sorted, s)
		}
	}
	// Longest first.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && len(sorted[j]) > len(sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, s := range sorted {
		msg = strings.ReplaceAll(msg, s, Mask)
	}
	return msg
}

// Error returns err with the secrets of every URL it carries masked in its
// message: Go's *url.Error (from url.Parse, or an http.Client call) quotes
// its whole URL, query string and all. errors.Is and errors.As still see the
// original chain; do not print what they return. A nil err stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var secrets []string
	for e := err; e != nil; {
		if ue, ok := e.(*url.Error); ok {
			_, s := URLSecrets(ue.URL)
			secrets = append(secrets, s...)
		}
		switch x := e.(type) {
		case interface{ Unwrap() error }:
			e = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				if r, ok := Error(inner).(*redacted); ok {
					secrets = append(secrets, r.secrets...)
				}
			}
			e = nil
		default:
			e = nil
		}
	}
	if len(secrets) == 0 {
		return err
	}
	return &redacted{msg: Scrub(msg, secrets...), err: err, secrets: secrets}
}

// redacted is an error whose message has had secrets masked.
type redacted struct {
	msg     string
	err     error
	secrets []string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
