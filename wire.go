package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"flightdeck/config"
	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/alertmanager"
	"flightdeck/sources/demo"
	"flightdeck/sources/kube"
	"flightdeck/sources/postgres"
	"flightdeck/sources/prom"
	"flightdeck/themes"
	"flightdeck/ui"
)

// Every backend must satisfy the capability interfaces ops declares.
var (
	_ ops.BackendSignaler   = (*postgres.Source)(nil)
	_ ops.BackendSignaler   = (*demo.PostgresSource)(nil)
	_ ops.RolloutController = (*kube.Source)(nil)
	_ ops.RolloutController = (*demo.KubeSource)(nil)
	_ ops.Silencer          = (*alertmanager.Source)(nil)
	_ ops.Silencer          = (*demo.AlertSource)(nil)
	_ sources.Pusher        = (*kube.Source)(nil)
)

type wireOptions struct {
	demo, readOnly bool
	log            *slog.Logger
}

// app is everything main starts and stops.
type app struct {
	hub       *sources.Hub
	uiOptions ui.Options
	closers   []func()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// wire builds sources, the hub, the executor (unless read-only) and the UI
// options from the config.
func wire(ctx context.Context, cfg *config.Config, o wireOptions) (*app, error) {
	a := &app{hub: sources.NewHub(o.log)}
	caps := ops.Capabilities{
		Backends: map[string]ops.BackendSignaler{},
		Rollouts: map[string]ops.RolloutController{},
		Silences: map[string]ops.Silencer{},
	}
	auditPath := cfg.Audit.Path
	if o.demo {
		w := demo.NewWorld(demo.Options{Speed: demoSpeed()})
		for _, s := range w.Sources() {
			a.hub.Add(s, sources.PollOptions{Interval: demoInterval})
		}
		caps.Backends[w.Postgres().Name()] = w.Postgres()
		caps.Rollouts[w.Rollouts().Name()] = w.Rollouts()
		caps.Silences[w.Alerts().Name()] = w.Alerts()
		// Demo actions go to their own journal so they never mix with a
		// real incident's timeline.
		auditPath = filepath.Join(filepath.Dir(cfg.Audit.Path), "audit-demo.jsonl")
	} else if err := addLiveSources(cfg, a, &caps, o.log, func(err error) { o.log.Warn("source unavailable", "err", err) }); err != nil {
		return nil, err
	}

	km := keymap.DefaultKeyMap()
	if err := keymap.ApplyOverrides(&km, cfg.Keys); err != nil {
		return nil, err // checkKeys already named the line at load time
	}
	theme, err := themes.Get(cfg.Theme) // honours NO_COLOR
	if err != nil {
		return nil, err
	}
	if cfg.ASCII {
		theme = theme.WithASCII()
	}
	policy := policyFrom(cfg)
	var ex *ops.Executor
	if !o.readOnly {
		j, err := ops.OpenJournal(auditPath)
		if err != nil {
			return nil, fmt.Errorf("%v (fix audit.path, or run with --read-only)", err)
		}
		a.closers = append(a.closers, func() { j.Close() })
		ex = ops.NewExecutor(ops.Config{
			Environment: cfg.Environment,
			Production:  cfg.IsProduction(),
			Policy:      policy,
			Caps:        caps,
			Journal:     j,
			Operator:    operator(cfg),
			Log:         o.log,
		})
	}
	a.uiOptions = ui.Options{
		Environment: cfg.Environment,
		ReadOnly:    o.readOnly,
		Demo:        o.demo,
		Executor:    ex,
		Policy:      policy,
		Updates:     a.hub.Subscribe(),
		Refresh:     a.hub.Refresh,
		KeyMap:      km,
		Theme:       theme,
		AuditPath:   auditPath,
	}
	return a, nil
}

// brokenSource stands in for a backend that could not even be constructed
// (no kubeconfig, say): its pane shows why, and the rest of the cockpit runs.
type brokenSource struct {
	name string
	kind sources.Kind
	err  error
}

func (b brokenSource) Name() string       { return b.name }
func (b brokenSource) Kind() sources.Kind { return b.kind }
func (b brokenSource) Fetch(context.Context) (sources.Payload, error) {
	return nil, b.err
}

// addLiveSources creates one source per configured backend. Nothing connects
// here: an unreachable server shows up in its pane, not as a startup failure.
// A backend whose setup fails (kubeconfig missing) is added as a
// brokenSource and reported through warn.
func addLiveSources(cfg *config.Config, a *app, caps *ops.Capabilities, log *slog.Logger, warn func(error)) error {
	for i, pc := range cfg.Postgres {
		src, err := postgres.New(postgres.Options{Name: pc.Name, DSN: pc.DSN, Timeout: pc.Timeout.D(), Log: log})
		if err != nil {
			return cfg.Errorf(fmt.Sprintf("postgres[%d].dsn", i), "%v", err)
		}
		a.hub.Add(src, sources.PollOptions{Interval: pc.Interval.D(), Timeout: pc.Timeout.D()})
		caps.Backends[src.Name()] = src
		a.closers = append(a.closers, func() { src.Close() })
	}
	if p := cfg.Prometheus; p != nil {
		opts := promOptions(p, cfg.SLOs, log)
		if len(cfg.SLOs) > 0 {
			src, err := prom.New(opts)
			if err != nil {
				return fmt.Errorf("prometheus: %w", err)
			}
			a.hub.Add(src, sources.PollOptions{Interval: p.Interval.D(), Timeout: p.Timeout.D()})
		}
		if cfg.Alertmanager == nil {
			alerts := prom.NewAlerts(opts)
			a.hub.Add(alerts, sources.PollOptions{Interval: p.Interval.D(), Timeout: p.Timeout.D()})
		}
	}
	if am := cfg.Alertmanager; am != nil {
		ao := alertmanager.Options{Endpoint: endpoint(am.URL, am.Timeout, am.HTTPClient), Log: log}
		src, err := alertmanager.New(ao)
		if err != nil {
			return fmt.Errorf("alertmanager: %w", err)
		}
		a.hub.Add(src, sources.PollOptions{Interval: am.Interval.D(), Timeout: am.Timeout.D()})
		caps.Silences[src.Name()] = src
	}
	if k := cfg.Kubernetes; k != nil {
		src, err := kube.New(kube.Options{Kubeconfig: k.Kubeconfig, Context: k.Context, Namespaces: k.Namespaces,
			Selector: k.Selector, ProtectedNamespaces: cfg.Policy.ProtectedNamespaces, Log: log})
		if err != nil {
			err = fmt.Errorf("kubernetes: %w", err)
			warn(err)
			a.hub.Add(brokenSource{name: "kube", kind: sources.KindRollouts, err: err}, sources.PollOptions{Interval: time.Minute})
			return nil
		}
		a.hub.Add(src, sources.PollOptions{})
		caps.Rollouts[src.Name()] = src
	}
	return nil
}

func promOptions(p *config.Prometheus, slos []config.SLO, log *slog.Logger) prom.Options {
	o := prom.Options{Endpoint: endpoint(p.URL, p.Timeout, p.HTTPClient),
		SparkWidth: p.SparkWidth, SparkRange: p.SparkRange.D(), Log: log}
	for _, s := range slos {
		o.SLOs = append(o.SLOs, prom.SLO{Name: s.Name, Description: s.Description, Objective: s.Objective,
			Window: s.Window.D(), Good: s.Good, Total: s.Total})
	}
	return o
}

func policyFrom(cfg *config.Config) ops.Policy {
	p := ops.DefaultPolicy()
	p.MaxTargets = cfg.Policy.MaxTargets
	p.ProtectedRoles = cfg.Policy.ProtectedRoles
	p.ProtectedApps = cfg.Policy.ProtectedApps
	p.ProtectedNamespaces = cfg.Policy.ProtectedNamespaces
	p.SilenceMax = cfg.Policy.SilenceMax.D()
	p.SilenceMaxAlerts = cfg.Policy.SilenceMaxAlerts
	p.ScaleMaxChange = cfg.Policy.ScaleMaxChange
	return p
}

// operator is who the audit journal says acted: the configured name, else
// user@host, noting the SSH client when the session came in over SSH.
func operator(cfg *config.Config) string {
	if cfg.Operator != "" {
		return cfg.Operator
	}
	op := ops.LocalOperator()
	if c := os.Getenv("SSH_CLIENT"); c != "" {
		if host, _, ok := cutFirst(c, " "); ok {
			op += " (ssh from " + host + ")"
		}
	}
	return op
}

func cutFirst(s, sep string) (string, string, bool) {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// checkKeys validates key overrides one name at a time so the error can
// point at the line of the offending name.
func checkKeys(cfg *config.Config) error {
	names := make([]string, 0, len(cfg.Keys))
	for name := range cfg.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		km := keymap.DefaultKeyMap()
		if err := keymap.ApplyOverrides(&km, map[string][]string{name: cfg.Keys[name]}); err != nil {
			return cfg.Errorf("keys."+name, "%v", err)
		}
	}
	if err := keyConflicts(cfg); err != nil {
		return err
	}
	if _, err := themes.Get(cfg.Theme); err != nil {
		return cfg.Errorf("theme", "%v", err)
	}
	return nil
}

// checkSources constructs (without connecting) every configured source, so
// config check catches what only a backend can judge (templates, DSNs).
// Problems outside the file (no kubeconfig on this machine) are warnings.
func checkSources(cfg *config.Config, warn func(error)) error {
	a := &app{hub: sources.NewHub(nil)}
	defer a.close()
	caps := ops.Capabilities{Backends: map[string]ops.BackendSignaler{}, Rollouts: map[string]ops.RolloutController{}, Silences: map[string]ops.Silencer{}}
	return addLiveSources(cfg, a, &caps, nil, warn)
}

const demoInterval = 1e9 // 1s: the demo moves fast

// demoSpeed reads FLIGHTDECK_DEMO_SPEED (e.g. 10 = ten times faster), for
// presentations and the end-to-end test; default real time.
func demoSpeed() float64 {
	v, err := strconv.ParseFloat(os.Getenv("FLIGHTDECK_DEMO_SPEED"), 64)
	if err != nil || v <= 0 {
		return 1
	}
	return v
}
