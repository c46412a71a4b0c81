package together

import (
	"slices"
	"strings"
	"testing"
)

// TestWatcherNamesAndPeek: a leader sees who watches it by name, until
// they stop; Peek reads a leader's view without watching; Screen and
// Runs keep their bounds.
func TestWatcherNamesAndPeek(t *testing.T) {
	f := NewViews()
	if _, ok := f.Peek("op1"); ok {
		t.Fatal("Peek found a session that never published")
	}
	long := make([]string, MaxScreenLines+10)
	for i := range long {
		long[i] = strings.Repeat("x", MaxDialogLine+10)
	}
	f.Publish("op1", View{Runbook: "Runbook High Error Rate", Screen: long, Runs: long})
	bob, err := f.SubscribeAs("op1", "bob")
	if err != nil {
		t.Fatal(err)
	}
	carol, _ := f.SubscribeAs("op1", "carol")
	anon, _ := f.Subscribe("op1")
	defer anon.Close()
	if got := f.WatcherNames("op1"); !slices.Equal(got, []string{"bob", "carol"}) {
		t.Fatalf("followers %v", got)
	}
	carol.Close()
	if got := f.WatcherNames("op1"); !slices.Equal(got, []string{"bob"}) || f.Watchers("op1") != 2 {
		t.Fatalf("after carol stopped: %v (%d)", got, f.Watchers("op1"))
	}
	bob.Close()
	v, ok := f.Peek("op1")
	if !ok || v.Runbook != "Runbook High Error Rate" || len(v.Screen) != MaxScreenLines || len(v.Runs) != MaxRuns || len(v.Screen[0]) > MaxDialogLine {
		t.Fatalf("peek: ok=%v %q %d screen lines, %d runs, %d bytes", ok, v.Runbook, len(v.Screen), len(v.Runs), len(v.Screen[0]))
	}
	v.Screen[0] = "changed"
	if w, _ := f.Peek("op1"); w.Screen[0] == "changed" {
		t.Fatal("Peek handed out the stored view")
	}
}
