package runbooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// RunView is one runbook run on screen: every step with its live state,
// the next one highlighted. It feeds the run the latest snapshot of every
// source, runs the selected step on enter (a view step focuses its pane, an
// action step sends its request into the one plan → confirm → execute flow
// and learns the outcome from the flow's answers, a note is acknowledged),
// skips with a reason, and writes the run's records through the session's
// journal queue. The run itself (runbook.Run) is a pure state machine; this
// view only calls it from Update.
type RunView struct {
	env *kit.Env
	run *runbook.Run
	// canAct: the session has an Executor. Without one an action step is
	// refused, as every action is in a read-only session.
	canAct bool
	queue  *journalQueue

	// snaps are the latest snapshot of every source, in first-seen order;
	// dirty says they changed since the run last observed them.
	snaps map[string]sources.Snapshot
	order []string
	dirty bool
	// inflight counts evaluations handed to a Cmd and not yet applied: a
	// tick does not start another while one runs (runbook.Evaluation).
	inflight int

	// cursor is the selected step; tracking keeps it on the next step.
	cursor   int
	tracking bool
	msg      string
	msgBad   bool

	// ended is the run's end as its run_end record said: when, how
	// ("completed", "abandoned") and the count of steps by state.
	ended struct {
		at     time.Time
		result string
		counts []string
	}

	cache kit.Cache
	w, h  int
}

// ID is "runbook:" and the run's journal ID: one view per run.
func (v *RunView) ID() string { return "runbook:" + v.run.ID() }

// Title names the view in help.
func (v *RunView) Title() string { return "Runbook " + v.run.Runbook().Title }

// CapturesKeys: the view types no text (the skip reason is a dialog).
func (v *RunView) CapturesKeys() bool { return false }

// stepOrigin is the Origin of a step's request: the run and the step.
type stepOrigin struct {
	run  string
	step int
}

// origin is what step i's request carries through the flow.
func (v *RunView) origin(i int) stepOrigin { return stepOrigin{run: v.run.ID(), step: i} }

// stepOf reads the step back from an answer's origin; ok is false for an
// answer to someone else.
func (v *RunView) stepOf(o kit.Origin) (int, bool) {
	so, ok := o.(stepOrigin)
	if !ok || so.run != v.run.ID() {
		return 0, false
	}
	return so.step, true
}

// OpenRun is the run as one line for the others sharing the world
// ("High Error Rate · for HighErrorRate · 3/10 steps done · next: 4. …"),
// "" once it ended.
func (v *RunView) OpenRun() string {
	r := v.run
	if r.Ended() {
		return ""
	}
	s := r.Runbook().Title
	if a := r.Alert(); a != nil {
		s += " · for " + a.Name
	}
	done := 0
	steps := v.run.Steps(v.env.Now())
	for _, st := range steps {
		if st.State.Finished() {
			done++
		}
	}
	s += fmt.Sprintf(" · %d/%d steps done", done, len(steps))
	if i := r.Next(); i >= 0 {
		s += fmt.Sprintf(" · next: %d. %s", i+1, r.Runbook().Steps[i].Title)
	}
	return s
}

// Run is the run the view walks.
func (v *RunView) Run() *runbook.Run { return v.run }

// Cursor is the selected step's index.
func (v *RunView) Cursor() int { return v.cursor }

// Said is the view's last message to the operator.
func (v *RunView) Said() string { return v.msg }

// SetSnapshot keeps s as its source's latest; the run observes them all
// once the batch is complete (SnapshotsMsg) or on the next tick.
func (v *RunView) SetSnapshot(s sources.Snapshot) {
	if _, ok := v.snaps[s.Source]; !ok {
		v.order = append(v.order, s.Source)
	}
	v.snaps[s.Source] = s
	v.dirty = true
	v.cache.Touch()
}

// evaluatedMsg brings back an evaluation made off the UI goroutine.
type evaluatedMsg struct {
	view *RunView
	obs  *runbook.Observation
}

// evaluate hands the run's expressions, over every source's latest
// snapshot, to a Cmd: an expression costs at most its budget, and never
// the UI's time (Prepare copies what Evaluate reads; Apply, back in
// Update, takes the result). A tick starts none while one is in flight.
func (v *RunView) evaluate(now time.Time, tick bool) tea.Cmd {
	if tick && v.inflight > 0 {
		return nil
	}
	snaps := make([]sources.Snapshot, 0, len(v.order))
	for _, n := range v.order {
		snaps = append(snaps, v.snaps[n])
	}
	v.dirty = false
	v.inflight++
	ev := v.run.Prepare(snaps, now)
	return func() tea.Msg { return evaluatedMsg{view: v, obs: ev.Evaluate(context.Background())} }
}

// write queues the run's records for the journal (nothing in read-only).
// The run's end, when among them, is also said in the status bar: the
// operator may be on a pane when the last verify passes.
func (v *RunView) write(recs []ops.Record) tea.Cmd {
	cmd := v.queue.writeCmd(recs)
	for _, r := range recs {
		if r.Phase != ops.PhaseRunEnd || r.Run == nil || !v.ended.at.IsZero() {
			continue
		}
		v.ended.at, v.ended.result, v.ended.counts = r.Time, r.Run.Result, r.Run.Values
		v.cache.Touch()
		return tea.Batch(cmd, kit.Send(kit.StatusMsg{Text: v.endText(), Bad: r.Run.Result != "completed"}))
	}
	return cmd
}

// Completed reports whether the run has ended, and when.
func (v *RunView) Completed() (time.Time, bool) { return v.ended.at, !v.ended.at.IsZero() }

// endText says how the run ended: "Runbook High Error Rate: completed at
// 03:20:15 UTC (8 ok, 2 skipped)".
func (v *RunView) endText() string {
	s := "Runbook " + v.run.Runbook().Title + ": " + v.ended.result + " at " + v.ended.at.UTC().Format("15:04:05") + " UTC"
	if len(v.ended.counts) > 0 {
		s += " (" + strings.Join(v.ended.counts, ", ") + ")"
	}
	return s
}

func (v *RunView) say(s string, bad bool) { v.msg, v.msgBad = s, bad }

// trackNext moves the cursor along with the next step while it tracks.
func (v *RunView) trackNext() {
	if n := v.run.Next(); v.tracking && n >= 0 {
		v.cursor = n
	}
}

// Update takes the view's keys, the snapshots' batch end, ticks, the
// action flow's answers to its steps and the skip reasons.
func (v *RunView) Update(msg tea.Msg) tea.Cmd {
	now := v.env.Exact()
	v.cache.Touch()
	switch msg := msg.(type) {
	case kit.SnapshotsMsg:
		if v.dirty {
			return v.evaluate(now, false)
		}
	case evaluatedMsg:
		if msg.view == v {
			v.inflight--
			recs := v.run.Apply(msg.obs, now)
			v.trackNext()
			return v.write(recs)
		}
	case kit.TickMsg:
		switch {
		case v.dirty:
			return v.evaluate(now, true)
		case v.run.Waiting():
			recs := v.run.Tick(now)
			v.trackNext()
			return v.write(recs)
		}
	case kit.PlanMsg:
		if i, ok := v.stepOf(msg.Origin); ok && msg.Err != nil {
			outcome := runbook.OutcomeFailed
			if ops.IsRefusal(msg.Err) {
				outcome = runbook.OutcomeRefused
			}
			v.say(fmt.Sprintf("step %d: %s: %v", i+1, outcome, msg.Err), true)
			return v.actionResult(i, "", outcome, msg.Err, now)
		}
	case kit.CancelledMsg:
		if i, ok := v.stepOf(msg.Origin); ok {
			v.say(fmt.Sprintf("step %d: confirmation cancelled; it is pending again", i+1), false)
			return v.actionResult(i, "", runbook.OutcomeCancelled, nil, now)
		}
	case kit.ResultMsg:
		if i, ok := v.stepOf(msg.Origin); ok {
			outcome, err := runbook.ResultOutcome(msg.Result)
			v.say(fmt.Sprintf("step %d: %s", i+1, msg.Result.Summary), outcome != runbook.OutcomeOK)
			return v.actionResult(i, msg.Result.Plan.ID, outcome, err, now)
		}
	case skipMsg:
		if i, ok := v.stepOf(msg.step); ok {
			recs := v.run.Skip(i, msg.reason, now)
			v.say(fmt.Sprintf("step %d skipped: %s", i+1, msg.reason), false)
			v.trackNext()
			return v.write(recs)
		}
	case tea.KeyPressMsg:
		return v.key(msg, now)
	}
	return nil
}

func (v *RunView) actionResult(i int, planID, outcome string, err error, now time.Time) tea.Cmd {
	recs := v.run.ActionResult(i, planID, outcome, err, now)
	v.trackNext()
	return v.write(recs)
}

func (v *RunView) key(msg tea.KeyPressMsg, now time.Time) tea.Cmd {
	k := v.env.Keys
	n := len(v.run.Runbook().Steps)
	switch {
	case key.Matches(msg, k.List.Up):
		v.move(v.cursor-1, n)
	case key.Matches(msg, k.List.Down):
		v.move(v.cursor+1, n)
	case key.Matches(msg, k.List.Top):
		v.move(0, n)
	case key.Matches(msg, k.List.Bottom):
		v.move(n-1, n)
	case key.Matches(msg, k.List.PageUp):
		v.move(v.cursor-5, n)
	case key.Matches(msg, k.List.PageDn):
		v.move(v.cursor+5, n)
	case key.Matches(msg, k.List.Details):
		return v.do(v.cursor, now)
	case key.Matches(msg, k.Runbook.Skip):
		return v.askSkip(v.cursor)
	case key.Matches(msg, k.Runbook.Copy):
		return v.copyCommand(v.cursor)
	}
	return nil
}

func (v *RunView) move(i, n int) {
	v.cursor = max(0, min(i, n-1))
	v.tracking = v.cursor == v.run.Next()
}

// do runs step i and carries out what the run asks.
func (v *RunView) do(i int, now time.Time) tea.Cmd {
	if v.run.Ended() {
		v.say("the run has ended", false)
		return nil
	}
	steps := v.run.Runbook().Steps
	if i < 0 || i >= len(steps) {
		return nil
	}
	title := steps[i].Title
	d, recs := v.run.Do(i, now)
	var cmd tea.Cmd
	switch d.Kind {
	case runbook.DoFocus:
		if d.Pane == runbook.LogsPane {
			v.say(fmt.Sprintf("step %d: showing the logs of %s", i+1, d.Target), false)
			cmd = kit.Send(kit.ShowLogsMsg{Target: d.Target, Filter: d.Filter})
			break
		}
		what := string(d.Pane) + " pane"
		if d.PaneView != "" {
			what = string(d.Pane) + " " + d.PaneView + " view"
		}
		v.say(fmt.Sprintf("step %d: showing the %s; %s comes back here", i+1, what, kit.KeyName(v.env.Keys.Global.Return)), false)
		cmd = kit.Send(kit.ShowPaneMsg{Kind: d.Pane, Filter: d.Filter, View: d.PaneView})
	case runbook.DoRequest:
		if !v.canAct {
			// No Executor: refused here as every action is in a read-only
			// session, and the run says so on the step.
			recs = append(recs, v.run.ActionResult(i, "", runbook.OutcomeRefused, errors.New(kit.ReadOnlyRefusal), now)...)
			v.say(fmt.Sprintf("step %d refused: %s", i+1, kit.ReadOnlyRefusal), true)
			break
		}
		v.say(fmt.Sprintf("step %d: planning %s…", i+1, title), false)
		cmd = kit.Send(kit.RequestMsg{Request: d.Request, Origin: v.origin(i)})
	case runbook.DoNote:
		recs = append(recs, v.run.Ack(i, now)...)
		v.say(fmt.Sprintf("step %d acknowledged: %s", i+1, title), false)
	default:
		state := v.run.Steps(now)[i].State
		v.say(d.Message, state == runbook.Failed || state == runbook.Pending)
	}
	v.tracking = true
	v.trackNext()
	return tea.Batch(v.write(recs), cmd)
}

// askSkip opens the reason dialog for step i.
func (v *RunView) askSkip(i int) tea.Cmd {
	steps := v.run.Steps(v.env.Now())
	switch {
	case v.run.Ended():
		v.say("the run has ended", false)
		return nil
	case i < 0 || i >= len(steps):
		return nil
	case steps[i].State == runbook.Running:
		v.say(fmt.Sprintf("step %d is in the confirm flow: answer or cancel it first", i+1), true)
		return nil
	}
	d := &SkipDialog{env: v.env, step: v.origin(i), opened: v.env.Exact(),
		title: fmt.Sprintf("Skip step %d: %s", i+1, steps[i].Title)}
	return kit.Send(kit.OpenDialogMsg{Dialog: d})
}

// copyCommand puts step i's command on the clipboard (OSC 52: the
// terminal, or the SSH client's, does the copying).
func (v *RunView) copyCommand(i int) tea.Cmd {
	steps := v.run.Runbook().Steps
	if i < 0 || i >= len(steps) || steps[i].Command == "" {
		v.say("this step has no command to copy", true)
		return nil
	}
	v.say("copied to the clipboard: "+steps[i].Command, false)
	return tea.SetClipboard(steps[i].Command)
}
