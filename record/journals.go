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

// ReadEvents reads an event journal. Every text field is sanitized and
// bounded: the file is outside input here. A line that is not an event
// (no time or kind) is reported as damaged. A missing file is an error
// satisfying errors.Is(err, fs.ErrNotExist).
func ReadEvents(path string) ([]Event, []DamagedLine, error) {
	var out []Event
	ds, err := jsonl.Read(path, func(_ int, raw []byte) error {
		var e Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		if e.Time.IsZero() || e.Kind == "" {
			return errors.New("not an event: no time or kind")
		}
		out = append(out, cleanEvent(e))
		return nil
	})
	return out, damaged(path, ds), err
}

// ReadAudit reads an audit journal (ops records and runbook runs), text
// sanitized and bounded. A line without time or phase is reported as
// damaged.
func ReadAudit(path string) ([]AuditRecord, []DamagedLine, error) {
	var out []AuditRecord
	ds, err := jsonl.Read(path, func(_ int, raw []byte) error {
		var r AuditRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if r.Time.IsZero() || r.Phase == "" {
			return errors.New("not an audit record: no time or phase")
		}
		out = append(out, cleanRecord(r))
		return nil
	})
	return out, damaged(path, ds), err
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
