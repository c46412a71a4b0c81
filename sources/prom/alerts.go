package prom

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"flightdeck/internal/httpopt"
	"flightdeck/sources"
)

// AlertsSource reads alerts from Prometheus's /api/v1/alerts: the fallback
// when no Alertmanager is configured. It sees pending and firing alerts but
// cannot silence, so its snapshots deny silence and expire.
type AlertsSource struct {
	o   Options
	api v1.API
	err error // from building the client; reported by every Fetch
}

// noAlertmanager is why silencing is denied with this source.
const noAlertmanager = "no Alertmanager configured"

// NewAlerts returns the Prometheus alerts source. Only the connection fields
// of o (URL, Timeout, auth, TLS, Log) matter. A bad URL or auth config is
// reported by every Fetch, so that a cockpit with a broken fallback still
// starts.
func NewAlerts(o Options) *AlertsSource {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	a := &AlertsSource{o: o}
	var err error
	if a.o.Endpoint, err = o.Check("prometheus"); err != nil {
		a.err = err
		return a
	}
	rt, err := newTransport(a.o)
	if err != nil {
		a.err = err
		return a
	}
	client, err := api.NewClient(api.Config{Address: o.URL, RoundTripper: rt})
	if err != nil {
		a.err = fmt.Errorf("prometheus: %w", err)
		return a
	}
	a.api = v1.NewAPI(client)
	return a
}

// Name identifies the source.
func (a *AlertsSource) Name() string { return "prom alerts" }

// Kind is KindAlerts.
func (a *AlertsSource) Kind() sources.Kind { return sources.KindAlerts }

// Fetch reads pending and firing alerts.
func (a *AlertsSource) Fetch(ctx context.Context) (sources.Payload, error) {
	if a.err != nil {
		return nil, a.err
	}
	limit := httpopt.EffectiveTimeout(ctx, a.o.Timeout, 0)
	ctx, cancel := context.WithTimeout(ctx, a.o.Timeout)
	defer cancel()
	res, err := a.api.Alerts(ctx)
	if err != nil {
		err = describeErr(err, limit)
		a.o.Log.Warn("prometheus alerts fetch failed", "url", a.o.Redacted(), "err", err)
		return nil, err
	}
	set := &sources.AlertSet{
		Origin: "prometheus",
		Denied: sources.Denied{"silence": noAlertmanager, "expire": noAlertmanager},
	}
	for _, pa := range res.Alerts {
		var st sources.AlertState
		switch pa.State {
		case v1.AlertStateFiring:
			st = sources.AlertFiring
		case v1.AlertStatePending:
			st = sources.AlertPending
		default:
			continue // inactive
		}
		al := sources.Alert{
			// Alertmanager's fingerprint is the same hash of the label
			// set, so an alert keeps its identity when an Alertmanager is
			// added later.
			Fingerprint: pa.Labels.Fingerprint().String(),
			State:       st,
			StartsAt:    pa.ActiveAt,
			Labels:      sortedLabels(pa.Labels),
			Annotations: sortedLabels(pa.Annotations),
		}
		al.FillFromLabels()
		set.Alerts = append(set.Alerts, al)
	}
	sources.SortAlerts(set.Alerts)
	return set, nil
}
