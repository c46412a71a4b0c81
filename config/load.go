package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
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

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found, in file order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

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

// Parse is Load on bytes; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{file: name, lines: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	var errs Errors
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return nil, &Error{File: name, Line: root.Line, Msg: "the config must be a mapping of keys (environment:, postgres:, …)"}
		}
		errs = walk(name, root, reflect.TypeOf(Config{}), "", c.lines)
		if len(errs) == 0 {
			if err := root.Decode(c); err != nil {
				return nil, decodeError(name, err, c.lines)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	c.applyDefaults()
	if errs := c.validate(); len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func syntaxError(name string, err error) error {
	msg := err.Error()
	line := 0
	// yaml.v3: "yaml: line 7: mapping values are not allowed in this context"
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			line, _ = strconv.Atoi(rest[:i])
			msg = strings.TrimSpace(rest[i+1:])
		}
	}
	return &Error{File: name, Line: line, Msg: "YAML syntax: " + msg}
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
		line := 0
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if i := strings.IndexByte(rest, ':'); i > 0 {
				line, _ = strconv.Atoi(rest[:i])
				m = strings.TrimSpace(rest[i+1:])
			}
		}
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
				p := join(path, k.Value)
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
				p := join(path, k.Value)
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
			if _, err := ParseDuration(n.Value); err != nil {
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

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known keys: " + strings.Join(names, ", ") + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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

var themes = []string{"dark", "light", "high-contrast"}

func (c *Config) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) { errs = append(errs, c.errAt(path, format, args...)) }
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
		if p.Interval.D() < 100*1e6 {
			add(base+".interval", "must be at least 100ms")
		}
		if p.Timeout.D() <= 0 {
			add(base+".timeout", "must be positive")
		}
		if strings.HasPrefix(p.DSN, "postgres") && !strings.Contains(p.DSN, "://") {
			add(base+".dsn", "looks like a URL but has no ://")
		} else if strings.Contains(p.DSN, "://") {
			if _, err := url.Parse(p.DSN); err != nil {
				add(base+".dsn", "not a valid URL: %s", strings.ReplaceAll(err.Error(), p.DSN, MaskDSN(p.DSN)))
			}
		}
	}
	checkURL := func(path, raw string) {
		u, err := url.Parse(raw)
		switch {
		case raw == "":
			add(path, "is required")
		case err != nil:
			add(path, "not a valid URL: %v", err)
		case u.Scheme != "http" && u.Scheme != "https":
			add(path, "must start with http:// or https://, got %q", raw)
		case u.Host == "":
			add(path, "has no host: %q", raw)
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
	}
	if p := c.Prometheus; p != nil {
		checkURL("prometheus.url", p.URL)
		checkHTTP("prometheus", p.HTTPClient)
		if p.Timeout.D() <= 0 {
			add("prometheus.timeout", "must be positive")
		}
		if p.SparkWidth < 0 || p.SparkWidth > 1000 {
			add("prometheus.spark_width", "must be between 1 and 1000 points")
		}
		if p.SparkRange.D() < 0 {
			add("prometheus.spark_range", "must be positive")
		}
	}
	if a := c.Alertmanager; a != nil {
		checkURL("alertmanager.url", a.URL)
		checkHTTP("alertmanager", a.HTTPClient)
	}
	if k := c.Kubernetes; k != nil {
		for i, ns := range k.Namespaces {
			if ns == "" {
				add("kubernetes.namespaces["+strconv.Itoa(i)+"]", "empty namespace")
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
		if s.Window.D() <= 0 {
			add(base+".window", "is required (e.g. 30d)")
		}
		for _, f := range []struct{ key, expr string }{{"good", s.Good}, {"total", s.Total}} {
			if strings.TrimSpace(f.expr) == "" {
				add(base+"."+f.key, "PromQL expression is required")
				continue
			}
			if _, err := template.New(f.key).Option("missingkey=error").Parse(f.expr); err != nil {
				add(base+"."+f.key, "bad template: %v", err)
			} else if !strings.Contains(f.expr, "{{.window}}") && !strings.Contains(f.expr, "{{ .window }}") {
				add(base+"."+f.key, "needs a {{.window}} placeholder for the range, e.g. [{{.window}}]")
			}
		}
	}
	pol := c.Policy
	if pol.MaxTargets < 1 {
		add("policy.max_targets", "must be at least 1")
	}
	if pol.SilenceMax.D() <= 0 {
		add("policy.silence_max", "must be positive")
	}
	if pol.SilenceMaxAlerts < 1 {
		add("policy.silence_max_alerts", "must be at least 1")
	}
	if !(pol.ScaleMaxChange > 0 && pol.ScaleMaxChange <= 10) {
		add("policy.scale_max_change", "must be a fraction such as 0.5 (±50%%), got %v", pol.ScaleMaxChange)
	}
	if !contains(themes, c.Theme) {
		add("theme", "unknown theme %q (one of %s)", c.Theme, strings.Join(themes, ", "))
	}
	errs = append(errs, c.checkAWS()...)
	errs = append(errs, c.checkPanes()...)
	errs = append(errs, c.loadServe()...)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
