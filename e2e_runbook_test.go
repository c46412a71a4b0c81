package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"flightdeck/ops"
)

// confirmPhrase is what a confirm dialog asks to type.
var confirmPhrase = regexp.MustCompile(`type (.+?) to confirm, enter submits`)

// confirm answers the confirm dialog on screen with its phrase, after the
// key guard, and returns the phrase.
func (s *tmuxSession) confirm() string {
	s.t.Helper()
	scr := s.waitFor("a confirm dialog", func(scr string) bool { return confirmPhrase.MatchString(scr) })
	phrase := confirmPhrase.FindStringSubmatch(scr)[1]
	time.Sleep(500 * time.Millisecond) // the dialog ignores keys for its first 400 ms, by design
	s.text(phrase)
	s.keys("Enter")
	return phrase
}

// TestDemoRunbooks is issue 9's "done means" in the demo: both shipped
// runbooks walked to the end through the real binary. 2, r on
// HighErrorRate, check the deploy, roll back (typed), the verify passes as
// the burn falls, skip the scale-up with a reason; r on
// DatabaseConnectionPoolExhausted, terminate the root blocker (typed), the
// verify passes, restart (typed), the rollout completes. Then t shows the
// timeline, the audit journal holds both runs and their actions, and
// `flightdeck timeline --demo --since 1h` prints the incident in order with
// who did what.
func TestDemoRunbooks(t *testing.T) {
	if testing.Short() {
		t.Skip("walks the demo incident for a few minutes")
	}
	bin := buildBinary(t)
	state := t.TempDir()
	env := []string{"XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "FLIGHTDECK_DEMO_SPEED=4"}
	s := startTmux(t, env, bin, "--demo")

	// High Error Rate, as soon as the alert fires.
	s.waitFor("HighErrorRate firing", contains("HighErrorRate ×1  critical  (1 firing)"))
	s.keys("2", "r")
	s.waitFor("the runbook", contains("Runbook · High Error Rate", "opened by alert HighErrorRate (critical)"))
	s.waitFor("the burn check live", contains("The availability error budget is burning", "now ✓ true"))
	s.keys("Enter")
	s.waitFor("the check", contains("The availability error budget is burning: ✓"))
	s.keys("Enter") // the logs step: the API's pods' logs in the cockpit, narrowed to the errors
	s.waitFor("the bad deploy's errors in the log view", contains("Logs · production/nudgecampaign-api", "filter / 5\\d\\d |error|OOM|heap/", "error: "))
	s.keys("Escape")
	// esc then r at once would read as alt+r; r on the alert again opens
	// its open run.
	time.Sleep(300 * time.Millisecond)
	s.keys("r")
	s.waitFor("back in the run", contains("Runbook · High Error Rate", "2/12 steps done"))
	s.keys("Enter") // whether the pods crash-loop yet depends on the moment: either verdict is recorded
	s.waitFor("the crash-loop check", contains("3/12 steps done"))
	s.keys("Enter") // the view step: the Rollouts pane, filtered
	s.waitFor("the rollouts pane", func(scr string) bool {
		return strings.Contains(scr, `filter "nudgecampaign-api"`) && !strings.Contains(scr, "Runbook ·")
	})
	s.keys("r")
	s.waitFor("the open run listed", contains("Open runs (1)", "High Error Rate · for HighErrorRate"))
	s.keys("Enter")
	s.waitFor("back in the run", contains("Runbook · High Error Rate", "4/12 steps done"))
	s.keys("Enter")
	s.waitFor("the deploy check", contains("A deploy went out in the last 30 minutes: ✓"))
	s.keys("Enter")
	if p := s.confirm(); p != "nudgecampaign-api" {
		t.Fatalf("rollback phrase %q", p)
	}
	s.waitFor("the rollback", contains("step 6: Roll back production/nudgecampaign-api to revision 41: done"))
	s.waitFor("the error rate falls", contains("✓  7. verify The error rate falls"))
	s.keys("s")
	s.waitFor("the skip form", contains("Skip step 8: Scale up to 6 replicas if load-related"))
	time.Sleep(500 * time.Millisecond)
	s.text("not load-related")
	s.keys("Enter")
	s.waitFor("the skip", contains("reason: not load-related", "reason: nothing to verify: step 8 was skipped"))
	s.keys("Enter")
	s.waitFor("a note", contains("step 10 acknowledged"))
	s.keys("Enter") // Post in #incidents: the demo's sink, confirmed y
	s.waitFor("the notify step's confirm dialog", contains("Notify incidents", "Proceed?"))
	time.Sleep(500 * time.Millisecond)
	s.keys("y")
	s.waitFor("the post", contains("step 11: Notify incidents: done"))
	s.keys("Enter")
	s.waitFor("the run ended", contains("run ended: 12/12 steps done"))

	// Database Connection Exhaustion: the rollback ended this loop's
	// incident before the lock pile-up; the demo's next loop has one.
	s.keys("Escape")
	time.Sleep(300 * time.Millisecond) // esc then 2 at once would read as alt+2
	s.keys("2")
	deadline := time.Now().Add(4 * time.Minute)
	for !strings.Contains(s.screen(), "DatabaseConnectionPoolExhausted ×1  warning  (1 firing)") {
		if time.Now().After(deadline) {
			t.Fatalf("DatabaseConnectionPoolExhausted never fired:\n%s", s.screen())
		}
		time.Sleep(300 * time.Millisecond)
	}
	s.keys("/")
	s.text("DatabaseConnection")
	s.keys("Enter", "r")
	s.waitFor("the runbook", contains("Runbook · Database Connection Exhaustion", "opened by alert DatabaseConnectionPoolExhausted"))
	s.waitFor("the connections check live", contains("Check connection pool metrics", "now ✓ true"))
	s.keys("Enter")
	s.waitFor("the check", contains("Check connection pool metrics: ✓"))
	s.keys("Enter") // the view step: Postgres, not idle, by duration
	s.waitFor("the postgres pane", func(scr string) bool {
		return strings.Contains(scr, `filter:"state:!idle sort:duration"`) && !strings.Contains(scr, "Runbook ·")
	})
	s.keys("r")
	s.waitFor("the open run listed", contains("Open runs (1)", "Database Connection Exhaustion · for DatabaseConnectionPoolExhausted"))
	s.keys("Enter")
	s.waitFor("back in the run", contains("Runbook · Database Connection Exhaustion", "2/9 steps done"))
	// Kill long-running queries: nothing in the demo has run for 10
	// minutes, so the step says so and is skipped; should something have,
	// it is confirmed like any bulk terminate.
	s.keys("Enter")
	scr := s.waitFor("the kill step", func(scr string) bool {
		return strings.Contains(scr, "Kill long-running queries: nothing to do") || confirmPhrase.MatchString(scr)
	})
	if confirmPhrase.MatchString(scr) {
		s.confirm()
	}
	s.waitFor("the kill step done", contains("3/9 steps done"))
	s.keys("Enter")
	pid := s.confirm()
	s.waitFor("the root blocker terminated", contains("step 4: Terminate backend "+pid+": done"))
	s.waitFor("connections fall", contains("✓  5. verify Connections fall below 80% of usable"))
	s.keys("Enter")
	if p := s.confirm(); p != "nudgecampaign-api" {
		t.Fatalf("restart phrase %q", p)
	}
	s.waitFor("the restart", contains("step 6: Restart rollout production/nudgecampaign-api: done"))
	s.waitFor("the restart rolled out", contains("✓  7. verify The restart rolls out completely"))
	s.keys("Enter")
	s.waitFor("a note", contains("step 8 acknowledged"))
	s.keys("Enter")
	s.waitFor("the run ended", contains("run ended: 9/9 steps done"))

	// t: the same timeline as the command, newest last.
	s.keys("t")
	s.waitFor("the timeline", contains("Incident timeline (UTC, newest last)", "runbook “Database Connection Exhaustion” ended: completed"))
	s.keys("q")

	recs, err := ops.ReadJournal(filepath.Join(state, "flightdeck", "audit-demo.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	me := ops.LocalOperator()
	var got []string
	for _, r := range recs {
		if r.Operator != me {
			t.Errorf("record by %q, want %q: %+v", r.Operator, me, r)
		}
		switch {
		case r.Run != nil && r.Phase != ops.PhaseRunStep:
			got = append(got, r.Phase+" "+r.Run.Runbook+" "+r.Run.Result)
		case r.Phase == "outcome":
			got = append(got, string(r.Action)+" "+r.Outcome)
		}
	}
	want := []string{
		"run_start high-error-rate ", "undo ok", "notify ok", "run_end high-error-rate completed",
		"run_start database-connection-exhaustion ", "terminate ok", "restart ok", "run_end database-connection-exhaustion completed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit journal:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	cmd := exec.Command(bin, "timeline", "--demo", "--since", "1h")
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("flightdeck timeline: %v\n%s", err, errOut.String())
	}
	md := out.String()
	// In order: the rollout, the alert it caused, the runbook and the
	// rollback with who took it, the pile-up's alert and the actions on it;
	// the burn is named with its rollout too (its event may come a poll
	// after the run started).
	inOrder := func(ws ...string) {
		t.Helper()
		at := 0
		for _, w := range ws {
			i := strings.Index(md[at:], w)
			if i < 0 {
				t.Fatalf("timeline lacks %q after byte %d:\n%s", w, at, md)
			}
			at += i + len(w)
		}
	}
	inOrder(
		"| kube | production/nudgecampaign-api revision 42 (was 41)",
		"HighErrorRate firing (critical): High error rate detected — _HighErrorRate started",
		"runbook “High Error Rate” started for HighErrorRate | "+me,
		"undo production/nudgecampaign-api to revision 41 on kube: done | "+me,
		"runbook “High Error Rate” step 8 “Scale up to 6 replicas if load-related” (action): skipped — not load-related",
		"runbook “High Error Rate” ended: completed",
		"DatabaseConnectionPoolExhausted firing",
		"runbook “Database Connection Exhaustion” started for DatabaseConnectionPoolExhausted",
		"terminate pid "+pid+" on pg main: done | "+me,
		"restart production/nudgecampaign-api on kube: done | "+me,
		"runbook “Database Connection Exhaustion” ended: completed",
	)
	inOrder("| kube | production/nudgecampaign-api revision 42 (was 41)", "SLO availability ok → ticket", "_burn started",
		"after nudgecampaign-api revision 42")
}
