package rollouts

import (
	"fmt"
	"strconv"
	"strings"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// Columns of the deployments table. A roomy pane (76 cells or more) adds
// the updated and available counts; a narrow one (the grid's unfocused
// side) drops them before it cuts the deployment name: READY already says
// whether the pods are there.
const (
	rName = iota
	rReady
	rUpdated
	rAvail
	rState
	rRev
	rDeployed
)

// nameRoom is the width the name column takes when there is room, names
// shorter or not, so the columns keep their place while a filter is typed.
// A narrow pane (under 76 cells) never reaches it: there the names take
// all but DEPLOYED's 17 cells.
const nameRoom = 40

func newTable() kit.Table {
	return kit.Table{
		Cols: []kit.Col{
			rName:     {Title: "DEPLOYMENT", W: 14, Cut: kit.KeepEnds},
			rReady:    {Title: "READY", W: 7, Gap: 1, Right: true},
			rUpdated:  {Title: "UPD", Roomy: 5, Right: true},
			rAvail:    {Title: "AVAIL", Roomy: 6, Right: true},
			rState:    {Title: "STATE", W: 11, Gap: 2},
			rRev:      {Title: "REV", W: 5, Right: true},
			rDeployed: {Title: "DEPLOYED", W: 8, Gap: 2},
		},
		// The names take what they need, down to eight cells of DEPLOYED
		// (a name too long even then drops the prefix all names share);
		// DEPLOYED keeps 17 before the name column takes its room.
		Steps: []kit.Step{{Kind: kit.Grow, Col: rName}, {Kind: kit.Pad, Col: rDeployed, To: 17}, {Kind: kit.Pad, Col: rName, To: nameRoom}},
		Fill:  rDeployed, RoomyAt: 76,
		Want: make([]int, rDeployed+1),
	}
}

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := &p.Env.Theme
	k := p.Env.Keys
	ell := th.Ellipsis
	inner := p.W - 2
	set := p.set()
	sh := kit.Sheet{Ready: set != nil, N: len(p.index), Empty: th.Paints.Muted.Render("no deployments"), Unscrolled: true,
		DetailFooter: kit.KeyName(k.List.Down) + "/" + kit.KeyName(k.List.Up) + " revision  " +
			kit.KeyName(k.List.Details) + ": choose for undo  " + kit.KeyName(k.List.Back) + " back"}
	if set != nil && set.Context != "" {
		sh.Title = p.FrameTitle() + " · " + set.Context
	}
	if d := p.selected(); d != nil {
		sh.Detail = func(w int) []string { return p.detailLines(d, w, focused) }
	}
	if set == nil {
		return p.DrawSheet(focused, sh)
	}
	t := &p.table
	t.Fit(inner, ell)
	nameW, drop := t.Width(rName), t.Trimmed(rName)
	title, short := "DEPLOYMENT", ""
	if p.oneNS != "" {
		// The namespace every row shares, in the header when it fits
		// there, else in the frame's title, rather than "DEPLOYMENT
		// (productio…".
		title, short = title+" ("+p.oneNS+")", title
		if kit.Width(title) > nameW && drop == "" {
			if sh.Title == "" {
				sh.Title = p.FrameTitle()
			}
			sh.Title += " · ns " + p.oneNS
		}
	}
	if drop != "" { // the column title says what every row leaves out
		title, short = p.oneNS+"/"+drop+ell, ""
		if kit.Width(title) > nameW {
			title = kit.CutMiddle(drop+ell, nameW, ell)
		}
	}
	t.Cols[rName].Title, t.Cols[rName].Short = title, short
	sh.Head = []string{t.Header(th.Paints.Muted)}
	sh.Rows = func(body []string, from, to int, dim bool) []string {
		for i := from; i < to; i++ {
			p.row(&set.Deployments[p.index[i]], nameW, drop, focused && i == p.Cursor.Pos, dim)
		}
		return t.Lines(body)
	}
	return p.DrawSheet(focused, sh)
}

// row adds a deployment's row to the table (drawn by Lines).
func (p *Pane) row(d *sources.Deployment, nameW int, drop string, selected, dim bool) {
	th := &p.Env.Theme
	state := string(d.State)
	if d.Paused {
		state = string(sources.RolloutPaused)
	}
	t := &p.table
	c := t.Cells()
	// Two long names that differ only in their middle can read alike once
	// cut: then each shows a tag of its UID.
	c[rName] = kit.Cell{Text: p.label(d, nameW, drop, th.Ellipsis), ID: d.UID}
	c[rReady].Text = fmt.Sprintf("%d/%d", d.Ready, d.Replicas)
	c[rUpdated].Text = strconv.Itoa(int(d.Updated))
	c[rAvail].Text = strconv.Itoa(int(d.Available))
	c[rState].Text = state
	c[rRev].Text = strconv.FormatInt(d.Revision, 10)
	c[rDeployed].Paint = &th.Paints.Muted
	if !d.RolledOutAt.IsZero() {
		age := p.Env.Now().Sub(d.RolledOutAt)
		c[rDeployed].Text = kit.Age(age) + " ago"
		if age < recentRollout {
			c[rDeployed].Paint = &th.Paints.Recent
		}
	}
	// Warning events (BackOff, OOMKilling, …) count before the age: the
	// detail lists them (evidence.go).
	c[rDeployed].Text = warnCount(d) + c[rDeployed].Text
	base := &th.Paints.Base
	switch d.State {
	case sources.RolloutStalled:
		base = &th.Paints.Crit
	case sources.RolloutProgressing:
		base = &th.Paints.Warn
	}
	switch {
	case selected:
		t.Add(c, &th.Paints.Selected, nil)
	case dim:
		t.Add(c, &th.Paints.Dim, nil)
	default:
		t.Add(c, nil, base)
	}
}

func (p *Pane) detailLines(d *sources.Deployment, w int, focused bool) []string {
	th := &p.Env.Theme
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
