package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"flightdeck/internal/duration"
	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
	"flightdeck/internal/yamlpos"
)

// ErrNotFound means no config file was given or found.
var ErrNotFound = errors.New("no config file found")

// Error is a problem in the file: "file:line: field: problem".
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error is sanitized: field names and quoted values come from the file,
// which is outside text like any other.
func (e *Error) Error() string {
	return sanitize.Text(yamlpos.Format(e.File, e.Line, "", e.Field, e.Msg))
}

// Errors is every problem found, in file order.
type Errors []*Error

func (es Errors) Error() string { return yamlpos.Lines(es) }

// Locate returns the config path: explicit, else $FLIGHTDECK_CONFIG, else
// $XDG_CONFIG_HOME/flightdeck/config.yaml (~/.config/...). It returns
// ErrNotFound when nothing was given and the XDG file does not exist.
func Locate(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := os.Getenv("FLIGHTDECK_CONFIG"); p != "" {
		return p, nil
	}
	p := DefaultPath()
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", ErrNotFound
}

// DefaultPath is where flightdeck looks for its config without flags.
func DefaultPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "flightdeck", "config.yaml")
}

// Load reads, strictly parses, defaults and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config %s: file does not exist", path)
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse is Load on bytes; name is used in error messages. It refuses what
// is not one YAML mapping: binary data, an empty file, several documents.
func Parse(name string, data []byte) (*Config, error) {
	if err := checkText(name, data); err != nil {
		return nil, err
	}
	c := &Config{file: name, lines: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	if emptyDoc(&doc) {
		return nil, &Error{File: name, Line: 1, Msg: "the file is empty: nothing to watch (start from testdata/config/example.yaml, or run flightdeck --demo)"}
	}
	if err := checkSingleDocument(name, dec); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: "the config must be a mapping of keys (environment:, postgres:, …)"}
	}
	if errs := walk(name, root, reflect.TypeOf(Config{}), "", c.lines); len(errs) > 0 {
		return nil, errs
	}
	if err := root.Decode(c); err != nil {
		return nil, decodeError(name, err, c.lines)
	}
	c.sanitize()
	c.applyDefaults()
	if errs := c.validate(); len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// emptyDoc reports whether a document holds nothing: no node, or a lone
// null (a file of comments, or just "---").
func emptyDoc(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// checkSingleDocument refuses a second YAML document after the first: it
// would be silently ignored. An empty one (a trailing "---") is harmless.
func checkSingleDocument(name string, dec *yaml.Decoder) error {
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return syntaxError(name, err)
		case !emptyDoc(&next):
			return &Error{File: name, Line: next.Line, Msg: "a second YAML document (after ---): flightdeck reads one; merge them into one mapping"}
		}
	}
}

// checkText refuses bytes YAML does not allow (binary data, control
// characters, invalid UTF-8) with the line and column of the first one,
// which the YAML parser's own error ("control characters are not allowed")
// leaves out.
func checkText(name string, data []byte) error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		bad := ""
		switch {
		case r == utf8.RuneError && size <= 1:
			bad = fmt.Sprintf("byte 0x%02x is not UTF-8", data[i])
		case r == '\ufeff' && i == 0: // a byte-order mark is allowed first
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f, r >= 0x80 && r <= 0x9f && r != 0x85, r == 0xfffe, r == 0xffff:
			bad = fmt.Sprintf("control character %U", r)
		}
		if bad != "" {
			return &Error{File: name, Line: line, Field: keyAtLine(data, line),
				Msg: fmt.Sprintf("%s at column %d: not a YAML text file (write control characters as \\x.. escapes in double quotes)", bad, col)}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return nil
}

// keyAtLine is a best-effort field path ("prometheus.url") for a line of a
// file the YAML parser rejected, from the indentation of the keys above
// it; "" when the line holds no key.
func keyAtLine(data []byte, target int) string {
	type level struct {
		indent int
		key    string
	}
	var stack []level
	for n, raw := range strings.Split(string(data), "\n") {
		if n+1 > target {
			break
		}
		text := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(text)
		if t, ok := strings.CutPrefix(text, "- "); ok {
			indent, text = indent+2, t
		}
		key, _, ok := strings.Cut(text, ":")
		if !ok || key == "" || strings.ContainsAny(key, " #\"'{[") {
			if n+1 == target {
				return ""
			}
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{indent, key})
	}
	keys := make([]string, len(stack))
	for i, l := range stack {
		keys[i] = l.key
	}
	return strings.Join(keys, ".")
}

func syntaxError(name string, err error) error {
	line, msg := yamlpos.Syntax(err)
	return &Error{File: name, Line: line, Msg: msg}
}

// decodeError turns yaml.v3's type errors ("line 4: cannot unmarshal !!str
// `five` into int") into file:line: field: problem.
func decodeError(name string, err error, lines map[string]int) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &Error{File: name, Msg: err.Error()}
	}
	var out Errors
	for _, m := range te.Errors {
		line, m := yamlpos.TypeErrorLine(m)
		out = append(out, &Error{File: name, Line: line, Field: fieldAtLine(lines, line), Msg: m})
	}
	return out
}

func fieldAtLine(lines map[string]int, line int) string {
	best := ""
	for path, l := range lines {
		if l == line && len(path) > len(best) {
			best = path
		}
	}
	return best
}

// walk checks every mapping key against the struct's yaml tags, recording
// the line of every field, so unknown keys are reported by name and line and
// validation errors can point at lines.
func walk(file string, n *yaml.Node, t reflect.Type, path string, lines map[string]int) Errors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs Errors
	switch n.Kind {
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Struct:
			fields := yamlFields(t)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := yamlpos.Join(path, k.Value)
				lines[p] = k.Line
				ft, ok := fields[k.Value]
				if !ok {
					errs = append(errs, &Error{File: file, Line: k.Line, Field: p,
						Msg: "unknown key" + suggest(k.Value, fields)})
					continue
				}
				errs = append(errs, walk(file, v, ft, p, lines)...)
			}
		case reflect.Map:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := yamlpos.Join(path, k.Value)
				lines[p] = k.Line
				errs = append(errs, walk(file, v, t.Elem(), p, lines)...)
			}
		default:
			errs = append(errs, &Error{File: file, Line: n.Line, Field: path, Msg: "expected " + kindName(t) + ", got a mapping"})
		}
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice {
			errs = append(errs, &Error{File: file, Line: n.Line, Field: path, Msg: "expected " + kindName(t) + ", got a list"})
			break
		}
		for i, v := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			lines[p] = v.Line
			errs = append(errs, walk(file, v, t.Elem(), p, lines)...)
		}
	case yaml.ScalarNode:
		if t == reflect.TypeOf(Duration(0)) && n.Tag != "!!null" {
			if _, err := duration.Parse(n.Value); err != nil {
				errs = append(errs, &Error{File: file, Line: n.Line, Field: path, Msg: err.Error()})
			}
		}
		if t.Kind() == reflect.Struct && t != reflect.TypeOf(Duration(0)) && n.Tag != "!!null" {
			errs = append(errs, &Error{File: file, Line: n.Line, Field: path, Msg: "expected a mapping, got " + strconv.Quote(n.Value)})
		}
		if t.Kind() == reflect.Slice && n.Tag != "!!null" && t.Elem().Kind() == reflect.String {
			// keys: {terminate: K} is accepted by yaml as a one-element list? No: be explicit.
			errs = append(errs, &Error{File: file, Line: n.Line, Field: path, Msg: "expected a list such as [" + n.Value + "]"})
		}
	}
	return errs
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	default:
		return "a " + t.Kind().String()
	}
}

// yamlFields maps yaml keys to field types, flattening ",inline" structs.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest names the closest known key, or lists them all.
func suggest(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	return yamlpos.Suggest(key, names, "known keys: ")
}

// sanitize cleans, once, at load, the text of the file that reaches the
// screen, the window title or the journal: a shared bastion config is
// outside text too. Policy lists are cleaned the same way, because they are
// compared with snapshot values that were sanitized at ingestion. Text used
// to address something (URLs, DSNs, the kubeconfig context, namespaces,
// PromQL) is left as written: changing it would address something else.
func (c *Config) sanitize() {
	c.Environment = sanitize.Text(c.Environment)
	c.Operator = sanitize.Text(c.Operator)
	sanitize.All(c.ProductionEnvironments)
	for i := range c.Postgres {
		c.Postgres[i].Name = sanitize.Text(c.Postgres[i].Name)
	}
	for i := range c.SLOs {
		c.SLOs[i].Name = sanitize.Text(c.SLOs[i].Name)
		c.SLOs[i].Description = sanitize.Text(c.SLOs[i].Description)
	}
	sanitize.All(c.Policy.ProtectedRoles)
	c.sanitizeTwoPerson()
	sanitize.All(c.Policy.ProtectedApps)
	sanitize.All(c.Policy.ProtectedNamespaces)
}

func (c *Config) applyDefaults() {
	if c.Environment == "" {
		c.Environment = DefaultEnvironment
	}
	if c.Theme == "" {
		c.Theme = DefaultTheme
	}
	if c.Audit.Path == "" {
		c.Audit.Path = DefaultAuditPath()
	}
	c.Audit.Path = ExpandHome(c.Audit.Path)
	for i, d := range c.Runbooks {
		c.Runbooks[i] = ExpandHome(d)
	}
	for i := range c.Postgres {
		p := &c.Postgres[i]
		if p.Name == "" && len(c.Postgres) == 1 {
			p.Name = "main"
		}
		if p.Interval == 0 {
			p.Interval = Duration(DefaultPGInterval)
		}
		if p.Timeout == 0 {
			p.Timeout = Duration(DefaultPGTimeout)
		}
	}
	if p := c.Prometheus; p != nil {
		if p.Interval == 0 {
			p.Interval = Duration(DefaultPromInterval)
		}
		if p.Timeout == 0 {
			p.Timeout = Duration(DefaultPromTimeout)
		}
	}
	if a := c.Alertmanager; a != nil {
		if a.Interval == 0 {
			a.Interval = Duration(DefaultAMInterval)
		}
		if a.Timeout == 0 {
			a.Timeout = Duration(DefaultAMTimeout)
		}
	}
	if c.Policy.MaxTargets == 0 {
		c.Policy.MaxTargets = DefaultMaxTargets
	}
	if c.Policy.ProtectedRoles == nil {
		c.Policy.ProtectedRoles = []string{"postgres"}
	}
	if c.Policy.SilenceMax == 0 {
		c.Policy.SilenceMax = Duration(DefaultSilenceMax)
	}
	if c.Policy.SilenceMaxAlerts == 0 {
		c.Policy.SilenceMaxAlerts = DefaultSilenceAlerts
	}
	if c.Policy.ScaleMaxChange == 0 {
		c.Policy.ScaleMaxChange = DefaultScaleChange
	}
}

// Default returns the configuration used with --demo and no file.
func Default() *Config {
	c := &Config{lines: map[string]int{}}
	c.applyDefaults()
	return c
}

// DefaultAuditPath is $XDG_STATE_HOME/flightdeck/audit.jsonl.
func DefaultAuditPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "flightdeck", "audit.jsonl")
}

// ExpandHome replaces a leading ~/ with the home directory.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

func (c *Config) errAt(path, format string, args ...any) *Error {
	return &Error{File: c.file, Line: c.lines[path], Field: path, Msg: fmt.Sprintf(format, args...)}
}

// Errorf builds an error pointing at the line of path, for checks made
// outside this package (key names checked against the keymap, say).
func (c *Config) Errorf(path, format string, args ...any) error {
	return c.errAt(path, format, args...)
}

// ErrorAt is Errorf as an *Error, to collect several into Errors.
func (c *Config) ErrorAt(path, format string, args ...any) *Error {
	return c.errAt(path, format, args...)
}

// namespaceName is a Kubernetes namespace: an RFC 1123 label.
var namespaceName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

var themes = []string{"dark", "light", "high-contrast"}

func (c *Config) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) { errs = append(errs, c.errAt(path, format, args...)) }
	addErr := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	names := map[string]bool{}
	for i, p := range c.Postgres {
		base := "postgres[" + strconv.Itoa(i) + "]"
		switch {
		case p.Name == "":
			add(base, "name is required when several databases are configured")
		case names[p.Name]:
			add(base+".name", "duplicate name %q", p.Name)
		}
		names[p.Name] = true
		errs = append(errs, c.checkPoll(base, p.Interval, p.Timeout, MinPGInterval)...)
		// The rest of the DSN is judged by the driver (config check
		// constructs the source), which also parses multi-host URLs.
		if strings.HasPrefix(p.DSN, "postgres") && !strings.Contains(p.DSN, "://") {
			add(base+".dsn", "looks like a URL but has no ://")
		}
	}
	checkURL := func(path, raw string) {
		if raw == "" {
			add(path, "is required")
		} else if err := c.checkURL(path, raw); err != nil {
			errs = append(errs, err)
		}
	}
	checkHTTP := func(base string, h HTTPClient) {
		if h.BearerToken != "" && h.BearerTokenFile != "" {
			add(base+".bearer_token", "set bearer_token or bearer_token_file, not both")
		}
		if (h.BearerToken != "" || h.BearerTokenFile != "") && h.BasicAuth != nil {
			add(base+".basic_auth", "set a bearer token or basic_auth, not both")
		}
		if h.TLS != nil && (h.TLS.CertFile == "") != (h.TLS.KeyFile == "") {
			add(base+".tls", "cert_file and key_file go together")
		}
		if h.MaxResponseMiB < 0 || h.MaxResponseMiB > MaxResponseMiB {
			add(base+".max_response_mib", "must be between 1 and %d (MiB), got %d", MaxResponseMiB, h.MaxResponseMiB)
		}
	}
	if p := c.Prometheus; p != nil {
		checkURL("prometheus.url", p.URL)
		checkHTTP("prometheus", p.HTTPClient)
		errs = append(errs, c.checkPoll("prometheus", p.Interval, p.Timeout, MinPromInterval)...)
		if p.SparkWidth < 0 || p.SparkWidth > 1000 {
			add("prometheus.spark_width", "must be between 1 and 1000 points")
		}
		if p.SparkRange != 0 { // 0: the source's default
			addErr(c.checkDuration("prometheus.spark_range", p.SparkRange, MinSparkRange, MaxSparkRange))
		}
	}
	if a := c.Alertmanager; a != nil {
		checkURL("alertmanager.url", a.URL)
		checkHTTP("alertmanager", a.HTTPClient)
		errs = append(errs, c.checkPoll("alertmanager", a.Interval, a.Timeout, MinAMInterval)...)
	}
	if k := c.Kubernetes; k != nil {
		for i, ns := range k.Namespaces {
			switch {
			case ns == "":
				add("kubernetes.namespaces["+strconv.Itoa(i)+"]", "empty namespace")
			case ns != "*" && !namespaceName.MatchString(ns):
				// Namespaces are addresses, used as written; one that can
				// never exist is a typo, or text meant for the terminal.
				add("kubernetes.namespaces["+strconv.Itoa(i)+"]", "%q is not a namespace name (lowercase letters, digits and '-', at most 63) nor \"*\"", ns)
			}
		}
	}
	sloNames := map[string]bool{}
	for i, s := range c.SLOs {
		base := "slos[" + strconv.Itoa(i) + "]"
		if c.Prometheus == nil && i == 0 {
			add("slos", "SLOs need a prometheus: section to be computed")
		}
		switch {
		case s.Name == "":
			add(base, "name is required")
		case sloNames[s.Name]:
			add(base+".name", "duplicate SLO name %q", s.Name)
		}
		sloNames[s.Name] = true
		if !(s.Objective > 0 && s.Objective < 1) {
			add(base+".objective", "must be between 0 and 1 exclusive (e.g. 0.999), got %v", s.Objective)
		}
		if s.Window.D() == 0 {
			add(base+".window", "is required (e.g. 30d)")
		} else {
			addErr(c.checkDuration(base+".window", s.Window, MinSLOWindow, MaxSLOWindow))
		}
		for _, f := range []struct{ key, expr string }{{"good", s.Good}, {"total", s.Total}} {
			if strings.TrimSpace(f.expr) == "" {
				add(base+"."+f.key, "PromQL expression is required")
				continue
			}
			tmpl, err := template.New(f.key).Option("missingkey=error").Parse(f.expr)
			switch {
			case err != nil:
				add(base+"."+f.key, "bad template: %v", err)
			case !strings.Contains(f.expr, "{{.window}}") && !strings.Contains(f.expr, "{{ .window }}"):
				add(base+"."+f.key, "needs a {{.window}} placeholder for the range, e.g. [{{.window}}]")
			default:
				// Parsing is not enough: {{.nope}} or {{index .window 9}}
				// only fail when the template runs.
				if err := tmpl.Execute(io.Discard, map[string]string{"window": "5m"}); err != nil {
					add(base+"."+f.key, "bad template: %v", err)
				}
			}
		}
	}
	pol := c.Policy
	addErr(c.checkInt("policy.max_targets", pol.MaxTargets, 1, MaxMaxTargets))
	addErr(c.checkDuration("policy.silence_max", pol.SilenceMax, MinSilenceMax, MaxSilenceMax))
	addErr(c.checkInt("policy.silence_max_alerts", pol.SilenceMaxAlerts, 1, MaxSilenceAlerts))
	if !(pol.ScaleMaxChange > 0 && pol.ScaleMaxChange <= 10) {
		add("policy.scale_max_change", "must be a fraction such as 0.5 (±50%%), got %v", pol.ScaleMaxChange)
	}
	if pol.ScaleMaxReplicas < 0 || pol.ScaleMaxReplicas > math.MaxInt32 {
		add("policy.scale_max_replicas", "must be a replica count from 1 to %d, got %d", math.MaxInt32, pol.ScaleMaxReplicas)
	}
	if !contains(themes, c.Theme) {
		add("theme", "unknown theme %q (one of %s)", c.Theme, strings.Join(themes, ", "))
	}
	errs = append(errs, c.checkAWS()...)
	errs = append(errs, c.checkPanes()...)
	errs = append(errs, c.loadServe()...)
	errs = append(errs, c.checkRecord()...)
	errs = append(errs, c.checkTwoPerson()...)
	errs = append(errs, c.checkNotify()...)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

// checkURL is the one check of a server's http(s) URL. It is quoted only
// through redact: a password or access key in userinfo, a token in the
// query or a fragment must not reach the terminal, even in an error
// (net/url's parse errors quote the whole URL).
func (c *Config) checkURL(path, raw string) *Error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return c.errAt(path, "not a valid URL: %v", redact.Error(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return c.errAt(path, "must start with http:// or https://, got %q", redact.URL(raw))
	case u.Host == "":
		return c.errAt(path, "has no host: %q", redact.URL(raw))
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
