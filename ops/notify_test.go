package ops_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	. "flightdeck/ops"
	"flightdeck/ops/opstest"
)

func TestNotifyActionIsPlannedConfirmedAndJournaled(t *testing.T) {
	nt := opstest.NewFakeNotifier("critical-alerts", "incidents")
	r := newRig(t, func(cfg *Config) { cfg.Caps[NotifySource] = nt })
	req := Request{Action: Notify, Source: NotifySource, Subject: Notification{Sink: "critical-alerts", Subject: "Failover to DR completed successfully"}}
	p, err := r.ex.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Risk != Low || p.Title != "Notify critical-alerts" || !strings.Contains(p.Preview[0], "Failover to DR completed") {
		t.Fatalf("plan = %+v", p)
	}
	if res := r.ex.Execute(context.Background(), p, "y"); !res.OK {
		t.Fatalf("result = %+v", res)
	}
	if sent := nt.Sent(); len(sent) != 1 || sent[0].Sink != "critical-alerts" || sent[0].Who != "oncall@bastion" || sent[0].Note.Subject != "Failover to DR completed successfully" {
		t.Fatalf("sent = %+v", sent)
	}
	recs := r.records(t)
	if len(recs) != 2 || recs[0].Action != Notify || recs[0].Targets[0] != "critical-alerts" || !strings.Contains(recs[0].Details[0], "Failover to DR") {
		t.Fatalf("journal = %+v", recs)
	}
	// An unknown sink is refused when planning.
	req.Subject = Notification{Sink: "pager", Subject: "x"}
	if _, err := r.ex.Plan(context.Background(), req); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "critical-alerts, incidents") {
		t.Fatalf("unknown sink: %v", err)
	}
	// Without sinks the reason says what to configure.
	bare := newRig(t, nil)
	if _, err := bare.ex.Plan(context.Background(), Request{Action: Notify, Source: NotifySource, Subject: Notification{Sink: "incidents", Subject: "x"}}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "notify.sinks") {
		t.Fatalf("no sinks: %v", err)
	}
	// A failed delivery is a failed outcome.
	nt.Fail(errors.New("sns publish: AccessDenied"))
	req.Subject = Notification{Sink: "incidents", Subject: "x"}
	p, _ = r.ex.Plan(context.Background(), req)
	if res := r.ex.Execute(context.Background(), p, "y"); res.OK || !strings.Contains(res.Summary, "AccessDenied") {
		t.Fatalf("failed delivery = %+v", res)
	}
}
