package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

// The fixture is the demo incident as the journals hold it: recorder
// events, a runbook run with its steps, a refused and an accepted rollback,
// a bulk terminate whose outcome never came (a crash), a failed silence, a
// phase this version does not know, a hostile escape sequence, a table pipe,
// and a damaged line in each journal.
var fixture = TimelineOptions{
	EventsPath: "testdata/incident/events.jsonl",
	AuditPath:  "testdata/incident/audit.jsonl",
}

func buildFixture(t *testing.T, o TimelineOptions) *Timeline {
	t.Helper()
	tl, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// `go test ./record -run TimelineMarkdown -update` regenerates the golden
// file. The damaged lines are set here rather than read: how the journal
// reader words its reasons is internal/jsonl's business, not this layout's.
func TestTimelineMarkdown(t *testing.T) {
	tl := buildFixture(t, fixture)
	if len(tl.Damaged) != 2 {
		t.Fatalf("damaged %+v", tl.Damaged)
	}
	tl.Damaged = []DamagedLine{
		{Path: fixture.EventsPath, Line: 7, Offset: 1704, Text: `{"time":"2026-03-14T03:08:30Z","kind":"pg_blo`, Err: "not JSON: unexpected EOF"},
		{Path: fixture.AuditPath, Line: 13, Offset: 3097, Text: `{"time":"2026-03-14T03:13:00Z","phase":"intent","plan_id":"p-4e","operator":"bob@bas`, Err: "torn last line: no newline at the end of the file"},
	}
	var b bytes.Buffer
	if err := tl.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	golden.RequireEqual(t, b.Bytes())
}

func TestTimelineContent(t *testing.T) {
	tl := buildFixture(t, fixture)
	for i := 1; i < len(tl.Entries); i++ {
		if tl.Entries[i].Time.Before(tl.Entries[i-1].Time) {
			t.Fatalf("entry %d out of order", i)
		}
	}
	find := func(substr string) *Entry {
		for i := range tl.Entries {
			if strings.Contains(tl.Entries[i].What, substr) {
				return &tl.Entries[i]
			}
		}
		t.Fatalf("no entry with %q", substr)
		return nil
	}
	// The critical alert and the first burn name the rollout before them.
	if e := find("HighErrorRate firing"); e.Note != "HighErrorRate started 03:08, 34 s after nudgecampaign-api revision 42" {
		t.Errorf("alert note %q", e.Note)
	}
	if e := find("availability ok → ticket"); e.Note != "burn started 03:08, 38 s after nudgecampaign-api revision 42" {
		t.Errorf("burn note %q", e.Note)
	}
	// A warning alert and a page after a ticket are not annotated.
	if find("DatabaseConnectionPoolExhausted firing").Note != "" || find("ticket → page").Note != "" {
		t.Error("annotated more than burn starts and critical alerts")
	}
	// Intent and outcome of one plan are one entry, at the intent's time.
	undo := find("undo production/nudgecampaign-api to revision 41 on kube: done")
	if undo.Who != "alice@bastion" || len(undo.Records) != 2 || undo.Time.Second() != 10 || undo.Type != "action" {
		t.Errorf("undo entry %+v", undo)
	}
	if e := find("terminate pid 11672"); !strings.HasSuffix(e.What, "and 2 more on pg main: started, no outcome recorded") || e.Who != "bob@bastion" {
		t.Errorf("crashed terminate %q", e.What)
	}
	if e := find("refused: undo"); !strings.Contains(e.What, "confirmation does not match") {
		t.Errorf("refused %q", e.What)
	}
	if e := find("silence HighErrorRate for 30m (rollback in progress) on am: failed: alertmanager 503"); e == nil {
		t.Error("silence")
	}
	if e := find("step 1 “Check recent deployments” (check): passed [deployed_ago=3m22s, revision=42]"); e.Type != "runbook" || e.Source != "runbook" {
		t.Errorf("run step %+v", e)
	}
	find("runbook “High Error Rate” started for HighErrorRate")
	find("step 2 “Roll back” (action): ok (plan p-1b)")
	find("runbook “High Error Rate” ended: completed")
	if e := find("handover: paged bob"); e.Type != "audit" {
		t.Errorf("unknown phase %+v", e)
	}
	for _, e := range tl.Entries {
		if strings.ContainsAny(e.What, "\x1b\x07") {
			t.Errorf("escape sequence reached the timeline: %q", e.What)
		}
	}
	if len(tl.Damaged) != 2 || tl.Damaged[0].Line != 7 || tl.Damaged[0].Offset != 1704 || !strings.Contains(tl.Damaged[0].Text, "pg_blo") ||
		tl.Damaged[1].Line != 13 || !strings.Contains(tl.Damaged[1].Err, "torn") {
		t.Errorf("damaged %+v", tl.Damaged)
	}
}

func TestTimelineFilters(t *testing.T) {
	o := fixture
	o.Since = time.Date(2026, 3, 14, 3, 11, 0, 0, time.UTC)
	o.Until = time.Date(2026, 3, 14, 3, 12, 0, 0, time.UTC)
	tl := buildFixture(t, o)
	if len(tl.Entries) != 8 {
		for _, e := range tl.Entries {
			t.Log(e.Time, e.What)
		}
		t.Fatalf("%d entries", len(tl.Entries))
	}
	first, last := tl.Entries[0], tl.Entries[len(tl.Entries)-1]
	if !first.Time.Equal(time.Date(2026, 3, 14, 3, 11, 5, 0, time.UTC)) || first.Rel != "+0s" || last.Rel != "+53s" {
		t.Errorf("first %v %s, last %s", first.Time, first.Rel, last.Rel)
	}
	// Damage is reported whatever the filter: it may hide anything.
	if len(tl.Damaged) != 2 {
		t.Errorf("damaged %d", len(tl.Damaged))
	}
	var b bytes.Buffer
	tl.Markdown(&b)
	if !strings.Contains(b.String(), "(filtered: between 2026-03-14 03:11:00 and 2026-03-14 03:12:00 UTC)") {
		t.Errorf("filter not stated:\n%s", b.String())
	}
}

func TestTimelineJSON(t *testing.T) {
	var b bytes.Buffer
	if err := buildFixture(t, fixture).JSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Entries []struct {
			Time    time.Time `json:"time"`
			Rel     string    `json:"rel"`
			Type    string    `json:"type"`
			What    string    `json:"what"`
			Note    string    `json:"note"`
			Event   *Event    `json:"event"`
			Records []AuditRecord
		} `json:"entries"`
		Damaged []DamagedLine `json:"damaged"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != 27 || len(got.Damaged) != 2 {
		t.Fatalf("%d entries, %d damaged", len(got.Entries), len(got.Damaged))
	}
	e := got.Entries[3]
	if e.Event == nil || e.Event.Subject != "HighErrorRate" || e.Event.Labels["service"] != "nudgecampaign-api" || e.Note == "" || e.Rel != "+1m04s" || e.Time.Sub(e.Time.Truncate(time.Second)) != 530*time.Millisecond {
		t.Errorf("entry 3: %+v", e)
	}
	if bytes.Contains(b.Bytes(), []byte(`\u001b`)) || bytes.Contains(b.Bytes(), []byte("\x1b")) {
		t.Error("escape sequence in JSON output")
	}

	// No entries is an empty list, not null.
	b.Reset()
	(&Timeline{}).JSON(&b)
	if !strings.Contains(b.String(), `"entries": []`) {
		t.Errorf("empty: %s", b.String())
	}
}

func TestTimelineMissingJournals(t *testing.T) {
	dir := t.TempDir()
	tl := buildFixture(t, TimelineOptions{EventsPath: filepath.Join(dir, "events.jsonl"), AuditPath: filepath.Join(dir, "audit.jsonl")})
	if len(tl.Entries) != 0 || len(tl.Notes) != 2 || !strings.Contains(tl.Notes[0], "flight recorder has not run") {
		t.Errorf("%+v", tl)
	}
	var b bytes.Buffer
	tl.Markdown(&b)
	if !strings.Contains(b.String(), "No entries.") {
		t.Errorf("markdown:\n%s", b.String())
	}
	if _, err := Build(TimelineOptions{EventsPath: dir}); err == nil {
		t.Error("a directory as journal is not an error")
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 14, 5, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                          {},
		"2h":                        now.Add(-2 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"1d":                        now.Add(-24 * time.Hour),
		"1d12h":                     now.Add(-36 * time.Hour),
		"2026-03-14T03:00:00Z":      time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC),
		"2026-03-14T04:00:00+01:00": time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC),
		"2026-03-14T03:00":          time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC),
		"2026-03-14 03:00":          time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC),
		"2026-03-14":                time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-2h", "2x", "99999d"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

// Lines says what the Markdown says, one entry a line, for the cockpit's
// timeline view: each entry with its time, source, who and correlation,
// then the notes and the damaged lines.
func TestTimelineLines(t *testing.T) {
	tl := buildFixture(t, fixture)
	lines := tl.Lines()
	if len(lines) != 1+len(tl.Entries)+len(tl.Notes)+1+len(tl.Damaged) {
		t.Fatalf("%d lines for %d entries, %d notes, %d damaged", len(lines), len(tl.Entries), len(tl.Notes), len(tl.Damaged))
	}
	if !strings.HasPrefix(lines[0], "2026-03-14 ") || !strings.Contains(lines[0], fmt.Sprintf("%d entries", len(tl.Entries))) {
		t.Errorf("head %q", lines[0])
	}
	for i, e := range tl.Entries {
		l := lines[1+i]
		if !strings.HasPrefix(l, e.Time.UTC().Format("15:04:05")+" "+e.Rel) || !strings.Contains(l, e.What) ||
			(e.Note != "" && !strings.Contains(l, " — "+e.Note)) || (e.Who != "" && !strings.HasSuffix(l, "("+e.Who+")")) {
			t.Errorf("entry %d: %q", i, l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, tl.Damaged[len(tl.Damaged)-1].Path) {
		t.Errorf("damaged line not last: %q", last)
	}
	if got := (&Timeline{}).Lines(); len(got) != 1 || got[0] != "No entries." {
		t.Errorf("empty: %q", got)
	}
}

// A step's values as ops.RunRecord writes them, a list of lines, read as
// lines.
func TestTimelineStepValuesAsLines(t *testing.T) {
	i := 4
	rec := AuditRecord{Time: time.Date(2026, 3, 14, 3, 12, 0, 0, time.UTC), Phase: "run_step", Operator: "alice",
		Run: &RunRecord{Title: "High Error Rate", Step: "The error rate falls", StepIndex: &i, Kind: "verify", Result: "ok",
			Values: json.RawMessage(`["burn 5m 0.4x","HighErrorRate resolved"]`)}}
	tl := Merge(nil, []AuditRecord{rec}, TimelineOptions{})
	want := `runbook “High Error Rate” step 5 “The error rate falls” (verify): ok [burn 5m 0.4x; HighErrorRate resolved]`
	if len(tl.Entries) != 1 || tl.Entries[0].What != want {
		t.Fatalf("got %+v\nwant %s", tl.Entries, want)
	}
}

// Outside text reaches a postmortem as text: HTML, links and code fences
// in an alert summary, an operator name or a note are escaped, not markup.
func TestTimelineMarkdownEscapesMarkup(t *testing.T) {
	at := time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)
	events := []Event{
		{Time: at, Kind: AlertFiring, Source: "am", Subject: "X", Severity: "warning",
			Summary: "X firing: <img src=x onerror=alert(1)> <details> [click](javascript:alert(1)) `code` a&b"},
	}
	records := []AuditRecord{{Time: at.Add(time.Second), Phase: "refused", Action: "kill", Operator: "<b>eve</b>", Error: "[x](https://evil)"}}
	tl := Merge(events, records, TimelineOptions{})
	tl.Damaged = []DamagedLine{{Path: "ev`ents.jsonl", Line: 3, Text: "<script>``", Err: "not JSON: <bad>"}}
	tl.Notes = []string{"<details>"}
	var b bytes.Buffer
	if err := tl.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, raw := range []string{"<img", "<details>", "[click](javascript", "<b>", "[x](", "`code`", "<bad>"} {
		if strings.Contains(out, raw) {
			t.Errorf("%q passed through raw:\n%s", raw, out)
		}
	}
	for _, want := range []string{`&lt;img src=x onerror=alert(1)&gt;`, `\[click\](javascript:alert(1))`, "\\`code\\`", "a&amp;b", "&lt;b&gt;eve&lt;/b&gt;", "``` <script>`` ```", "`` ev`ents.jsonl ``"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}
