package rollouts

import (
	"fmt"
	"strconv"
	"strings"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := p.Env.Theme
	k := p.Env.Keys
	ell := th.Ellipsis
	inner := p.W - 2
	notice, dim, has := p.Notice()
	body := notice
	title := p.FrameTitle()
	set := p.set()
	if set != nil && set.Context != "" {
		title += " · " + set.Context
	}
	footer := ""
	switch {
	case !has || set == nil:
	case p.Detail && p.selected() != nil:
		body = append(body, p.detailLines(p.selected(), inner, focused)...)
		footer = kit.KeyName(k.List.Down) + "/" + kit.KeyName(k.List.Up) + " revision  " +
			kit.KeyName(k.List.Details) + ": choose for undo  " + kit.KeyName(k.List.Back) + " back"
	default:
		body = append(body, p.FilterLine()...)
		// A narrow pane (the grid's unfocused side) drops UPD and AVAIL
		// before it cuts the deployment name: READY already says whether
		// the pods are there.
		counts := inner >= 76
		nameW, drop := p.nameColumn(inner, counts)
		nameHdr := "DEPLOYMENT"
		if p.oneNS != "" {
			nameHdr += " (" + p.oneNS + ")"
		}
		if drop != "" { // the column title says what every row leaves out
			nameHdr = p.oneNS + "/" + drop + ell
			if kit.Width(nameHdr) > nameW {
				nameHdr = kit.CutMiddle(drop+ell, nameW, ell)
			}
		}
		hdr := kit.Fit(nameHdr, nameW, ell) + " " + kit.FitRight("READY", 7, ell)
		if counts {
			hdr += kit.FitRight("UPD", 5, ell) + kit.FitRight("AVAIL", 6, ell)
		}
		body = append(body, th.Paints.Muted.Render(hdr+"  "+kit.Fit("STATE", 11, ell)+kit.FitRight("REV", 5, ell)+"  DEPLOYED"))
		from, to := p.Window(len(p.index), p.H-2-len(body))
		for i := from; i < to; i++ {
			body = append(body, p.row(&set.Deployments[p.index[i]], nameW, drop, counts, inner, focused && i == p.Cursor.Pos, dim))
		}
		if len(p.index) == 0 {
			body = append(body, th.Paints.Muted.Render("no deployments"))
		}
		footer = p.Position(len(p.index))
	}
	return kit.Frame(th, title, footer, focused, p.W, p.H, body)
}

func (p *Pane) row(d *sources.Deployment, nameW int, drop string, counts bool, w int, selected, dim bool) string {
	th := p.Env.Theme
	ell := th.Ellipsis
	state := string(d.State)
	if d.Paused {
		state = string(sources.RolloutPaused)
	}
	line := kit.Fit(p.label(d, nameW, drop, ell), nameW, ell) + " " + kit.FitRight(fmt.Sprintf("%d/%d", d.Ready, d.Replicas), 7, ell)
	if counts {
		line += kit.FitRight(strconv.Itoa(int(d.Updated)), 5, ell) + kit.FitRight(strconv.Itoa(int(d.Available)), 6, ell)
	}
	line += "  " + kit.Fit(state, 11, ell) + kit.FitRight(strconv.FormatInt(d.Revision, 10), 5, ell) + "  "
	ago := ""
	recent := false
	if !d.RolledOutAt.IsZero() {
		age := p.Env.Now().Sub(d.RolledOutAt)
		ago = kit.Age(age) + " ago"
		recent = age < recentRollout
	}
	rest := kit.Fit(warnCount(d)+ago, max(0, w-kit.Width(line)), ell)
	stateSt := th.Paints.Base
	switch d.State {
	case sources.RolloutStalled:
		stateSt = th.Paints.Crit
	case sources.RolloutProgressing:
		stateSt = th.Paints.Warn
	}
	switch {
	case selected:
		return th.Paints.Selected.Render(line + rest)
	case dim:
		return th.Paints.Dim.Render(line + rest)
	case recent:
		return stateSt.Render(line) + th.Paints.Recent.Render(rest)
	}
	return stateSt.Render(line) + th.Paints.Muted.Render(rest)
}

func (p *Pane) detailLines(d *sources.Deployment, w int, focused bool) []string {
	th := p.Env.Theme
	ell := th.Ellipsis
	now := p.Env.Now()
	out := []string{
		th.Paints.Bold.Render(d.Key()) + fmt.Sprintf("  revision %d  %s  ready %d/%d updated %d available %d",
			d.Revision, d.State, d.Ready, d.Replicas, d.Updated, d.Available),
	}
	if !d.RolledOutAt.IsZero() {
		out = append(out, "rolled out "+d.RolledOutAt.UTC().Format("2006-01-02 15:04")+" ("+kit.Age(now.Sub(d.RolledOutAt))+" ago)")
	}
	if d.Message != "" {
		out = append(out, kit.Wrap(d.Message, w)...)
	}
	out = append(out, "images: "+strings.Join(d.Images, ", "))
	if set := p.set(); set != nil {
		for k, why := range set.Denied[d.Namespace] {
			out = append(out, th.Paints.Warn.Render(k+" denied: "+why))
		}
	}
	to := p.undoTo[d.Key()]
	if to != 0 {
		out = append(out, th.Paints.Accent.Render(fmt.Sprintf("undo target: revision %d (%s to roll back)", to, kit.KeyName(p.Env.Keys.Rollouts.Undo))))
	} else {
		out = append(out, th.Paints.Muted.Render("undo target: previous revision"))
	}
	// Per revision: its age, and which one runs now. The current one is
	// marked in two ways (glyph and word, bold) so it reads without colour.
	cur, tgt := "●", "←"
	if th.ASCII {
		cur, tgt = "*", "<"
	}
	undoTo := to
	if undoTo == 0 { // undo goes to the newest revision before the current one
		for _, r := range d.History {
			if r.Number < d.Revision && r.Number > undoTo {
				undoTo = r.Number
			}
		}
	}
	out = append(out, "", th.Paints.Muted.Render("    REV "+kit.Fit("AGE", 9, ell)+kit.Fit("", 12, ell)+kit.FitRight("READY", 7, ell)+"  CHANGE-CAUSE / IMAGES"))
	for i, r := range d.History {
		mark, role := " ", ""
		switch {
		case r.Number == d.Revision:
			mark, role = cur, "current"
		case r.Number == undoTo:
			mark, role = tgt, "undo target"
		}
		age := "-"
		if !r.CreatedAt.IsZero() {
			age = kit.Age(now.Sub(r.CreatedAt)) + " ago"
		}
		cause := r.ChangeCause
		if cause == "" {
			cause = "-"
		}
		line := " " + mark + " " + kit.FitRight(strconv.FormatInt(r.Number, 10), 4, ell) + " " + kit.Fit(age, 9, ell) + kit.Fit(role, 12, ell) +
			kit.FitRight(fmt.Sprintf("%d/%d", r.Ready, r.Replicas), 7, ell) + "  " + cause + "  " + strings.Join(r.Images, ",")
		line = kit.Fit(line, w, ell)
		switch {
		case focused && i == p.hist.Pos:
			line = th.Paints.Selected.Render(line)
		case r.Number == d.Revision:
			line = th.Paints.Bold.Render(line)
		case r.Number == undoTo:
			line = th.Paints.Accent.Render(line)
		}
		out = append(out, line)
	}
	return append(out, p.evidenceLines(d, w)...)
}
