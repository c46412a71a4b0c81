// Package runbooks is the cockpit's runbook feature: the runbook key, the
// list of open runs and runbooks it shows, and the run view that walks one
// run's steps. A run view feeds its run every snapshot, sends its action
// steps' requests into the root's one plan → confirm → execute flow
// (their Origin is the step), learns each outcome from the flow's
// answers, and writes the run's records, in order, through a queue onto
// the session's journal. The root knows none of it: Feature is a
// kit.Feature, and the views are kit.Views.
package runbooks

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// Options are a session's runbooks.
type Options struct {
	// Set is what the runbook key opens (nil: none loaded).
	Set *runbook.Set
	// Runs are open runs to continue, resumed from the audit journal.
	Runs []*runbook.Run
	// Journal is where runs' records go (the world's audit journal); nil
	// in a read-only session, whose runs are followed, not recorded.
	Journal runbook.Recorder
}

// AlertSelector is a pane with an alert under its cursor: the runbook key
// opens that alert's runbook. SelectedAlert is nil when no alert is
// selected (the silences list, no data).
type AlertSelector interface {
	SelectedAlert() *sources.Alert
}

// listViewID is the runbook list's: there is one list at a time.
const listViewID = "runbooks"

// startRunMsg starts (or shows the open run of) a runbook, for an alert
// or none: the list's answer.
type startRunMsg struct {
	book  *runbook.Runbook
	alert *sources.Alert
}

// Feature is the runbook key and the runs it starts.
type Feature struct {
	env      *kit.Env
	o        Options
	operator string
	// canAct: the session has an Executor. Without one an action step is
	// refused, as every action is in a read-only session.
	canAct bool
	// queue writes runs' records in order (shared by every run view).
	queue *journalQueue
	// shared are the runs open in other sessions (nil on its own).
	shared kit.SharedRuns
}

// New is the runbook feature of a session: operator starts its runs,
// canAct says whether the session may act, and shared (nil for a cockpit
// on its own) lists the runs open in the other sessions.
func New(env *kit.Env, o Options, operator string, canAct bool, shared kit.SharedRuns) *Feature {
	return &Feature{env: env, o: o, operator: operator, canAct: canAct, queue: &journalQueue{j: o.Journal}, shared: shared}
}

// others are the runs open in other sessions.
func (f *Feature) others() []kit.SharedRun {
	if f.shared == nil {
		return nil
	}
	return f.shared.SharedRuns()
}

// Start keeps a hidden view of every resumed run: it follows the
// snapshots at once, and the runbook list offers it.
func (f *Feature) Start(s kit.Screen) {
	for _, r := range f.o.Runs {
		if r != nil && !r.Ended() {
			s.Keep(f.newRunView(r))
		}
	}
}

// Key answers the runbook key.
func (f *Feature) Key(s kit.Screen, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if !key.Matches(msg, f.env.Keys.Global.Runbook) {
		return nil, false
	}
	return f.open(s), true
}

// Update starts the run the list picked.
func (f *Feature) Update(s kit.Screen, msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(startRunMsg); ok {
		return f.startRun(s, msg)
	}
	return nil
}

func (f *Feature) newRunView(r *runbook.Run) *RunView {
	return &RunView{env: f.env, run: r, canAct: f.canAct, queue: f.queue, tracking: true,
		cursor: max(r.Next(), 0), snaps: map[string]sources.Snapshot{}}
}

// openRuns lists the kept views of runs not ended, most recent first.
func openRuns(s kit.Screen) []*RunView {
	vs := s.Views()
	var out []*RunView
	for i := len(vs) - 1; i >= 0; i-- {
		if rv, ok := vs[i].(*RunView); ok && !rv.run.Ended() {
			out = append(out, rv)
		}
	}
	return out
}

// doneRuns lists the kept views of runs that ended, most recent first.
func doneRuns(s kit.Screen) []*RunView {
	vs := s.Views()
	var out []*RunView
	for i := len(vs) - 1; i >= 0; i-- {
		if rv, ok := vs[i].(*RunView); ok && rv.run.Ended() {
			if _, ok := rv.Completed(); ok {
				out = append(out, rv)
			}
		}
	}
	return out
}

// open is the runbook key: over the Alerts pane with an alert selected,
// that alert's runbook (the only match starts or shows its run, several
// are listed to pick from, none says how to add one); anywhere else the
// list of open runs and runbooks.
func (f *Feature) open(s kit.Screen) tea.Cmd {
	var alert *sources.Alert
	if s.Shown() == nil {
		if sel, ok := s.Pane().(AlertSelector); ok {
			alert = sel.SelectedAlert()
		}
	}
	if alert == nil {
		showList(s, newRunList(f.env, nil, f.o.Set.All(), openRuns(s)).withDone(doneRuns(s)).withOthers(f.others()))
		return nil
	}
	books := f.o.Set.Match(*alert)
	if len(books) == 1 {
		return f.startRun(s, startRunMsg{book: books[0], alert: alert})
	}
	others := books
	if len(books) == 0 {
		others = f.o.Set.All()
	}
	showList(s, newRunList(f.env, alert, others, nil).matching(len(books) > 0))
	return nil
}

// showList replaces the runbook list with l and shows it.
func showList(s kit.Screen, l *runList) {
	s.Close(listViewID)
	s.Push(l)
}

// startRun shows the open run of the runbook for the same alert, or starts
// one: its start record goes to the journal and it observes the snapshots
// every pane already has.
func (f *Feature) startRun(s kit.Screen, msg startRunMsg) tea.Cmd {
	s.Close(listViewID)
	for _, rv := range openRuns(s) {
		if rv.run.Runbook().Name == msg.book.Name && sameAlert(rv.run.Alert(), msg.alert) {
			s.Push(rv)
			return nil
		}
	}
	now := f.env.Exact()
	r, recs := runbook.Start(msg.book, msg.alert, f.operator, f.env.Policy, now)
	rv := f.newRunView(r)
	s.Push(rv) // feeds it every source's latest snapshot
	rv.say(fmt.Sprintf("started %s", msg.book.Title), false)
	return tea.Batch(rv.write(recs), rv.evaluate(now, false))
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
