// Package uitest holds the fixtures the UI's tests share: one incident's
// snapshots (the ops manual's connection pile-up, error-rate page and bad
// deploy), generators of large data sets for benchmarks, and a fixed-clock
// kit.Env with the default keys. It is imported only by tests.
package uitest

import (
	"fmt"
	"math"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// T0 is the fixed clock of every test: no test reads the wall clock.
var T0 = time.Date(2025, 3, 14, 3, 12, 0, 0, time.UTC)

// Backend is a client backend of the fixture database whose state began
// age before T0.
func Backend(pid int32, user, app, state string, age time.Duration, q string) sources.Backend {
	start := T0.Add(-age)
	b := sources.Backend{PID: pid, BackendStart: T0.Add(-2 * time.Hour), BackendType: "client backend", Database: "nudge",
		User: user, Application: app, ClientAddr: "10.0.3.17", State: state, QueryStart: start, StateChange: start, Query: q}
	if strings.HasPrefix(state, "idle in transaction") || state == "active" {
		b.XactStart = start
	}
	return b
}

// PG is the connection pile-up: 4711 idle in transaction holds the lock
// 4712 waits on, and 4713 waits on 4712; a long report, a protected role,
// flightdeck itself, a truncated query and an autovacuum worker.
func PG() *sources.PGActivity {
	bs := []sources.Backend{
		Backend(4711, "app", "nudge-api", "idle in transaction", 12*time.Minute, "UPDATE campaigns SET status = 'sending' WHERE id = 42"),
		Backend(4712, "app", "nudge-api", "active", 3*time.Minute, "UPDATE campaigns SET status = 'paused' WHERE id = 42"),
		Backend(4713, "app", "nudge-worker", "active", 2*time.Minute, "SELECT * FROM campaigns WHERE id = 42 FOR UPDATE"),
		Backend(4801, "reporting", "metabase", "active", 8*time.Minute, "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id GROUP BY 1"),
		Backend(4802, "app", "nudge-api", "idle", 4*time.Second, "COMMIT"),
		Backend(4803, "postgres", "psql", "active", 1*time.Second, "SELECT pg_stat_statements_reset()"),
		Backend(4804, "flightdeck", "flightdeck", "active", 0, "SELECT ... FROM pg_stat_activity"),
		Backend(4805, "analyst", "dbt", "active", 30*time.Second, "INSERT INTO daily_rollup SELECT ..."),
	}
	bs[1].BlockedBy = []int32{4711}
	bs[1].WaitType, bs[1].WaitEvent = "Lock", "transactionid"
	bs[2].BlockedBy = []int32{4712}
	bs[2].WaitType, bs[2].WaitEvent = "Lock", "tuple"
	bs[6].Self = true
	bs[7].QueryTruncated = true
	bs[7].Hidden = false
	av := sources.Backend{PID: 90, BackendStart: T0.Add(-time.Hour), BackendType: "autovacuum worker", State: "active",
		QueryStart: T0.Add(-40 * time.Second), Query: "autovacuum: VACUUM public.events"}
	bs = append(bs, av)
	return &sources.PGActivity{ServerVersion: 160002, MaxConnections: 100, ReservedConnections: 3, TrackActivityQuerySize: 1024,
		Backends: bs, Connections: 84, ByState: map[string]int{"active": 6, "idle": 70, "idle in transaction": 1},
		ByApp:      map[string]int{"nudge-api": 61, "nudge-worker": 14, "psql": 4, "metabase": 3, "flightdeck": 2},
		ByUser:     map[string]int{"app": 75, "analyst": 4, "reporting": 3, "flightdeck": 2},
		ByDatabase: map[string]int{"nudgecampaign": 84},
		OldestXact: &bs[0], LongestIdleX: &bs[0], CanSeeAll: true, Now: T0,
		Denied: sources.Denied{}}
}

// SLOs are one paging, one ticketing, one fine and one broken objective.
func SLOs() *sources.SLOSet {
	burn := func(a, b, c, d float64) map[time.Duration]float64 {
		return map[time.Duration]float64{5 * time.Minute: a, 30 * time.Minute: a, time.Hour: b, 2 * time.Hour: b, 6 * time.Hour: c, 24 * time.Hour: c, 72 * time.Hour: d}
	}
	spark := func(peak float64) []float64 {
		out := make([]float64, 30)
		for i := range out {
			out[i] = peak * float64(i*i) / 900
		}
		out[3] = math.NaN()
		return out
	}
	return &sources.SLOSet{SLOs: []sources.SLOStatus{
		{Name: "api-availability", Objective: 0.999, Window: 30 * 24 * time.Hour, SLI: 0.9962, BudgetLeft: 0.41, BudgetLeftTime: 12 * 24 * time.Hour,
			Burn: burn(21.3, 15.2, 4.1, 1.2), Level: sources.SLOPage, Reason: "1h 15.2x and 5m 21.3x ≥ 14.4", Spark: spark(21), SparkStep: time.Minute,
			Description: "Share of API requests answered without a 5xx."},
		{Name: "api-latency-p99", Objective: 0.99, Window: 30 * 24 * time.Hour, SLI: 0.991, BudgetLeft: 0.78, BudgetLeftTime: 23 * 24 * time.Hour,
			Burn: burn(3.5, 3.2, 1.1, 0.4), Level: sources.SLOTicket, Reason: "1d 3.2x and 2h 3.2x ≥ 3.0", Spark: spark(4)},
		{Name: "email-delivery", Objective: 0.995, Window: 30 * 24 * time.Hour, SLI: 0.9991, BudgetLeft: 0.93, BudgetLeftTime: 27 * 24 * time.Hour,
			Burn: burn(0.2, 0.3, 0.2, 0.1), Level: sources.SLOOK, Reason: "no burn-rate rule met", Spark: spark(0.3)},
		{Name: "webhook-ingest", Objective: 0.999, Window: 30 * 24 * time.Hour, SLI: math.NaN(), BudgetLeft: math.NaN(),
			Burn: map[time.Duration]float64{}, Level: sources.SLOUnknown, Reason: "no data", Err: "bad expression: parse error at char 12"},
	}}
}

// Alerts are the incident's alerts (two HighErrorRate, the connections
// warning, a silenced one, a pending one) and one active silence.
func Alerts() *sources.AlertSet {
	a := func(fp, name, sev string, st sources.AlertState, age time.Duration, summary string, extra ...sources.Label) sources.Alert {
		ls := append([]sources.Label{{Name: "alertname", Value: name}}, extra...)
		ls = append(ls, sources.Label{Name: "severity", Value: sev})
		return sources.Alert{Fingerprint: fp, Name: name, Severity: sev, State: st, StartsAt: T0.Add(-age), Labels: ls, Summary: summary,
			Description: "Connections above 80% of max_connections for 5m.", RunbookURL: "https://runbooks.nudge.internal/db-connection-exhaustion",
			Receivers: []string{"pagerduty-db"}}
	}
	return &sources.AlertSet{Origin: "alertmanager", Alerts: []sources.Alert{
		a("f1", "PostgresConnectionsHigh", "warning", sources.AlertFiring, 9*time.Minute, "87% of connections in use", sources.Label{Name: "instance", Value: "db-main"}),
		a("f2", "HighErrorRate", "critical", sources.AlertFiring, 6*time.Minute, "5xx ratio 3.8% on nudge-api", sources.Label{Name: "service", Value: "nudge-api"}),
		a("f3", "HighErrorRate", "critical", sources.AlertFiring, 4*time.Minute, "5xx ratio 2.1% on nudge-web", sources.Label{Name: "service", Value: "nudge-web"}),
		a("f4", "DiskSpaceLow", "info", sources.AlertSilenced, 3*time.Hour, "disk 81% on db-replica", sources.Label{Name: "instance", Value: "db-replica"}),
		a("f5", "PostgresLongTransaction", "warning", sources.AlertPending, time.Minute, "transaction open 12m on pid 4711"),
	}, Silences: []sources.Silence{
		{ID: "6f1c2a9e", Matchers: []sources.Matcher{{Name: "alertname", Value: "DiskSpaceLow", IsEqual: true}}, StartsAt: T0.Add(-3 * time.Hour),
			EndsAt: T0.Add(time.Hour), CreatedBy: "maria", Comment: "resize scheduled 04:00", State: "active"},
	}, Denied: sources.Denied{}}
}

// Rollouts are the deployments: nudge-api deployed 4m ago (revisions 42,
// 41, 40), a steady worker and a stalled web.
func Rollouts() *sources.RolloutSet {
	return &sources.RolloutSet{Context: "prod-eu", Deployments: []sources.Deployment{
		{Namespace: "production", Name: "nudge-api", UID: "u1", Replicas: 6, Ready: 4, Updated: 6, Available: 4, State: sources.RolloutProgressing,
			Revision: 42, Images: []string{"registry/nudge-api:2025.03.14-1"}, RolledOutAt: T0.Add(-4 * time.Minute),
			History: []sources.Revision{
				{Number: 42, ReplicaSet: "nudge-api-7c9", ChangeCause: "deploy 2025.03.14-1 (batch sender rewrite)", Images: []string{"registry/nudge-api:2025.03.14-1"}, CreatedAt: T0.Add(-4 * time.Minute), Replicas: 6, Ready: 4},
				{Number: 41, ReplicaSet: "nudge-api-5d1", ChangeCause: "deploy 2025.03.12-2", Images: []string{"registry/nudge-api:2025.03.12-2"}, CreatedAt: T0.Add(-38 * time.Hour)},
				{Number: 40, ReplicaSet: "nudge-api-3a8", ChangeCause: "deploy 2025.03.10-1", Images: []string{"registry/nudge-api:2025.03.10-1"}, CreatedAt: T0.Add(-4 * 24 * time.Hour)},
			}},
		{Namespace: "production", Name: "nudge-worker", UID: "u2", Replicas: 4, Ready: 4, Updated: 4, Available: 4, State: sources.RolloutComplete,
			Revision: 17, Images: []string{"registry/nudge-worker:2025.03.12-2"}, RolledOutAt: T0.Add(-38 * time.Hour),
			History: []sources.Revision{{Number: 17, CreatedAt: T0.Add(-38 * time.Hour), Replicas: 4, Ready: 4}, {Number: 16, CreatedAt: T0.Add(-5 * 24 * time.Hour)}}},
		{Namespace: "production", Name: "nudge-web", UID: "u3", Replicas: 3, Ready: 2, Updated: 1, Available: 2, State: sources.RolloutStalled,
			Message: "ReplicaSet nudge-web-9f2 has timed out progressing", Revision: 8, RolledOutAt: T0.Add(-25 * time.Minute),
			History: []sources.Revision{{Number: 8, CreatedAt: T0.Add(-25 * time.Minute)}}},
	}, Denied: map[string]sources.Denied{}}
}

// DemoRollouts is Rollouts under the demo's names (sources/demo/kube.go),
// which share "nudgecampaign-" and are too long for a narrow pane.
func DemoRollouts() *sources.RolloutSet {
	set := Rollouts()
	for i, n := range []string{"nudgecampaign-api", "nudgecampaign-worker", "nudgecampaign-web"} {
		set.Deployments[i].Name = n
	}
	return set
}

// Snap is a snapshot of p from src, fetched age before T0.
func Snap(src string, kind sources.Kind, p sources.Payload, age time.Duration) sources.Snapshot {
	return sources.Snapshot{Source: src, Kind: kind, Data: p, FetchedAt: T0.Add(-age), Seq: 1}
}

// AWS is the manual's AWS estate in the incident, as the demo shows it:
// the primary past 90 % CPU, the DR replica lagging, one api task failing
// its health check (opstest.AWSEstate at T0).
func AWS() *sources.AWSSet { return opstest.AWSEstate(T0) }

// AllSnaps is one snapshot per built-in pane: prom, am, pg main, kube, aws.
func AllSnaps() []sources.Snapshot {
	return []sources.Snapshot{
		Snap("prom", sources.KindSLO, SLOs(), 3*time.Second),
		Snap("am", sources.KindAlerts, Alerts(), 2*time.Second),
		Snap("pg main", sources.KindPostgres, PG(), 1*time.Second),
		Snap("kube", sources.KindRollouts, Rollouts(), 5*time.Second),
		Snap("aws", sources.KindAWS, AWS(), 4*time.Second),
	}
}

// ManyAlerts is n alerts in 20 groups with the label sets Prometheus rules
// really carry (alertname, severity, cluster, namespace, service, pod,
// instance, job).
func ManyAlerts(n int) *sources.AlertSet {
	sevs := []string{"critical", "warning", "info"}
	states := []sources.AlertState{sources.AlertFiring, sources.AlertFiring, sources.AlertPending, sources.AlertSilenced}
	set := &sources.AlertSet{Origin: "alertmanager", Denied: sources.Denied{}}
	for i := 0; i < n; i++ {
		g := i % 20
		name := fmt.Sprintf("BenchAlert%02dHigh", g)
		sev := sevs[g%3]
		svc := fmt.Sprintf("svc-%d", i%37)
		pod := fmt.Sprintf("%s-7c9f%04d-x%d", svc, i, i%5)
		ls := []sources.Label{
			{Name: "alertname", Value: name}, {Name: "cluster", Value: "prod-eu"}, {Name: "instance", Value: fmt.Sprintf("10.0.%d.%d:9090", i%7, i%250)},
			{Name: "job", Value: "kubernetes-pods"}, {Name: "namespace", Value: "production"}, {Name: "pod", Value: pod},
			{Name: "service", Value: svc}, {Name: "severity", Value: sev},
		}
		set.Alerts = append(set.Alerts, sources.Alert{
			Fingerprint: fmt.Sprintf("%016x", i), Name: name, Severity: sev, State: states[i%len(states)],
			StartsAt: T0.Add(-time.Duration(i%3600) * time.Second), Labels: ls,
			Summary:     fmt.Sprintf("%s: error ratio %.1f%% on %s", name, float64(i%50)/10, pod),
			Description: "Error ratio above threshold for 5m.", RunbookURL: "https://runbooks.nudge.internal/high-error-rate",
			Receivers: []string{"pagerduty"},
		})
	}
	return set
}

// ManyRollouts is n deployments with 10 revisions each.
func ManyRollouts(n int) *sources.RolloutSet {
	set := &sources.RolloutSet{Context: "prod-eu", Denied: map[string]sources.Denied{}}
	states := []sources.RolloutState{sources.RolloutComplete, sources.RolloutComplete, sources.RolloutProgressing, sources.RolloutStalled}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("service-%03d", i)
		d := sources.Deployment{Namespace: fmt.Sprintf("team-%d", i%9), Name: name, UID: fmt.Sprintf("u%d", i),
			Replicas: 3, Ready: 3, Updated: 3, Available: 3, State: states[i%len(states)], Revision: 10,
			Images: []string{"registry/" + name + ":2025.03.14-1"}, RolledOutAt: T0.Add(-time.Duration(i) * time.Minute)}
		for r := int64(10); r >= 1; r-- {
			d.History = append(d.History, sources.Revision{Number: r, ReplicaSet: fmt.Sprintf("%s-%x", name, r*7919),
				ChangeCause: fmt.Sprintf("deploy 2025.03.%02d-%d", r, r%3), Images: []string{fmt.Sprintf("registry/%s:2025.03.%02d", name, r)},
				CreatedAt: T0.Add(-time.Duration(11-r) * 24 * time.Hour), Replicas: 3 * int32(r/10), Ready: 3 * int32(r/10)})
		}
		set.Deployments = append(set.Deployments, d)
	}
	return set
}

// ManyBackends is the fixture with n generated client backends.
func ManyBackends(n int) *sources.PGActivity {
	act := PG()
	bs := make([]sources.Backend, 0, n)
	for i := 0; i < n; i++ {
		x := Backend(int32(10000+i), fmt.Sprintf("user%d", i%17), fmt.Sprintf("app-%d", i%23), []string{"active", "idle", "idle in transaction"}[i%3],
			time.Duration(i%900)*time.Second, fmt.Sprintf("SELECT * FROM events WHERE contact_id = %d AND kind = 'open' ORDER BY at DESC LIMIT 50", i))
		bs = append(bs, x)
	}
	act.Backends = bs
	return act
}

// Env is a session environment for a pane under test: default keys, the
// no-colour dark theme, the default policy, the clock at T0.
func Env() *kit.Env {
	e := &kit.Env{Theme: themes.MustGet("dark").WithNoColor(), Keys: keymap.DefaultKeyMap(), Policy: ops.DefaultPolicy()}
	e.SetClock(T0)
	return e
}

// Key is the key press a key name stands for: "enter", "esc", "tab",
// "space", "backspace", "down", or a printable character.
func Key(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	}
	r := []rune(s)
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// Typed is the key presses that type s.
func Typed(s string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}
