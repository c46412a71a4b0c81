package alertmanager_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/httpopt"
	"flightdeck/internal/testsrv"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/alertmanager"
)

// testRules is the manual's HighErrorRate rule, test-sized (see testsrv).
var testRules = testsrv.HighErrorRateRules("1s")

func fetch(t testing.TB, src *alertmanager.Source) *sources.AlertSet {
	t.Helper()
	p, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return p.(*sources.AlertSet)
}

func findAlert(set *sources.AlertSet, name string) *sources.Alert {
	for i := range set.Alerts {
		if set.Alerts[i].Name == name {
			return &set.Alerts[i]
		}
	}
	return nil
}

// waitAlertState waits until the alert named name is in state want, and
// returns it.
func waitAlertState(t *testing.T, src *alertmanager.Source, name string, want sources.AlertState) sources.Alert {
	t.Helper()
	var a *sources.Alert
	testsrv.WaitFor(t, 90*time.Second, func() (bool, string) {
		set := fetch(t, src)
		a = findAlert(set, name)
		if a == nil {
			return false, fmt.Sprintf("%s not in Alertmanager yet (%d alerts)", name, len(set.Alerts))
		}
		return a.State == want, fmt.Sprintf("%s is %s, want %s", name, a.State, want)
	})
	return *a
}

// amSilences reads GET /api/v2/silences directly, not through the code
// under test.
func amSilences(t *testing.T, base string) []map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/silences")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSilenceThroughExecutorAgainstRealAlertmanager(t *testing.T) {
	am := testsrv.StartAlertmanager(t)
	target := testsrv.StartAppTarget(t, 1000)
	target.SetErrorRatio(0.5)
	testsrv.StartPrometheus(t, testsrv.PrometheusOptions{Targets: []string{target.Addr}, Rules: testRules, Alertmanager: am.URL})
	src, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: am.URL, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	a := waitAlertState(t, src, "HighErrorRate", sources.AlertFiring)
	if a.Severity != "critical" || a.Summary != "High error rate detected" || a.RunbookURL != "https://runbooks.example/high-error-rate" ||
		a.Fingerprint == "" || a.StartsAt.IsZero() || a.UpdatedAt.IsZero() || !slices.Contains(a.Receivers, "null") {
		t.Errorf("firing alert: %+v", a)
	}
	if !slices.IsSortedFunc(a.Labels, func(x, y sources.Label) int { return strings.Compare(x.Name, y.Name) }) {
		t.Errorf("labels not sorted: %v", a.Labels)
	}
	if set := fetch(t, src); set.Origin != "alertmanager" {
		t.Errorf("origin %q", set.Origin)
	}

	journal, err := ops.OpenJournal(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { journal.Close() })
	ex := ops.NewExecutor(ops.Config{
		Environment: "production", Production: true, Journal: journal, Operator: "oncall@bastion",
		Caps: ops.Capabilities{"am": src},
	})
	byName := []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}}

	// A regex that hits nothing is refused before anything is created.
	_, err = ex.Plan(ctx, ops.Request{Action: ops.Silence, Source: "am", Params: ops.Params{
		Matchers: []sources.Matcher{{Name: "alertname", Value: "High", IsRegex: true, IsEqual: true}}, // anchored: not "HighErrorRate"
		Duration: 30 * time.Minute, Comment: "x"}})
	if !errors.Is(err, ops.ErrPolicy) {
		t.Errorf("regex hitting none: Plan = %v, want ErrPolicy", err)
	}
	// Longer than silence_max (4h by default) is refused.
	_, err = ex.Plan(ctx, ops.Request{Action: ops.Silence, Source: "am", Params: ops.Params{
		Matchers: byName, Duration: 5 * time.Hour, Comment: "x"}})
	if !errors.Is(err, ops.ErrPolicy) {
		t.Errorf("5h silence: Plan = %v, want ErrPolicy (silence_max)", err)
	}
	if n := len(amSilences(t, am.URL)); n != 0 {
		t.Fatalf("refused plans created %d silences", n)
	}

	// A regex that hits the alert is fine; so is the exact matcher.
	plan, err := ex.Plan(ctx, ops.Request{Action: ops.Silence, Source: "am", Alert: &a, Params: ops.Params{
		Matchers: []sources.Matcher{{Name: "alertname", Value: "High.*", IsRegex: true, IsEqual: true}, {Name: "status", Value: "500", IsEqual: true}},
		Duration: 30 * time.Minute, Comment: "investigating deploy 42"}})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if !strings.Contains(strings.Join(plan.Preview, "\n"), "hit 1 active alert") {
		t.Errorf("preview: %q", plan.Preview)
	}
	if r := ex.Execute(ctx, plan, "wrong"); !r.Refused {
		t.Fatalf("wrong phrase executed: %+v", r)
	}
	res := ex.Execute(ctx, plan, plan.Phrase)
	if !res.OK {
		t.Fatalf("Execute: %s", res.Summary)
	}
	var id string
	if _, err := fmt.Sscanf(res.Details[0], "silence %s created", &id); err != nil {
		t.Fatalf("details %q", res.Details)
	}

	// The silence is in Alertmanager, as Alertmanager itself reports it.
	var found map[string]any
	for _, s := range amSilences(t, am.URL) {
		if s["id"] == id {
			found = s
		}
	}
	if found == nil {
		t.Fatalf("silence %s not in GET /api/v2/silences", id)
	}
	if found["createdBy"] != "oncall@bastion" || found["comment"] != "investigating deploy 42" ||
		found["status"].(map[string]any)["state"] != "active" || len(found["matchers"].([]any)) != 2 {
		t.Errorf("silence in Alertmanager: %v", found)
	}

	a = waitAlertState(t, src, "HighErrorRate", sources.AlertSilenced)
	if !slices.Contains(a.SilencedBy, id) {
		t.Errorf("SilencedBy %v, want %s", a.SilencedBy, id)
	}
	set := fetch(t, src)
	if len(set.Silences) != 1 || set.Silences[0].ID != id || set.Silences[0].State != "active" ||
		set.Silences[0].CreatedBy != "oncall@bastion" || !set.Silences[0].Matchers[0].IsRegex {
		t.Errorf("silences: %+v", set.Silences)
	}
	if hits, err := src.MatchingAlerts(ctx, byName); err != nil || len(hits) != 0 {
		t.Errorf("MatchingAlerts on a silenced alert = %d, %v; want none (already silenced)", len(hits), err)
	}
	got, err := src.GetSilence(ctx, id)
	if err != nil || got.ID != id || got.State != "active" || got.Comment != "investigating deploy 42" {
		t.Errorf("GetSilence = %+v, %v", got, err)
	}

	// Expiring through the Executor reverses it.
	plan, err = ex.Plan(ctx, ops.Request{Action: ops.Expire, Source: "am", SilenceID: id})
	if err != nil {
		t.Fatalf("Plan expire: %v", err)
	}
	if res := ex.Execute(ctx, plan, plan.Phrase); !res.OK {
		t.Fatalf("Execute expire: %s", res.Summary)
	}
	waitAlertState(t, src, "HighErrorRate", sources.AlertFiring)
	if got, err := src.GetSilence(ctx, id); err != nil || got.State != "expired" {
		t.Errorf("after expiry: %+v, %v", got, err)
	}
	// Expiring it again is refused by the Executor (already expired).
	if _, err := ex.Plan(ctx, ops.Request{Action: ops.Expire, Source: "am", SilenceID: id}); !errors.Is(err, ops.ErrInvalid) {
		t.Errorf("second expiry plan = %v, want ErrInvalid", err)
	}
	// An unknown id is a clear error from Alertmanager.
	if _, err := src.GetSilence(ctx, "00000000-0000-0000-0000-000000000000"); err == nil || !strings.Contains(err.Error(), "alertmanager 404") {
		t.Errorf("GetSilence(unknown) = %v, want a 404", err)
	}

	recs, err := ops.ReadJournal(journal.Path())
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range recs {
		if r.Phase == "outcome" {
			outcomes = append(outcomes, string(r.Action)+":"+r.Outcome)
		}
	}
	if !slices.Equal(outcomes, []string{"silence:ok", "expire:ok"}) {
		t.Errorf("journal outcomes %v", outcomes)
	}
}

func TestAlertmanagerDown(t *testing.T) {
	port := testsrv.FreePort(t)
	src, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "alertmanager unreachable") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Fetch = %v", err)
	}
	if _, err := src.CreateSilence(context.Background(), sources.Silence{
		Matchers: []sources.Matcher{{Name: "a", Value: "b", IsEqual: true}}, EndsAt: time.Now().Add(time.Hour),
		CreatedBy: "x", Comment: "y"}); err == nil {
		t.Error("CreateSilence against nothing succeeded")
	}
}

// The real Alertmanager reports a version new enough for negative matchers,
// and a != silence is stored as one.
func TestNegativeMatcherOnRealAlertmanager(t *testing.T) {
	am := testsrv.StartAlertmanager(t)
	src, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: am.URL, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ms := []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}, {Name: "env", Value: "staging"}}
	id, err := src.CreateSilence(context.Background(), sources.Silence{Matchers: ms, EndsAt: time.Now().Add(time.Hour), CreatedBy: "test", Comment: "all but staging"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := src.GetSilence(context.Background(), id)
	if err != nil || len(got.Matchers) != 2 || got.Matchers[1].IsEqual {
		t.Fatalf("stored silence = %+v, %v", got, err)
	}
}

// TestResponseCapAgainstRealAlertmanager: a silences list over MaxBody
// fails with the cap in the message, not as malformed JSON.
func TestResponseCapAgainstRealAlertmanager(t *testing.T) {
	am := testsrv.StartAlertmanager(t)
	roomy, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: am.URL, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ms := []sources.Matcher{{Name: "alertname", Value: "HighErrorRate", IsEqual: true}}
	if _, err := roomy.CreateSilence(context.Background(), sources.Silence{Matchers: ms, EndsAt: time.Now().Add(time.Hour),
		CreatedBy: "test", Comment: strings.Repeat("a long comment ", 100)}); err != nil {
		t.Fatal(err)
	}
	capped, err := alertmanager.New(alertmanager.Options{Endpoint: httpopt.Endpoint{URL: am.URL, Timeout: 5 * time.Second, MaxBody: 1 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := capped.Fetch(context.Background()); err == nil || err.Error() != "alertmanager: response larger than 1 KiB" {
		t.Fatalf("capped Fetch = %v", err)
	}
	if _, err := roomy.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
}
