package ops_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	. "flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
)

// crewRig is one world with two-person terminate: alice and carol operate,
// alice also from a second key, all sharing the journal and the co-sign
// registry, as serve's sessions do.
type crewRig struct {
	*rig
	cs                        *CoSigns
	alice, alice2, carol, bob *Executor
	published                 [][]CoSignRequest
	mu                        sync.Mutex
}

func newCrewRig(t *testing.T, tp TwoPerson) *crewRig {
	t.Helper()
	c := &crewRig{}
	c.rig = newRig(t, func(cfg *Config) {
		cfg.Policy.TwoPerson = tp
		cfg.Operator = "alice (SHA256:aaa, ssh from 10.0.0.5:5000)"
		cfg.Signer = Signer{Name: "alice", Fingerprint: "SHA256:aaa", Addr: "10.0.0.5:5000"}
	})
	c.cs = NewCoSigns(c.j, CoSignOptions{Now: c.clock.Now, NoTimers: true, OnChange: func(l []CoSignRequest) {
		c.mu.Lock()
		c.published = append(c.published, l)
		c.mu.Unlock()
	}})
	mk := func(name, fp, addr string, readOnly bool) *Executor {
		pol := DefaultPolicy()
		pol.TwoPerson = tp
		return NewExecutor(Config{Environment: "production", Production: true, Policy: pol, Journal: c.j,
			Operator: name + " (" + fp + ", ssh from " + addr + ")", Signer: Signer{Name: name, Fingerprint: fp, Addr: addr},
			Now: c.clock.Now, Caps: Capabilities{"pg main": c.pg, "kube": c.kube, "am": c.am}, CoSigns: c.cs, ReadOnly: readOnly})
	}
	c.alice = mk("alice", "SHA256:aaa", "10.0.0.5:5000", false)
	c.alice2 = mk("alice", "SHA256:a2", "10.0.0.9:6000", false)
	c.carol = mk("carol", "SHA256:ccc", "10.0.0.7:7000", false)
	c.bob = mk("bob", "SHA256:bbb", "10.0.0.8:8000", true)
	return c
}

func (c *crewRig) plan(t *testing.T, ex *Executor, pids ...int32) Plan {
	t.Helper()
	var bs []sources.Backend
	for _, p := range pids {
		bs = append(bs, c.live(t, p))
	}
	p, err := ex.Plan(context.Background(), Request{Action: Terminate, Source: "pg main", Backends: bs})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (c *crewRig) phases(t *testing.T) string {
	t.Helper()
	var out []string
	for _, r := range c.records(t) {
		out = append(out, r.Phase)
	}
	return strings.Join(out, " ")
}

func TestTwoPersonRequiresSelectors(t *testing.T) {
	p := Plan{Action: Terminate, Environment: "production", Targets: []Target{{ID: "a"}}, Risk: High, ActionRisk: High}
	bulk := p
	bulk.Targets = []Target{{ID: "a"}, {ID: "b"}}
	// A cancel in production: typed (Risk raised), low risk in itself.
	cancel := Plan{Action: Cancel, Environment: "production", Targets: []Target{{ID: "a"}}, Risk: High, ActionRisk: Low}
	for _, tc := range []struct {
		name string
		tp   TwoPerson
		plan Plan
		want bool
	}{
		{"unset applies to nothing", TwoPerson{}, p, false},
		{"listed action", TwoPerson{Actions: []Kind{Terminate}}, p, true},
		{"other action", TwoPerson{Actions: []Kind{PromoteReplica}}, p, false},
		{"environment matches", TwoPerson{Environments: []string{"production"}}, p, true},
		{"environment differs", TwoPerson{Actions: []Kind{Terminate}, Environments: []string{"staging"}}, p, false},
		{"bulk only, one target", TwoPerson{BulkOnly: true}, p, false},
		{"bulk only, two targets", TwoPerson{Actions: []Kind{Terminate}, BulkOnly: true}, bulk, true},
		{"high risk, a high-risk action", TwoPerson{HighRiskOnly: true}, p, true},
		{"high risk, a low-risk action in production", TwoPerson{HighRiskOnly: true}, cancel, false},
		{"high risk in production, a low-risk action", TwoPerson{HighRiskOnly: true, Environments: []string{"production"}}, cancel, false},
	} {
		if got := tc.tp.Requires(tc.plan); got != tc.want {
			t.Errorf("%s: Requires = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// risk: high in production: a terminate waits for a co-signer, a cancel
// (typed there, as everything is, but low risk in itself) runs on one
// confirmation; lowering the plan's own tier after planning is tampering.
func TestTwoPersonByRiskTier(t *testing.T) {
	c := newCrewRig(t, TwoPerson{HighRiskOnly: true, Environments: []string{"production"}})
	ctx := context.Background()
	term := c.plan(t, c.alice, 4711)
	if !term.TwoPerson || term.ActionRisk != High {
		t.Fatalf("terminate plan: two-person %v, action risk %s", term.TwoPerson, term.ActionRisk)
	}
	if r := c.alice.Execute(ctx, term, term.Phrase); !r.Pending {
		t.Fatalf("terminate ran without a co-signer: %+v", r)
	}
	cancel, err := c.alice.Plan(ctx, Request{Action: Cancel, Source: "pg main", Backends: []sources.Backend{c.live(t, 4712)}})
	if err != nil {
		t.Fatal(err)
	}
	if cancel.TwoPerson || cancel.Risk != High || cancel.ActionRisk != Low || cancel.Phrase != "4712" {
		t.Fatalf("cancel plan: two-person %v, risk %s, action risk %s, phrase %q", cancel.TwoPerson, cancel.Risk, cancel.ActionRisk, cancel.Phrase)
	}
	if r := c.alice.Execute(ctx, cancel, cancel.Phrase); !r.OK || r.Pending {
		t.Fatalf("cancel: %+v", r)
	}
	lowered := c.plan(t, c.alice, 4711)
	lowered.ActionRisk = Low
	if r := c.alice.Execute(ctx, lowered, lowered.Phrase); r.OK || r.Pending || !errors.Is(r.Err, ErrTampered) {
		t.Fatalf("a plan whose tier was lowered: %+v", r)
	}
}

func TestCoSignByAnotherUserExecutesAndJournalsBoth(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	p := c.plan(t, c.alice, 4711)
	if !p.TwoPerson || !strings.Contains(strings.Join(p.Preview, "\n"), "two-person rule") {
		t.Fatalf("plan does not say it needs a co-signer: %+v", p.Preview)
	}
	if !c.alice.AwaitsCoSigner(p) {
		t.Fatal("AwaitsCoSigner = false for a covered plan with a registry")
	}
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	if !res.Pending || res.OK || res.CoSign == "" || c.writes() != 0 {
		t.Fatalf("requester's Execute = %+v (writes %d); want a pending request and nothing done", res, c.writes())
	}
	if l := c.cs.List(); len(l) != 1 || l[0].State != CoSignPending || l[0].Requester.Name != "alice" {
		t.Fatalf("registry = %+v", l)
	}
	c.clock.Advance(45 * time.Second) // past max plan age: the request's expiry bounds the wait
	got := c.carol.CoSign(context.Background(), res.CoSign, p.Phrase)
	if !got.OK || c.writes() != 1 {
		t.Fatalf("carol's CoSign = %+v, writes %d", got, c.writes())
	}
	if ph := c.phases(t); ph != "cosign_request cosign_signed intent outcome" {
		t.Fatalf("journal phases = %q", ph)
	}
	if signed := c.records(t)[1]; !strings.HasPrefix(signed.Operator, "carol (SHA256:ccc") || !strings.Contains(signed.Details[0], "carol co-signs") {
		t.Fatalf("co-signature record = %+v", signed)
	}
	intent := c.records(t)[2]
	if len(intent.Signers) != 2 || intent.Signers[0] != (Signer{Name: "alice", Fingerprint: "SHA256:aaa", Addr: "10.0.0.5:5000"}) ||
		intent.Signers[1] != (Signer{Name: "carol", Fingerprint: "SHA256:ccc", Addr: "10.0.0.7:7000"}) {
		t.Fatalf("intent signers = %+v", intent.Signers)
	}
	if intent.CoSign == nil || intent.CoSign.ID != res.CoSign || !strings.HasPrefix(intent.Operator, "alice") {
		t.Fatalf("intent = %+v", intent)
	}
	if l := c.cs.List(); l[0].State != CoSignDone || l[0].CoSigner.Name != "carol" {
		t.Fatalf("registry after = %+v", l)
	}
	// The requester's flow learns the outcome.
	if fin := c.alice.AwaitCoSign(context.Background(), res); !fin.OK {
		t.Fatalf("AwaitCoSign = %+v", fin)
	}
	// Every change was published: opened, executing, done.
	c.mu.Lock()
	n := len(c.published)
	c.mu.Unlock()
	if n != 3 {
		t.Fatalf("published %d times", n)
	}
	// It cannot be co-signed twice.
	if again := c.carol.CoSign(context.Background(), res.CoSign, p.Phrase); !again.Refused || c.writes() != 1 {
		t.Fatalf("second CoSign = %+v", again)
	}
}

func TestNobodyCoSignsTheirOwnNotEvenWithAnotherKey(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	for _, ex := range []*Executor{c.alice, c.alice2} {
		got := ex.CoSign(context.Background(), res.CoSign, p.Phrase)
		if !got.Refused || !errors.Is(got.Err, ErrCoSign) || !strings.Contains(got.Err.Error(), "their own") {
			t.Fatalf("self co-sign = %+v", got)
		}
	}
	if c.writes() != 0 {
		t.Fatal("a self co-signature acted")
	}
	if l := c.cs.List(); l[0].State != CoSignPending {
		t.Fatalf("request no longer pending after refusals: %+v", l[0])
	}
	recs := c.records(t)
	last := recs[len(recs)-1]
	if last.Phase != "refused" || last.CoSign == nil || last.CoSign.ID != res.CoSign || last.Signers[0].Fingerprint != "SHA256:a2" {
		t.Fatalf("refusal record = %+v", last)
	}
}

func TestObserverCannotCoSign(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	got := c.bob.CoSign(context.Background(), res.CoSign, p.Phrase)
	if !got.Refused || !errors.Is(got.Err, ErrReadOnly) || c.writes() != 0 {
		t.Fatalf("observer co-sign = %+v", got)
	}
}

func TestCoSignWrongPhraseRefused(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	got := c.carol.CoSign(context.Background(), res.CoSign, "4712")
	if !errors.Is(got.Err, ErrConfirmation) || c.writes() != 0 {
		t.Fatalf("wrong phrase = %+v", got)
	}
	if got := c.carol.CoSign(context.Background(), res.CoSign, p.Phrase); !got.OK {
		t.Fatalf("then the right phrase = %+v", got)
	}
}

func TestCoSignRequestExpiresAndExecutesNothing(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	if !strings.Contains(res.Summary, "expires in 2m0s") {
		t.Fatalf("summary = %q (default expiry 2m)", res.Summary)
	}
	c.clock.Advance(DefaultCoSignExpiry)
	c.cs.Sweep()
	if l := c.cs.List(); l[0].State != CoSignExpired {
		t.Fatalf("after expiry: %+v", l[0])
	}
	got := c.carol.CoSign(context.Background(), res.CoSign, p.Phrase)
	if !got.Refused || c.writes() != 0 {
		t.Fatalf("co-sign after expiry = %+v", got)
	}
	if ph := c.phases(t); ph != "cosign_request cosign_expired refused" {
		t.Fatalf("journal = %q", ph)
	}
	if fin := c.alice.AwaitCoSign(context.Background(), res); !fin.Refused || !strings.Contains(fin.Summary, "expired") {
		t.Fatalf("requester learns = %+v", fin)
	}
}

func TestCoSignExpiredWithoutSweepIsRefused(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}, Expiry: 30 * time.Second})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	c.clock.Advance(31 * time.Second)
	got := c.carol.CoSign(context.Background(), res.CoSign, p.Phrase)
	if !got.Refused || !strings.Contains(got.Err.Error(), "expired") || c.writes() != 0 {
		t.Fatalf("late co-sign = %+v", got)
	}
	if ph := c.phases(t); ph != "cosign_request cosign_expired refused" {
		t.Fatalf("journal = %q", ph)
	}
}

func TestCoSignExpiresOnItsOwnTimer(t *testing.T) {
	r := newRig(t, nil)
	cs := NewCoSigns(r.j, CoSignOptions{})
	pol := DefaultPolicy()
	pol.TwoPerson = TwoPerson{Actions: []Kind{Terminate}, Expiry: 50 * time.Millisecond}
	ex := NewExecutor(Config{Policy: pol, Journal: r.j, Operator: "alice", Caps: Capabilities{"pg main": r.pg}, CoSigns: cs})
	p, err := ex.Plan(context.Background(), Request{Action: Terminate, Source: "pg main", Backends: []sources.Backend{r.live(t, 4711)}})
	if err != nil {
		t.Fatal(err)
	}
	res := ex.Execute(context.Background(), p, p.Phrase)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fin := ex.AwaitCoSign(ctx, res)
	if !fin.Refused || !errors.Is(fin.Err, ErrCoSign) {
		t.Fatalf("await = %+v", fin)
	}
	recs := opstest.Records(t, r.journal)
	if recs[len(recs)-1].Phase != "cosign_expired" {
		t.Fatalf("last record = %+v", recs[len(recs)-1])
	}
}

func TestRequesterWithdraws(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	if err := c.carol.Withdraw(res.CoSign); err == nil {
		t.Fatal("carol withdrew alice's request")
	}
	if err := c.alice2.Withdraw(res.CoSign); err != nil { // alice, from her other key
		t.Fatal(err)
	}
	if got := c.carol.CoSign(context.Background(), res.CoSign, p.Phrase); !got.Refused || c.writes() != 0 {
		t.Fatalf("co-sign after withdrawal = %+v", got)
	}
	if ph := c.phases(t); ph != "cosign_request cosign_withdrawn refused" {
		t.Fatalf("journal = %q", ph)
	}
}

func TestCoSignRechecksTargetsAtExecution(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	// pid 4711 is reused by another backend while the request waits.
	b := c.live(t, 4711)
	b.BackendStart = b.BackendStart.Add(time.Second)
	c.pg.Put(b)
	got := c.carol.CoSign(context.Background(), res.CoSign, p.Phrase)
	if !errors.Is(got.Err, ErrTargetChanged) || c.writes() != 0 {
		t.Fatalf("co-sign of a changed target = %+v", got)
	}
	if l := c.cs.List(); l[0].State != CoSignFailed {
		t.Fatalf("request = %+v", l[0])
	}
}

func TestTwoPersonRefusedOnItsOwnUnlessBreakGlass(t *testing.T) {
	tp := TwoPerson{Actions: []Kind{Terminate}}
	local := newRig(t, func(cfg *Config) { cfg.Policy.TwoPerson = tp })
	_, err := local.ex.Plan(context.Background(), Request{Action: Terminate, Source: "pg main", Backends: []sources.Backend{local.live(t, 4711)}})
	if !errors.Is(err, ErrCoSign) || !strings.Contains(err.Error(), "--break-glass") {
		t.Fatalf("local two-person plan: %v", err)
	}
	// A plan made elsewhere (a session with a co-signer) is refused by the
	// lonely Executor too: the rule is its own, not the plan's.
	glass := newRig(t, func(cfg *Config) { cfg.Policy.TwoPerson = tp; cfg.BreakGlass = "bastion's serve is down" })
	p := glass.terminatePlan(t, 4711)
	lonelyPol := DefaultPolicy()
	lonelyPol.TwoPerson = tp
	lonely := NewExecutor(Config{Policy: lonelyPol, Journal: local.j, Now: glass.clock.Now, Caps: Capabilities{"pg main": glass.pg}})
	if res := lonely.Execute(context.Background(), p, p.Phrase); !res.Refused || !errors.Is(res.Err, ErrCoSign) || glass.writes() != 0 {
		t.Fatalf("local two-person execute = %+v", res)
	}
	if !strings.Contains(strings.Join(p.Preview, "\n"), "BREAK-GLASS") {
		t.Fatalf("preview = %q", p.Preview)
	}
	if glass.ex.AwaitsCoSigner(p) {
		t.Fatal("break-glass awaits a co-signer")
	}
	if res := glass.ex.Execute(context.Background(), p, p.Phrase); !res.OK {
		t.Fatalf("break-glass = %+v", res)
	}
	recs := glass.records(t)
	if recs[0].Phase != "intent" || recs[0].BreakGlass != "bastion's serve is down" {
		t.Fatalf("intent = %+v", recs[0])
	}
}

func TestTwoPersonUncoveredActionRunsAlone(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{PromoteReplica}})
	p := c.plan(t, c.alice, 4711)
	if p.TwoPerson {
		t.Fatal("terminate flagged two-person")
	}
	if res := c.alice.Execute(context.Background(), p, p.Phrase); !res.OK {
		t.Fatalf("uncovered action = %+v", res)
	}
}

func TestJournalWatchSeesEveryAppendAfterItIsWritten(t *testing.T) {
	c := newCrewRig(t, TwoPerson{Actions: []Kind{Terminate}})
	var seen []string
	c.j.Watch(func(r Record) {
		seen = append(seen, r.Phase)
		if n := len(c.records(t)); n != len(seen) {
			t.Errorf("watcher saw record %d before it was on disk (%d there)", len(seen), n)
		}
	})
	p := c.plan(t, c.alice, 4711)
	res := c.alice.Execute(context.Background(), p, p.Phrase)
	c.carol.CoSign(context.Background(), res.CoSign, p.Phrase)
	if got := strings.Join(seen, " "); got != "cosign_request cosign_signed intent outcome" {
		t.Fatalf("watched %q", got)
	}
}
