package together

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"flightdeck/ops"
)

func TestIncidentCommanderAndNotesJournaledAndPublished(t *testing.T) {
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	j, err := ops.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	inc := NewIncident(j.Append)
	f := inc.Subscribe()
	defer f.Close()
	if s, _ := f.Next(ctx); s.Commander != "" {
		t.Fatalf("first state = %+v", s)
	}
	alice := ops.Signer{Name: "alice", Fingerprint: "SHA256:a", Addr: "10.0.0.5:1"}
	bob := ops.Signer{Name: "bob", Fingerprint: "SHA256:b"}
	if err := inc.TakeCommand(bob, "bob (SHA256:b)", Observer); !errors.Is(err, ErrNotOperator) {
		t.Fatalf("observer took command: %v", err)
	}
	if err := inc.TakeCommand(alice, "alice (SHA256:a)", Operator); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Next(ctx); s.Commander != "alice" || s.Since.IsZero() {
		t.Fatalf("after take = %+v", s)
	}
	carol := ops.Signer{Name: "carol"}
	if err := inc.HandOver(carol, "carol", "carol", Operator); !errors.Is(err, ErrNotCommander) {
		t.Fatalf("non-commander handed over: %v", err)
	}
	if err := inc.HandOver(alice, "alice (SHA256:a)", "bob", Observer); !errors.Is(err, ErrNotOperator) {
		t.Fatalf("handed to an observer: %v", err)
	}
	if err := inc.HandOver(alice, "alice (SHA256:a)", "carol", Operator); err != nil {
		t.Fatal(err)
	}
	// Observers write notes; text is sanitized and bounded.
	n, err := inc.AddNote(bob, "bob (SHA256:b)", "customer emails \x1b[31mpaused\x1b[0m\nsince 03:10 "+strings.Repeat("x", 400), true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(n.Text, "\x1b\n") || len(n.Text) > MaxNote || !strings.HasPrefix(n.Text, "customer emails paused since 03:10") {
		t.Fatalf("note = %q", n.Text)
	}
	if _, err := inc.AddNote(bob, "bob", " \x07 ", false); !errors.Is(err, ErrEmptyNote) {
		t.Fatalf("empty note: %v", err)
	}
	s, _ := f.Next(ctx)
	if s.Commander != "carol" || len(s.Notes) != 1 || s.Notes[0].Who != "bob" {
		t.Fatalf("state = %+v", s)
	}
	recs, err := ops.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Phase+"/"+r.Session.Who.Name+"/"+r.Details[0])
	}
	want := "commander/alice/alice takes command|commander/alice/alice hands command to carol|note_announced/bob/" + n.Text
	if strings.Join(got, "|") != want {
		t.Fatalf("journal:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if recs[0].Session.Who.Fingerprint != "SHA256:a" || recs[0].Operator != "alice (SHA256:a)" {
		t.Fatalf("identity = %+v", recs[0])
	}
}

func TestIncidentNotesBounded(t *testing.T) {
	inc := NewIncident(nil)
	for range KeepNotes + 5 {
		if _, err := inc.AddNote(ops.Signer{Name: "bob"}, "bob", "n", false); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(inc.State().Notes); n != KeepNotes {
		t.Fatalf("kept %d notes", n)
	}
}

func TestCoSignBoardPrimesAndFollows(t *testing.T) {
	ctx := ctxT(t)
	cur := []ops.CoSignRequest{{ID: "cs1", State: ops.CoSignPending}}
	b := NewCoSigns(func() []ops.CoSignRequest { return cur })
	s := b.Subscribe()
	defer s.Close()
	if l, err := s.Next(ctx); err != nil || len(l) != 1 || l[0].ID != "cs1" {
		t.Fatalf("primed = %+v, %v", l, err)
	}
	nextTimesOut(t, s.Next)
	b.Publish([]ops.CoSignRequest{{ID: "cs1", State: ops.CoSignDone}})
	b.Publish([]ops.CoSignRequest{{ID: "cs1", State: ops.CoSignDone}, {ID: "cs2"}})
	if l, _ := s.Next(ctx); len(l) != 2 {
		t.Fatalf("coalesced = %+v", l)
	}
}
