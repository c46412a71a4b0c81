package world

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/notify"
	"flightdeck/ops"
	"flightdeck/sources"
)

// eventOf is the one mapping from journal records to the notification
// rules' kinds.
func TestEventOfRecords(t *testing.T) {
	at := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	alice := "alice (SHA256:a, ssh from 10.0.0.5:1)"
	for _, tc := range []struct {
		rec  ops.Record
		kind notify.Kind
		want string // "" = no event
	}{
		{ops.Record{Phase: "outcome", Operator: alice, Action: ops.PromoteReplica, Targets: []string{"us-west-2/nudgecampaign-dr-db"}, Outcome: "ok",
			Signers: []ops.Signer{{Name: "alice"}, {Name: "carol"}}}, notify.Action, "Promote read replica us-west-2/nudgecampaign-dr-db: ok"},
		{ops.Record{Phase: "intent", Operator: alice, Action: ops.PromoteReplica}, "", ""},
		{ops.Record{Phase: "outcome", Operator: alice, Action: ops.Notify, Outcome: "ok"}, "", ""},
		{ops.Record{Phase: "cosign_request", Operator: alice, Details: []string{"alice asks a second operator to co-sign X"}}, notify.CoSign, "alice asks a second operator to co-sign X"},
		{ops.Record{Phase: "commander", Operator: alice, Details: []string{"alice takes command"}}, notify.Commander, "alice takes command"},
		{ops.Record{Phase: "note", Operator: alice, Details: []string{"quiet note"}}, "", ""},
		{ops.Record{Phase: "note_announced", Operator: alice, Details: []string{"customers told"}}, notify.Note, "customers told"},
		{ops.Record{Phase: "run_start", Operator: alice, Run: &ops.RunRecord{Title: "Failover to DR"}}, notify.Runbook, "runbook Failover to DR started"},
		{ops.Record{Phase: "notify_failed", Operator: "flightdeck", Details: []string{"x"}}, "", ""},
	} {
		tc.rec.Time = at
		e, ok := eventOf(tc.rec, "production")
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s: event %+v, want none", tc.rec.Phase, e)
		case tc.want != "" && (!ok || e.Kind != tc.kind || e.Subject != tc.want || e.Who != "alice" || e.Environment != "production"):
			t.Errorf("%s: event %+v (%v), want %s %q", tc.rec.Phase, e, ok, tc.kind, tc.want)
		}
	}
	e, _ := eventOf(ops.Record{Phase: "outcome", Operator: alice, Action: ops.PromoteReplica, Outcome: "ok",
		Signers: []ops.Signer{{Name: "alice"}, {Name: "carol"}}}, "production")
	if e.Text != "(requested by alice, co-signed by carol)" {
		t.Errorf("co-signed outcome text %q", e.Text)
	}
}

// scriptedAlerts is an alert source that answers a script of alert sets,
// the last one forever.
type scriptedAlerts struct {
	mu   sync.Mutex
	sets [][]sources.Alert
}

func (s *scriptedAlerts) Name() string       { return "am" }
func (s *scriptedAlerts) Kind() sources.Kind { return sources.KindAlerts }
func (s *scriptedAlerts) Fetch(context.Context) (sources.Payload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.sets[0]
	if len(s.sets) > 1 {
		s.sets = s.sets[1:]
	}
	return &sources.AlertSet{Alerts: set}, nil
}

// recordingSink keeps what it is sent.
type recordingSink struct {
	mu   sync.Mutex
	sent []notify.Event
}

func (r *recordingSink) Name() string { return "rec" }
func (r *recordingSink) Send(_ context.Context, e notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, e)
	return nil
}

func (r *recordingSink) subjects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.sent {
		out = append(out, e.Subject)
	}
	return out
}

// TestPagesFiredAndResolvedAreNotified: a critical alert that starts
// firing is a page fired, its end a page resolved; what was firing before
// the first snapshot, and warnings, are not news.
func TestPagesFiredAndResolvedAreNotified(t *testing.T) {
	old := sources.Alert{Fingerprint: "f0", Name: "AlreadyFiring", Severity: "critical", State: sources.AlertFiring}
	page := sources.Alert{Fingerprint: "f1", Name: "HighErrorRate", Severity: "critical", State: sources.AlertFiring}
	warn := sources.Alert{Fingerprint: "f2", Name: "DiskFilling", Severity: "warning", State: sources.AlertFiring}
	src := &scriptedAlerts{sets: [][]sources.Alert{{old}, {old, page, warn}, {old, warn}}}
	hub := sources.NewHub(nil)
	hub.Add(src, sources.PollOptions{Interval: 20 * time.Millisecond})
	sink := &recordingSink{}
	n := notify.New([]notify.Route{{Sink: sink, Kinds: []notify.Kind{notify.Page}}}, notify.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); hub.Wait(); n.Wait() }()
	n.Start(ctx)
	sub := hub.Subscribe()
	hub.Start(ctx)
	go watchPages(ctx, sub, n, "production")
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.subjects()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if got := strings.Join(sink.subjects(), " | "); got != "page fired: HighErrorRate | page resolved: HighErrorRate" {
		t.Fatalf("pages notified: %q", got)
	}
}
