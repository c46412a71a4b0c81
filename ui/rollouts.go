package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
)

// recentRollout is how fresh a rollout must be to be emphasised: "deployed
// 4m ago" next to a burning SLO is usually the answer.
const recentRollout = 30 * time.Minute

type rolloutsPane struct {
	cache  paneCache
	c      *shared
	feeds  feeds
	index  []int
	list   list
	detail bool
	hist   list
	undoTo map[string]int64 // deployment key → revision chosen in history
	filter string
	prompt filterPrompt
	w, h   int
	// counts and byRecent are for the summary line, made in rebuild:
	// deployments per state, and indexes newest rollout first.
	counts   map[sources.RolloutState]int
	byRecent []int
	// oneNS is the namespace every deployment is in ("" when several):
	// then rows show bare names and the header names the namespace once.
	oneNS string
}

func newRolloutsPane(c *shared) *rolloutsPane {
	return &rolloutsPane{c: c, undoTo: map[string]int64{}}
}

// SetSize is the frame size, border included.
func (p *rolloutsPane) SetSize(w, h int) { p.w, p.h = w, h }

// ShortHelp follows the pane.
func (p *rolloutsPane) ShortHelp() []key.Binding {
	k := p.c.km
	return []key.Binding{k.List.Details, k.Rollouts.Undo, k.Rollouts.Restart, k.Rollouts.Scale, k.Global.Actions}
}

// FullHelp is the rollouts section of the help overlay.
func (p *rolloutsPane) FullHelp() [][]key.Binding {
	return append(p.c.km.List.FullHelp(), p.c.km.Rollouts.FullHelp()...)
}

func (p *rolloutsPane) set() *sources.RolloutSet {
	s, ok := p.feeds.current()
	if !ok {
		return nil
	}
	set, _ := s.Data.(*sources.RolloutSet)
	return set
}

func (p *rolloutsPane) setSnapshot(s sources.Snapshot) {
	p.cache.touch()
	p.feeds.set(s)
	p.rebuild()
}

func (p *rolloutsPane) rebuild() {
	p.index = p.index[:0]
	p.byRecent = p.byRecent[:0]
	p.counts = map[sources.RolloutState]int{}
	set := p.set()
	if set == nil {
		return
	}
	for i := range set.Deployments {
		p.counts[set.Deployments[i].State]++
		if !set.Deployments[i].RolledOutAt.IsZero() {
			p.byRecent = append(p.byRecent, i)
		}
	}
	sort.SliceStable(p.byRecent, func(a, b int) bool {
		return set.Deployments[p.byRecent[a]].RolledOutAt.After(set.Deployments[p.byRecent[b]].RolledOutAt)
	})
	p.oneNS = ""
	for i, d := range set.Deployments {
		if i == 0 {
			p.oneNS = d.Namespace
		} else if d.Namespace != p.oneNS {
			p.oneNS = ""
			break
		}
	}
	f := strings.ToLower(p.filter)
	for i, d := range set.Deployments {
		if f == "" || containsFold(d.Key()+" "+string(d.State)+" "+strings.Join(d.Images, " "), f) {
			p.index = append(p.index, i)
		}
	}
	p.list.clamp(len(p.index), p.listHeight())
}

func (p *rolloutsPane) listHeight() int { return max(1, p.h-4) }

// label is the deployment's name for a row w cells wide: the bare name when
// the header already names the only namespace, else namespace/name with the
// namespace shortened first, since the name is what the operator looks for.
func (p *rolloutsPane) label(d *sources.Deployment, w int) string {
	if p.oneNS != "" {
		return d.Name
	}
	key := d.Key()
	if len(key) <= w {
		return key
	}
	keep := w - len(d.Name) - 2 // room for "…/"
	if keep < 1 {
		return d.Name
	}
	return d.Namespace[:keep] + "…/" + d.Name
}

func (p *rolloutsPane) selected() *sources.Deployment {
	set := p.set()
	if set == nil || len(p.index) == 0 {
		return nil
	}
	return &set.Deployments[p.index[min(p.list.cursor, len(p.index)-1)]]
}

// undoTarget is the revision chosen in the history view, 0 = previous.
func (p *rolloutsPane) undoTarget(d *sources.Deployment) int64 { return p.undoTo[d.Key()] }

func (p *rolloutsPane) capturesKeys() bool { return p.prompt.editing }

// Update handles keys while the pane has focus.
func (p *rolloutsPane) Update(msg tea.Msg) (*rolloutsPane, tea.Cmd) {
	p.cache.touch()
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	k := p.c.km
	if p.prompt.editing {
		p.filter = p.prompt.key(km, k)
		p.rebuild()
		return p, nil
	}
	d := p.selected()
	if p.detail {
		switch {
		case key.Matches(km, k.List.Back):
			p.detail = false
		case d == nil:
		case key.Matches(km, k.List.Details):
			// choose the revision under the cursor as the undo target
			if p.hist.cursor < len(d.History) {
				r := d.History[p.hist.cursor]
				if r.Number == d.Revision || p.undoTo[d.Key()] == r.Number {
					delete(p.undoTo, d.Key())
				} else {
					p.undoTo[d.Key()] = r.Number
				}
			}
		default:
			p.hist.move(km, k.List, len(d.History), len(d.History))
		}
		return p, nil
	}
	switch {
	case key.Matches(km, k.List.Details):
		if d != nil {
			p.detail, p.hist = true, list{}
		}
	case key.Matches(km, k.List.Back):
		if p.filter != "" {
			p.filter = ""
			p.rebuild()
		}
	case key.Matches(km, k.List.Filter):
		p.prompt.open(p.filter)
	case key.Matches(km, k.Postgres.NextDB):
		p.feeds.step(1)
		p.rebuild()
	case key.Matches(km, k.Postgres.PrevDB):
		p.feeds.step(-1)
		p.rebuild()
	default:
		p.list.move(km, k.List, len(p.index), p.listHeight())
	}
	return p, nil
}

// Summary is the one-line view when another pane has the space.
func (p *rolloutsPane) Summary() string {
	s, ok := p.feeds.current()
	set := p.set()
	if set == nil {
		n, _, _ := dataNotice(p.c, s, ok, "rollouts")
		return "4 Rollouts  " + strings.Join(n, " ")
	}
	count := p.counts
	var recent []string
	for _, i := range p.byRecent {
		d := &set.Deployments[i]
		if p.c.now.Sub(d.RolledOutAt) >= recentRollout || len(recent) == 5 {
			break
		}
		recent = append(recent, d.Name+" "+fmtAge(p.c.now.Sub(d.RolledOutAt))+" ago")
	}
	out := fmt.Sprintf("4 Rollouts  %s  %d deployments  progressing %d  stalled %d", feedTitle(p.c, s, ok),
		len(set.Deployments), count[sources.RolloutProgressing], count[sources.RolloutStalled])
	if len(recent) > 0 {
		out += "  " + p.c.th.Paints.Recent.Render("deployed: "+strings.Join(recent, ", "))
	}
	return out
}

// View is the pane's block at its size, redrawn only when something it
// shows has changed.
func (p *rolloutsPane) View(focused bool) []string {
	return p.cache.view(p.c, focused, p.w, p.h, p.draw)
}

// draw renders the block; only visible rows are formatted.
func (p *rolloutsPane) draw(focused bool) []string {
	th := p.c.th
	ell := th.Ellipsis
	inner := p.w - 2
	s, ok := p.feeds.current()
	notice, dim, has := dataNotice(p.c, s, ok, "rollouts")
	body := notice
	title := "4 Rollouts · " + feedTitle(p.c, s, ok)
	if set := p.set(); set != nil && set.Context != "" {
		title += " · " + set.Context
	}
	footer := ""
	set := p.set()
	switch {
	case !has || set == nil:
	case p.detail && p.selected() != nil:
		body = append(body, p.detailLines(p.selected(), inner, focused)...)
		footer = "j/k revision  enter: choose for undo  esc back"
	default:
		if p.prompt.editing {
			body = append(body, th.Paints.Accent.Render("/ "+p.prompt.edit.view()))
		} else if p.filter != "" {
			body = append(body, th.Paints.Muted.Render(fmt.Sprintf("filter %q", p.filter)))
		}
		// A narrow pane (the grid's unfocused side) drops UPD and AVAIL
		// before it cuts the deployment name: READY already says whether
		// the pods are there.
		counts := inner >= 76
		nameW := min(40, max(14, inner-56))
		if !counts {
			nameW = max(14, inner-45)
		}
		nameHdr := "DEPLOYMENT"
		if p.oneNS != "" {
			nameHdr += " (" + p.oneNS + ")"
		}
		hdr := fit(nameHdr, nameW, ell) + " " + fitRight("READY", 7, ell)
		if counts {
			hdr += fitRight("UPD", 5, ell) + fitRight("AVAIL", 6, ell)
		}
		body = append(body, th.Paints.Muted.Render(hdr+"  "+fit("STATE", 11, ell)+fitRight("REV", 5, ell)+"  DEPLOYED"))
		h := p.h - 2 - len(body)
		p.list.clamp(len(p.index), h)
		for i := p.list.offset; i < min(len(p.index), p.list.offset+h); i++ {
			d := &set.Deployments[p.index[i]]
			state := string(d.State)
			if d.Paused {
				state = string(sources.RolloutPaused)
			}
			line := fit(p.label(d, nameW), nameW, ell) + " " + fitRight(fmt.Sprintf("%d/%d", d.Ready, d.Replicas), 7, ell)
			if counts {
				line += fitRight(strconv.Itoa(int(d.Updated)), 5, ell) + fitRight(strconv.Itoa(int(d.Available)), 6, ell)
			}
			line += "  " +
				fit(state, 11, ell) + fitRight(strconv.FormatInt(d.Revision, 10), 5, ell) + "  "
			ago := ""
			recent := false
			if !d.RolledOutAt.IsZero() {
				age := p.c.now.Sub(d.RolledOutAt)
				ago = fmtAge(age) + " ago"
				recent = age < recentRollout
			}
			rest := fit(ago, max0(inner-ansiWidth(line)), ell)
			stateSt := th.Paints.Base
			switch d.State {
			case sources.RolloutStalled:
				stateSt = th.Paints.Crit
			case sources.RolloutProgressing:
				stateSt = th.Paints.Warn
			}
			switch {
			case focused && i == p.list.cursor:
				line = th.Paints.Selected.Render(line + rest)
			case dim:
				line = th.Paints.Dim.Render(line + rest)
			case recent:
				line = stateSt.Render(line) + th.Paints.Recent.Render(rest)
			default:
				line = stateSt.Render(line) + th.Paints.Muted.Render(rest)
			}
			body = append(body, line)
		}
		if len(p.index) == 0 {
			body = append(body, th.Paints.Muted.Render("no deployments"))
		}
		footer = fmt.Sprintf("%d/%d", min(p.list.cursor+1, len(p.index)), len(p.index))
	}
	return frame(th, title, footer, focused, p.w, p.h, body)
}

func (p *rolloutsPane) detailLines(d *sources.Deployment, w int, focused bool) []string {
	th := p.c.th
	ell := th.Ellipsis
	out := []string{
		th.Paints.Bold.Render(d.Key()) + fmt.Sprintf("  revision %d  %s  ready %d/%d updated %d available %d",
			d.Revision, d.State, d.Ready, d.Replicas, d.Updated, d.Available),
	}
	if !d.RolledOutAt.IsZero() {
		out = append(out, "rolled out "+d.RolledOutAt.UTC().Format("2006-01-02 15:04")+" ("+fmtAge(p.c.now.Sub(d.RolledOutAt))+" ago)")
	}
	if d.Message != "" {
		out = append(out, wrapText(d.Message, w)...)
	}
	out = append(out, "images: "+strings.Join(d.Images, ", "))
	if set := p.set(); set != nil {
		if den := set.Denied[d.Namespace]; len(den) > 0 {
			for k, why := range den {
				out = append(out, th.Paints.Warn.Render(k+" denied: "+why))
			}
		}
	}
	to := p.undoTarget(d)
	if to != 0 {
		out = append(out, th.Paints.Accent.Render(fmt.Sprintf("undo target: revision %d (u to roll back)", to)))
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
	out = append(out, "", th.Paints.Muted.Render("    REV "+fit("AGE", 9, ell)+fit("", 12, ell)+fitRight("READY", 7, ell)+"  CHANGE-CAUSE / IMAGES"))
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
			age = fmtAge(p.c.now.Sub(r.CreatedAt)) + " ago"
		}
		cause := r.ChangeCause
		if cause == "" {
			cause = "-"
		}
		line := " " + mark + " " + fitRight(strconv.FormatInt(r.Number, 10), 4, ell) + " " + fit(age, 9, ell) + fit(role, 12, ell) +
			fitRight(fmt.Sprintf("%d/%d", r.Ready, r.Replicas), 7, ell) + "  " + cause + "  " + strings.Join(r.Images, ",")
		line = fit(line, w, ell)
		switch {
		case focused && i == p.hist.cursor:
			line = th.Paints.Selected.Render(line)
		case r.Number == d.Revision:
			line = th.Paints.Bold.Render(line)
		case r.Number == undoTo:
			line = th.Paints.Accent.Render(line)
		}
		out = append(out, line)
	}
	return out
}
