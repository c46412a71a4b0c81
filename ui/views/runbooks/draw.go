package runbooks

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"

	"flightdeck/internal/duration"
	"flightdeck/runbook"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

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
	return [][]key.Binding{{k.List.Up, k.List.Down, k.List.Top, k.List.Bottom, k.List.PageUp, k.List.PageDn}, {v.runKey(), k.Runbook.Skip, k.Runbook.Copy, k.List.Back}}
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
	if at, ok := v.Completed(); ok {
		// The first thing read: this run is over, and how it ended.
		st, mark := th.Paints.OK, glyphsOf(th).ok
		if v.ended.result != "completed" {
			st, mark = th.Paints.Warn, "!"
		}
		banner := fmt.Sprintf("%s RUN %s at %s UTC", mark, strings.ToUpper(v.ended.result), at.UTC().Format("15:04:05"))
		if len(v.ended.counts) > 0 {
			banner += " · " + strings.Join(v.ended.counts, " · ")
		}
		head = append(head, st.Render(banner))
	}
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
	// Wrapped, not cut: the progress at its end is what the line is for.
	head = append(head, kit.WrapHanging(fmt.Sprintf("%s · started %s UTC by %s · %s", opened, v.run.StartedAt().UTC().Format("15:04:05"), v.run.Operator(), progress), inner)...)
	if rb.Description != "" {
		for _, l := range kit.Wrap(strings.TrimSpace(rb.Description), inner) {
			head = append(head, th.Paints.Muted.Render(l))
		}
	}
	if len(rb.Symptoms) > 0 {
		head = append(head, kit.WrapHanging(th.Paints.Muted.Render("symptoms: "+strings.Join(rb.Symptoms, " · ")), inner)...)
	}
	if !v.canAct {
		head = append(head, kit.WrapHanging(th.Paints.Warn.Render("read-only session: every action step is refused (no Executor); checks and verifies follow the live data; nothing is journaled"), inner)...)
	}
	if v.msg != "" {
		st := th.Paints.Accent
		if v.msgBad {
			st = th.Paints.Error
		}
		head = append(head, kit.WrapHanging(st.Render(v.msg), inner)...)
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
		footer += " · " + nLines(off) + " above"
	}
	if more := len(body) - avail; more > 0 {
		footer += " · " + nLines(more) + " below"
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
		now := ""
		if live {
			now = "now " + verdict(th, g, s.Live, s.Why)
		}
		out = append(out, labelled(th, ind, dw, "expr ", s.Expr, th.Paints.Base, now)...)
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
		if s.Pane == runbook.LogsPane {
			target = "shows the logs of " + s.Target
		}
		if s.Filter != "" {
			target += " filtered by " + strconv.Quote(s.Filter)
		}
		add(th.Paints.Muted, target)
	case runbook.Action:
		out = append(out, labelled(th, ind, dw, "action ", s.Action.Title(), th.Paints.Base, "")...)
		if s.Expr != "" {
			now := ""
			if live {
				now = "now " + verdict(th, g, s.Live, s.Why)
			}
			out = append(out, labelled(th, ind, dw, "when ", s.Expr, th.Paints.Base, now)...)
		}
		switch {
		case s.PlanID != "":
			add(th.Paints.Muted, strings.TrimSpace("plan "+s.PlanID+" "+s.Outcome))
		case s.Outcome != "":
			// Refused or cancelled before the Executor made a plan: there
			// is no plan id to name.
			add(th.Paints.Muted, s.Outcome+" before a plan was made")
		}
	case runbook.Note:
		for _, l := range strings.Split(strings.TrimRight(s.Note, "\n"), "\n") {
			add(th.Paints.Base, l)
		}
		if s.Command != "" {
			copyHint := th.Paints.Muted.Render("(" + kit.KeyName(v.env.Keys.Runbook.Copy) + " copies)")
			out = append(out, labelled(th, ind, dw, "$ ", s.Command, th.Paints.Accent, copyHint)...)
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

// labelled is a possibly multi-line text (an expression, a shell command)
// after a label ("expr ", "$ "), wrapped inside w cells and painted with
// st: every line of the text starts under the text's first column, never
// back at the box's edge, and a line too long for the box goes on two
// columns further in. after (the verdict, the copy hint) follows the last
// line when it fits, else takes a line of its own.
func labelled(th themes.Theme, ind string, w int, label, text string, st themes.Paint, after string) []string {
	lw := kit.Width(label)
	tw := max(10, w-lw)
	pad := kit.Spaces(lw)
	var pieces []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		l = strings.TrimRight(l, " \t")
		first := kit.Wrap(l, tw)[0]
		pieces = append(pieces, first)
		if rest := strings.TrimLeft(strings.TrimPrefix(l, first), " "); rest != "" && rest != l {
			for _, p := range kit.Wrap(rest, tw-2) {
				pieces = append(pieces, "  "+p) // a line the box cut, not one the author broke
			}
		}
	}
	out := make([]string, len(pieces))
	for i, p := range pieces {
		lead := pad
		if i == 0 {
			lead = th.Paints.Muted.Render(label)
		}
		out[i] = ind + lead + st.Render(p)
	}
	if after == "" {
		return out
	}
	last := len(out) - 1
	if kit.Width(pieces[last])+2+kit.Width(after) <= tw {
		out[last] += "  " + after
	} else {
		out = append(out, ind+pad+after)
	}
	return out
}

// nLines is "1 line", "2 lines".
func nLines(n int) string {
	if n == 1 {
		return "1 line"
	}
	return strconv.Itoa(n) + " lines"
}
