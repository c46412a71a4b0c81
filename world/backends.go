package world

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"flightdeck/config"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/alertmanager"
	awssrc "flightdeck/sources/aws"
	"flightdeck/sources/demo"
	"flightdeck/sources/kube"
	"flightdeck/sources/postgres"
	"flightdeck/sources/prom"
)

// Every backend must satisfy the capability interfaces ops declares.
var (
	_ ops.BackendSignaler   = (*postgres.Source)(nil)
	_ ops.BackendSignaler   = (*demo.PostgresSource)(nil)
	_ ops.PGMaintainer      = (*postgres.Source)(nil)
	_ ops.PGMaintainer      = (*demo.PostgresSource)(nil)
	_ ops.RolloutController = (*kube.Source)(nil)
	_ ops.RolloutController = (*demo.KubeSource)(nil)
	_ ops.Silencer          = (*alertmanager.Source)(nil)
	_ ops.Silencer          = (*demo.AlertSource)(nil)
	_ ops.ECSController     = (*awssrc.Source)(nil)
	_ ops.ECSController     = (*demo.AWSSource)(nil)
	_ ops.RDSController     = (*awssrc.Source)(nil)
	_ ops.RDSController     = (*demo.AWSSource)(nil)
	_ sources.Pusher        = (*kube.Source)(nil)
)

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
func (w *World) addLiveSources(cfg *config.Config, warn func(error)) error {
	log := w.log
	for i, pc := range cfg.Postgres {
		src, err := postgres.New(postgres.Options{Name: pc.Name, DSN: pc.DSN, Timeout: pc.Timeout.D(), Log: log})
		if err != nil {
			return cfg.Errorf(fmt.Sprintf("postgres[%d].dsn", i), "%v", err)
		}
		w.hub.Add(src, sources.PollOptions{Interval: pc.Interval.D(), Timeout: pc.Timeout.D()})
		w.caps[src.Name()] = src
		w.closers = append(w.closers, func() { src.Close() })
	}
	if p := cfg.Prometheus; p != nil {
		opts := promOptions(p, cfg.SLOs, log)
		if len(cfg.SLOs) > 0 {
			src, err := prom.New(opts)
			if err != nil {
				return fmt.Errorf("prometheus: %w", err)
			}
			w.hub.Add(src, sources.PollOptions{Interval: p.Interval.D(), Timeout: p.Timeout.D()})
		}
		if cfg.Alertmanager == nil {
			alerts := prom.NewAlerts(opts)
			w.hub.Add(alerts, sources.PollOptions{Interval: p.Interval.D(), Timeout: p.Timeout.D()})
		}
	}
	if am := cfg.Alertmanager; am != nil {
		ao := alertmanager.Options{Endpoint: endpoint(am.URL, am.Timeout, am.HTTPClient), Log: log}
		src, err := alertmanager.New(ao)
		if err != nil {
			return fmt.Errorf("alertmanager: %w", err)
		}
		w.hub.Add(src, sources.PollOptions{Interval: am.Interval.D(), Timeout: am.Timeout.D()})
		w.caps[src.Name()] = src
	}
	if _, err := addAWS(cfg, w, log); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	if k := cfg.Kubernetes; k != nil {
		src, err := kube.New(kube.Options{Kubeconfig: k.Kubeconfig, Context: k.Context, Namespaces: k.Namespaces,
			Selector: k.Selector, ProtectedNamespaces: cfg.Policy.ProtectedNamespaces, Log: log})
		if err != nil {
			err = fmt.Errorf("kubernetes: %w", err)
			warn(err)
			w.hub.Add(brokenSource{name: "kube", kind: sources.KindRollouts, err: err}, sources.PollOptions{Interval: time.Minute})
			return nil
		}
		w.hub.Add(src, sources.PollOptions{})
		w.caps[src.Name()] = src
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

// policyFrom maps config's policy onto ops's; what config leaves zero takes
// ops's defaults (Policy.WithDefaults, the one place they are filled in).
func policyFrom(cfg *config.Config) ops.Policy {
	return ops.Policy{
		MaxTargets:          cfg.Policy.MaxTargets,
		ProtectedRoles:      cfg.Policy.ProtectedRoles,
		ProtectedApps:       cfg.Policy.ProtectedApps,
		ProtectedNamespaces: cfg.Policy.ProtectedNamespaces,
		SilenceMax:          cfg.Policy.SilenceMax.D(),
		SilenceMaxAlerts:    cfg.Policy.SilenceMaxAlerts,
		ScaleMaxChange:      cfg.Policy.ScaleMaxChange,
		ScaleMaxReplicas:    int32(cfg.Policy.ScaleMaxReplicas), // config bounds it to int32
		TwoPerson:           twoPersonFrom(cfg),
	}.WithDefaults()
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
