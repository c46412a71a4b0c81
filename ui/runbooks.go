package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// The root's side of runbooks and the timeline: the keys that open them,
// starting runs, the answers of the action flow that go back to the run
// that asked, and the queue that writes runs' records in order.

// Messages only this package sends.
type (
	// openDialogMsg opens a dialog a view made (the skip reason).
	openDialogMsg struct{ dialog dialog }
	// startRunMsg starts (or shows the open run of) a runbook, for an
	// alert or none.
	startRunMsg struct {
		book  *runbook.Runbook
		alert *sources.Alert
	}
	// statusMsg puts a line in the status bar.
	statusMsg struct {
		text string
		bad  bool
	}
)

// Fixed view IDs: there is one list and one timeline at a time.
const (
	runbooksViewID = "runbooks"
	timelineViewID = "timeline"
)

// startRunbooks keeps the resumed runs and says the start notices.
func (m *Model) startRunbooks() {
	m.runQueue = &journalQueue{j: m.o.RunJournal}
	m.keepRuns(m.o.Runs)
	if len(m.o.Notices) > 0 {
		m.setStatus(strings.Join(m.o.Notices, "; "), true)
	}
}

// runbookMsg handles the messages only runbooks and their views send, and
// the action flow's answers to a view that asked (see answered).
func (m Model) runbookMsg(msg tea.Msg) (Model, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case PlanMsg:
		// A plan goes on to its confirm dialog, which carries the origin
		// on; only a failure to plan is an answer.
		if msg.Origin != "" && msg.Err != nil {
			plain := msg
			plain.Origin = ""
			return m.answered(msg, plain)
		}
	case CancelledMsg:
		if msg.Origin != "" {
			plain := msg
			plain.Origin = ""
			return m.answered(msg, plain)
		}
	case ResultMsg:
		if msg.Origin != "" {
			plain := msg
			plain.Origin = ""
			return m.answered(msg, plain)
		}
	case openDialogMsg:
		return m.pushDialog(msg.dialog), nil, true
	case startRunMsg:
		mm, cmd := m.startRun(msg)
		return mm, cmd, true
	case statusMsg:
		m.setStatus(msg.text, msg.bad)
		return m, nil, true
	}
	return m, nil, false
}

// answered handles an answer of the action flow as any other (plain, the
// same message without its origin: status bar, refresh, follow) and then
// hands it, origin and all, to the views, so the one that asked learns
// the outcome.
func (m Model) answered(msg, plain tea.Msg) (Model, tea.Cmd, bool) {
	mm, cmd := m.update(plain)
	return mm, tea.Batch(append(mm.toViews(msg), cmd)...), true
}

// recorderErr is the flight recorder's write error for the status bar.
func (m Model) recorderErr() string {
	if m.o.RecorderErr == nil {
		return ""
	}
	if err := m.o.RecorderErr(); err != nil {
		return err.Error()
	}
	return ""
}

// keepRuns keeps a hidden view of every resumed run: it follows the
// snapshots at once, and the runbook list offers it.
func (m *Model) keepRuns(runs []*runbook.Run) {
	for _, r := range runs {
		if r != nil && !r.Ended() {
			m.views = append(m.views, m.newRunView(r))
		}
	}
}

func (m Model) newRunView(r *runbook.Run) *runView {
	return &runView{env: m.env, run: r, canAct: m.o.Executor != nil, journaled: m.o.RunJournal != nil,
		queue: m.runQueue, follow: true, cursor: max(r.Next(), 0), snaps: map[string]sources.Snapshot{}}
}

// openRuns lists the kept views of runs not ended, most recent first.
func (m Model) openRuns() []*runView {
	var out []*runView
	for i := len(m.views) - 1; i >= 0; i-- {
		if rv, ok := m.views[i].(*runView); ok && !rv.run.Ended() {
			out = append(out, rv)
		}
	}
	return out
}

// openRunbooks is the runbook key: over the Alerts pane with an alert
// selected, that alert's runbook (the only match starts or shows its run,
// several are listed to pick from, none says how to add one); anywhere
// else the list of open runs and runbooks.
func (m Model) openRunbooks() (Model, tea.Cmd) {
	var alert *sources.Alert
	if m.shownView() == nil {
		if s, ok := m.panes[m.focus].(AlertSelector); ok {
			alert = s.SelectedAlert()
		}
	}
	if alert == nil {
		return m.showList(newRunList(m.env, nil, m.o.Runbooks.All(), m.openRuns())), nil
	}
	books := m.o.Runbooks.Match(*alert)
	if len(books) == 1 {
		return m.startRun(startRunMsg{book: books[0], alert: alert})
	}
	others := books
	if len(books) == 0 {
		others = m.o.Runbooks.All()
	}
	return m.showList(newRunList(m.env, alert, others, nil).matching(len(books) > 0)), nil
}

// showList replaces the runbook list with l and shows it.
func (m Model) showList(l *runList) Model {
	return m.closeView(runbooksViewID).pushView(l)
}

// startRun shows the open run of the runbook for the same alert, or starts
// one: its start record goes to the journal and it observes the snapshots
// every pane already has.
func (m Model) startRun(msg startRunMsg) (Model, tea.Cmd) {
	m = m.closeView(runbooksViewID)
	for _, rv := range m.openRuns() {
		if rv.run.Runbook().Name == msg.book.Name && sameAlert(rv.run.Alert(), msg.alert) {
			m = m.pushView(rv)
			return m, nil
		}
	}
	now := m.env.Exact()
	r, recs := runbook.Start(msg.book, msg.alert, m.o.Operator, m.env.Policy, now)
	rv := m.newRunView(r)
	m = m.pushView(rv) // feeds it every source's latest snapshot
	rv.say(fmt.Sprintf("started %s", msg.book.Title), false)
	return m, tea.Batch(rv.write(recs), rv.evaluate(now, false))
}

// sameAlert: a run opened by an alert is that alert's (by name and
// labels); one opened from the list matches only another from the list.
func sameAlert(a, b *sources.Alert) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Name != b.Name {
		return false
	}
	// Resumed runs keep only the labels; compare those both have.
	for _, l := range a.Labels {
		if v := b.Label(l.Name); v != "" && v != l.Value {
			return false
		}
	}
	return true
}

// openTimeline is the timeline key: a fresh timeline, built in a Cmd.
func (m Model) openTimeline() (Model, tea.Cmd) {
	if m.o.Timeline == nil {
		m.setStatus("no timeline: this session has no journals to read", true)
		return m, nil
	}
	tv := newTimelineView(m.env)
	m = m.closeView(timelineViewID).pushView(tv)
	build, ctx := m.o.Timeline, m.ctx
	return m, func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		lines, err := build(c)
		return timelineMsg{view: tv, lines: lines, err: err}
	}
}

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
			return statusMsg{text: "runbook journal: " + err.Error(), bad: true}
		}
		return nil
	}
}

// reasonDialog asks why a step is skipped and answers with a skipMsg for
// the run view that asked. A reason is required: the journal keeps it.
type reasonDialog struct {
	env    *kit.Env
	origin string
	step   int
	title  string
	edit   kit.LineEdit
	err    string
	opened time.Time
}

// skipMsg is the reason typed to skip step of the run view whose origin
// prefix is origin.
type skipMsg struct {
	origin string
	step   int
	reason string
}

func (d *reasonDialog) update(msg tea.KeyPressMsg) (dialog, tea.Cmd) {
	k := d.env.Keys
	switch {
	case key.Matches(msg, k.Dialog.Close):
		return nil, nil
	case key.Matches(msg, k.Dialog.Submit):
		if guarded(d.env, d.opened) {
			return d, nil
		}
		reason := strings.TrimSpace(d.edit.Value)
		if reason == "" {
			d.err = "say why: the journal keeps the reason"
			return d, nil
		}
		return nil, send(skipMsg{origin: d.origin, step: d.step, reason: reason})
	}
	d.edit.Handle(msg)
	d.err = ""
	return d, nil
}

func (d *reasonDialog) content() dialogContent {
	th := d.env.Theme
	k := d.env.Keys
	tail := []string{th.Paints.Bold.Render(d.title), "", th.Paints.Accent.Render("> reason: ") + d.edit.View()}
	if d.err != "" {
		tail = append(tail, th.Paints.Error.Render(d.err))
	}
	tail = append(tail, "", th.Paints.Muted.Render(kit.KeyName(k.Dialog.Submit)+" skips · "+kit.KeyName(k.Dialog.Close)+" cancels"))
	return dialogContent{title: "Skip step", tail: tail}
}
