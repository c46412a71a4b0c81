package ops

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"
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
}

// Journal is the append-only audit log: one JSON object per line, each line
// written with a single write and fsynced before Append returns, so an intent
// survives a crash before its outcome.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// OpenJournal opens (creating as needed, with its directory) the journal at path.
func OpenJournal(path string) (*Journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	return &Journal{f: f, path: path}, nil
}

// Path is where the journal lives.
func (j *Journal) Path() string { return j.path }

// Append writes rec as one line and syncs it to disk.
func (j *Journal) Append(rec Record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return fmt.Errorf("audit journal %s is closed", j.path)
	}
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("audit journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("audit journal %s: %w", j.path, err)
	}
	return nil
}

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// ReadJournal reads every complete record of a journal file; a torn last line
// (a crash mid-write) is skipped.
func ReadJournal(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Record
	for len(data) > 0 {
		i := 0
		for i < len(data) && data[i] != '\n' {
			i++
		}
		line := data[:i]
		if i < len(data) {
			data = data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			continue
		}
		out = append(out, r)
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
