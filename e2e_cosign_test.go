package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
	"flightdeck/ops"
)

// cosignSources is the config (besides audit: and serve:) of the two-person
// e2e: production, the manual's AWS estate in moto, the promotion under
// the two-person rule with a short expiry, and the manual's critical-alerts
// SNS topic as a notify sink.
func cosignSources(motoURL, topic string) string {
	return `environment: production
aws:
  region: us-east-1
  endpoint_url: ` + motoURL + `
  interval: 1s
  timeout: 10s
  rds:
    instances: [nudgecampaign-prod]
  ecs:
    cluster: nudgecampaign-production
    services:
      - {name: api, min: 2, max: 10}
  regions:
    - region: us-west-2
      rds: {instances: [nudgecampaign-dr-db]}
      ecs:
        cluster: nudgecampaign-dr
        services: [{name: api, min: 0, max: 10}]
policy:
  two_person:
    actions: [promote_read_replica]
    expiry: 10s
notify:
  timeout: 10s
  sinks:
    - name: critical-alerts
      type: sns
      topic_arn: ` + topic + `
      endpoint: ` + motoURL + `
      events: [runbook]
`
}

// TestServeFailoverToDRNeedsACoSigner is issue 20's "done means", with the
// real OpenSSH client in tmux against moto: in production over serve, alice
// runs the Failover to DR runbook and takes command, bob (observer) writes
// a note; the promotion becomes a co-sign request every session sees; left
// alone it expires and executes nothing; asked again, bob cannot co-sign
// it, alice cannot co-sign her own, carol co-signs it by typing the
// identifier and the journal names both; the run ends with the manual's SNS
// publish, read back from an SQS queue subscribed to the topic; the
// timeline shows the commander, the note, the request, the co-signature
// and the promotion in order, with who did each.
func TestServeFailoverToDRNeedsACoSigner(t *testing.T) {
	m := testsrv.StartMoto(t)
	testsrv.BuildAWSEstate(t, m.URL)
	testsrv.IsolateAWS(t, "testing", "testing")
	topic, nextSQS := testsrv.SNSToSQS(t, m.URL, "us-east-1", "critical-alerts")

	fx := newServeFixtureOn(t, cosignSources(m.URL, topic))
	keygen := testsrv.LookBin(t, "apt-get install openssh-client", "ssh-keygen")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "carol@laptop", "-f", filepath.Join(fx.dir, "carol")).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	cfg, err := os.ReadFile(fx.config)
	if err != nil {
		t.Fatal(err)
	}
	withCarol := strings.Replace(string(cfg), "    - name: bob\n", "    - name: carol\n      role: operator\n      keys_file: carol.pub\n    - name: bob\n", 1)
	if err := os.WriteFile(fx.config, []byte(withCarol), 0o600); err != nil {
		t.Fatal(err)
	}
	fx.start()

	alice, carol, bob := fx.client("alice"), fx.client("carol"), fx.client("bob")
	for _, s := range []*tmuxSession{alice, carol, bob} {
		s.waitFor("every cockpit, and who is connected", contains("alice (operator)", "carol (operator)", "bob (observer)", "nudgecampaign-dr-db"))
	}

	// Roles and notes: alice takes command; bob, an observer, writes a note.
	alice.keys("@")
	for _, s := range []*tmuxSession{alice, carol, bob} {
		s.waitFor("the commander in every header", contains("CMD alice"))
	}
	bob.keys("n")
	bob.waitFor("the note input", contains("Note on the timeline", "as bob (observer)"))
	time.Sleep(500 * time.Millisecond) // the dialog's key guard
	bob.text("customers see errors; status page updated")
	bob.keys("Enter")
	bob.waitFor("the note added", contains("note added: customers see errors; status page updated"))

	// Alice starts Failover to DR from the runbook list and does its checks.
	alice.keys("r")
	alice.waitFor("the runbook list", contains("Runbooks (4)", "Failover to DR"))
	alice.keys("j", "Enter")
	alice.waitFor("the run", contains("Runbook · Failover to DR", "The DR replica is replicating and available"))
	alice.keys("Enter")
	alice.waitFor("the first check", contains("The DR replica is replicating and available: ✓"))
	alice.keys("Enter")
	alice.waitFor("the lag check", contains("Replica lag is within the RPO (1h): ✓"))
	skipByteLag(alice)

	promote := func() {
		t.Helper()
		alice.keys("Enter")
		alice.waitFor("the promotion's confirm dialog", contains("Promote read replica", "two-person rule", "type nudgecampaign-dr-db to confirm"))
		time.Sleep(500 * time.Millisecond)
		alice.text("nudgecampaign-dr-db")
		alice.keys("Enter")
	}
	// The promotion becomes a co-sign request every other session sees.
	promote()
	alice.waitFor("the request in alice's header too", contains("CO-SIGN? alice: Promote read replica"))
	for _, s := range []*tmuxSession{carol, bob} {
		s.waitFor("the request in the header and status bar", contains("CO-SIGN? alice: Promote read replica", "alice asks a second operator to co-sign Promote read replica"))
	}
	// Nobody co-signs: it expires, and nothing is executed.
	alice.waitFor("the request expired", contains("co-sign request expired, nothing done"))
	recs, err := ops.ReadJournal(fx.journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action == ops.PromoteReplica && (r.Phase == "intent" || r.Phase == "outcome") {
			t.Fatalf("an expired request executed: %+v", r)
		}
	}
	if !hasPhase(recs, "cosign_expired") {
		t.Fatalf("the expiry is not journaled: %+v", recs)
	}

	// Again (the cursor moved on to the verify); this time bob cannot,
	// alice cannot, carol does.
	alice.keys("k") // (▶ marks the next step; the cursor is the highlight)
	promote()
	bob.waitFor("the new request", contains("CO-SIGN? alice: Promote read replica"))
	bob.keys("!")
	bob.waitFor("the observer's view of the request", contains("alice asks: Promote read replica", "an observer cannot co-sign"))
	bob.keys("Escape")
	alice.keys("!")
	alice.waitFor("alice's own request", contains("nobody co-signs their own", "type withdraw to withdraw"))
	alice.keys("Escape")
	carol.waitFor("the new request", contains("CO-SIGN? alice: Promote read replica"))
	carol.keys("!")
	carol.waitFor("the co-sign dialog with the live state", contains("alice asks: Promote read replica", "now:", "us-west-2/nudgecampaign-dr-db", "type nudgecampaign-dr-db to co-sign"))
	time.Sleep(500 * time.Millisecond)
	carol.text("nudgecampaign-dr-db")
	carol.keys("Enter")
	alice.waitFor("the promotion done", contains("step 4: Promote read replica", "done"))

	recs, err = ops.ReadJournal(fx.journal)
	if err != nil {
		t.Fatal(err)
	}
	var intent *ops.Record
	for i := range recs {
		if recs[i].Phase == "intent" && recs[i].Action == ops.PromoteReplica {
			intent = &recs[i]
		}
	}
	if intent == nil || len(intent.Signers) != 2 || intent.Signers[0].Name != "alice" || intent.Signers[1].Name != "carol" ||
		!strings.HasPrefix(intent.Signers[1].Fingerprint, "SHA256:") || !strings.HasPrefix(intent.Signers[1].Addr, "127.0.0.1:") {
		t.Fatalf("the promotion's intent does not name both signers: %+v", intent)
	}

	// The rest of the run: moto never shows the promoted role (see
	// TestFailoverRunbookAgainstMoto), so that verify is skipped with the
	// reason; the notify step ends it with the manual's SNS publish.
	skip := func(step string) {
		t.Helper()
		alice.keys("s")
		alice.waitFor("the skip form of "+step, contains("Skip step"))
		time.Sleep(500 * time.Millisecond)
		alice.text("moto does not model it")
		alice.keys("Enter")
	}
	skip("the promotion's verify")
	alice.keys("Enter") // note: the secret
	alice.keys("Enter")
	alice.waitFor("the DR scale-up's confirm dialog", contains("type api to confirm"))
	time.Sleep(500 * time.Millisecond)
	alice.text("api")
	alice.keys("Enter")
	alice.waitFor("the scale-up done", contains("Set desired count", "done"))
	alice.waitFor("the scale-up verified", contains("✓  8. verify 4 DR api tasks are running"))
	alice.keys("Enter", "Enter") // notes: DNS, the probe
	alice.keys("Enter")
	alice.waitFor("the notification's confirm dialog", contains("Notify critical-alerts", "type critical-alerts to confirm"))
	time.Sleep(500 * time.Millisecond)
	alice.text("critical-alerts")
	alice.keys("Enter")
	alice.waitFor("the notification sent", contains("Notify critical-alerts: done"))
	subject, msg := nextSQS()
	for subject == "" || !strings.Contains(msg, "Failover to DR completed successfully") {
		subject, msg = nextSQS() // runbook start (events: [runbook]) came first
	}
	if !strings.Contains(subject, "alice: Failover to DR completed successfully") || !strings.Contains(subject, "[production]") {
		t.Fatalf("SNS subject %q message %q", subject, msg)
	}

	// The timeline: who did each, in order.
	out, err := exec.Command(fx.bin, "timeline", "--config", fx.config, "--format", "json").Output()
	if err != nil {
		t.Fatalf("flightdeck timeline: %v", err)
	}
	var tl struct {
		Entries []struct{ Kind, What, Who string } `json:"entries"`
	}
	if err := json.Unmarshal(out, &tl); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range tl.Entries {
		who, _, _ := strings.Cut(e.Who, " (")
		switch {
		case e.Kind == "commander", e.Kind == "note", e.Kind == "cosign_request", e.Kind == "cosign_signed",
			e.Kind == string(ops.PromoteReplica) && strings.Contains(e.What, "done"):
			order = append(order, e.Kind+":"+who)
		}
	}
	want := "commander:alice note:bob cosign_request:alice cosign_request:alice cosign_signed:carol promote_read_replica:alice"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("timeline order:\n got %s\nwant %s\n%s", got, want, out)
	}
}

func hasPhase(recs []ops.Record, phase string) bool {
	for _, r := range recs {
		if r.Phase == phase {
			return true
		}
	}
	return false
}

// TestLocalTwoPersonRefusedUnlessBreakGlass: the same promotion in a local
// session (no serve, nobody to co-sign) is refused with the reason; started
// with --break-glass, flightdeck asks for a reason, the header says
// BREAK-GLASS, the promotion runs on one confirmation and the journal has
// the reason, on its own record and on the promotion's intent.
func TestLocalTwoPersonRefusedUnlessBreakGlass(t *testing.T) {
	m := testsrv.StartMoto(t)
	testsrv.BuildAWSEstate(t, m.URL)
	testsrv.IsolateAWS(t, "testing", "testing")
	bin := buildBinary(t)
	dir := t.TempDir()
	local := func(name string) (cfg, journal string) {
		journal = filepath.Join(dir, name+".jsonl")
		cfg = filepath.Join(dir, name+".yaml")
		src := "audit: {path: " + journal + "}\n" + strings.Replace(cosignSources(m.URL, "arn:aws:sns:us-east-1:123456789012:critical-alerts"), "    expiry: 10s\n", "", 1)
		if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return cfg, journal
	}
	env := []string{"XDG_STATE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir}
	startRun := func(s *tmuxSession) {
		t.Helper()
		s.waitFor("the cockpit", contains("PRODUCTION", "nudgecampaign-dr-db"))
		s.keys("r")
		s.waitFor("the runbook list", contains("Runbooks (4)", "Failover to DR"))
		s.keys("j", "Enter")
		s.waitFor("the run", contains("Runbook · Failover to DR"))
		s.keys("Enter")
		s.waitFor("the first check", contains("The DR replica is replicating and available: ✓"))
		s.keys("Enter")
		s.waitFor("the lag check", contains("Replica lag is within the RPO (1h): ✓"))
		skipByteLag(s)
		s.keys("Enter")
	}

	cfg, journal := local("alone")
	s := startTmux(t, env, bin, "--config", cfg)
	startRun(s)
	s.waitFor("the refusal with its reason", contains("needs a second operator to co-sign, and this session is on its own", "--break-glass"))
	if strings.Contains(s.screen(), "to confirm") {
		t.Fatal("a confirm dialog opened for an action nobody can co-sign")
	}
	recs, _ := ops.ReadJournal(journal)
	for _, r := range recs {
		if r.Action == ops.PromoteReplica && r.Phase == "intent" {
			t.Fatalf("a lone promotion was attempted: %+v", r)
		}
	}

	cfg, journal = local("glass")
	g := startTmux(t, env, bin, "--config", cfg, "--break-glass")
	g.waitFor("the reason prompt", contains("BREAK-GLASS", "Reason (one line):"))
	g.text("serve on the bastion is down, primary lost")
	g.keys("Enter")
	g.waitFor("BREAK-GLASS in the header", contains("BREAK-GLASS", "PRODUCTION"))
	startRun(g)
	g.waitFor("the confirm dialog", contains("BREAK-GLASS, runs on your confirmation alone", "type nudgecampaign-dr-db to confirm"))
	time.Sleep(500 * time.Millisecond)
	g.text("nudgecampaign-dr-db")
	g.keys("Enter")
	g.waitFor("the promotion done", contains("step 4: Promote read replica", "done"))
	recs, err := ops.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	const reason = "serve on the bastion is down, primary lost"
	if recs[0].Phase != "break_glass" || recs[0].BreakGlass != reason {
		t.Fatalf("first record = %+v", recs[0])
	}
	found := false
	for _, r := range recs {
		if r.Phase == "intent" && r.Action == ops.PromoteReplica {
			found = r.BreakGlass == reason && len(r.Signers) == 0
		}
	}
	if !found {
		t.Fatalf("no break-glass intent of the promotion: %+v", recs)
	}
}

// skipByteLag skips the Failover runbook's byte-lag check, which waits for
// Postgres data these moto-only cockpits do not have (CloudWatch's lag
// was checked the step before), with the reason journaled.
func skipByteLag(s *tmuxSession) {
	s.t.Helper()
	s.keys("s")
	s.waitFor("the skip form", contains("Skip step 3"))
	time.Sleep(500 * time.Millisecond)
	s.text("no Postgres here: CloudWatch lag checked")
	s.keys("Enter")
	s.waitFor("the skip", contains("reason: no Postgres here: CloudWatch lag checked"))
}
