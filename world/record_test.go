package world

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"flightdeck/config"
	"flightdeck/ops"
	"flightdeck/record"
	"flightdeck/runbook"
)

// The flight recorder runs with the world, read-only too, writing the
// demo's events beside the demo's audit journal; the session's timeline
// reads both.
func TestTimelineRecorderRunsWithTheWorld(t *testing.T) {
	t.Setenv("FLIGHTDECK_DEMO_SPEED", "20") // the deploy in under two seconds
	for _, readOnly := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		w, audit := demoWorldIn(ctx, t, readOnly, nil)
		events := filepath.Join(filepath.Dir(audit), "events-demo.jsonl")
		if w.eventsPath != events || w.auditPath != audit {
			t.Fatalf("journals %s, %s", w.auditPath, w.eventsPath)
		}
		w.Start()
		// A session given no context of its own lives as long as the world.
		opts, err := w.NewSession(SessionInfo{User: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		// The recorder writes its start at once and the demo's deploy of
		// revision 42 as it happens.
		deadline := time.Now().Add(30 * time.Second)
		var lines []string
		for time.Now().Before(deadline) {
			if lines, err = opts.Journals.Timeline(ctx); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(lines, "\n"), "revision 42") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		all := strings.Join(lines, "\n")
		if !strings.Contains(all, "flight recorder started") || !strings.Contains(all, "revision 42") {
			t.Fatalf("read-only %v: timeline\n%s", readOnly, all)
		}
		if opts.Journals.RecorderErr == nil {
			t.Fatal("no recorder health for the status bar")
		}
		if err := opts.Journals.RecorderErr(); err != nil {
			t.Fatalf("recorder error: %v", err)
		}
		cancel()
		w.Wait()
		w.Close()
		evs, _, err := record.ReadEvents(events)
		if err != nil || evs[len(evs)-1].Kind != record.RecorderStopped {
			t.Fatalf("read-only %v: events end with %+v (%v)", readOnly, evs[len(evs)-1], err)
		}
	}
}

// An event journal that cannot be opened does not stop flightdeck: the
// status bar says the recorder is off.
func TestTimelineRecorderOffSaysWhy(t *testing.T) {
	dir := t.TempDir()
	// A directory where the event journal should be: it cannot be opened.
	if err := os.MkdirAll(filepath.Join(dir, "events-demo.jsonl"), 0o700); err != nil {
		t.Fatal(err)
	}
	w, _ := demoWorld(t, true, func(c *config.Config) { c.Audit.Path = filepath.Join(dir, "audit.jsonl") })
	opts, err := w.NewSession(SessionInfo{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := opts.Journals.RecorderErr(); err == nil || !strings.Contains(err.Error(), "off: event journal") {
		t.Fatalf("recorder error %v", err)
	}
}

// A run left open in the audit journal comes back in the next session,
// after a restart; damaged journal lines are reported, the rest is used.
func TestRunbookResumedAfterRestart(t *testing.T) {
	w, audit := demoWorld(t, false, nil)
	rb := w.runbooks.Get("high-error-rate")
	if rb == nil || w.runbooks.Get("database-connection-exhaustion") == nil {
		t.Fatal("the shipped runbooks are not loaded")
	}
	now := time.Now()
	run, recs := runbook.Start(rb, nil, "alice@laptop", w.policy, now)
	note := slices.IndexFunc(rb.Steps, func(s runbook.Step) bool { return s.Kind == runbook.Note })
	_, more := run.Do(note, now)
	more = append(more, run.Ack(note, now)...)
	recs = append(recs, more...)
	if err := runbook.Write(w.journal, recs); err != nil {
		t.Fatal(err)
	}
	w.Close()

	f, err := os.OpenFile(audit, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"time\": not json\n")
	f.Close()

	w2, _ := demoWorld(t, false, func(c *config.Config) { c.Audit.Path = filepath.Join(filepath.Dir(audit), "audit.jsonl") })
	opts, err := w2.NewSession(SessionInfo{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.Actions.Runs) != 1 || opts.Actions.Runs[0].ID() != run.ID() || opts.Actions.Runs[0].Next() != 0 {
		t.Fatalf("resumed %d runs", len(opts.Actions.Runs))
	}
	if s := opts.Actions.Runs[0].Steps(now)[note]; s.State != runbook.Acknowledged {
		t.Errorf("resumed note %s", s.State)
	}
	if len(opts.Journals.Notices) != 1 || !strings.Contains(opts.Journals.Notices[0], fmt.Sprintf("1 damaged line(s), the first at line %d; runs resumed from the rest", len(recs)+1)) {
		t.Errorf("notices %q", opts.Journals.Notices)
	}
	if opts.Actions.RunJournal == nil {
		t.Error("an operator session has no run journal")
	}
	// alice started it; the session continues it under its own identity.
	if rec := opts.Actions.Runs[0].Skip(0, "seen", now); opts.Actions.Runs[0].Operator() != "alice@laptop" || rec[0].Operator != "alice" {
		t.Errorf("continued run: started by %q, step by %q", opts.Actions.Runs[0].Operator(), rec[0].Operator)
	}
	// A read-only session follows the runs but records nothing.
	ro, err := w2.NewSession(SessionInfo{User: "bob", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Actions.RunJournal != nil || len(ro.Actions.Runs) != 1 {
		t.Errorf("read-only session: journal %v, %d runs", ro.Actions.RunJournal, len(ro.Actions.Runs))
	}
}

// A broken runbook stops flightdeck at startup, as broken config does.
func TestRunbookBrokenIsAStartupError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: bad\ntitle: Bad\nsteps:\n  - kind: chek\n    title: x\n"), 0o600)
	cfg := config.Default()
	cfg.Audit.Path = filepath.Join(t.TempDir(), "audit.jsonl")
	cfg.Runbooks = []string{dir}
	_, err := Build(context.Background(), cfg, Options{Demo: true})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad.yaml")+":4") {
		t.Fatalf("Build: %v", err)
	}
	if _, err := os.Stat(cfg.Audit.Path); !os.IsNotExist(err) {
		t.Errorf("a failed start opened the journal: %v", err)
	}
}

// TestJournalRepairInStatusBar is issue 16.11 end to end: a crash left the
// audit journal's last record without its newline and the event journal
// with a torn tail; opening the world keeps the record, moves the torn
// bytes to a side file, and every session's status bar says so.
func TestJournalRepairInStatusBar(t *testing.T) {
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit-demo.jsonl")
	last := `{"time":"2026-01-02T03:04:05Z","phase":"intent","plan_id":"p-1","operator":"alice","action":"silence"}`
	os.WriteFile(audit, []byte(last), 0o600)
	os.WriteFile(record.EventsPath(audit), []byte(`{"time":"2026-01-02T03:04:05Z","kin`), 0o600)
	w, _ := demoWorld(t, false, func(c *config.Config) { c.Audit.Path = filepath.Join(dir, "audit.jsonl") })
	recs, err := ops.ReadJournal(audit)
	if err != nil || len(recs) == 0 || recs[0].PlanID != "p-1" {
		t.Fatalf("the complete last record was not kept: %+v, %v", recs, err)
	}
	s, err := w.NewSession(SessionInfo{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	notices := strings.Join(s.Journals.Notices, "\n")
	side, _ := filepath.Glob(record.EventsPath(audit) + ".damaged-*")
	if len(side) != 1 || !strings.Contains(notices, "audit journal repaired") || !strings.Contains(notices, "newline was added") ||
		!strings.Contains(notices, "event journal repaired") || !strings.Contains(notices, side[0]) {
		t.Errorf("side files %v, notices %q", side, s.Journals.Notices)
	}
}
