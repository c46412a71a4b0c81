// Package config is flightdeck's configuration file: its schema, where it is
// found (--config, $FLIGHTDECK_CONFIG, the XDG config dir), strict loading
// (unknown keys are errors naming the key and its line), validation and
// printing with secrets masked.
package config

import (
	"time"
)

// Config is the whole file. Field comments are the reference for README.
type Config struct {
	// Environment is shown in the header; "production" (or any name listed in
	// production_environments) raises every action to the high-risk tier.
	Environment string `yaml:"environment"`
	// ProductionEnvironments lists environment names treated as production.
	ProductionEnvironments []string `yaml:"production_environments,omitempty"`
	Audit                  Audit    `yaml:"audit"`
	// Operator overrides the identity written to the audit journal
	// (default: OS user@host).
	Operator     string        `yaml:"operator,omitempty"`
	Postgres     []Postgres    `yaml:"postgres,omitempty"`
	Prometheus   *Prometheus   `yaml:"prometheus,omitempty"`
	Alertmanager *Alertmanager `yaml:"alertmanager,omitempty"`
	Kubernetes   *Kubernetes   `yaml:"kubernetes,omitempty"`
	AWS          *AWS          `yaml:"aws,omitempty"` // see aws.go
	SLOs         []SLO         `yaml:"slos,omitempty"`
	Policy       Policy        `yaml:"policy"`
	// Keys overrides key bindings by action name: {terminate: [K, ctrl+k]}.
	Keys map[string][]string `yaml:"keys,omitempty"`
	// Theme is dark, light or high-contrast. NO_COLOR is honoured.
	Theme string `yaml:"theme"`
	// ASCII draws borders with +-| for terminals without box drawing.
	ASCII bool `yaml:"ascii,omitempty"`
	// HidePanes are panes left out of the cockpit (config/panes.go).
	HidePanes []string `yaml:"hide_panes,omitempty"`
	// Serve configures `flightdeck serve` (config/serve.go).
	Serve *Serve `yaml:"serve,omitempty"`
	// Runbooks lists directories of runbook files (*.yaml), loaded after the
	// built-in ones; ~ is expanded.
	Runbooks []string `yaml:"runbooks,omitempty"`
	// Record bounds the flight recorder's event journal (config/record.go).
	Record *Record `yaml:"record,omitempty"`
	// Notify sends what happens to webhooks and SNS (config/notify.go).
	Notify *Notify `yaml:"notify,omitempty"`

	file  string
	lines map[string]int
}

// Audit configures the journal.
type Audit struct {
	// Path of the JSONL journal; ~ is expanded. Default
	// $XDG_STATE_HOME/flightdeck/audit.jsonl.
	Path string `yaml:"path"`
}

// Postgres is one database to watch.
type Postgres struct {
	// Name distinguishes several databases ("main", "replica").
	Name string `yaml:"name"`
	// DSN is a libpq URL or key=value string; empty uses PGHOST, PGPORT,
	// PGUSER, PGDATABASE, ~/.pgpass and the service file.
	DSN      string   `yaml:"dsn"`
	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
}

// HTTPClient holds the connection options shared by HTTP backends.
type HTTPClient struct {
	BearerToken     string     `yaml:"bearer_token,omitempty"`
	BearerTokenFile string     `yaml:"bearer_token_file,omitempty"`
	BasicAuth       *BasicAuth `yaml:"basic_auth,omitempty"`
	TLS             *TLS       `yaml:"tls,omitempty"`
	// MaxResponseMiB caps one response body (default 16): a larger answer
	// fails with "response larger than N MiB" instead of eating memory.
	MaxResponseMiB int `yaml:"max_response_mib,omitempty"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// TLS configures a client TLS connection.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// Prometheus is the server SLOs are computed on.
type Prometheus struct {
	URL      string   `yaml:"url"`
	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
	// SparkWidth is the number of burn-rate sparkline points (default 40).
	SparkWidth int `yaml:"spark_width,omitempty"`
	// SparkRange is how far back the sparkline reaches (default 6h).
	SparkRange Duration `yaml:"spark_range,omitempty"`
	HTTPClient `yaml:",inline"`
}

// Alertmanager is where alerts and silences live. Without it, alerts come
// from Prometheus's /api/v1/alerts and silencing is unavailable.
type Alertmanager struct {
	URL        string   `yaml:"url"`
	Interval   Duration `yaml:"interval"`
	Timeout    Duration `yaml:"timeout"`
	HTTPClient `yaml:",inline"`
}

// Kubernetes is the cluster whose rollouts are shown.
type Kubernetes struct {
	// Kubeconfig path; empty uses $KUBECONFIG, ~/.kube/config, or the
	// in-cluster config.
	Kubeconfig string `yaml:"kubeconfig,omitempty"`
	// Context in the kubeconfig; empty uses the current context.
	Context    string   `yaml:"context"`
	Namespaces []string `yaml:"namespaces"`
	// Selector is a label selector limiting the deployments shown.
	Selector string `yaml:"selector,omitempty"`
}

// SLO is one service level objective computed from Prometheus.
type SLO struct {
	Name        string  `yaml:"name"`
	Description string  `yaml:"description,omitempty"`
	Objective   float64 `yaml:"objective"`
	// Window is the SLO period, e.g. 30d.
	Window Duration `yaml:"window"`
	// Good and Total are PromQL with a {{.window}} placeholder for the
	// range, e.g. sum(rate(http_requests_total{status!~"5.."}[{{.window}}])).
	Good  string `yaml:"good"`
	Total string `yaml:"total"`
}

// Policy limits what actions may do; the Executor enforces it.
type Policy struct {
	MaxTargets          int      `yaml:"max_targets"`
	ProtectedRoles      []string `yaml:"protected_roles"`
	ProtectedApps       []string `yaml:"protected_apps,omitempty"`
	ProtectedNamespaces []string `yaml:"protected_namespaces,omitempty"`
	SilenceMax          Duration `yaml:"silence_max"`
	SilenceMaxAlerts    int      `yaml:"silence_max_alerts"`
	ScaleMaxChange      float64  `yaml:"scale_max_change"`
	// ScaleMaxReplicas is the ceiling of any replica or desired count,
	// which override never lifts; unset takes ops.DefaultScaleMaxReplicas.
	ScaleMaxReplicas int `yaml:"scale_max_replicas,omitempty"`
	// TwoPerson is the two-person rule (config/twoperson.go).
	TwoPerson *TwoPerson `yaml:"two_person,omitempty"`
}

// File is the path the config was loaded from ("" for defaults).
func (c *Config) File() string { return c.file }

// Line returns the line where the field at path ("policy.max_targets",
// "postgres[0].dsn", "keys.terminate") was set, 0 when unknown.
func (c *Config) Line(path string) int { return c.lines[path] }

// IsProduction reports whether the environment gets production's
// confirmation tier.
func (c *Config) IsProduction() bool {
	if c.Environment == "production" {
		return true
	}
	for _, e := range c.ProductionEnvironments {
		if e == c.Environment {
			return true
		}
	}
	return false
}

// Defaults used when the file leaves a field out.
const (
	DefaultPGInterval    = 2 * time.Second
	DefaultPGTimeout     = time.Second
	DefaultPromInterval  = 15 * time.Second
	DefaultPromTimeout   = 5 * time.Second
	DefaultAMInterval    = 5 * time.Second
	DefaultAMTimeout     = 3 * time.Second
	DefaultTheme         = "dark"
	DefaultEnvironment   = "default"
	DefaultMaxTargets    = 5
	DefaultSilenceMax    = 4 * time.Hour
	DefaultSilenceAlerts = 10
	DefaultScaleChange   = 0.5
)

// Bounds on polling, enforced by validation.
const (
	MinPGInterval   = 100 * time.Millisecond
	MinPromInterval = time.Second // rates move at scrape speed, 15s or so
	MinAMInterval   = time.Second
	MinTimeout      = 100 * time.Millisecond
	MaxTimeout      = 5 * time.Minute
	// MaxResponseMiB bounds max_response_mib.
	MaxResponseMiB = 1024
)
