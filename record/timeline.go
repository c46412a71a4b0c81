package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/sources"
)

// TimelineOptions say which journals to read and which part to keep.
type TimelineOptions struct {
	// EventsPath is the live event journal; its rotated files beside it
	// are read too.
	EventsPath, AuditPath string
	// Since and Until bound the entries kept (inclusive); zero means open.
	Since, Until time.Time
	// CorrelationWindow is how far before a burn or alert start a rollout
	// is named; default sources.DefaultCorrelationWindow.
	CorrelationWindow time.Duration
	// MaxEntries bounds the entries kept, newest first: a year of journal
	// asked for whole costs this many entries of memory, and a note says
	// how many older ones were left out. 0 means DefaultMaxEntries;
	// negative, no bound.
	MaxEntries int
}

// DefaultMaxEntries is the timeline's default bound: far more than an
// incident writes (the demo's hour is about 200), far less than a flapping
// storm left unread for a month.
const DefaultMaxEntries = 20000

func (o TimelineOptions) window() time.Duration {
	if o.CorrelationWindow <= 0 {
		return sources.DefaultCorrelationWindow
	}
	return o.CorrelationWindow
}

func (o TimelineOptions) maxEntries() int {
	switch {
	case o.MaxEntries < 0:
		return 0
	case o.MaxEntries == 0:
		return DefaultMaxEntries
	}
	return o.MaxEntries
}

// Entry is one line of the timeline.
type Entry struct {
	Time time.Time `json:"time"`
	// Offset is Time minus the first entry's time; Rel says it for people
	// ("+4m12s").
	Offset time.Duration `json:"-"`
	Rel    string        `json:"rel"`
	// Type is "event" (the recorder), "action" (an ops action: intent and
	// outcome in one entry), "runbook" (a run's start, steps and end) or
	// "audit" (an audit record of a phase this version does not know).
	Type   string `json:"type"`
	Kind   string `json:"kind"`   // event kind, action, or phase
	Source string `json:"source"` // the source, the action's target source, "runbook"
	What   string `json:"what"`
	Who    string `json:"who,omitempty"` // the operator, for actions and runs
	// Note is a correlation: which rollout came shortly before this burn or
	// alert started.
	Note string `json:"note,omitempty"`

	Event   *Event         `json:"event,omitempty"`
	Records []*AuditRecord `json:"records,omitempty"` // intent then outcome
}

// Timeline is an incident's events, actions and runbook steps, oldest
// first.
type Timeline struct {
	EventsPath string        `json:"events_path,omitempty"`
	AuditPath  string        `json:"audit_path,omitempty"`
	Since      time.Time     `json:"since,omitzero"`
	Until      time.Time     `json:"until,omitzero"`
	Entries    []Entry       `json:"entries"`
	Damaged    []DamagedLine `json:"damaged,omitempty"`
	// Omitted counts the entries in range left out by MaxEntries (the
	// oldest).
	Omitted int `json:"omitted,omitempty"`
	// Notes say what could not be read at all (a journal that does not
	// exist yet), so an empty timeline is not mistaken for a calm one.
	Notes []string `json:"notes,omitempty"`
}

// Build reads both journals and merges them. A journal that does not exist
// is a note, not an error: the recorder may never have run there.
//
// The journals are read by time: only the part that can hold [Since,
// Until] (and, for correlations, the window before Since) is read, and at
// most MaxEntries lines of each are kept, so memory and time follow the
// range asked for, not the journals' size. Damaged lines in the part read
// are reported; what lies outside it is not read at all.
func Build(o TimelineOptions) (*Timeline, error) {
	var notes []string
	var damage []DamagedLine
	moreDamaged, inRange := 0, 0
	keep := o.maxEntries()
	var events []Event
	if o.EventsPath != "" {
		// Correlations look back from a start inside the range to the
		// rollouts before it.
		sp := span{From: o.Since, To: o.Until, Count: o.Since}
		if !o.Since.IsZero() {
			sp.From = o.Since.Add(-o.window())
		}
		files, err := journalFiles(o.EventsPath, sp.From, sp.To)
		if err != nil {
			return nil, fmt.Errorf("event journal: %w", err)
		}
		r, err := readJournal(files, sp, keep, decodeEvent)
		switch {
		case isNotExist(err):
			notes = append(notes, "no event journal at "+o.EventsPath+": the flight recorder has not run with this config")
		case err != nil:
			return nil, fmt.Errorf("event journal: %w", err)
		}
		events, damage, moreDamaged, inRange = r.kept, append(damage, r.damaged...), moreDamaged+r.moreDamaged, inRange+r.inRange
	}
	var records []AuditRecord
	if o.AuditPath != "" {
		// An action's intent a little before Since still names the
		// outcome inside it; the merge then keeps only what is in range.
		sp := span{From: o.Since, To: o.Until, Count: o.Since}
		r, err := readJournal([]string{o.AuditPath}, sp, keep, decodeAudit)
		switch {
		case isNotExist(err):
			notes = append(notes, "no audit journal at "+o.AuditPath+": no action has been taken with this config")
		case err != nil:
			return nil, fmt.Errorf("audit journal: %w", err)
		}
		records, damage, moreDamaged, inRange = r.kept, append(damage, r.damaged...), moreDamaged+r.moreDamaged, inRange+r.inRange
	}
	t := Merge(events, records, o)
	if keep > 0 && len(t.Entries) > keep {
		t.Entries = t.Entries[len(t.Entries)-keep:]
		rebase(t.Entries)
	}
	// Lines in range minus entries shown: an action's intent and outcome
	// are one entry, so count records, not lines, for what was cut.
	if cut := inRange - lineCount(t.Entries); keep > 0 && cut > 0 {
		t.Omitted = cut
		notes = append(notes, fmt.Sprintf("%d earlier journal records in range not shown: at most %d entries are kept; narrow the range (--since, --until) to see them", cut, keep))
	}
	if moreDamaged > 0 {
		notes = append(notes, fmt.Sprintf("%d more damaged journal lines not listed", moreDamaged))
	}
	t.Damaged, t.Notes = damage, notes
	return t, nil
}

// lineCount is how many journal lines entries stand for.
func lineCount(entries []Entry) int {
	n := 0
	for _, e := range entries {
		if e.Event != nil {
			n++
		}
		n += len(e.Records)
	}
	return n
}

// Merge builds the timeline from events and audit records already read
// (and sanitized: ReadEvents, ReadAudit). Correlations look at every
// rollout event, also those before Since. Entries are sorted by time, file
// order kept for equal times.
func Merge(events []Event, records []AuditRecord, o TimelineOptions) *Timeline {
	t := &Timeline{EventsPath: o.EventsPath, AuditPath: o.AuditPath, Since: o.Since, Until: o.Until}
	rollouts := RolloutsFromEvents(events)
	var all []Entry
	for i := range events {
		all = append(all, eventEntry(&events[i], rollouts, o.CorrelationWindow))
	}
	acts := auditEntries(records)
	noteCauses(all, acts)
	all = append(all, acts...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	for _, e := range all {
		if (!o.Since.IsZero() && e.Time.Before(o.Since)) || (!o.Until.IsZero() && e.Time.After(o.Until)) {
			continue
		}
		t.Entries = append(t.Entries, e)
	}
	rebase(t.Entries)
	return t
}

// rebase sets each entry's offset from the first.
func rebase(entries []Entry) {
	if len(entries) == 0 {
		return
	}
	first := entries[0].Time
	for i := range entries {
		entries[i].Offset = entries[i].Time.Sub(first)
		// Counted between whole seconds, as the times are shown.
		entries[i].Rel = "+" + roundDuration(entries[i].Time.Truncate(time.Second).Sub(first.Truncate(time.Second)))
	}
}

func eventEntry(e *Event, rollouts []sources.Rollout, window time.Duration) Entry {
	en := Entry{Time: e.Time, Type: "event", Kind: string(e.Kind), Source: e.Source, What: e.Summary, Who: e.Actor, Event: e}
	if en.Source == "" {
		en.Source = "recorder"
	}
	var start time.Time
	what := ""
	switch {
	case e.Kind == AlertFiring && e.Count == 0 && sources.CorrelatesAlert(sources.AlertFiring, e.Severity):
		// When the alert says it started, whether the recorder saw it
		// start or found it already firing.
		start, what = e.Since, e.Subject
	case e.Kind == SLOLevelChanged && !e.AtStart && StartsBurn(levelOf(e.From), levelOf(e.To)):
		start, what = e.Time, "burn"
	}
	if c, ok := sources.Correlate(start.UTC(), rollouts, window); ok {
		en.Note = c.Text(what)
	}
	return en
}

// causeWindow is how long after an action on a deployment a new revision
// of it is said to follow from it: the ReplicaSet is made within a second,
// and seen by the next poll.
const causeWindow = 30 * time.Second

// revisionActions are the actions that make a deployment's revision
// change.
var revisionActions = map[string]bool{"undo": true, "restart": true}

// noteCauses names, on a new revision nobody is known to have caused
// (no Actor), the latest undo or restart of that deployment journaled
// done within causeWindow before it: "revision 44 (was 43)" right after
// someone's restart then says whose it was rather than look unexplained.
// An action explains one revision, the first after it.
func noteCauses(events, acts []Entry) {
	used := map[*Entry]bool{}
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return events[order[a]].Time.Before(events[order[b]].Time) })
	for _, i := range order {
		e := events[i].Event
		if e == nil || e.Kind != RolloutRevision || e.Actor != "" || e.AtStart || events[i].Note != "" {
			continue
		}
		var cause *Entry
		for j := range acts {
			a := &acts[j]
			if used[a] || !revisionActions[a.Kind] || a.Time.After(e.Time) || e.Time.Sub(a.Time) > causeWindow || !actionDone(a) ||
				!slices.Contains(a.Records[0].Targets, e.Subject) || (cause != nil && a.Time.Before(cause.Time)) {
				continue
			}
			cause = a
		}
		if cause == nil {
			continue
		}
		used[cause] = true
		who := cause.Who
		if who == "" {
			who = "someone"
		}
		events[i].Note = fmt.Sprintf("%d s after %s by %s", e.Time.Sub(cause.Time).Round(time.Second)/time.Second, cause.Kind, who)
	}
}

// actionDone reports whether an action entry's outcome was journaled ok.
func actionDone(a *Entry) bool {
	for _, r := range a.Records {
		if r.Phase == "outcome" && r.Outcome == "ok" {
			return true
		}
	}
	return false
}

// levelOf reads an SLO level as events write it (SLOLevel.String).
func levelOf(s string) sources.SLOLevel {
	for _, l := range []sources.SLOLevel{sources.SLOOK, sources.SLOTicket, sources.SLOPage} {
		if s == l.String() {
			return l
		}
	}
	return sources.SLOUnknown
}

// auditEntries turns audit records into entries: an action's intent and
// outcome (same plan id) become one entry at the intent's time.
func auditEntries(records []AuditRecord) []Entry {
	var out []Entry
	intents := map[string]int{} // plan id → index in out
	for i := range records {
		r := &records[i]
		switch r.Phase {
		case "intent":
			out = append(out, Entry{Time: r.Time, Type: "action", Kind: r.Action, Source: r.Source, Who: r.Operator,
				What: actionText(r) + ": started, no outcome recorded", Records: []*AuditRecord{r}})
			if r.PlanID != "" {
				intents[r.PlanID] = len(out) - 1
			}
		case "outcome":
			if j, ok := intents[r.PlanID]; ok && r.PlanID != "" {
				// What was asked is the intent's; how it ended, the outcome's.
				out[j].What = actionText(out[j].Records[0]) + ": " + outcomeText(r)
				out[j].Records = append(out[j].Records, r)
				delete(intents, r.PlanID)
				continue
			}
			out = append(out, Entry{Time: r.Time, Type: "action", Kind: r.Action, Source: r.Source, Who: r.Operator,
				What: actionText(r) + ": " + outcomeText(r), Records: []*AuditRecord{r}})
		case "refused":
			what := "refused: " + actionText(r)
			if r.Error != "" {
				what += ": " + r.Error
			}
			out = append(out, Entry{Time: r.Time, Type: "action", Kind: r.Action, Source: r.Source, Who: r.Operator,
				What: what, Records: []*AuditRecord{r}})
		default:
			out = append(out, runOrUnknown(r))
		}
	}
	return out
}

// maxTargetsShown bounds the targets named in one line; the rest are counted.
const maxTargetsShown = 5

func actionText(r *AuditRecord) string {
	s := r.Action
	if s == "" {
		s = "action"
	}
	if n := len(r.Targets); n > 0 {
		shown := r.Targets[:min(n, maxTargetsShown)]
		s += " " + strings.Join(shown, ", ")
		if n > len(shown) {
			s += fmt.Sprintf(" and %d more", n-len(shown))
		}
	}
	if p := r.Params; p != nil {
		switch {
		case p.ToRevision > 0:
			s += fmt.Sprintf(" to revision %d", p.ToRevision)
		case p.Replicas > 0:
			s += fmt.Sprintf(" to %d replicas", p.Replicas)
		case p.Duration > 0:
			s += " for " + roundDuration(p.Duration)
		}
		if p.Comment != "" {
			s += " (" + p.Comment + ")"
		}
	}
	if r.Source != "" {
		s += " on " + r.Source
	}
	return s
}

func outcomeText(r *AuditRecord) string {
	switch r.Outcome {
	case "ok":
		return "done"
	case "partial":
		return "partly failed: " + r.Error
	case "failed":
		return "failed: " + r.Error
	}
	s := r.Outcome
	if s == "" {
		s = "outcome unknown"
	}
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

func runOrUnknown(r *AuditRecord) Entry {
	en := Entry{Time: r.Time, Type: "runbook", Kind: r.Phase, Source: "runbook", Who: r.Operator, Records: []*AuditRecord{r}}
	run := r.Run
	if run == nil || !strings.HasPrefix(r.Phase, "run_") {
		en.Type, en.Source = "audit", r.Source
		if en.Source == "" {
			en.Source = "audit"
		}
		en.What = r.Phase + ": " + genericText(r)
		return en
	}
	name := run.Title
	if name == "" {
		name = run.Runbook
	}
	if name == "" {
		name = run.RunID
	}
	switch r.Phase {
	case "run_start":
		en.What = "runbook " + quote(name) + " started"
		if a := alertText(run.Alert); a != "" {
			en.What += " for " + a
		}
	case "run_step":
		en.What = "runbook " + quote(name) + " step"
		if run.StepIndex != nil {
			en.What += " " + strconv.Itoa(*run.StepIndex+1)
		}
		if run.Step != "" {
			en.What += " " + quote(run.Step)
		}
		if run.Kind != "" {
			en.What += " (" + run.Kind + ")"
		}
		en.What += ": " + orDash(run.Result)
		if run.Reason != "" {
			en.What += " — " + run.Reason
		}
		if v := valuesText(run.Values); v != "" {
			en.What += " [" + v + "]"
		}
	case "run_end":
		en.What = "runbook " + quote(name) + " ended"
		if run.Result != "" {
			en.What += ": " + run.Result
		}
		if run.Reason != "" {
			en.What += " — " + run.Reason
		}
	default:
		en.What = "runbook " + quote(name) + " " + r.Phase + ": " + genericText(r)
	}
	if r.PlanID != "" {
		en.What += " (plan " + r.PlanID + ")"
	}
	en.What = bound(en.What, 2*maxSummary)
	return en
}

// genericText summarizes a record of a phase this version does not know.
func genericText(r *AuditRecord) string {
	var parts []string
	if r.Action != "" || len(r.Targets) > 0 {
		parts = append(parts, actionText(r))
	}
	if r.Outcome != "" {
		parts = append(parts, r.Outcome)
	}
	if r.Error != "" {
		parts = append(parts, r.Error)
	}
	if len(r.Details) > 0 {
		parts = append(parts, strings.Join(r.Details[:min(len(r.Details), 3)], "; "))
	}
	if r.Run != nil {
		for _, s := range []string{r.Run.Title, r.Run.Step, r.Run.Result, r.Run.Reason} {
			if s != "" {
				parts = append(parts, s)
			}
		}
	}
	if len(parts) == 0 {
		return "(no details)"
	}
	return bound(strings.Join(parts, ", "), 2*maxSummary)
}

func quote(s string) string { return "“" + s + "”" }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// alertText names the alert a run was opened for: a JSON string as is, an
// object by its name (name, alertname, Name) or else compactly.
func alertText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		for _, k := range []string{"name", "alertname", "Name"} {
			if v, ok := m[k].(string); ok && v != "" {
				return v
			}
		}
	}
	return bound(string(raw), maxLabelText)
}

// valuesText renders a step's values: a list of lines (what ops.RunRecord
// holds: "connections 92/97 usable (95%)") joined with "; ", an object as
// sorted k=v pairs (values compact JSON unless strings), anything else
// compactly.
func valuesText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var lines []string
	if json.Unmarshal(raw, &lines) == nil {
		return bound(strings.Join(lines, "; "), maxSummary)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return bound(string(raw), maxSummary)
	}
	keys := sortedKeys(m)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := string(m[k])
		var s string
		if json.Unmarshal(m[k], &s) == nil {
			v = s
		}
		parts = append(parts, k+"="+v)
	}
	return bound(strings.Join(parts, ", "), maxSummary)
}

// ParseTime reads a --since/--until value: a duration before now ("2h",
// "90m", "1d12h", "1.5d": the one duration rule) or a time ("2026-03-14T03:00:00Z", "2026-03-14T03:00",
// "2026-03-14 03:00", "2026-03-14"; UTC unless a zone is given). Empty is
// the zero time (no bound).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := duration.Parse(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("want a duration before now (2h, 90m, 1d) or a time (2026-03-14T03:00:00Z)")
}
