package ui

import (
	"context"
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

// runView is one runbook run on screen: every step with its live state,
// the next one highlighted. It feeds the run the latest snapshot of every
// source, runs the selected step on enter (a view step focuses its pane, an
// action step sends its request into the one plan → confirm → execute flow
// and learns the outcome from the flow's answers, a note is acknowledged),
// skips with a reason, and writes the run's records through the session's
// journal queue. The run itself (runbook.Run) is a pure state machine; this
// view only calls it from Update, and evaluates its expressions in a Cmd.
type runView struct {
	env *kit.Env
	run *runbook.Run
	// canAct: the session has an Executor. Without one an action step is
	// refused, as every action is in a read-only session.
	canAct bool
	// journaled: the records are written (not in a read-only session).
	journaled bool
	queue     *journalQueue

	// snaps are the latest snapshot of every source, in first-seen order;
	// dirty says they changed since the run last observed them.
	snaps map[string]sources.Snapshot
	order []string
	dirty bool
	// inflight counts the evaluations handed to Cmds and not back yet.
	inflight int

	// cursor is the selected step; follow keeps it on the next step.
	cursor int
	follow bool
	msg    string
	msgBad bool

	cache kit.Cache
	w, h  int
}

// ID is "runbook:" and the run's journal ID: one view per run.
func (v *runView) ID() string { return "runbook:" + v.run.ID() }

// Title names the view in help.
func (v *runView) Title() string { return "Runbook " + v.run.Runbook().Title }

// CapturesKeys: the view types no text (the skip reason is a dialog).
func (v *runView) CapturesKeys() bool { return false }

// origin is what step i's request carries through the flow.
func (v *runView) origin(i int) string { return v.ID() + "#" + strconv.Itoa(i) }

// stepOf reads the step back from an answer's origin; ok is false for an
// answer to someone else.
func (v *runView) stepOf(origin string) (int, bool) {
	rest, ok := strings.CutPrefix(origin, v.ID()+"#")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil
}

// SetSnapshot keeps s as its source's latest; the run observes them all
// once the batch is complete (SnapshotsMsg) or on the next tick.
func (v *runView) SetSnapshot(s sources.Snapshot) {
	if _, ok := v.snaps[s.Source]; !ok {
		v.order = append(v.order, s.Source)
	}
	v.snaps[s.Source] = s
	v.dirty = true
	v.cache.Touch()
}

// evaluatedMsg is a run's evaluation, made in a Cmd, for the view that
// asked for it.
type evaluatedMsg struct {
	view *runView
	obs  *runbook.Observation
}

// evaluate evaluates the run on every source's latest snapshot in a Cmd:
// the expressions are budgeted, but Update never waits on them. New
// snapshots always start one (the run drops an older evaluation that comes
// back later); a tick only when none is out.
func (v *runView) evaluate(now time.Time, tick bool) tea.Cmd {
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
func (v *runView) write(recs []ops.Record) tea.Cmd { return v.queue.writeCmd(recs) }

func (v *runView) say(s string, bad bool) { v.msg, v.msgBad = s, bad }

// followNext moves the cursor along with the next step while it follows.
func (v *runView) followNext() {
	if n := v.run.Next(); v.follow && n >= 0 {
		v.cursor = n
	}
}

// Update takes the view's keys, the snapshots' batch end, ticks, the
// action flow's answers to its steps and the skip reasons.
func (v *runView) Update(msg tea.Msg) tea.Cmd {
	now := v.env.Exact()
	v.cache.Touch()
	switch msg := msg.(type) {
	case SnapshotsMsg:
		if v.dirty {
			return v.evaluate(now, false)
		}
	case TickMsg:
		if v.dirty || v.run.Waiting() {
			return v.evaluate(now, true)
		}
	case evaluatedMsg:
		if msg.view == v {
			v.inflight--
			recs := v.run.Apply(msg.obs, now)
			v.followNext()
			return v.write(recs)
		}
	case PlanMsg:
		if i, ok := v.stepOf(msg.Origin); ok && msg.Err != nil {
			outcome := runbook.OutcomeFailed
			if ops.IsRefusal(msg.Err) {
				outcome = runbook.OutcomeRefused
			}
			v.say(fmt.Sprintf("step %d: %s: %v", i+1, outcome, msg.Err), true)
			return v.actionResult(i, "", outcome, msg.Err, now)
		}
	case CancelledMsg:
		if i, ok := v.stepOf(msg.Origin); ok {
			v.say(fmt.Sprintf("step %d: confirmation cancelled; it is pending again", i+1), false)
			return v.actionResult(i, "", runbook.OutcomeCancelled, nil, now)
		}
	case ResultMsg:
		if i, ok := v.stepOf(msg.Origin); ok {
			outcome, err := runbook.ResultOutcome(msg.Result)
			v.say(fmt.Sprintf("step %d: %s", i+1, msg.Result.Summary), outcome != runbook.OutcomeOK)
			return v.actionResult(i, msg.Result.Plan.ID, outcome, err, now)
		}
	case skipMsg:
		if i, ok := v.stepOf(msg.origin); ok && i == msg.step {
			recs := v.run.Skip(i, msg.reason, now)
			v.say(fmt.Sprintf("step %d skipped: %s", i+1, msg.reason), false)
			v.followNext()
			return v.write(recs)
		}
	case tea.KeyPressMsg:
		return v.key(msg, now)
	}
	return nil
}

func (v *runView) actionResult(i int, planID, outcome string, err error, now time.Time) tea.Cmd {
	recs := v.run.ActionResult(i, planID, outcome, err, now)
	v.followNext()
	return v.write(recs)
}

func (v *runView) key(msg tea.KeyPressMsg, now time.Time) tea.Cmd {
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

func (v *runView) move(i, n int) {
	v.cursor = max(0, min(i, n-1))
	v.follow = v.cursor == v.run.Next()
}

// do runs step i and carries out what the run asks.
func (v *runView) do(i int, now time.Time) tea.Cmd {
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
		cmd = send(ShowPaneMsg{Kind: d.Pane, Filter: d.Filter})
	case runbook.DoRequest:
		if !v.canAct {
			// No Executor: refused here as every action is in a read-only
			// session, and the run says so on the step.
			recs = append(recs, v.run.ActionResult(i, "", runbook.OutcomeRefused, errors.New(readOnlyRefusal), now)...)
			v.say(fmt.Sprintf("step %d refused: %s", i+1, readOnlyRefusal), true)
			break
		}
		v.say(fmt.Sprintf("step %d: planning %s…", i+1, title), false)
		cmd = send(RequestMsg{Request: d.Request, Origin: v.origin(i)})
	case runbook.DoNote:
		recs = append(recs, v.run.Ack(i, now)...)
		v.say(fmt.Sprintf("step %d acknowledged: %s", i+1, title), false)
	default:
		state := v.run.Steps(now)[i].State
		v.say(d.Message, state == runbook.Failed || state == runbook.Pending)
	}
	v.follow = true
	v.followNext()
	return tea.Batch(v.write(recs), cmd)
}

// askSkip opens the reason dialog for step i.
func (v *runView) askSkip(i int) tea.Cmd {
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
	d := &reasonDialog{env: v.env, origin: v.origin(i), step: i, opened: v.env.Exact(),
		title: fmt.Sprintf("Skip step %d: %s", i+1, steps[i].Title)}
	return send(openDialogMsg{dialog: d})
}

// copyCommand puts step i's command on the clipboard (OSC 52: the
// terminal, or the SSH client's, does the copying).
func (v *runView) copyCommand(i int) tea.Cmd {
	steps := v.run.Runbook().Steps
	if i < 0 || i >= len(steps) || steps[i].Command == "" {
		v.say("this step has no command to copy", true)
		return nil
	}
	v.say("copied to the clipboard: "+steps[i].Command, false)
	return tea.SetClipboard(steps[i].Command)
}

// ShortHelp is the status bar's hints while the view is shown.
func (v *runView) ShortHelp() []key.Binding {
	k := v.env.Keys
	return []key.Binding{v.runKey(), k.Runbook.Skip, k.Runbook.Copy, k.List.Back, k.Global.Timeline}
}

// runKey is the details key, which runs a step here.
func (v *runView) runKey() key.Binding {
	d := v.env.Keys.List.Details
	return key.NewBinding(key.WithKeys(d.Keys()...), key.WithHelp(d.Help().Key, "run step"))
}

// FullHelp is the view's section of the help overlay.
func (v *runView) FullHelp() [][]key.Binding {
	k := v.env.Keys
	return [][]key.Binding{{k.List.Up, k.List.Down, k.List.Top, k.List.Bottom}, {v.runKey(), k.Runbook.Skip, k.Runbook.Copy, k.List.Back}}
}

// View draws the run: a head (runbook, who opened it, the session's
// mode, the last message) over the steps, scrolled to keep the selected
// one on screen.
func (v *runView) View(w, h int) []string {
	v.w, v.h = w, h
	return v.cache.Block(v.env, true, w, h, v.draw)
}

func (v *runView) draw(bool) []string {
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
func (v *runView) stepLines(s runbook.StepView, w int, selected bool) []string {
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
