package runbook

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"flightdeck/ops"
	"flightdeck/sources"
)

const testBook = `name: test-book
title: Test book
steps:
  - kind: check
    title: Connections high
    expr: pg.ratio >= 0.8
    show:
      - connections: sprintf("%d/%d (%s)", pg.connections, pg.usable, pct(pg.ratio))
  - kind: view
    title: Look
    pane: postgres
    filter: state:!idle sort:duration
  - kind: action
    title: Kill old queries
    action: terminate
    backends: state:!idle >10m
  - kind: verify
    title: Connections fall
    expr: pg.ratio < 0.8
    within: 2m
  - kind: action
    title: Roll back if recent
    when: rollout("prod/api").deployed_ago < duration("30m")
    action: undo
    deployment: prod/api
  - kind: verify
    title: Rolled out
    expr: rollout("prod/api").complete
    within: 1m
  - kind: action
    title: Silence it
    action: silence
    duration: 1h
    comment: working on it
  - kind: note
    title: Tell people
    text: "Post in #incidents"
    command: echo hello
`

var t0 = time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)

func book(t *testing.T) *Runbook {
	t.Helper()
	b, err := Load("test.yaml", []byte(testBook))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// backend is a client backend in state st for age (before now).
func backend(pid int32, user, st string, age time.Duration, now time.Time) sources.Backend {
	b := sources.Backend{PID: pid, BackendStart: now.Add(-age - time.Minute), BackendType: "client backend",
		User: user, Application: "api", State: st, Query: "SELECT " + fmt.Sprint(pid)}
	b.QueryStart, b.StateChange = now.Add(-age), now.Add(-age)
	if st != "idle" {
		b.XactStart = now.Add(-age)
	}
	return b
}

func pgSnap(now time.Time, conns int, bs ...sources.Backend) sources.Snapshot {
	a := &sources.PGActivity{MaxConnections: 103, ReservedConnections: 3, Connections: conns, Backends: bs,
		ByState: map[string]int{}, Now: now}
	for _, b := range bs {
		a.ByState[b.State]++
	}
	return sources.Snapshot{Source: "pg main", Kind: sources.KindPostgres, Data: a, FetchedAt: now}
}

func kubeSnap(now time.Time, rev int64, deployedAgo time.Duration, complete bool) sources.Snapshot {
	d := sources.Deployment{Namespace: "prod", Name: "api", UID: "u1", Replicas: 3, Ready: 3, Updated: 3, Available: 3,
		State: sources.RolloutComplete, Revision: rev, RolledOutAt: now.Add(-deployedAgo),
		History: []sources.Revision{{Number: rev}, {Number: rev - 1}}}
	if !complete {
		d.State, d.Updated = sources.RolloutProgressing, 1
	}
	return sources.Snapshot{Source: "kube", Kind: sources.KindRollouts, Data: &sources.RolloutSet{Deployments: []sources.Deployment{d}}, FetchedAt: now}
}

var opener = sources.Alert{Name: "HighErrorRate", State: sources.AlertFiring,
	Labels: []sources.Label{{Name: "alertname", Value: "HighErrorRate"}, {Name: "severity", Value: "critical"}}}

func amSnap(now time.Time, alerts ...sources.Alert) sources.Snapshot {
	return sources.Snapshot{Source: "am", Kind: sources.KindAlerts, Data: &sources.AlertSet{Alerts: alerts}, FetchedAt: now}
}

func start(t *testing.T) *Run {
	t.Helper()
	r, recs := Start(book(t), &opener, "oncall@test", ops.DefaultPolicy(), t0)
	if len(recs) != 1 || recs[0].Phase != ops.PhaseRunStart || recs[0].Run.Alert != "HighErrorRate" ||
		strings.Join(recs[0].Run.Values, ",") != "alertname=HighErrorRate,severity=critical" || recs[0].Operator != "oncall@test" {
		t.Fatalf("start records %+v %+v", recs, recs[0].Run)
	}
	return r
}

func results(recs []ops.Record) string {
	var out []string
	for _, r := range recs {
		if r.Phase == ops.PhaseRunStep {
			out = append(out, fmt.Sprintf("%d:%s", r.Run.StepIndex, r.Run.Result))
		} else {
			out = append(out, r.Phase+":"+r.Run.Result)
		}
	}
	return strings.Join(out, " ")
}

func TestUnknownIsNeverFalse(t *testing.T) {
	r := start(t)
	if recs := r.Observe(nil, t0); len(recs) != 0 {
		t.Fatalf("records %v", recs)
	}
	v := r.Steps(t0)
	if v[0].Live != Unknown || v[0].Why != "no postgres data" || v[0].State != Pending || !v[0].Next {
		t.Errorf("check without data: %+v", v[0])
	}
	if v[4].Live != Unknown || v[4].Why != "no rollout data" {
		t.Errorf("when without data: %+v", v[4])
	}
	d, recs := r.Do(0, t0)
	if d.Kind != DoNothing || d.Message != "unknown: no postgres data" || len(recs) != 0 || r.Steps(t0)[0].State != Pending {
		t.Errorf("Do on an unknown check: %+v %v", d, recs)
	}
	d, recs = r.Do(4, t0)
	if d.Kind != DoNothing || !strings.Contains(d.Message, "cannot tell whether it applies: no rollout data") || len(recs) != 0 {
		t.Errorf("Do on an unknown when: %+v", d)
	}
	d, _ = r.Do(6, t0)
	if d.Kind != DoNothing || d.Message != "cannot resolve: no alert data" {
		t.Errorf("silence without alert data: %+v", d)
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		conns int
		live  Verdict
		state StepState
		value string
	}{
		{95, True, OK, "connections 95/100 (95%)"},
		{40, False, Failed, "connections 40/100 (40%)"},
	}
	for _, c := range cases {
		r := start(t)
		r.Observe([]sources.Snapshot{pgSnap(t0, c.conns)}, t0)
		if v := r.Steps(t0)[0]; v.Live != c.live || len(v.Values) != 1 || v.Values[0].String() != c.value {
			t.Errorf("%d: %+v", c.conns, v)
		}
		d, recs := r.Do(0, t0.Add(time.Second))
		if d.Kind != DoNothing || len(recs) != 1 || recs[0].Run.Result != string(c.state) || recs[0].Run.Values[0] != c.value ||
			recs[0].Run.Kind != "check" || recs[0].Run.Step != "Connections high" || !recs[0].Time.Equal(t0.Add(time.Second)) {
			t.Errorf("%d: %+v %+v", c.conns, d, recs)
		}
		// The verdict is recorded; the values stay as they were then.
		r.Observe([]sources.Snapshot{pgSnap(t0, 10)}, t0.Add(2*time.Second))
		if v := r.Steps(t0)[0]; v.State != c.state || v.Values[0].String() != c.value || v.Next {
			t.Errorf("%d after: %+v", c.conns, v)
		}
	}
}

func TestViewFocuses(t *testing.T) {
	r := start(t)
	d, recs := r.Do(1, t0)
	if d.Kind != DoFocus || d.Pane != sources.KindPostgres || d.Filter != "state:!idle sort:duration" || results(recs) != "1:viewed" {
		t.Errorf("%+v %s", d, results(recs))
	}
}

func TestTerminateResolution(t *testing.T) {
	r := start(t)
	now := t0
	bs := []sources.Backend{
		backend(10, "app", "idle", time.Hour, now),             // idle: not matched
		backend(11, "app", "active", 5*time.Minute, now),       // young
		backend(12, "postgres", "active", 50*time.Minute, now), // protected role
		backend(13, "app", "idle in transaction", 40*time.Minute, now),
	}
	for i := range 6 {
		bs = append(bs, backend(int32(20+i), "app", "active", time.Duration(11+i)*time.Minute, now))
	}
	self := backend(30, "flightdeck", "active", 2*time.Hour, now)
	self.Self = true
	bs = append(bs, self)
	r.Observe([]sources.Snapshot{pgSnap(now, len(bs), bs...)}, now)
	v := r.Steps(now)[2]
	want := []string{
		"target pid 13 app api idle in transaction 40m00s: SELECT 13",
		"target pid 25 app api active 16m00s: SELECT 25",
		"target pid 24 app api active 15m00s: SELECT 24",
		"target pid 23 app api active 14m00s: SELECT 23",
		"target pid 22 app api active 13m00s: SELECT 22",
		"2 more match beyond max_targets 5: do the step again for them",
		"skip pid 30 (flightdeck): pid 30 is flightdeck's own connection",
		`skip pid 12 (postgres): role "postgres" is protected by policy`,
	}
	if strings.Join(v.Targets, "\n") != strings.Join(want, "\n") {
		t.Errorf("preview:\n%s", strings.Join(v.Targets, "\n"))
	}
	d, recs := r.Do(2, now)
	if d.Kind != DoRequest || len(recs) != 0 || d.Request.Action != ops.Terminate || d.Request.Source != "pg main" {
		t.Fatalf("%+v", d)
	}
	var pids []int32
	for _, b := range d.Request.Backends {
		pids = append(pids, b.PID)
	}
	if fmt.Sprint(pids) != "[13 25 24 23 22]" || r.Steps(now)[2].State != Running {
		t.Errorf("targets %v, state %s", pids, r.Steps(now)[2].State)
	}
	// The policy the Executor enforces accepts what the run resolved.
	if err := ops.DefaultPolicy().Check(d.Request); err != nil {
		t.Errorf("policy: %v", err)
	}
	// Running: doing it again is refused until the outcome comes back.
	if d, _ := r.Do(2, now); d.Kind != DoNothing || d.Message != "step 3 is running" {
		t.Errorf("again: %+v", d)
	}
	// Done again for the two beyond max_targets, on a snapshot that still
	// lists the five just terminated: only the two are targeted.
	r.ActionResult(2, "p1", OutcomeOK, nil, now)
	r.Observe([]sources.Snapshot{pgSnap(now, len(bs), bs...)}, now)
	if got := r.Steps(now)[2].Preview; len(got) != 5 || got[2] != "skip pid 30 (flightdeck): pid 30 is flightdeck's own connection" ||
		got[4] != "5 terminated by this step, still listed by the server" {
		t.Errorf("second preview:\n%s", strings.Join(got, "\n"))
	}
	d, _ = r.Do(2, now)
	pids = nil
	for _, b := range d.Request.Backends {
		pids = append(pids, b.PID)
	}
	if fmt.Sprint(pids) != "[21 20]" {
		t.Errorf("second targets %v", pids)
	}
	r.ActionResult(2, "p2", OutcomeOK, nil, now)
	r.Observe([]sources.Snapshot{pgSnap(now, len(bs), bs...)}, now)
	if d, _ := r.Do(2, now); d.Kind != DoNothing || !strings.Contains(d.Message, `of the 9 backend(s) matching "state:!idle >10m", 7 terminated by this step, 2 refused by policy`) {
		t.Errorf("third: %+v", d)
	}
}

func TestNothingToDoSkipsItsVerify(t *testing.T) {
	r := start(t)
	r.Observe([]sources.Snapshot{pgSnap(t0, 90, backend(11, "app", "active", time.Minute, t0))}, t0)
	d, recs := r.Do(2, t0)
	if d.Kind != DoNothing || results(recs) != "2:skipped 3:skipped" {
		t.Fatalf("%+v %s", d, results(recs))
	}
	v := r.Steps(t0)
	if v[2].Reason != `nothing to do: no backend matches "state:!idle >10m"` || v[3].Reason != "nothing to verify: step 3 was skipped" {
		t.Errorf("%q / %q", v[2].Reason, v[3].Reason)
	}
}

func TestWhen(t *testing.T) {
	cases := []struct {
		ago    time.Duration
		live   Verdict
		kind   DirectiveKind
		result string
	}{
		{10 * time.Minute, True, DoRequest, ""},
		{2 * time.Hour, False, DoNothing, "4:skipped 5:skipped"},
	}
	for _, c := range cases {
		r := start(t)
		r.Observe([]sources.Snapshot{kubeSnap(t0, 42, c.ago, true)}, t0)
		v := r.Steps(t0)[4]
		if v.Live != c.live || v.Expr != `rollout("prod/api").deployed_ago < duration("30m")` ||
			len(v.Values) != 1 || v.Values[0].String() != `rollout("prod/api").deployed_ago `+shortDur(c.ago) {
			t.Errorf("%s: %+v", c.ago, v)
		}
		d, recs := r.Do(4, t0)
		if d.Kind != c.kind || results(recs) != c.result {
			t.Errorf("%s: %+v %s", c.ago, d, results(recs))
		}
		if c.kind == DoRequest && (d.Request.Deployment == nil || d.Request.Deployment.Key() != "prod/api" ||
			strings.Join(d.Targets, ";") != "target roll back prod/api revision 42 → 41") {
			t.Errorf("request %+v", d)
		}
		if c.live == False && r.Steps(t0)[4].Reason != `does not apply: rollout("prod/api").deployed_ago < duration("30m") is false` {
			t.Errorf("reason %q", r.Steps(t0)[4].Reason)
		}
	}
}

func TestVerifyCountdown(t *testing.T) {
	old := []sources.Backend{backend(13, "app", "active", time.Hour, t0)}
	type obs struct {
		at      time.Duration // after the action's result
		fetched time.Duration // when the snapshot was taken, after the result
		conns   int
		state   StepState
		why     string
	}
	cases := []struct {
		name   string
		obs    []obs
		result string
		reason string
	}{
		{"passes on fresh data", []obs{
			{10 * time.Second, -time.Second, 50, Waiting, "waiting for postgres data newer than the action"},
			{20 * time.Second, 19 * time.Second, 90, Waiting, ""},
			{30 * time.Second, 29 * time.Second, 50, OK, ""},
		}, "3:ok", ""},
		{"times out with the last values", []obs{
			{time.Minute, time.Minute, 95, Waiting, ""},
			{2 * time.Minute, 2 * time.Minute, 91, Failed, ""},
		}, "3:timeout", "did not hold within 2m"},
		{"times out without a snapshot", []obs{
			{2 * time.Minute, -1, 0, Failed, ""},
		}, "3:timeout", "did not hold within 2m: waiting for postgres data newer than the action"},
		{"times out without data", []obs{
			{2*time.Minute + time.Second, -time.Minute, 10, Failed, ""},
		}, "3:timeout", "did not hold within 2m: waiting for postgres data newer than the action"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := start(t)
			r.Observe([]sources.Snapshot{pgSnap(t0, 95, old...)}, t0)
			d, _ := r.Do(2, t0)
			if d.Kind != DoRequest {
				t.Fatalf("%+v", d)
			}
			acted := t0.Add(5 * time.Second)
			recs := r.ActionResult(2, "plan-1", OutcomeOK, nil, acted)
			if results(recs) != "2:ok 3:waiting" || recs[0].PlanID != "plan-1" || recs[0].Run.PlanID != "plan-1" ||
				recs[0].Action != ops.Terminate || recs[0].Run.Values[0] != "target pid 13 app api active 1h00m: SELECT 13" {
				t.Fatalf("%s %+v", results(recs), recs[0].Run)
			}
			if v := r.Steps(acted.Add(30 * time.Second))[3]; v.State != Waiting || v.Remaining != 90*time.Second || !v.Deadline.Equal(acted.Add(2*time.Minute)) {
				t.Errorf("countdown %+v", v)
			}
			var all []ops.Record
			for _, o := range c.obs {
				now := acted.Add(o.at)
				if o.fetched < 0 && o.conns == 0 {
					// No snapshot came: the UI's timer ticks.
					if !r.Waiting() {
						t.Fatal("not waiting")
					}
					all = append(all, r.Tick(now)...)
				} else {
					all = append(all, r.Observe([]sources.Snapshot{pgSnap(acted.Add(o.fetched), o.conns)}, now)...)
				}
				v := r.Steps(now)[3]
				if v.State != o.state || (o.why != "" && v.Why != o.why) {
					t.Errorf("at %s: %s %q, want %s %q", o.at, v.State, v.Why, o.state, o.why)
				}
			}
			if results(all) != c.result {
				t.Errorf("records %s, want %s", results(all), c.result)
			}
			v := r.Steps(acted.Add(time.Hour))[3]
			if v.Reason != c.reason || v.Remaining != 0 {
				t.Errorf("reason %q remaining %s", v.Reason, v.Remaining)
			}
			if c.result == "3:timeout" && c.obs[0].conns == 95 && (len(v.Values) != 1 || v.Values[0].String() != "pg.ratio 0.91") {
				t.Errorf("last values %v", v.Values)
			}
		})
	}
}

func TestActionOutcomes(t *testing.T) {
	cases := []struct {
		outcome string
		err     error
		state   StepState
		records string
	}{
		{OutcomeOK, nil, OK, "2:ok 3:waiting"},
		{OutcomePartial, errors.New("pid 22 gone or reused"), Failed, "2:partial 3:waiting"},
		{OutcomeFailed, errors.New("boom"), Failed, "2:failed"},
		{OutcomeRefused, &ops.Refusal{Kind: ops.ErrReadOnly, Reason: "actions are disabled"}, Failed, "2:refused"},
		{OutcomeCancelled, nil, Pending, "2:cancelled"},
	}
	for _, c := range cases {
		r := start(t)
		r.Observe([]sources.Snapshot{pgSnap(t0, 95, backend(13, "app", "active", time.Hour, t0))}, t0)
		r.Do(2, t0)
		recs := r.ActionResult(2, "p", c.outcome, c.err, t0)
		v := r.Steps(t0)[2]
		if results(recs) != c.records || v.State != c.state || v.Outcome != c.outcome {
			t.Errorf("%s: %s %s", c.outcome, results(recs), v.State)
		}
		if c.err != nil && v.Reason != c.err.Error() {
			t.Errorf("%s: reason %q", c.outcome, v.Reason)
		}
	}
}

func TestSilenceAndNote(t *testing.T) {
	r := start(t)
	r.Observe([]sources.Snapshot{amSnap(t0, opener)}, t0)
	d, _ := r.Do(6, t0)
	if d.Kind != DoRequest || d.Request.Action != ops.Silence || d.Request.Source != "am" ||
		ops.FormatMatchers(d.Request.Params.Matchers) != `{alertname="HighErrorRate", severity="critical"}` ||
		d.Request.Params.Duration != time.Hour || d.Request.Params.Comment != "working on it (runbook test-book)" {
		t.Errorf("silence: %+v", d.Request)
	}
	if err := ops.DefaultPolicy().Check(d.Request); err != nil {
		t.Errorf("policy: %v", err)
	}
	d, recs := r.Do(7, t0)
	if d.Kind != DoNote || d.Note != "Post in #incidents" || d.Command != "echo hello" || len(recs) != 0 {
		t.Errorf("note: %+v", d)
	}
	if recs := r.Ack(7, t0); results(recs) != "7:acknowledged" {
		t.Errorf("ack: %s", results(recs))
	}
	if recs := r.Ack(0, t0); recs != nil {
		t.Errorf("ack on a check: %v", recs)
	}
	// Without an opening alert there is nothing to silence.
	r2, _ := Start(book(t), nil, "oncall@test", ops.DefaultPolicy(), t0)
	r2.Observe([]sources.Snapshot{amSnap(t0, opener)}, t0)
	if d, _ := r2.Do(6, t0); d.Kind != DoNothing || !strings.Contains(d.Message, "no alert opened this run") {
		t.Errorf("no opener: %+v", d)
	}
}

func TestRunEnds(t *testing.T) {
	r := start(t)
	r.Observe([]sources.Snapshot{pgSnap(t0, 95)}, t0)
	var recs []ops.Record
	_, rs := r.Do(0, t0)
	recs = append(recs, rs...)
	for _, i := range []int{1, 2, 4, 6} {
		recs = append(recs, r.Skip(i, "  not today\x1b[31m ", t0)...)
	}
	if r.Next() != 7 || r.Ended() {
		t.Fatalf("next %d", r.Next())
	}
	recs = append(recs, r.Ack(7, t0)...)
	if got := results(recs); got != "0:ok 1:skipped 2:skipped 3:skipped 4:skipped 5:skipped 6:skipped 7:acknowledged run_end:completed" {
		t.Errorf("records %s", got)
	}
	if recs[1].Run.Reason != "not today" || !r.Ended() || r.Next() != -1 {
		t.Errorf("reason %q ended %v", recs[1].Run.Reason, r.Ended())
	}
	if end := recs[len(recs)-1]; strings.Join(end.Run.Values, ",") != "1 ok,6 skipped,1 acknowledged" {
		t.Errorf("end values %v", end.Run.Values)
	}
	if d, rs := r.Do(0, t0); d.Message != "the run has ended" || rs != nil {
		t.Errorf("after end: %+v", d)
	}
	r2 := start(t)
	if recs := r2.Abandon("wrong runbook", t0); results(recs) != "run_end:abandoned" || recs[0].Run.Reason != "wrong runbook" || !r2.Ended() {
		t.Errorf("abandon %s", results(recs))
	}
}

func TestEnvUnknowns(t *testing.T) {
	slo := sources.SLOStatus{Name: "availability", Objective: 0.999, SLI: math.NaN(), BudgetLeft: 0.5, Level: sources.SLOPage,
		Burn: map[time.Duration]float64{5 * time.Minute: 20, time.Hour: math.NaN()}}
	snaps := []sources.Snapshot{{Source: "prom", Kind: sources.KindSLO, Data: &sources.SLOSet{SLOs: []sources.SLOStatus{slo}}, FetchedAt: t0},
		pgSnap(t0, 50), amSnap(t0, opener)}
	stale := pgSnap(t0.Add(-time.Minute), 50)
	stale.Stale, stale.Err = true, errors.New("connection refused")
	cases := []struct {
		expr  string
		snaps []sources.Snapshot
		want  Verdict
		why   string
	}{
		{`slo("availability").burn("5m") > 14.4`, snaps, True, ""},
		{`slo("availability").burn("1h") > 14.4`, snaps, Unknown, "no 1h burn rate for availability"},
		{`slo("latency").level == "page"`, snaps, Unknown, `no SLO named "latency"`},
		{`slo("availability").sli > 0.99`, snaps, False, ""}, // NaN compares false
		{`rollout("prod/api").complete`, snaps, Unknown, "no rollout data"},
		{`firing("HighErrorRate") && alert.firing`, snaps, True, ""},
		{`alert.state == "resolved"`, []sources.Snapshot{amSnap(t0)}, True, ""},
		{`pg.connections == 50`, []sources.Snapshot{stale}, True, ""},
		{`pg.backends[3].pid > 0`, snaps, Unknown, "error: index out of range: 3 (array length is 0)"},
	}
	for _, c := range cases {
		cond, err := compileCond(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		w := newWorld(c.snaps, t0)
		env := w.env(&opener)
		got, why, vals := evalCond(cond, nil, w, &opener, &env, time.Time{})
		if got != c.want || why != c.why {
			t.Errorf("%s: %s %q, want %s %q", c.expr, got, why, c.want, c.why)
		}
		if c.snaps[0].Stale && (len(vals) != 2 || vals[1].String() != "stale postgres data 1m00s old (connection refused)") {
			t.Errorf("stale values %v", vals)
		}
	}
}

// The expressions the README shows compile and evaluate as it says.
func TestDocumentedExpressions(t *testing.T) {
	now := t0
	snaps := []sources.Snapshot{
		pgSnap(now, 90, backend(11, "app", "active", 12*time.Minute, now), backend(12, "app", "idle", time.Hour, now)),
		kubeSnap(now, 42, 4*time.Minute, true), amSnap(now, opener),
	}
	cases := []struct {
		expr string
		want any
	}{
		{`pg.ratio >= 0.8`, true},
		{`pg.count("state:!idle >10m")`, 1},
		{`len(pg.select("state:!idle >10m"))`, 1},
		{`all(pg.backends, .age < duration("10m"))`, false},
		{`pg.by_state["idle in transaction"]`, 0},
		{`pg.backends[0].pid`, 11},
		{`let r = rollout("prod/api"); r.ready >= r.replicas`, true},
		{`rollout("api").deployed_ago < duration("30m")`, true},
		{`rollout("prod/api").previous_revision`, 41},
		{`sprintf("%d/%d usable (%s)", pg.connections, pg.usable, pct(pg.ratio))`, "90/100 usable (90%)"},
		{`dur(rollout("prod/api").deployed_ago)`, "4m00s"},
		{`firing("HighErrorRate") && alert.labels["severity"] == "critical" && !alert.resolved`, true},
		{`active("HighErrorRate") && !pending("HighErrorRate") && !silenced("HighErrorRate")`, true},
	}
	for _, c := range cases {
		prog, n, err := compileValue(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		w := newWorld(snaps, now)
		if why := w.missingFor(n, &opener); why != "" {
			t.Errorf("%s: %s", c.expr, why)
			continue
		}
		got, why := eval(prog, w.env(&opener))
		if why != "" || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v (%s), want %v", c.expr, got, why, c.want)
		}
	}
}
