package runbooks

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/ui/kit"
)

// maxQueued bounds the run records held while the journal cannot be
// written; beyond it the oldest are dropped and said so.
const maxQueued = 1000

// journalQueue writes runs' records to the journal in the order Update
// made them: Update only queues (no I/O), and each flush, in a Cmd, drains
// the queue under one lock, so two flushes never interleave or reorder.
type journalQueue struct {
	j       runbook.Recorder
	mu      sync.Mutex // guards pending and dropped
	pending []ops.Record
	dropped int
	writeMu sync.Mutex // one flush at a time
}

// add queues records; it does no I/O.
func (q *journalQueue) add(recs []ops.Record) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, recs...)
	if over := len(q.pending) - maxQueued; over > 0 {
		q.pending = slices.Delete(q.pending, 0, over)
		q.dropped += over
	}
}

// flush writes what is queued, oldest first. A record that fails stays
// at the head for the next flush.
func (q *journalQueue) flush() error {
	q.writeMu.Lock()
	defer q.writeMu.Unlock()
	var errs []error
	q.mu.Lock()
	if q.dropped > 0 {
		errs = append(errs, fmt.Errorf("%d run records were dropped while the journal failed", q.dropped))
		q.dropped = 0
	}
	q.mu.Unlock()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.mu.Unlock()
			return errors.Join(errs...)
		}
		rec := q.pending[0]
		q.mu.Unlock()
		if err := q.j.Append(rec); err != nil {
			return errors.Join(append(errs, err)...)
		}
		q.mu.Lock()
		q.pending = q.pending[1:]
		q.mu.Unlock()
	}
}

// writeCmd queues recs and returns the Cmd that writes them; nil when
// there is nothing to write or nowhere to write it (read-only).
func (q *journalQueue) writeCmd(recs []ops.Record) tea.Cmd {
	if q == nil || q.j == nil || len(recs) == 0 {
		return nil
	}
	q.add(recs)
	return func() tea.Msg {
		if err := q.flush(); err != nil {
			return kit.StatusMsg{Text: "runbook journal: " + err.Error(), Bad: true}
		}
		return nil
	}
}
