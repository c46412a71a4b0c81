package ops

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"flightdeck/internal/jsonl"
)

// Record is one line of the audit journal.
type Record struct {
	Time        time.Time `json:"time"`
	Phase       string    `json:"phase"` // intent, outcome, refused
	PlanID      string    `json:"plan_id"`
	PlanHash    string    `json:"plan_hash,omitempty"`
	Operator    string    `json:"operator"`
	Environment string    `json:"environment,omitempty"`
	Action      Kind      `json:"action"`
	Source      string    `json:"source,omitempty"`
	Targets     []string  `json:"targets,omitempty"`
	Params      *Params   `json:"params,omitempty"`
	Outcome     string    `json:"outcome,omitempty"` // ok, partial, failed, refused
	Error       string    `json:"error,omitempty"`
	Details     []string  `json:"details,omitempty"`
	// Run is set on the records of a runbook run (phases run_start,
	// run_step, run_end); see RunRecord.
	Run *RunRecord `json:"run,omitempty"`
	// CoSign is set on the records of the two-person rule (phases
	// cosign_request, cosign_withdrawn, cosign_expired, and the intent
	// and refusals of a co-signed plan).
	CoSign *CoSignRecord `json:"cosign,omitempty"`
	// Signers are both people who confirmed a co-signed plan, requester
	// first, in its intent.
	Signers []Signer `json:"signers,omitempty"`
	// BreakGlass is the typed reason of a session started with
	// --break-glass, on the intent of a plan it ran without a co-signer
	// and on its break_glass record.
	BreakGlass string `json:"break_glass,omitempty"`
	// Session is set on the records of incident roles and notes (phases
	// commander, note, break_glass): who, and what they said.
	Session *SessionRecord `json:"session,omitempty"`
}

// SessionRecord is what the journal says of a session's own act that is
// not an action: taking or handing over the commander role, a note on the
// timeline, starting with break-glass.
type SessionRecord struct {
	Who  Signer `json:"who"`
	Text string `json:"text,omitempty"`
	// To is whom a commander handed over to.
	To string `json:"to,omitempty"`
}

// Journal is the append-only audit log: one JSON object per line, each line
// written with a single write and fsynced before Append returns, so an intent
// survives a crash before its outcome. A failed or short write (a full disk)
// is cut back before Append returns and a torn tail is repaired before the
// next append (internal/jsonl), so one failure never corrupts the next
// record.
type Journal struct {
	w *jsonl.Writer

	mu       sync.Mutex
	watchers []func(Record)
}

// Watch calls fn with every record appended from now on, after it is on
// disk, from the appending goroutine: fn must not block (notify's
// Notifier.Notify queues). It is how notifications follow what the
// journal says happened, one rule for every kind of record.
func (j *Journal) Watch(fn func(Record)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.watchers = append(j.watchers, fn)
}

// OpenJournal opens (creating as needed, with its directory) the journal at
// path, repairing a torn last line left by a crash.
func OpenJournal(path string) (*Journal, error) {
	w, err := jsonl.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	return &Journal{w: w}, nil
}

// Path is where the journal lives.
func (j *Journal) Path() string { return j.w.Path() }

// Repairs are the repairs made to the journal's tail since it opened (a
// complete record given its newline, or torn bytes moved to a side file),
// for the caller to log and show: see jsonl.Repair.
func (j *Journal) Repairs() []jsonl.Repair { return j.w.Repairs() }

// Append writes rec as one line and syncs it to disk.
func (j *Journal) Append(rec Record) error {
	if err := j.w.Append(rec); err != nil {
		if errors.Is(err, jsonl.ErrClosed) {
			return fmt.Errorf("audit journal %s is closed", j.w.Path())
		}
		return fmt.Errorf("audit journal %s: %w", j.w.Path(), err)
	}
	j.mu.Lock()
	watchers := j.watchers
	j.mu.Unlock()
	for _, fn := range watchers {
		fn(rec)
	}
	return nil
}

// Close closes the file.
func (j *Journal) Close() error { return j.w.Close() }

// DamageError is what ReadJournal returns, alongside every record it could
// read, when lines of the journal could not be decoded: a damaged record is
// reported, never silently dropped.
type DamageError struct {
	Path  string
	Lines []jsonl.Damage
}

func (e *DamageError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, d := range e.Lines {
		parts[i] = d.String()
	}
	return fmt.Sprintf("audit journal %s: %d damaged line(s): %s", e.Path, len(e.Lines), strings.Join(parts, "; "))
}

// ReadJournal reads every record of a journal file. When some lines cannot
// be decoded (a torn last line from a crash, records glued together, a line
// that is not a record) it returns the records it could read and a
// *DamageError naming each damaged line.
func ReadJournal(path string) ([]Record, error) {
	var out []Record
	damage, err := jsonl.Read(path, func(_ int, raw []byte) error {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return out, err
	}
	if len(damage) > 0 {
		return out, &DamageError{Path: path, Lines: damage}
	}
	return out, nil
}

// LocalOperator is user@host of the person at this terminal.
func LocalOperator() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}
