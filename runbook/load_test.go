package runbook

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flightdeck/ops"
	"flightdeck/sources"
)

// valid is a runbook with one step of every kind; the error cases below
// break one thing each.
const valid = `name: demo-book
title: A runbook
opens_on:
  alerts: [HighErrorRate]
  matchers: ['severity="critical"']
  runbook_urls: [https://runbooks.example.com/high-error-rate]
symptoms: [Errors]
steps:
  - kind: check
    title: Burning
    expr: slo("availability").burn("5m") >= 1
  - kind: view
    title: Look
    pane: postgres
    filter: state:!idle sort:duration
  - kind: action
    title: Kill
    action: terminate
    backends: state:!idle >10m
  - kind: verify
    title: Better
    expr: pg.ratio < 0.8
    within: 2m
  - kind: note
    title: Tell people
    text: Post in #incidents
`

func TestLoadValid(t *testing.T) {
	b, err := Load("ok.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "demo-book" || len(b.Steps) != 5 || b.Steps[2].Act.Kind != ops.Terminate || b.Steps[3].Within.String() != "2m0s" {
		t.Fatalf("%+v", b)
	}
	if b.Steps[0].cond == nil || len(b.Steps[0].cond.derived) != 1 || b.Steps[0].cond.derived[0].Label != `slo("availability").burn("5m")` {
		t.Errorf("derived values: %+v", b.Steps[0].cond)
	}
	if b.Steps[3].Line != 20 {
		t.Errorf("verify step line %d", b.Steps[3].Line)
	}
}

// edit replaces old with new in valid, which must contain old.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(valid, old) {
		t.Fatalf("valid has no %q", old)
	}
	return strings.Replace(valid, old, new, 1)
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           string // the whole error
	}{
		{"unknown top key", "symptoms:", "symptom:",
			`bad.yaml:7: symptom: unknown key (did you mean "symptoms"?)`},
		{"unknown step key", "    within: 2m\n", "    within: 2m\n    witin: 3m\n",
			`bad.yaml:24: step 4 "Better": witin: unknown key (did you mean "within"?)`},
		{"key of another kind", "    pane: postgres\n", "    pane: postgres\n    within: 1m\n",
			`bad.yaml:15: step 2 "Look": within: does not apply to a view step (it is for verify steps)`},
		{"bad expression", "expr: pg.ratio < 0.8", "expr: pg.ratoi < 0.8",
			`bad.yaml:22: step 4 "Better": expr: pg has no field ratoi (column 4) (did you mean "ratio"?)`},
		{"not a boolean", "expr: pg.ratio < 0.8", "expr: pg.ratio * 2",
			`bad.yaml:22: step 4 "Better": expr: expected bool, but got float64`},
		{"unknown name", "expr: pg.ratio < 0.8", "expr: pgg.ratio < 0.8",
			`bad.yaml:22: step 4 "Better": expr: unknown name pgg (column 1) (did you mean "pg"?)`},
		{"bad burn window", `burn("5m")`, `burn("5min")`,
			`bad.yaml:11: step 1 "Burning": expr: burn("5min"): no such window (one of 5m, 30m, 1h, 2h, 6h, 1d, 3d)`},
		{"expression line in a block", "expr: pg.ratio < 0.8", "expr: |\n      pg.ratio < 0.8 &&\n      pg.nope",
			`bad.yaml:24: step 4 "Better": expr: pg has no field nope (column 4) (one of active, backends, blockers, by_state, connections, count, idle, idle_in_transaction, max_connections, oldest_xact, ratio, root_blockers, select, source, usable, waiting)`},
		{"unknown action kind", "action: terminate", "action: kill",
			`bad.yaml:18: step 3 "Kill": action: unknown action kind "kill" (one of cancel, failover_db_cluster, force_deployment, pause, promote_read_replica, reboot_db, reboot_db_failover, restart, resume, rollback_task_definition, scale, set_desired_count, silence, terminate, undo)`},
		{"misspelt action kind", "action: terminate", "action: terminat",
			`bad.yaml:18: step 3 "Kill": action: unknown action kind "terminat" (did you mean "terminate"?)`},
		{"missing deployment", "action: terminate\n    backends: state:!idle >10m", "action: restart",
			`bad.yaml:16: step 3 "Kill": deployment: required for restart: namespace/name, e.g. production/nudgecampaign-api`},
		{"deployment without namespace", "action: terminate\n    backends: state:!idle >10m", "action: undo\n    deployment: nudgecampaign-api",
			`bad.yaml:19: step 3 "Kill": deployment: give namespace/name (lowercase), e.g. production/nudgecampaign-api; got "nudgecampaign-api"`},
		{"template key of another action", "backends: state:!idle >10m", "backends: state:!idle >10m\n    replicas: 6",
			`bad.yaml:20: step 3 "Kill": replicas: does not apply to terminate (it takes source, backends, root_blockers)`},
		{"bad filter duration", "backends: state:!idle >10m", "backends: state:!idle >10x",
			`bad.yaml:19: step 3 "Kill": backends: ">10x": not a duration (use e.g. >10m)`},
		{"bad filter state", "backends: state:!idle >10m", "backends: state:!idel >10m",
			`bad.yaml:19: step 3 "Kill": backends: "state:!idel": no such state (active, idle, idle in transaction, idle in transaction (aborted), fastpath function call, disabled, starting; or idle-in-tx, aborted)`},
		{"empty filter", "backends: state:!idle >10m", "backends: sort:duration",
			`bad.yaml:19: step 3 "Kill": backends: an empty filter selects every backend; say which (e.g. state:!idle >10m)`},
		{"misspelt filter field", "filter: state:!idle sort:duration", "filter: stat:!idle",
			`bad.yaml:15: step 2 "Look": filter: unknown field stat: (did you mean "state"?)`},
		{"unknown postgres view", "    pane: postgres\n", "    pane: postgres\n    view: statments\n",
			`bad.yaml:15: step 2 "Look": view: unknown postgres view "statments" (did you mean "statements"?); one of activity, statements, replication, tables, indexes, databases, progress`},
		{"view of a pane without views", "    pane: postgres\n    filter: state:!idle sort:duration\n", "    pane: alerts\n    view: statements\n",
			`bad.yaml:15: step 2 "Look": view: only the postgres pane has views (activity, statements, replication, tables, indexes, databases, progress)`},
		{"unknown pane", "pane: postgres", "pane: postgress",
			`bad.yaml:14: step 2 "Look": pane: unknown pane "postgress" (did you mean "postgres"?)`},
		{"expire", "action: terminate\n    backends: state:!idle >10m", "action: expire",
			`bad.yaml:18: step 3 "Kill": action: expire needs a silence id a runbook cannot know; silence the run's alert instead`},
		{"verify without within", "    within: 2m\n", "",
			`bad.yaml:20: step 4 "Better": within: required: how long the condition may take to hold, e.g. 2m`},
		{"bad within", "within: 2m", "within: soon",
			`bad.yaml:23: step 4 "Better": within: invalid duration "soon" (use e.g. 30s, 15m, 4h, 30d)`},
		{"unknown step kind", "kind: note", "kind: notes",
			`bad.yaml:24: step 5 "Tell people": kind: unknown step kind "notes" (did you mean "note"?)`},
		{"bad matcher", `'severity="critical"'`, `'severity~"critical"'`,
			`bad.yaml:5: opens_on.matchers[0]: not a matcher: "severity~\"critical\"" (use name="value", name=~"regex", name!="value")`},
		{"bad matcher regex", `'severity="critical"'`, `'severity=~"("'`,
			"bad.yaml:5: opens_on.matchers[0]: error parsing regexp: missing closing ): `^(?:()$`"},
		{"bad when", "    backends: state:!idle >10m\n", "    backends: state:!idle >10m\n    when: rollout(\"x\")\n",
			`bad.yaml:20: step 3 "Kill": when: expected bool, but got Rollout`},
		{"bad show", "    within: 2m\n", "    within: 2m\n    show:\n      - conns: pg.conections\n",
			`bad.yaml:25: step 4 "Better": show[0]: pg has no field conections (column 4) (did you mean "connections"?)`},
		{"bad name", "name: demo-book", "name: Demo Book",
			`bad.yaml:1: name: use lowercase letters, digits, - . _ (at most 64), got "Demo Book"`},
		{"yaml syntax", "symptoms: [Errors]\n", "symptoms:\n\t- Errors\n",
			`bad.yaml:8: YAML syntax: found character that cannot start any token`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("bad.yaml", []byte(edit(t, c.old, c.new)))
			if err == nil {
				t.Fatal("loaded")
			}
			if err.Error() != c.want {
				t.Errorf("\n got %s\nwant %s", err, c.want)
			}
		})
	}
}

// A view step may open one of the Postgres pane's views; the filter of
// a view other than activity is text to match, not the backend filter
// language, and the directive carries the view to the pane.
func TestViewStepOpensAPostgresView(t *testing.T) {
	src := edit(t, "    pane: postgres\n    filter: state:!idle sort:duration\n", "    pane: postgres\n    view: statements\n    filter: campaigns\n")
	b, err := Load("ok.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s := b.Steps[1]; s.PaneView != "statements" || s.Filter != "campaigns" {
		t.Fatalf("step = %+v", s)
	}
	r, _ := Start(b, nil, "oncall@test", ops.DefaultPolicy(), t0)
	d, _ := r.Do(1, t0)
	if d.Kind != DoFocus || d.Pane != sources.KindPostgres || d.PaneView != "statements" || d.Filter != "campaigns" {
		t.Errorf("directive = %+v", d)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	src := edit(t, "action: terminate", "action: kill")
	src = strings.Replace(src, "pg.ratio < 0.8", "pg.nope", 1)
	_, err := Load("bad.yaml", []byte(src))
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 || es[0].Line != 18 || es[1].Line != 22 || es[0].Step != 3 || es[1].Step != 4 {
		t.Fatalf("%v", err)
	}
}

func TestLoadAllDirectories(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A file with a built-in's name replaces it; others add to the set.
	write("mine.yaml", strings.Replace(valid, "name: demo-book", "name: high-error-rate", 1))
	write("other.yml", valid)
	write("notes.txt", "not a runbook")
	set, err := LoadAll([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if b := set.Get("high-error-rate"); b == nil || b.File != filepath.Join(dir, "mine.yaml") {
		t.Errorf("override: %+v", b)
	}
	if set.Get("demo-book") == nil || set.Get("database-connection-exhaustion") == nil || len(set.All()) != 5 {
		t.Errorf("set: %v", set.All())
	}
	// The same name twice in the directories is an error naming both.
	write("dup.yaml", valid)
	if _, err := LoadAll([]string{dir}); err == nil || !strings.Contains(err.Error(), `runbook "demo-book" is also defined in`) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := LoadAll([]string{filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing dir: %v", err)
	}
	// ~ is the home directory.
	t.Setenv("HOME", dir)
	os.Remove(filepath.Join(dir, "dup.yaml"))
	if set, err := LoadAll([]string{"~"}); err != nil || set.Get("demo-book") == nil {
		t.Errorf("~: %v", err)
	}
}

func TestBuiltinRunbooksCompile(t *testing.T) {
	books, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]*Runbook{}
	for _, b := range books {
		names[b.Name] = b
		for i, s := range b.Steps {
			switch s.Kind {
			case Check, Verify:
				if s.cond == nil {
					t.Errorf("%s step %d: not compiled", b.Name, i+1)
				}
			case Action:
				if s.Act == nil || (s.When != "" && s.when == nil) {
					t.Errorf("%s step %d: not compiled", b.Name, i+1)
				}
			}
			for _, sh := range s.Show {
				if sh.prog == nil {
					t.Errorf("%s step %d: show %q not compiled", b.Name, i+1, sh.Label)
				}
			}
		}
	}
	for _, want := range []string{"database-connection-exhaustion", "high-error-rate", "failover-to-dr"} {
		if names[want] == nil {
			t.Errorf("no built-in %s", want)
		}
	}
}

func TestMatch(t *testing.T) {
	set, err := LoadAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	lbl := func(kv ...string) []sources.Label {
		var out []sources.Label
		for i := 0; i < len(kv); i += 2 {
			out = append(out, sources.Label{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	custom, err := Load("c.yaml", []byte(strings.Replace(valid, "  alerts: [HighErrorRate]\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	set = NewSet(append(set.All(), custom)...)
	cases := []struct {
		alert sources.Alert
		want  []string
	}{
		{sources.Alert{Name: "HighErrorRate", Labels: lbl("alertname", "HighErrorRate", "severity", "critical")},
			[]string{"high-error-rate", "demo-book"}},
		{sources.Alert{Name: "Renamed", RunbookURL: "HTTPS://runbooks.nudgecampaign.com/database-connection-exhaustion/"},
			[]string{"database-connection-exhaustion"}},
		{sources.Alert{Name: "DatabaseConnectionPoolExhausted", Severity: "warning", Labels: lbl("severity", "warning")},
			[]string{"database-connection-exhaustion"}},
		{sources.Alert{Name: "Anything", Labels: lbl("severity", "critical")}, []string{"demo-book"}},
		{sources.Alert{Name: "SlowResponseTime", RunbookURL: "https://runbooks.nudgecampaign.com/slow-response-time"}, nil},
	}
	for _, c := range cases {
		var got []string
		for _, b := range set.Match(c.alert) {
			got = append(got, b.Name)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: %v, want %v", c.alert.Name, got, c.want)
		}
	}
}
