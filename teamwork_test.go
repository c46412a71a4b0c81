package main

import (
	"strings"
	"testing"
	"time"

	"flightdeck/notify"
	"flightdeck/ops"
)

func TestAskBreakGlassNeedsAReason(t *testing.T) {
	var out strings.Builder
	got, err := askBreakGlass(strings.NewReader("  serve is down \x1b[31mon the bastion\n"), &out)
	if err != nil || got != "serve is down on the bastion" || !strings.Contains(out.String(), "Reason") {
		t.Fatalf("reason %q, %v", got, err)
	}
	for _, in := range []string{"", "\n", "   \x07\n"} {
		if _, err := askBreakGlass(strings.NewReader(in), &out); err == nil {
			t.Errorf("%q accepted as a reason", in)
		}
	}
	long, _ := askBreakGlass(strings.NewReader(strings.Repeat("x", 1000)+"\n"), &out)
	if len([]rune(long)) != maxBreakGlassReason {
		t.Errorf("reason of %d runes kept", len([]rune(long)))
	}
}

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
