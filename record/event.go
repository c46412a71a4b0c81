// Package record is flightdeck's flight recorder and incident timeline.
//
// The recorder subscribes to the Hub and writes state changes, not samples,
// to an event journal beside the audit journal: an alert firing, resolving
// or being silenced, an SLO changing level, a new rollout revision, a root
// blocker appearing in Postgres, connections crossing 80% of usable, a
// source going down and coming back. Change detection is two pure functions
// (Advance folds snapshots into a State, Detect diffs two States), so every
// rule is a table test.
//
// The timeline merges those events with the audit journal's actions and
// runbook runs into Markdown for a postmortem, or JSON; sources.Correlate says which
// rollout happened shortly before a burn or an alert started.
//
// Everything is bounded by what is asked, not by what is on disk: journals
// are read by time (scan.go) and a timeline keeps at most MaxEntries; the
// sessions of a world share loaded timelines (cache.go); the event journal
// is rotated and pruned (rotate.go); a flapping subject is counted, not
// written change by change (flap.go); and one process writes a journal at
// a time (lock.go). The recorder is the one source of when a burn started
// and of which alerts are tied to a rollout (StartsBurn, sources.CorrelatesAlert,
// Recorder.BurnStart): every session's panes ask it.
//
// record imports sources for its types only: it never talks to a backend,
// and it reads the audit journal generically so it does not import ops.
package record

import (
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"flightdeck/internal/sanitize"
)

// EventKind names a kind of state change.
type EventKind string

// The state changes the recorder writes.
const (
	// RecorderStarted and RecorderStopped bracket what was recorded: nothing
	// outside them was seen.
	RecorderStarted EventKind = "recorder_started"
	RecorderStopped EventKind = "recorder_stopped"

	SourceDown EventKind = "source_down" // the latest fetch failed
	SourceUp   EventKind = "source_up"   // a fetch succeeded again

	AlertFiring     EventKind = "alert_firing"
	AlertResolved   EventKind = "alert_resolved"
	AlertSilenced   EventKind = "alert_silenced"
	AlertUnsilenced EventKind = "alert_unsilenced"

	SLOLevelChanged EventKind = "slo_level" // From and To are ok, ticket, page

	RolloutRevision EventKind = "rollout_revision" // a deployment's current revision changed
	RolloutState    EventKind = "rollout_state"    // complete, stalled, paused (progressing only at start)

	BlockerAppeared EventKind = "pg_blocker"
	BlockerCleared  EventKind = "pg_blocker_cleared"

	ConnectionsHigh   EventKind = "pg_connections_high"   // crossed the high mark of usable
	ConnectionsNormal EventKind = "pg_connections_normal" // back under the low mark

	// EventsDropped says how many events could not be written (a full or
	// failing disk); the gap is visible instead of silent.
	EventsDropped EventKind = "events_dropped"

	// ScriptRestarted says a scripted world (the demo) started its
	// incident over by itself; Count is the run it began (2 after the
	// first restart). The changes the restart made carry Actor "demo".
	ScriptRestarted EventKind = "script_restarted"
)

// ActorScript is the Actor of what a scripted world (the demo) did by
// itself rather than anyone at a cockpit.
const ActorScript = "demo"

// Event is one line of the event journal. Text fields hold text that was
// sanitized by the backend at ingestion and bounded here; readers sanitize
// again because the file is outside input to them.
type Event struct {
	// Time is when the recorder saw the change: the fetch time of the
	// snapshot that showed it (an error's time for SourceDown).
	Time   time.Time `json:"time"`
	Kind   EventKind `json:"kind"`
	Source string    `json:"source,omitempty"` // the Hub source name: "am", "pg main"
	// Subject is what changed, for people: an alert name, an SLO name, a
	// deployment's namespace/name, "pid 4711".
	Subject string `json:"subject,omitempty"`
	// ID pins Subject down where a name is not unique: an alert's label
	// fingerprint, a backend's pid@backend_start.
	ID      string `json:"id,omitempty"`
	Summary string `json:"summary"`
	// AtStart marks a condition that already held when the source was first
	// seen (the recorder started, or the source answered for the first
	// time): when it began is not known, only that it was there.
	AtStart bool `json:"at_start,omitempty"`
	// Since is when the subject's condition began, as the source tells it:
	// an alert's StartsAt, a deployment's RolledOutAt, when a blocker was
	// first seen, when a source went down.
	Since time.Time `json:"since,omitzero"`

	From string `json:"from,omitempty"` // previous level or state
	To   string `json:"to,omitempty"`   // new level or state

	Severity string            `json:"severity,omitempty"` // alerts
	Labels   map[string]string `json:"labels,omitempty"`   // alerts, bounded

	// Burn maps a window ("5m", "1h") to the burn rate over it; unknown
	// windows are left out (JSON has no NaN).
	Burn map[string]float64 `json:"burn,omitempty"`

	Revision     int64    `json:"revision,omitempty"`
	PrevRevision int64    `json:"prev_revision,omitempty"`
	Images       []string `json:"images,omitempty"`

	PID     int32 `json:"pid,omitempty"`
	Waiters int   `json:"waiters,omitempty"`
	Used    int   `json:"used,omitempty"`   // connections holding a slot
	Usable  int   `json:"usable,omitempty"` // max_connections - reserved

	Error string `json:"error,omitempty"` // SourceDown
	Count int    `json:"count,omitempty"` // EventsDropped, capped alert storms, Flapping, ScriptRestarted

	// Actor is who caused the change when the recorder knows it:
	// ActorScript for a scripted world's restart and what it undid; empty
	// for what a backend reported (who acted is in the audit journal).
	Actor string `json:"actor,omitempty"`

	// Instance names the recorder that wrote RecorderStarted and
	// RecorderStopped: two cockpits that recorded to one file one after
	// the other are told apart.
	Instance string `json:"instance,omitempty"`
}

// EventsPath is the event journal that goes with an audit journal: the same
// directory, "audit" in the file name replaced by "events" (audit.jsonl →
// events.jsonl, audit-demo.jsonl → events-demo.jsonl), or ".events" added
// before the extension for any other name.
func EventsPath(auditPath string) string {
	dir, base := filepath.Split(auditPath)
	if rest, ok := strings.CutPrefix(base, "audit"); ok {
		return filepath.Join(dir, "events"+rest)
	}
	ext := filepath.Ext(base)
	return filepath.Join(dir, strings.TrimSuffix(base, ext)+".events"+ext)
}

// Bounds on text kept in an event.
const (
	maxSummary    = 300
	maxLabels     = 16
	maxLabelText  = 120
	maxImages     = 4
	maxAlertBatch = 50 // alert events per source per snapshot; the rest are counted
)

// bound truncates s to at most n runes, marking the cut with an ellipsis.
func bound(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i] + "…"
}

// clean is what a reader does to text from a journal file: sanitize (the
// file may have been edited or written by another version) and bound.
func clean(s string, n int) string { return bound(sanitize.Text(s), n) }
