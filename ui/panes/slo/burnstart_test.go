package slo

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/record"
	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// batches is the Hub as the recorder reads it, one batch per send.
type batches chan []sources.Snapshot

func (b batches) Next(ctx context.Context) ([]sources.Snapshot, error) {
	select {
	case s := <-b:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// A session that starts after a burn began shows the burn start the
// timeline shows: both come from the flight recorder, not from what the
// session happened to see (it used to say "burn start unknown").
func TestLateSessionShowsTheTimelinesBurnStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	rec, err := record.Open(path, record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	calm := uitest.SLOs()
	for i := range calm.SLOs {
		calm.SLOs[i].Level = sources.SLOOK
	}
	burning := uitest.Snap("prom", sources.KindSLO, uitest.SLOs(), time.Minute)
	hub := batches(make(chan []sources.Snapshot))
	rec.Start(context.Background(), hub)
	hub <- []sources.Snapshot{uitest.Snap("prom", sources.KindSLO, calm, 3*time.Minute)}
	hub <- []sources.Snapshot{burning}
	hub <- []sources.Snapshot{} // taken only once the burn is recorded

	// The timeline: the burn of api-availability starts where the SLO
	// left ok.
	tl, err := record.Build(record.TimelineOptions{EventsPath: path})
	if err != nil {
		t.Fatal(err)
	}
	var start time.Time
	for _, e := range tl.Entries {
		if e.Event != nil && e.Event.Kind == record.SLOLevelChanged && e.Event.Subject == "api-availability" && e.Event.From == "ok" {
			start = e.Time
		}
	}
	if start.IsZero() {
		t.Fatalf("no burn start in the timeline: %q", tl.Lines())
	}

	// A session joining now sees only the burning SLOs.
	env := uitest.Env()
	env.Burns = rec
	p := New(kit.Slot{Env: env, Key: "1"})
	p.SetSize(140, 30)
	p.SetSnapshot(burning)
	p.HandleKey(uitest.Key("enter"))
	out := ansi.Strip(strings.Join(p.View(true), "\n"))
	if want := "burn started " + start.UTC().Format("15:04") + ";"; !strings.Contains(out, want) {
		t.Fatalf("late session's detail lacks %q (the timeline's start):\n%s", want, out)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	// Without a recorder the pane says so rather than guess.
	p = New(kit.Slot{Env: uitest.Env(), Key: "1"})
	p.SetSize(140, 30)
	p.SetSnapshot(burning)
	p.HandleKey(uitest.Key("enter"))
	if out := ansi.Strip(strings.Join(p.View(true), "\n")); !strings.Contains(out, "burn start unknown: the flight recorder is off") {
		t.Fatalf("no recorder:\n%s", out)
	}
}
