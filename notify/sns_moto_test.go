package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"flightdeck/internal/testsrv"
)

// TestSNSSinkAgainstMoto: an event published through the SNS sink is read
// back from an SQS queue subscribed to the topic.
func TestSNSSinkAgainstMoto(t *testing.T) {
	m := testsrv.StartMoto(t)
	const region = "us-east-1"
	topic, next := testsrv.SNSToSQS(t, m.URL, region, "critical-alerts")
	client := sns.New(sns.Options{Region: region, BaseEndpoint: aws.String(m.URL), Credentials: testsrv.MotoAdminCreds})
	n := New([]Route{{Sink: NewSNS("critical-alerts", topic, client), Kinds: []Kind{Runbook}}}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); n.Wait() }()
	n.Start(ctx)

	if err := n.Send(ctx, "critical-alerts", Event{Kind: Step, Environment: "production", Who: "alice",
		Subject: "Failover to DR completed successfully"}); err != nil {
		t.Fatal(err)
	}
	subject, msg := next()
	if subject != "[production] alice: Failover to DR completed successfully" || !strings.Contains(msg, "Failover to DR completed successfully") {
		t.Fatalf("read back subject %q message %q", subject, msg)
	}
	n.Notify(Event{Kind: Runbook, Who: "alice", Subject: "runbook Failover to DR started", Text: "step 1 of 10"})
	subject, msg = next()
	if !strings.Contains(subject, "runbook Failover to DR started") || !strings.HasSuffix(msg, "step 1 of 10") {
		t.Fatalf("queued event read back subject %q message %q", subject, msg)
	}
	// A topic that does not exist is an error naming it, not a hang.
	bad := NewSNS("gone", "arn:aws:sns:us-east-1:123456789012:nope", client)
	if err := bad.Send(ctx, Event{Subject: "x"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("publish to a missing topic: %v", err)
	}
}
