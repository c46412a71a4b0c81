package ops

import (
	"context"
	"testing"

	"flightdeck/sources"
)

// TestAsJournalsEachSessionUnderItsOwnIdentity: two SSH sessions' Executors
// share the journal and numbering, so each record names the session that
// acted and no two plans share an ID.
func TestAsJournalsEachSessionUnderItsOwnIdentity(t *testing.T) {
	r := newRig(t, nil)
	alice := r.ex.As("alice (SHA256:aaa) from 10.0.0.5:53122, session 7f3a09c1")
	bob := r.ex.As("bob (SHA256:bbb) from 10.0.0.6:40000, session 0b1c2d3e")
	if alice.Operator() == bob.Operator() || r.ex.Operator() != "oncall@bastion" {
		t.Fatalf("operators %q %q %q", alice.Operator(), bob.Operator(), r.ex.Operator())
	}
	ctx := context.Background()
	pa, err := alice.Plan(ctx, Request{Action: Terminate, Source: "pg main", Backends: []sources.Backend{r.pg.backends[4711]}})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := bob.Plan(ctx, Request{Action: Terminate, Source: "pg main", Backends: []sources.Backend{r.pg.backends[4712]}})
	if err != nil {
		t.Fatal(err)
	}
	if pa.ID == pb.ID {
		t.Fatalf("two sessions' plans share ID %s", pa.ID)
	}
	if res := alice.Execute(ctx, pa, "4711"); !res.OK {
		t.Fatalf("alice: %+v", res)
	}
	if res := bob.Execute(ctx, pb, "4712"); !res.OK {
		t.Fatalf("bob: %+v", res)
	}
	recs := r.records(t)
	if len(recs) != 4 {
		t.Fatalf("journal = %+v", recs)
	}
	for i, want := range []string{alice.Operator(), alice.Operator(), bob.Operator(), bob.Operator()} {
		if recs[i].Operator != want {
			t.Errorf("record %d operator %q, want %q", i, recs[i].Operator, want)
		}
	}
}
