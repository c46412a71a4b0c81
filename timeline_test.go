package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/config"
	"flightdeck/ops"
	"flightdeck/record"
	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/world"
)

// feed hands the recorder one batch of snapshots per Next, like a Hub
// subscription, and reports itself closed when the batches end.
type feed chan []sources.Snapshot

func (f feed) Next(ctx context.Context) ([]sources.Snapshot, error) {
	select {
	case b, ok := <-f:
		if !ok {
			return nil, sources.ErrClosed
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// playDemo runs the demo incident for its first 330 simulated seconds,
// ending a minute ago, with the flight recorder on the demo's event journal
// and alice rolling the API back through the ops Executor at 100 s, as the
// demo cockpit would write them. It returns the journals' paths.
func playDemo(t *testing.T) (audit, events string) {
	t.Helper()
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("FLIGHTDECK_CONFIG", "")
	audit, events = world.JournalPaths(config.Default(), true)
	if audit != filepath.Join(state, "flightdeck", "audit-demo.jsonl") || events != filepath.Join(state, "flightdeck", "events-demo.jsonl") {
		t.Fatalf("demo journals at %s and %s", audit, events)
	}

	start := time.Now().Add(-330*time.Second - time.Minute).Truncate(time.Second)
	clk := &testClock{t: start}
	w := demo.NewWorld(demo.Options{Now: clk.Now, Seed: 7})
	rec, err := record.Open(events, record.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	j, err := ops.OpenJournal(audit)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ex := ops.NewExecutor(ops.Config{Environment: "demo", Journal: j, Operator: "alice@bastion", Now: clk.Now,
		Caps: ops.Capabilities{"kube": w.Rollouts()}})

	f := make(feed)
	done := make(chan error)
	go func() { done <- rec.Run(context.Background(), f) }()
	ctx := context.Background()
	for s := 0; s <= 330; s++ {
		clk.mu.Lock()
		clk.t = start.Add(time.Duration(s) * time.Second)
		clk.mu.Unlock()
		var batch []sources.Snapshot
		for _, src := range w.Sources() {
			p, err := src.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, sources.Snapshot{Source: src.Name(), Kind: src.Kind(), Data: p, FetchedAt: clk.Now()})
		}
		f <- batch
		if s == 100 {
			var api *sources.Deployment
			for _, d := range batch[3].Data.(*sources.RolloutSet).Deployments {
				if d.Name == "nudgecampaign-api" {
					api = &d
				}
			}
			plan, err := ex.Plan(ctx, ops.Request{Action: ops.Undo, Source: "kube", Deployment: api})
			if err != nil {
				t.Fatal(err)
			}
			if res := ex.Execute(ctx, plan, plan.Phrase); !res.OK {
				t.Fatalf("undo: %s", res.Summary)
			}
		}
	}
	close(f)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.Close()
	return audit, events
}

// After the demo, `flightdeck timeline --demo --since 1h` tells the
// incident in order: the rollout, the alert, the burn (with the rollout
// named), alice's rollback and what it did, and the demo starting over by
// itself, attributed to demo (issue 17 item 5).
func TestTimelineOfTheDemoIncident(t *testing.T) {
	audit, events := playDemo(t)
	out, errs, code := runCLI(t, "timeline", "--demo", "--since", "1h")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	story := []string{
		"flight recorder started",
		"production/nudgecampaign-api revision 42 (was 41)",
		"HighErrorRate firing (critical)",
		"after nudgecampaign-api revision 42",
		"SLO availability ok → ticket",
		"undo production/nudgecampaign-api to revision 41 on kube: done | alice@bastion |",
		"production/nudgecampaign-api revision 43 (was 42)",
		"s after undo by alice@bastion_", // the revision says whose undo made it
		"HighErrorRate resolved",
		// A calm minute after, the demo starts over by itself, and says so:
		// what the restart undid is the demo's doing, not alice's.
		"demo incident restarted (loop 2): earlier actions undone, silences kept | demo |",
		"production/nudgecampaign-api revision 41 (back from 43): nudgecampaign/api:v5.0.0", " | demo |",
		"flight recorder stopped",
		"From events `" + events + "` and audit `" + audit + "`.",
	}
	rest := out
	for _, s := range story {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", s, out)
		}
		rest = rest[i+len(s):]
	}
	if !strings.HasPrefix(out, "## Incident timeline\n") || !strings.Contains(out, "| Time (UTC) | T+ | Source | What | Who |") {
		t.Errorf("not a Markdown timeline:\n%s", out)
	}

	// JSON has the same entries.
	js, _, code := runCLI(t, "timeline", "--demo", "--format", "json")
	var tl struct {
		Entries []struct {
			What, Who string
		} `json:"entries"`
	}
	if code != 0 || json.Unmarshal([]byte(js), &tl) != nil || len(tl.Entries) != strings.Count(out, "\n| ")-2 {
		t.Fatalf("json (exit %d): %d entries vs %d rows", code, len(tl.Entries), strings.Count(out, "\n| ")-2)
	}

	// A window after everything is empty, and says so.
	out, _, code = runCLI(t, "timeline", "--demo", "--since", "30s")
	if code != 0 || !strings.Contains(out, "No entries since ") {
		t.Errorf("empty window (exit %d):\n%s", code, out)
	}

	// A damaged line is reported on stderr and under the table, never skipped silently.
	fh, err := os.OpenFile(events, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(`{"time":"2026-03-14T03:10:00Z","kind":"alert_fir` + "\n")
	fh.Close()
	out, errs, code = runCLI(t, "timeline", "--demo")
	if code != 0 || !strings.Contains(errs, "warning: damaged journal line not shown: "+events+" line ") ||
		!strings.Contains(out, "1 damaged journal line(s) not shown") {
		t.Errorf("damage (exit %d): stderr %q", code, errs)
	}
}

func TestTimelineFlags(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("FLIGHTDECK_CONFIG", "")
	out, _, code := runCLI(t, "timeline")
	if code != 0 || !strings.Contains(out, "No entries.") || !strings.Contains(out, "flight recorder has not run") {
		t.Errorf("no journals yet (exit %d):\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"timeline", "--format", "html"}, 2, `--format "html": want md or json`},
		{[]string{"timeline", "--since", "yesterday"}, 2, `--since "yesterday": want a duration`},
		{[]string{"timeline", "--until", "soon"}, 2, `--until "soon"`},
		{[]string{"timeline", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"timeline", "--config", "/nonexistent/fd.yaml"}, 1, "/nonexistent/fd.yaml: file does not exist"},
	} {
		_, errs, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}

	// The journals follow audit.path in the config.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("audit: {path: "+filepath.Join(dir, "j", "audit.jsonl")+"}\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "j"), 0o700)
	os.WriteFile(filepath.Join(dir, "j", "events.jsonl"),
		[]byte(`{"time":"2026-03-14T03:07:00Z","kind":"recorder_started","summary":"flight recorder started"}`+"\n"), 0o600)
	out, errs, code := runCLI(t, "timeline", "--config", cfg)
	if code != 0 || !strings.Contains(out, "| 03:07:00 | +0s | recorder | flight recorder started |") ||
		!strings.Contains(out, "no audit journal at "+filepath.Join(dir, "j", "audit.jsonl")) {
		t.Errorf("exit %d %s:\n%s", code, errs, out)
	}
}
