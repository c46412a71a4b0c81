package runbooks

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/internal/duration"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/themes"
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

	// cursor is the selected step; tracking keeps it on the next step.
	cursor   int
	tracking bool
	msg      string
	msgBad   bool

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

// observe gives the run every source's latest snapshot.
func (v *RunView) observe(now time.Time) []ops.Record {
	snaps := make([]sources.Snapshot, 0, len(v.order))
	for _, n := range v.order {
		snaps = append(snaps, v.snaps[n])
	}
	v.dirty = false
	recs := v.run.Observe(snaps, now)
	v.trackNext()
	return recs
}

// write queues the run's records for the journal (nothing in read-only).
func (v *RunView) write(recs []ops.Record) tea.Cmd { return v.queue.writeCmd(recs) }

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
			return v.write(v.observe(now))
		}
	case kit.TickMsg:
		switch {
		case v.dirty:
			return v.write(v.observe(now))
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
		v.say(fmt.Sprintf("step %d: showing the %s pane", i+1, d.Pane), false)
		cmd = kit.Send(kit.ShowPaneMsg{Kind: d.Pane, Filter: d.Filter})
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

// ShortHelp is the status bar's hints while the view is shown.
func (v *RunView) ShortHelp() []key.Binding {
	k := v.env.Keys
	return []key.Binding{v.runKey(), k.Runbook.Skip, k.Runbook.Copy, k.List.Back, k.Global.Timeline}
}

// runKey is the details key, which runs a step here.
func (v *RunView) runKey() key.Binding {
	d := v.env.Keys.List.Details
	return key.NewBinding(key.WithKeys(d.Keys()...), key.WithHelp(d.Help().Key, "run step"))
}

// FullHelp is the view's section of the help overlay.
func (v *RunView) FullHelp() [][]key.Binding {
	k := v.env.Keys
	return [][]key.Binding{{k.List.Up, k.List.Down, k.List.Top, k.List.Bottom}, {v.runKey(), k.Runbook.Skip, k.Runbook.Copy, k.List.Back}}
}

// View draws the run: a head (runbook, who opened it, the session's
// mode, the last message) over the steps, scrolled to keep the selected
// one on screen.
func (v *RunView) View(w, h int) []string {
	v.w, v.h = w, h
	return v.cache.Block(v.env, true, w, h, v.draw)
}

func (v *RunView) draw(bool) []string {
	th := v.env.Theme
	w, h := v.w, v.h
	inner := w - 2
	now := v.env.Now()
	rb := v.run.Runbook()
	steps := v.run.Steps(now)

	var head []string
	head = append(head, th.Paints.Bold.Render(rb.Title)+th.Paints.Muted.Render("  "+rb.Name+" · "+rb.File))
	opened := "opened from the runbook list"
	if a := v.run.Alert(); a != nil {
		opened = "opened by alert " + a.Name
		if sev := a.Label("severity"); sev != "" {
			opened += " (" + sev + ")"
		}
	}
	done := 0
	for _, s := range steps {
		if s.State.Finished() {
			done++
		}
	}
	progress := fmt.Sprintf("%d/%d steps done", done, len(steps))
	if v.run.Ended() {
		progress = th.Paints.OK.Render("run ended: " + progress)
	}
	head = append(head, fmt.Sprintf("%s · started %s UTC by %s · %s", opened, v.run.StartedAt().UTC().Format("15:04:05"), v.run.Operator(), progress))
	if rb.Description != "" {
		for _, l := range kit.Wrap(strings.TrimSpace(rb.Description), inner) {
			head = append(head, th.Paints.Muted.Render(l))
		}
	}
	if len(rb.Symptoms) > 0 {
		head = append(head, th.Paints.Muted.Render("symptoms: "+strings.Join(rb.Symptoms, " · ")))
	}
	if !v.canAct {
		head = append(head, th.Paints.Warn.Render("read-only session: every action step is refused (no Executor); checks and verifies follow the live data; nothing is journaled"))
	}
	if v.msg != "" {
		st := th.Paints.Accent
		if v.msgBad {
			st = th.Paints.Error
		}
		head = append(head, st.Render(v.msg))
	}
	head = append(head, "")

	// Every step's lines; the selected step's block is kept on screen.
	var body []string
	var selFrom, selTo int
	for i, s := range steps {
		if i == v.cursor {
			selFrom = len(body)
		}
		body = append(body, v.stepLines(s, inner, i == v.cursor)...)
		if i == v.cursor {
			selTo = len(body)
		}
	}
	avail := max(1, h-2-len(head))
	off := 0
	if selTo > avail {
		off = min(selFrom, selTo-avail)
	}
	body = body[off:]
	footer := fmt.Sprintf("step %d/%d", v.cursor+1, len(steps))
	if off > 0 {
		footer += fmt.Sprintf(" · %d lines above", off)
	}
	if more := len(body) - avail; more > 0 {
		footer += fmt.Sprintf(" · %d below", more)
	}
	return kit.Frame(th, "Runbook · "+rb.Title, footer, true, w, h, append(head, body...))
}

// glyphs are the state marks, in Unicode or ASCII.
type glyphs struct{ next, ok, failed, skipped, busy, pending string }

func glyphsOf(th themes.Theme) glyphs {
	if th.ASCII {
		return glyphs{next: ">", ok: "+", failed: "x", skipped: "-", busy: "~", pending: "."}
	}
	return glyphs{next: "▶", ok: "✓", failed: "✗", skipped: "↷", busy: "…", pending: "·"}
}

// verdict says a live condition: ✓ true, ✗ false, ? and why.
func verdict(th themes.Theme, g glyphs, v runbook.Verdict, why string) string {
	switch v {
	case runbook.True:
		return th.Paints.OK.Render(g.ok + " true")
	case runbook.False:
		return th.Paints.Crit.Render(g.failed + " false")
	}
	s := "? unknown"
	if why != "" {
		s += ": " + why
	}
	return th.Paints.Warn.Render(s)
}

// stepLines is one step: its title line with its state, then what is
// behind it (values, countdown, targets, note, reason).
func (v *RunView) stepLines(s runbook.StepView, w int, selected bool) []string {
	th := v.env.Theme
	g := glyphsOf(th)
	mark := " "
	if s.Next {
		mark = g.next
	}
	glyph, state, stateSt := g.pending, "", th.Paints.Muted
	switch s.State {
	case runbook.OK:
		glyph, state, stateSt = g.ok, "ok", th.Paints.OK
		if s.Kind == runbook.View {
			state = "viewed"
		}
	case runbook.Acknowledged:
		glyph, state, stateSt = g.ok, "acknowledged", th.Paints.OK
	case runbook.Failed:
		glyph, state, stateSt = g.failed, "failed", th.Paints.Crit
		if s.Outcome != "" && s.Outcome != runbook.OutcomeFailed {
			state = s.Outcome
		}
	case runbook.Skipped:
		glyph, state, stateSt = g.skipped, "skipped", th.Paints.Warn
	case runbook.Running:
		glyph, state, stateSt = g.busy, "in the confirm flow", th.Paints.Accent
	case runbook.Waiting:
		glyph, state, stateSt = g.busy, "waiting, "+kit.Dur(s.Remaining)+" left", th.Paints.Accent
	}
	if !s.At.IsZero() && s.State.Finished() {
		state += " " + s.At.UTC().Format("15:04:05")
	}
	title := fmt.Sprintf("%s %s %2d. %-6s %s", mark, glyph, s.Index+1, s.Kind, s.Title)
	left := kit.Fit(title, max(0, w-kit.Width(state)-1), th.Ellipsis)
	gap := kit.Spaces(max(1, w-kit.Width(left)-kit.Width(state)))
	var line string
	switch {
	case selected:
		line = th.Paints.Selected.Render(left + gap + state)
	case s.Next:
		line = th.Paints.Accent.Render(left) + gap + stateSt.Render(state)
	default:
		line = left + gap + stateSt.Render(state)
	}
	out := []string{line}

	const ind = "        "
	dw := max(10, w-len(ind))
	add := func(st themes.Paint, text string) {
		for _, l := range kit.Wrap(text, dw) {
			out = append(out, ind+st.Render(l))
		}
	}
	live := !s.State.Finished() && s.State != runbook.Running
	// A finished note or view needs no more room, unless selected.
	if !selected && (s.State == runbook.Acknowledged || (s.Kind == runbook.View && s.State == runbook.OK)) {
		return out
	}
	switch s.Kind {
	case runbook.Check, runbook.Verify:
		cond := th.Paints.Muted.Render("expr ") + s.Expr
		if live {
			cond += "  now " + verdict(th, g, s.Live, s.Why)
		}
		out = append(out, ind+kit.Fit(cond, dw, th.Ellipsis))
		if s.Kind == runbook.Verify {
			switch s.State {
			case runbook.Waiting:
				add(th.Paints.Accent, fmt.Sprintf("waiting for it to hold: %s left of %s (until %s UTC)",
					kit.Dur(s.Remaining), duration.Format(s.Within), s.Deadline.UTC().Format("15:04:05")))
			case runbook.Pending:
				add(th.Paints.Muted, "must hold within "+duration.Format(s.Within)+" of the actions before it")
			}
		}
	case runbook.View:
		target := "shows the " + string(s.Pane) + " pane"
		if s.Filter != "" {
			target += " filtered by " + strconv.Quote(s.Filter)
		}
		add(th.Paints.Muted, target)
	case runbook.Action:
		what := th.Paints.Muted.Render("action ") + s.Action.Title()
		if s.Expr != "" {
			what += th.Paints.Muted.Render("  when ") + s.Expr
			if live {
				what += "  now " + verdict(th, g, s.Live, s.Why)
			}
		}
		out = append(out, ind+kit.Fit(what, dw, th.Ellipsis))
		if s.PlanID != "" || s.Outcome != "" {
			add(th.Paints.Muted, strings.TrimSpace("plan "+s.PlanID+" "+s.Outcome))
		}
	case runbook.Note:
		for _, l := range strings.Split(strings.TrimRight(s.Note, "\n"), "\n") {
			add(th.Paints.Base, l)
		}
		if s.Command != "" {
			out = append(out, ind+kit.Fit(th.Paints.Accent.Render("$ "+s.Command)+th.Paints.Muted.Render("   ("+kit.KeyName(v.env.Keys.Runbook.Copy)+" copies)"), dw, th.Ellipsis))
		}
	}
	for _, val := range s.Values {
		add(th.Paints.Base, val.String())
	}
	if s.Kind == runbook.Action {
		switch {
		case len(s.Targets) > 0:
			for _, t := range s.Targets {
				add(th.Paints.Base, "→ "+t)
			}
		case s.Empty != "" && live:
			add(th.Paints.Muted, "nothing to do now: "+s.Empty)
		}
	}
	if s.Reason != "" && (s.State == runbook.Skipped || s.State == runbook.Failed || s.State == runbook.Pending) {
		st := th.Paints.Warn
		if s.State == runbook.Failed {
			st = th.Paints.Error
		}
		add(st, "reason: "+s.Reason)
	}
	return out
}
