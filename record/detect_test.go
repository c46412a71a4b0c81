package record

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"flightdeck/sources"
)

var t0 = time.Date(2026, 3, 14, 3, 7, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func snap(src string, kind sources.Kind, s int, data sources.Payload) sources.Snapshot {
	return sources.Snapshot{Source: src, Kind: kind, Data: data, FetchedAt: at(s)}
}

func alerts(s int, as ...sources.Alert) sources.Snapshot {
	return snap("am", sources.KindAlerts, s, &sources.AlertSet{Origin: "alertmanager", Alerts: as})
}

func alert(name string, state sources.AlertState, startS int) sources.Alert {
	a := sources.Alert{Fingerprint: "fp-" + name, Name: name, Severity: "critical", State: state, StartsAt: at(startS),
		Summary: name + " summary", Labels: []sources.Label{{Name: "alertname", Value: name}, {Name: "severity", Value: "critical"}}}
	if state == sources.AlertSilenced {
		a.SilencedBy = []string{"s1"}
	}
	return a
}

func slos(s int, levels ...any) sources.Snapshot {
	set := &sources.SLOSet{}
	for i := 0; i+1 < len(levels); i += 2 {
		l := levels[i+1].(sources.SLOLevel)
		burn := map[time.Duration]float64{5 * time.Minute: 0.5, time.Hour: 0.4, 6 * time.Hour: math.NaN()}
		if l == sources.SLOPage {
			burn[5*time.Minute], burn[time.Hour] = 20, 15.2
		}
		set.SLOs = append(set.SLOs, sources.SLOStatus{Name: levels[i].(string), Level: l, Burn: burn, Reason: "reason " + l.String()})
	}
	return snap("prom", sources.KindSLO, s, set)
}

func deploys(s int, ds ...sources.Deployment) sources.Snapshot {
	return snap("kube", sources.KindRollouts, s, &sources.RolloutSet{Deployments: ds})
}

func dep(rev int64, state sources.RolloutState, rolledS int) sources.Deployment {
	return sources.Deployment{Namespace: "production", Name: "nudgecampaign-api", Revision: rev, State: state,
		RolledOutAt: at(rolledS), Images: []string{fmt.Sprintf("nudgecampaign/api:v%d", rev)},
		History: []sources.Revision{{Number: rev, ChangeCause: fmt.Sprintf("deploy %d", rev)}}}
}

// pg builds a Postgres snapshot with used connections of 100 usable and
// the given root blockers (pid → backend start second), each with one waiter.
func pg(s, used int, blockers map[int32]int) sources.Snapshot {
	p := &sources.PGActivity{MaxConnections: 103, ReservedConnections: 3, Connections: used}
	waiter := int32(9000)
	for pid, start := range blockers {
		p.Backends = append(p.Backends,
			sources.Backend{PID: pid, BackendStart: at(start), User: "app", Application: "api", State: "idle in transaction", Query: "UPDATE campaigns SET status = 'x' WHERE id = 4711"},
			sources.Backend{PID: waiter, BackendStart: at(0), State: "active", BlockedBy: []int32{pid}})
		waiter++
	}
	return snap("pg main", sources.KindPostgres, s, p)
}

func down(src string, kind sources.Kind, s int, last sources.Snapshot) sources.Snapshot {
	last.Source, last.Kind = src, kind
	last.Err, last.ErrAt, last.Stale = errors.New("connection refused\x1b[31m"), at(s), last.Data != nil
	return last
}

// brief renders an event as "kind subject", "*" marking AtStart.
func brief(e Event) string {
	s := string(e.Kind) + " " + e.Subject
	if e.AtStart {
		s += " *"
	}
	return s
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		steps [][]sources.Snapshot
		want  [][]string // events per step
	}{
		{
			name: "alert lifecycle",
			steps: [][]sources.Snapshot{
				{alerts(0)},
				{alerts(1, alert("HighErrorRate", sources.AlertPending, 1))},
				{alerts(2, alert("HighErrorRate", sources.AlertFiring, 2))},
				{alerts(3, alert("HighErrorRate", sources.AlertFiring, 2))},
				{alerts(4, alert("HighErrorRate", sources.AlertSilenced, 2))},
				{alerts(5, alert("HighErrorRate", sources.AlertFiring, 2))},
				{alerts(6)},
			},
			want: [][]string{nil, nil, {"alert_firing HighErrorRate"}, nil, {"alert_silenced HighErrorRate"},
				{"alert_unsilenced HighErrorRate"}, {"alert_resolved HighErrorRate"}},
		},
		{
			name: "already firing at start is said once, pending is not",
			steps: [][]sources.Snapshot{
				{alerts(0, alert("A", sources.AlertFiring, -600), alert("B", sources.AlertPending, -5), alert("C", sources.AlertSilenced, -60))},
				{alerts(1, alert("A", sources.AlertFiring, -600), alert("B", sources.AlertFiring, 1), alert("C", sources.AlertSilenced, -60))},
				{alerts(2, alert("A", sources.AlertFiring, -600))},
			},
			want: [][]string{{"alert_firing A *", "alert_silenced C *"}, {"alert_firing B"},
				{"alert_resolved B", "alert_resolved C"}},
		},
		{
			name: "pending that never fires leaves no trace; inhibited counts as firing",
			steps: [][]sources.Snapshot{
				{alerts(0)},
				{alerts(1, alert("Flappy", sources.AlertPending, 1))},
				{alerts(2)},
				{alerts(3, alert("Inh", sources.AlertInhibited, 3))},
				{alerts(4, alert("Inh", sources.AlertFiring, 3))},
			},
			want: [][]string{nil, nil, nil, {"alert_firing Inh"}, nil},
		},
		{
			name: "SLO levels, unknown is not a change, calm first verdict is silent",
			steps: [][]sources.Snapshot{
				{slos(0, "availability", sources.SLOOK, "latency", sources.SLOUnknown)},
				{slos(1, "availability", sources.SLOTicket, "latency", sources.SLOOK)},
				{slos(2, "availability", sources.SLOPage, "latency", sources.SLOOK)},
				{slos(3, "availability", sources.SLOUnknown, "latency", sources.SLOOK)},
				{slos(4, "availability", sources.SLOPage, "latency", sources.SLOPage)},
				{slos(5, "availability", sources.SLOOK, "latency", sources.SLOPage)},
			},
			want: [][]string{nil, {"slo_level availability"}, {"slo_level availability"}, nil,
				{"slo_level latency"}, {"slo_level availability"}},
		},
		{
			name:  "SLO already paging at start",
			steps: [][]sources.Snapshot{{slos(0, "availability", sources.SLOPage, "latency", sources.SLOOK)}},
			want:  [][]string{{"slo_level availability *"}},
		},
		{
			name: "rollout revisions and states",
			steps: [][]sources.Snapshot{
				{deploys(0, dep(41, sources.RolloutComplete, -3600))},
				{deploys(30, dep(42, sources.RolloutProgressing, 30))},
				{deploys(31, dep(42, sources.RolloutProgressing, 30))},
				{deploys(48, dep(42, sources.RolloutComplete, 30))},
				{deploys(300, dep(43, sources.RolloutProgressing, 300))},
				{deploys(400, dep(43, sources.RolloutStalled, 300))},
				{deploys(500, dep(41, sources.RolloutComplete, 500))},
			},
			want: [][]string{nil,
				{"rollout_revision production/nudgecampaign-api"}, nil,
				{"rollout_state production/nudgecampaign-api"},
				{"rollout_revision production/nudgecampaign-api"},
				{"rollout_state production/nudgecampaign-api"},
				{"rollout_revision production/nudgecampaign-api", "rollout_state production/nudgecampaign-api"}},
		},
		{
			name:  "rollout in progress at start",
			steps: [][]sources.Snapshot{{deploys(0, dep(42, sources.RolloutProgressing, -10))}},
			want:  [][]string{{"rollout_state production/nudgecampaign-api *"}},
		},
		{
			name: "root blocker must last 5s; pid reuse is another blocker",
			steps: [][]sources.Snapshot{
				{pg(0, 30, nil)},
				{pg(2, 30, map[int32]int{4711: 1})},
				{pg(4, 30, nil)}, // a 2 s lock wait: everyday traffic
				{pg(10, 30, map[int32]int{4712: 9})},
				{pg(12, 30, map[int32]int{4712: 9})},
				{pg(15, 30, map[int32]int{4712: 9})},
				{pg(20, 30, map[int32]int{4712: 9})},
				{pg(22, 30, map[int32]int{4712: 21})}, // same pid, a new backend
				{pg(30, 30, map[int32]int{4712: 21})},
				{pg(31, 30, nil)},
			},
			want: [][]string{nil, nil, nil, nil, nil, {"pg_blocker pid 4712"}, nil,
				{"pg_blocker_cleared pid 4712"}, {"pg_blocker pid 4712"}, {"pg_blocker_cleared pid 4712"}},
		},
		{
			name: "blocker present at start",
			steps: [][]sources.Snapshot{
				{pg(0, 30, map[int32]int{4711: -100})},
				{pg(6, 30, map[int32]int{4711: -100})},
			},
			want: [][]string{nil, {"pg_blocker pid 4711 *"}},
		},
		{
			name: "connections cross 80% once, with hysteresis",
			steps: [][]sources.Snapshot{
				{pg(0, 70, nil)}, {pg(1, 80, nil)}, {pg(2, 78, nil)}, {pg(3, 81, nil)}, {pg(4, 76, nil)},
				{pg(5, 74, nil)}, {pg(6, 79, nil)}, {pg(7, 80, nil)},
			},
			want: [][]string{nil, {"pg_connections_high pg main"}, nil, nil, nil,
				{"pg_connections_normal pg main"}, nil, {"pg_connections_high pg main"}},
		},
		{
			name:  "connections high at start",
			steps: [][]sources.Snapshot{{pg(0, 91, nil)}},
			want:  [][]string{{"pg_connections_high pg main *"}},
		},
		{
			name: "source down and back; alerts are not resolved by an outage",
			steps: [][]sources.Snapshot{
				{alerts(0, alert("A", sources.AlertFiring, -60))},
				{down("am", sources.KindAlerts, 2, alerts(0, alert("A", sources.AlertFiring, -60)))},
				{down("am", sources.KindAlerts, 6, alerts(0, alert("A", sources.AlertFiring, -60)))},
				{alerts(70, alert("A", sources.AlertFiring, -60))},
				{alerts(71)},
			},
			want: [][]string{{"alert_firing A *"}, {"source_down am"}, nil, {"source_up am"}, {"alert_resolved A"}},
		},
		{
			name: "down at start, then first data is still 'at start'",
			steps: [][]sources.Snapshot{
				{{Source: "am", Kind: sources.KindAlerts}}, // not fetched yet: ignored
				{down("am", sources.KindAlerts, 1, sources.Snapshot{})},
				{alerts(5, alert("A", sources.AlertFiring, -60))},
			},
			want: [][]string{nil, {"source_down am *"}, {"source_up am", "alert_firing A *"}},
		},
		{
			name: "sources in name order within one batch",
			steps: [][]sources.Snapshot{
				{slos(0, "availability", sources.SLOOK), alerts(0)},
				{slos(1, "availability", sources.SLOPage), alerts(1, alert("HighErrorRate", sources.AlertFiring, 1))},
			},
			want: [][]string{nil, {"alert_firing HighErrorRate", "slo_level availability"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st State
			for i, batch := range tc.steps {
				next := Advance(st, batch, Thresholds{})
				var got []string
				for _, e := range Detect(st, next) {
					got = append(got, brief(e))
				}
				if !slices.Equal(got, tc.want[i]) {
					t.Errorf("step %d: got %q, want %q", i, got, tc.want[i])
				}
				st = next
			}
		})
	}
}

func TestEventDetails(t *testing.T) {
	var st State
	step := func(batch ...sources.Snapshot) []Event {
		next := Advance(st, batch, Thresholds{})
		evs := Detect(st, next)
		st = next
		return evs
	}
	step(slos(0, "availability", sources.SLOOK), deploys(0, dep(41, sources.RolloutComplete, -3600)), pg(0, 50, nil), alerts(0))

	evs := step(slos(10, "availability", sources.SLOPage))
	e := evs[0]
	if e.From != "ok" || e.To != "page" || e.Burn["5m"] != 20 || e.Burn["1h"] != 15.2 || e.Time != at(10) {
		t.Errorf("slo event %+v", e)
	}
	if _, ok := e.Burn["6h"]; ok {
		t.Errorf("NaN burn kept: %v", e.Burn)
	}
	if e.Summary != "SLO availability ok → page: reason page" {
		t.Errorf("summary %q", e.Summary)
	}

	evs = step(deploys(30, dep(42, sources.RolloutProgressing, 29)))
	e = evs[0]
	if e.Revision != 42 || e.PrevRevision != 41 || !e.Since.Equal(at(29)) || e.Images[0] != "nudgecampaign/api:v42" ||
		e.Summary != "production/nudgecampaign-api revision 42 (was 41): nudgecampaign/api:v42 — deploy 42" {
		t.Errorf("rollout event %+v", e)
	}

	evs = step(pg(40, 85, nil), alerts(40, alert("HighErrorRate", sources.AlertFiring, 38)))
	if len(evs) != 2 {
		t.Fatalf("events %+v", evs)
	}
	if a := evs[0]; a.ID != "fp-HighErrorRate" || a.Severity != "critical" || a.Labels["alertname"] != "HighErrorRate" ||
		!a.Since.Equal(at(38)) || a.Summary != "HighErrorRate firing (critical): HighErrorRate summary" {
		t.Errorf("alert event %+v", a)
	}
	if c := evs[1]; c.Used != 85 || c.Usable != 100 || c.Summary != "connections 85/100 (85%) of usable on pg main" {
		t.Errorf("connections event %+v", c)
	}
	evs = step(alerts(400))
	if evs[0].Summary != "HighErrorRate resolved after 6m02s" {
		t.Errorf("resolved %q", evs[0].Summary)
	}

	evs = step(down("prom", sources.KindSLO, 500, slos(10, "availability", sources.SLOPage)))
	if evs[0].Error != "connection refused" || evs[0].Summary != "prom down: connection refused" {
		t.Errorf("down event not sanitized: %+v", evs[0])
	}
	evs = step(slos(620, "availability", sources.SLOPage))
	if evs[0].Summary != "prom back after 2m down" || !evs[0].Since.Equal(at(500)) {
		t.Errorf("up event %+v", evs[0])
	}
}

func TestAlertStormIsBounded(t *testing.T) {
	var as []sources.Alert
	for i := range 130 {
		as = append(as, alert(fmt.Sprintf("Alert%03d", i), sources.AlertFiring, -10))
	}
	next := Advance(State{}, []sources.Snapshot{alerts(0, as...)}, Thresholds{})
	evs := Detect(State{}, next)
	if len(evs) != maxAlertBatch+1 {
		t.Fatalf("%d events", len(evs))
	}
	last := evs[len(evs)-1]
	if last.Count != 80 || last.Kind != AlertFiring || last.Summary != "and 80 more alerts firing" {
		t.Errorf("overflow event %+v", last)
	}
}

func TestBoundedText(t *testing.T) {
	long := strings.Repeat("é", 1000)
	a := alert("X", sources.AlertFiring, 0)
	a.Summary = long
	for i := range 40 {
		a.Labels = append(a.Labels, sources.Label{Name: fmt.Sprintf("l%02d", i), Value: long})
	}
	st := Advance(State{}, []sources.Snapshot{alerts(0, a)}, Thresholds{})
	e := Detect(State{}, st)[0]
	if n := len([]rune(e.Summary)); n != maxSummary {
		t.Errorf("summary %d runes", n)
	}
	if len(e.Labels) != maxLabels || len([]rune(e.Labels["l00"])) != maxLabelText {
		t.Errorf("labels %d, value %d runes", len(e.Labels), len([]rune(e.Labels["l00"])))
	}
}

// Advance never writes to the State it is given: a recorder (or a test)
// may keep the old one.
func TestAdvanceIsPure(t *testing.T) {
	batch := []sources.Snapshot{alerts(0, alert("A", sources.AlertFiring, 0)), slos(0, "availability", sources.SLOPage),
		pg(0, 90, map[int32]int{4711: 0}), deploys(0, dep(41, sources.RolloutComplete, 0))}
	s1 := Advance(State{}, batch, Thresholds{})
	s1copy := Advance(State{}, batch, Thresholds{})
	next := []sources.Snapshot{alerts(9), slos(9, "availability", sources.SLOOK), pg(9, 10, nil), deploys(9, dep(42, sources.RolloutProgressing, 9))}
	s2 := Advance(s1, next, Thresholds{})
	if !reflect.DeepEqual(s1, s1copy) {
		t.Error("Advance changed its input state")
	}
	if reflect.DeepEqual(s1, s2) {
		t.Error("Advance changed nothing")
	}
	// resolved, revision, normal, level; the blocker was never confirmed.
	if evs := Detect(s1, s2); len(evs) != 4 {
		t.Errorf("events %+v", evs)
	}
}

func TestEventsPath(t *testing.T) {
	for in, want := range map[string]string{
		"/s/flightdeck/audit.jsonl":      "/s/flightdeck/events.jsonl",
		"/s/flightdeck/audit-demo.jsonl": "/s/flightdeck/events-demo.jsonl",
		"/var/log/fd/journal.jsonl":      "/var/log/fd/journal.events.jsonl",
		"fd.log":                         "fd.events.log",
	} {
		if got := EventsPath(in); got != want {
			t.Errorf("EventsPath(%q) = %q, want %q", in, got, want)
		}
	}
}
