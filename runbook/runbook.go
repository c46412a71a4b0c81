// Package runbook turns an incident runbook into steps the cockpit can
// follow live: checks and verifies evaluated on every snapshot, views that
// focus a pane, actions resolved into ops.Requests for the one plan →
// confirm → execute flow, and notes for what flightdeck does not do itself.
//
// Runbooks are YAML files, one per file, validated strictly (file:line:
// step: field: problem) and compiled once at load: every expression is
// checked against the typed environment Env, and budgeted (budget.go): an
// expression over budget fails its step, never the run or the caller. A Run
// is a pure, clock-injected state machine over one runbook: it never does
// I/O and never calls the Executor; its methods return the journal records
// the caller writes, and Resume rebuilds open runs from those records after
// a restart. Evaluating its expressions is split off (Prepare, Evaluate,
// Apply) so that a UI runs it in a tea.Cmd and never waits on it.
package runbook

import (
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"flightdeck/ops"
	"flightdeck/sources"
)

// Runbook is one loaded, compiled runbook file.
type Runbook struct {
	// Name identifies the runbook in the journal and in overrides: a file in
	// a configured directory with the name of a built-in replaces it.
	Name  string
	Title string
	// Description is free text shown above the steps.
	Description string
	// OpensOn says which alerts open the runbook.
	OpensOn OpensOn
	// Symptoms are what the on-call engineer sees, as the manual lists them.
	Symptoms []string
	Steps    []Step
	// File is where the runbook was loaded from ("builtin/x.yaml" for the
	// shipped ones).
	File string
	// Shipped says it is one of flightdeck's own (Builtin), not a file of
	// a configured directory.
	Shipped bool

	nameLine int // where name: is, for a duplicate's error
}

// OpensOn says which alerts a runbook is for. An alert opens it when its
// runbook_url annotation is one of RunbookURLs, or when its name is one of
// Alerts (any name when Alerts is empty) and every matcher holds, provided
// Alerts or Matchers is set.
type OpensOn struct {
	Alerts      []string
	Matchers    []sources.Matcher
	RunbookURLs []string

	compiled []sources.CompiledMatcher
}

// StepKind is what a step does.
type StepKind string

// The step kinds.
const (
	// Check is a condition on the live snapshots, shown with the values
	// behind it; doing it records its verdict.
	Check StepKind = "check"
	// View focuses a pane with a filter.
	View StepKind = "view"
	// Action is an ops.Request template resolved against the snapshots.
	Action StepKind = "action"
	// Verify is a condition that must become true within a time after the
	// actions before it.
	Verify StepKind = "verify"
	// Note is text, maybe with a command to copy, acknowledged with a key.
	Note StepKind = "note"
)

// Step is one step of a runbook. Exactly the fields of its Kind are set.
type Step struct {
	Kind  StepKind
	Title string
	// Line is where the step starts in its file.
	Line int

	// Expr is the condition of a check or verify, as written.
	Expr string
	// Within is how long a verify may take to hold.
	Within time.Duration
	// Show lists the values displayed with a check, verify or action; when
	// the file gives none they are derived from the expressions.
	Show []Shown

	// Pane and Filter are a view's target (Filter for postgres is the
	// sources.ParseBackendFilter language; for LogsPane the log view's
	// filter: a substring, or a regex between slashes). Target is what the
	// logs view shows: a deployment or an ECS service key.
	Pane   sources.Kind
	Filter string
	Target string
	// PaneView is which of the pane's views the step shows: for postgres
	// one of sources.PGViewOrder ("statements"); "" leaves the pane on the
	// view it shows.
	PaneView string

	// Act is an action's template.
	Act *ActionTemplate
	// When, for an action, is the condition under which it applies; ""
	// means always.
	When string

	// Text and Command are a note's body and the command to copy.
	Text    string
	Command string

	cond *condition // check, verify
	when *condition // action
}

// Shown is one value line: a label and the expression behind it.
type Shown struct {
	Label string
	Expr  string
	prog  *vm.Program
	needs need
}

// ActionTemplate is an ops.Request with the targets left to resolve against
// the snapshots at the time the step is done.
type ActionTemplate struct {
	Kind ops.Kind
	// Source names the source to act through ("pg main", "kube"); "" picks
	// the first source of the action's kind.
	Source string
	// Backends is a Postgres filter (cancel, terminate): the backends it
	// selects, oldest first, minus those the policy refuses.
	Backends string
	// RootBlockers narrows Backends to the roots of lock pile-ups: backends
	// that block others while not waiting on anyone.
	RootBlockers bool
	// Namespace and Deployment name the deployment (undo, restart, scale,
	// pause, resume).
	Namespace, Deployment string
	// ToRevision is undo's target revision; 0 means the previous one.
	ToRevision int64
	// Replicas is scale's new count; Override allows a change beyond the
	// policy's scale_max_change (the confirmation says so).
	Replicas int32
	Override bool
	// Duration and Comment are a silence's; it silences the alert that
	// opened the run (all its labels).
	Duration time.Duration
	Comment  string

	// Region is where an AWS action's target lives (us-west-2): the DR
	// side is in another region than production.
	Region string
	// Instance is an RDS instance identifier (promote_read_replica,
	// reboot_db, reboot_db_failover).
	Instance string
	// DBCluster is an Aurora cluster identifier (failover_db_cluster) and
	// FailoverTarget the reader to make the writer ("" lets RDS choose).
	DBCluster, FailoverTarget string
	// Cluster and Service name an ECS service (set_desired_count,
	// force_deployment, rollback_task_definition).
	Cluster, Service string
	// Desired is set_desired_count's new count (Override as for scale).
	Desired int32
	// TaskDefinition is where a rollback goes (family:revision); "" is the
	// previous ACTIVE revision.
	TaskDefinition string

	// Notification is what a notify step sends, and to which sink.
	Notification *ops.Notification
}

// ServiceKey is region/cluster/service, as sources.ECSService.Key.
func (a *ActionTemplate) ServiceKey() string { return a.Region + "/" + a.Cluster + "/" + a.Service }

// DeploymentKey is namespace/name.
func (a *ActionTemplate) DeploymentKey() string { return a.Namespace + "/" + a.Deployment }

// Set is every runbook loaded, by name.
type Set struct {
	byName map[string]*Runbook
}

// NewSet builds a set; a later runbook with the name of an earlier one
// replaces it.
func NewSet(books ...*Runbook) *Set {
	s := &Set{byName: map[string]*Runbook{}}
	for _, b := range books {
		s.byName[b.Name] = b
	}
	return s
}

// Get returns the runbook called name, nil if none.
func (s *Set) Get(name string) *Runbook {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// All lists the runbooks by title.
func (s *Set) All() []*Runbook {
	if s == nil {
		return nil
	}
	out := make([]*Runbook, 0, len(s.byName))
	for _, b := range s.byName {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Title != out[j].Title {
			return out[i].Title < out[j].Title
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Match lists the runbooks alert opens, best first: those naming its
// runbook_url, then those naming the alert, then those selecting it by
// labels only.
func (s *Set) Match(a sources.Alert) []*Runbook {
	type hit struct {
		b     *Runbook
		score int
	}
	var hits []hit
	for _, b := range s.All() {
		if sc := b.OpensOn.score(a); sc > 0 {
			hits = append(hits, hit{b, sc})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	out := make([]*Runbook, len(hits))
	for i, h := range hits {
		out[i] = h.b
	}
	return out
}

// Opens reports whether alert a opens this runbook.
func (b *Runbook) Opens(a sources.Alert) bool { return b.OpensOn.score(a) > 0 }

// score is 0 when a does not open the runbook, else how specifically.
func (o *OpensOn) score(a sources.Alert) int {
	if a.RunbookURL != "" {
		u := normalURL(a.RunbookURL)
		for _, r := range o.RunbookURLs {
			if normalURL(r) == u {
				return 3
			}
		}
	}
	if len(o.Alerts) == 0 && len(o.compiled) == 0 {
		return 0
	}
	named := len(o.Alerts) == 0
	for _, n := range o.Alerts {
		named = named || n == a.Name
	}
	if !named || !sources.MatchAllCompiled(o.compiled, labelsWithName(a)) {
		return 0
	}
	if len(o.Alerts) > 0 {
		return 2
	}
	return 1
}

// labelsWithName makes sure alertname is among the labels, for matchers on
// it, whatever the source filled in.
func labelsWithName(a sources.Alert) []sources.Label {
	if a.Label("alertname") != "" || a.Name == "" {
		return a.Labels
	}
	ls := append([]sources.Label{{Name: "alertname", Value: a.Name}}, a.Labels...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// normalURL compares runbook links loosely: scheme and host case, a
// trailing slash and a fragment do not matter.
func normalURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return strings.TrimRight(s, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String()
}

// LogsPane is a view step's pane that is the log view (of Step.Target)
// rather than a pane of the cockpit.
const LogsPane sources.Kind = "logs"
