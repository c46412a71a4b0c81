package record

import (
	"encoding/json"
	"errors"
	"io/fs"
	"time"

	"flightdeck/internal/jsonl"
)

// AuditRecord is one line of the audit journal, decoded generically: the
// ops journal's fields (intent, outcome and refused records) plus the
// runbook runs' "run" object. record reads the file itself rather than
// import ops; the field names are the contract.
type AuditRecord struct {
	Time        time.Time    `json:"time"`
	Phase       string       `json:"phase"` // intent, outcome, refused, run_start, run_step, run_end, ...
	PlanID      string       `json:"plan_id,omitempty"`
	Operator    string       `json:"operator,omitempty"`
	Environment string       `json:"environment,omitempty"`
	Action      string       `json:"action,omitempty"`
	Source      string       `json:"source,omitempty"`
	Targets     []string     `json:"targets,omitempty"`
	Params      *AuditParams `json:"params,omitempty"`
	Outcome     string       `json:"outcome,omitempty"`
	Error       string       `json:"error,omitempty"`
	Details     []string     `json:"details,omitempty"`
	Run         *RunRecord   `json:"run,omitempty"`
}

// AuditParams are the action parameters worth a word in the timeline.
type AuditParams struct {
	ToRevision int64         `json:"to_revision,omitempty"`
	Replicas   int32         `json:"replicas,omitempty"`
	Duration   time.Duration `json:"duration,omitempty"`
	Comment    string        `json:"comment,omitempty"`
}

// RunRecord is the "run" object of a runbook record. Values and Alert are
// kept as raw JSON: they are shown, never interpreted.
type RunRecord struct {
	RunID     string          `json:"run_id,omitempty"`
	Runbook   string          `json:"runbook,omitempty"`
	Title     string          `json:"title,omitempty"`
	Step      string          `json:"step,omitempty"`
	StepIndex *int            `json:"step_index,omitempty"` // 0-based
	Kind      string          `json:"kind,omitempty"`
	Result    string          `json:"result,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Values    json.RawMessage `json:"values,omitempty"`
	Alert     json.RawMessage `json:"alert,omitempty"`
}

// DamagedLine is a journal line that could not be used; the timeline shows
// it instead of skipping it.
type DamagedLine struct {
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Offset int64  `json:"offset"`
	Text   string `json:"text"` // an excerpt, sanitized
	Err    string `json:"error"`
}

func damaged(path string, ds []jsonl.Damage) []DamagedLine {
	out := make([]DamagedLine, 0, len(ds))
	for _, d := range ds {
		why := "unreadable"
		if d.Err != nil {
			why = d.Err.Error()
		}
		out = append(out, DamagedLine{Path: path, Line: d.Line, Offset: d.Offset, Text: clean(d.Text, 120), Err: clean(why, maxSummary)})
	}
	return out
}

// ReadEvents reads one event journal file whole. Every text field is
// sanitized and bounded: the file is outside input here. A line that is
// not an event (no time or kind) is reported as damaged. A missing file is
// an error satisfying errors.Is(err, fs.ErrNotExist). The timeline reads by
// time instead (Build), rotated files included.
func ReadEvents(path string) ([]Event, []DamagedLine, error) {
	r, err := readJournal([]string{path}, span{}, 0, decodeEvent)
	return r.kept, r.damaged, err
}

// ReadAudit reads an audit journal file whole (ops records and runbook
// runs), text sanitized and bounded. A line without time or phase is
// reported as damaged.
func ReadAudit(path string) ([]AuditRecord, []DamagedLine, error) {
	r, err := readJournal([]string{path}, span{}, 0, decodeAudit)
	return r.kept, r.damaged, err
}

func decodeEvent(raw []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, err
	}
	if e.Time.IsZero() || e.Kind == "" {
		return e, errors.New("not an event: no time or kind")
	}
	return cleanEvent(e), nil
}

func decodeAudit(raw []byte) (AuditRecord, error) {
	var r AuditRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, err
	}
	if r.Time.IsZero() || r.Phase == "" {
		return r, errors.New("not an audit record: no time or phase")
	}
	return cleanRecord(r), nil
}

// span is a time range read from a journal: lines in [From, To] (zero:
// open) are read; those from Count on are counted as in range.
type span struct {
	From, To, Count time.Time
}

// readResult is what readJournal kept, and what it saw besides.
type readResult[T any] struct {
	kept []T
	// inRange counts the well-formed lines from span.Count on, kept or not.
	inRange     int
	damaged     []DamagedLine
	moreDamaged int
}

// heldLine is a line kept raw until the read ends: only the newest are
// decoded, so a read's memory follows what it keeps, not what it passes.
type heldLine struct {
	path   string
	raw    []byte
	line   int
	offset int64
	// counted: in range (span.Count on), so a decode failure uncounts it.
	counted bool
}

// readJournal reads the lines of files (oldest first) in sp, keeping the
// newest keep of them (0: all), decoded. The files are read by time
// (scanRange): the cost follows the span, not the files' size. A file
// that does not exist is skipped unless it is the only one.
func readJournal[T any](files []string, sp span, keep int, decode func([]byte) (T, error)) (readResult[T], error) {
	var res readResult[T]
	var held []heldLine
	first := 0 // held is a ring once full: held[first] is the oldest
	for _, path := range files {
		sr, err := scanRange(path, sp.From, sp.To, func(l scanLine) error {
			h := heldLine{path: path, line: l.Line, offset: l.Offset}
			if sp.Count.IsZero() || !l.At.Before(sp.Count) {
				res.inRange++
				h.counted = true
			}
			if keep > 0 && len(held) == keep {
				h.raw = append(held[first].raw[:0], l.Raw...)
				held[first] = h
				first = (first + 1) % keep
				return nil
			}
			h.raw = append([]byte(nil), l.Raw...)
			held = append(held, h)
			return nil
		})
		if err != nil {
			if isNotExist(err) && len(files) > 1 {
				continue // rotated away or pruned while listed
			}
			return res, err
		}
		res.damaged = append(res.damaged, damaged(path, sr.Damage)...)
		res.moreDamaged += sr.MoreDamaged
	}
	if over := len(res.damaged) - maxDamaged; over > 0 {
		res.damaged, res.moreDamaged = res.damaged[:maxDamaged], res.moreDamaged+over
	}
	held = append(held[first:], held[:first]...)
	res.kept = make([]T, 0, len(held))
	for _, h := range held {
		v, err := decode(h.raw)
		if err != nil {
			res.damaged = append(res.damaged, damaged(h.path, []jsonl.Damage{{Line: h.line, Offset: h.offset, Text: jsonl.Excerpt(h.raw), Err: err}})...)
			if h.counted {
				res.inRange--
			}
			continue
		}
		res.kept = append(res.kept, v)
	}
	return res, nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func cleanEvent(e Event) Event {
	e.Kind = EventKind(clean(string(e.Kind), 40))
	e.Source = clean(e.Source, maxLabelText)
	e.Subject = clean(e.Subject, maxLabelText)
	e.ID = clean(e.ID, maxLabelText)
	e.Summary = clean(e.Summary, maxSummary)
	e.From, e.To = clean(e.From, 40), clean(e.To, 40)
	e.Severity = clean(e.Severity, 40)
	e.Error = clean(e.Error, maxSummary)
	e.Actor = clean(e.Actor, maxLabelText)
	if e.Labels != nil {
		ls := make(map[string]string, min(len(e.Labels), maxLabels))
		for _, k := range sortedKeys(e.Labels) {
			if len(ls) == maxLabels {
				break
			}
			ls[clean(k, maxLabelText)] = clean(e.Labels[k], maxLabelText)
		}
		e.Labels = ls
	}
	e.Images = cleanList(e.Images, maxImages)
	return e
}

func cleanRecord(r AuditRecord) AuditRecord {
	r.Phase = clean(r.Phase, 40)
	r.PlanID = clean(r.PlanID, maxLabelText)
	r.Operator = clean(r.Operator, maxLabelText)
	r.Environment = clean(r.Environment, maxLabelText)
	r.Action = clean(r.Action, 40)
	r.Source = clean(r.Source, maxLabelText)
	r.Targets = cleanList(r.Targets, 1000)
	r.Outcome = clean(r.Outcome, 40)
	r.Error = clean(r.Error, maxSummary)
	r.Details = cleanList(r.Details, 50)
	if r.Params != nil {
		p := *r.Params
		p.Comment = clean(p.Comment, maxLabelText)
		r.Params = &p
	}
	if r.Run != nil {
		run := *r.Run
		run.RunID, run.Runbook = clean(run.RunID, maxLabelText), clean(run.Runbook, maxLabelText)
		run.Title, run.Step = clean(run.Title, maxLabelText), clean(run.Step, maxLabelText)
		run.Kind, run.Result = clean(run.Kind, 40), clean(run.Result, 40)
		run.Reason = clean(run.Reason, maxSummary)
		run.Values, run.Alert = cleanRaw(run.Values), cleanRaw(run.Alert)
		r.Run = &run
	}
	return r
}

func cleanList(ss []string, n int) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, 0, min(len(ss), n))
	for _, s := range ss[:min(len(ss), n)] {
		out = append(out, clean(s, maxLabelText))
	}
	return out
}

// maxRaw bounds a raw JSON value kept from a journal line.
const maxRaw = 2000

// cleanRaw sanitizes every string (and key) inside a raw JSON value and
// bounds it: too big, it becomes a string holding its start.
func cleanRaw(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	out, err := json.Marshal(cleanValue(v, 0))
	if err != nil {
		return nil
	}
	if len(out) > maxRaw {
		out, _ = json.Marshal(bound(string(out), maxRaw/2))
	}
	return out
}

func cleanValue(v any, depth int) any {
	if depth > 8 {
		return "…"
	}
	switch x := v.(type) {
	case string:
		return clean(x, maxSummary)
	case []any:
		for i := range x {
			x[i] = cleanValue(x[i], depth+1)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[clean(k, maxLabelText)] = cleanValue(e, depth+1)
		}
		return out
	}
	return v
}
