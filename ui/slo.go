package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
	"flightdeck/themes"
)

// sloWindows are the burn-rate columns: the pairs the page/ticket rules use.
var sloWindows = []time.Duration{5 * time.Minute, time.Hour, 6 * time.Hour, 72 * time.Hour}

type sloPane struct {
	cache  paneCache
	c      *shared
	feeds  feeds
	list   list
	detail bool
	filter string
	prompt filterPrompt
	index  []int
	w, h   int
}

func newSLOPane(c *shared) *sloPane { return &sloPane{c: c} }

// SetSize is the frame size, border included.
func (p *sloPane) SetSize(w, h int) { p.w, p.h = w, h }

// ShortHelp is what matters when reading SLOs.
func (p *sloPane) ShortHelp() []key.Binding {
	return []key.Binding{p.c.km.List.Up, p.c.km.List.Down, p.c.km.List.Details, p.c.km.List.Filter}
}

// FullHelp is the SLO section of the help overlay.
func (p *sloPane) FullHelp() [][]key.Binding { return p.c.km.List.FullHelp() }

func (p *sloPane) set() *sources.SLOSet {
	s, ok := p.feeds.current()
	if !ok {
		return nil
	}
	set, _ := s.Data.(*sources.SLOSet)
	return set
}

func (p *sloPane) setSnapshot(s sources.Snapshot) {
	p.cache.touch()
	p.feeds.set(s)
	p.rebuild()
}

func (p *sloPane) rebuild() {
	p.index = p.index[:0]
	set := p.set()
	if set == nil {
		return
	}
	f := strings.ToLower(p.filter)
	for i, s := range set.SLOs {
		if f == "" || containsFold(s.Name+" "+s.Description+" "+s.Level.String(), f) {
			p.index = append(p.index, i)
		}
	}
	p.list.clamp(len(p.index), p.listHeight())
}

func (p *sloPane) listHeight() int { return max(1, p.h-4) }

// wantHeight is the frame height that shows every row (the layout caps it).
func (p *sloPane) wantHeight() int {
	if p.detail {
		return 1 << 10
	}
	n := 2 + 1 + max(1, len(p.index)) // border, column titles, rows
	if p.prompt.editing || p.filter != "" {
		n++
	}
	if s, ok := p.feeds.current(); !ok || s.Err != nil || s.Stale {
		n++
	}
	return n
}

func (p *sloPane) selected() *sources.SLOStatus {
	set := p.set()
	if set == nil || len(p.index) == 0 {
		return nil
	}
	return &set.SLOs[p.index[min(p.list.cursor, len(p.index)-1)]]
}

func (p *sloPane) capturesKeys() bool { return p.prompt.editing }

// Update handles keys while the pane has focus.
func (p *sloPane) Update(msg tea.Msg) (*sloPane, tea.Cmd) {
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
	switch {
	case key.Matches(km, k.List.Details):
		p.detail = !p.detail && p.selected() != nil
	case key.Matches(km, k.List.Back):
		if p.detail {
			p.detail = false
		} else if p.filter != "" {
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

func (p *sloPane) levelStyle(l sources.SLOLevel) themes.Paint {
	switch l {
	case sources.SLOPage:
		return p.c.th.Paints.Page
	case sources.SLOTicket:
		return p.c.th.Paints.Ticket
	case sources.SLOOK:
		return p.c.th.Paints.OK
	}
	return p.c.th.Paints.Unknown
}

// Summary is the one-line view when another pane has the space.
func (p *sloPane) Summary() string {
	s, ok := p.feeds.current()
	set := p.set()
	if set == nil {
		n, _, _ := dataNotice(p.c, s, ok, "SLOs")
		return "1 SLOs  " + strings.Join(n, " ")
	}
	count := map[sources.SLOLevel]int{}
	worst := ""
	for _, x := range set.SLOs {
		count[x.Level]++
		if x.Level == sources.SLOPage && worst == "" {
			worst = x.Name + " " + x.Reason
		}
	}
	out := fmt.Sprintf("1 SLOs  %s  ", feedTitle(p.c, s, ok)) +
		p.c.th.Paints.Page.Render(fmt.Sprintf("page %d", count[sources.SLOPage])) + "  " +
		p.c.th.Paints.Ticket.Render(fmt.Sprintf("ticket %d", count[sources.SLOTicket])) + "  " +
		fmt.Sprintf("ok %d", count[sources.SLOOK])
	if worst != "" {
		out += "  " + worst
	}
	return out
}

// View is the pane's block at its size, redrawn only when something it
// shows has changed.
func (p *sloPane) View(focused bool) []string {
	return p.cache.view(p.c, focused, p.w, p.h, p.draw)
}

// draw renders the block; only visible rows are formatted.
func (p *sloPane) draw(focused bool) []string {
	th := p.c.th
	ell := th.Ellipsis
	inner := p.w - 2
	s, ok := p.feeds.current()
	notice, dim, has := dataNotice(p.c, s, ok, "SLOs")
	body := notice
	title := "1 SLOs · " + feedTitle(p.c, s, ok)
	footer := ""
	set := p.set()
	switch {
	case !has || set == nil:
	case p.detail && p.selected() != nil:
		body = append(body, p.detailLines(p.selected(), inner)...)
		footer = "esc back"
	default:
		if p.prompt.editing {
			body = append(body, th.Paints.Accent.Render("/ "+p.prompt.edit.view()))
		} else if p.filter != "" {
			body = append(body, th.Paints.Muted.Render(fmt.Sprintf("filter %q", p.filter)))
		}
		// Narrow panes drop the objective and tighten the burn columns: the
		// burn rates and the verdict are what an on-call reads first.
		nameW, objW, burnW := 20, 8, 7
		if inner < 100 {
			nameW, objW, burnW = 16, 0, 6
		}
		fixed := nameW + objW + 9 + 12 + 4*burnW + 8
		sparkW := max0(inner - fixed - 1)
		hdr := fit("NAME", nameW, ell) + fitRight("OBJ", objW, ell) + fitRight("SLI", 9, ell) + fitRight("BUDGET", 12, ell)
		for _, w := range []string{"5m", "1h", "6h", "3d"} {
			hdr += fitRight(w, burnW, ell)
		}
		hdr += " " + fit("LEVEL", 7, ell) + " " + fit("BURN TREND", sparkW, ell)
		body = append(body, th.Paints.Muted.Render(hdr))
		h := p.h - 2 - len(body)
		p.list.clamp(len(p.index), h)
		for i := p.list.offset; i < min(len(p.index), p.list.offset+h); i++ {
			x := &set.SLOs[p.index[i]]
			line := fit(x.Name, nameW, ell) + fitRight(pct(x.Objective, 2), objW, ell) + fitRight(pct(x.SLI, 3), 9, ell) +
				fitRight(pct(x.BudgetLeft, 0)+" "+fmtBudgetTime(x.BudgetLeftTime), 12, ell)
			for _, w := range sloWindows {
				line += fitRight(sources.FormatBurn(x.BurnRate(w)), burnW, ell)
			}
			lvl := fit(x.Level.String(), 7, ell)
			spark := fit(sparkline(x.Spark, sparkW, th.Spark), sparkW, ell)
			if x.Err != "" {
				spark = fit("ERR "+x.Err, sparkW, ell)
			}
			switch {
			case focused && i == p.list.cursor:
				line = th.Paints.Selected.Render(line + " " + lvl + " " + spark)
			case dim:
				line = th.Paints.Dim.Render(line + " " + lvl + " " + spark)
			default:
				line = th.Paints.Base.Render(line) + " " + p.levelStyle(x.Level).Render(lvl) + " " + th.Paints.Accent.Render(spark)
			}
			body = append(body, line)
		}
		if len(p.index) == 0 {
			body = append(body, th.Paints.Muted.Render("no SLOs"))
		}
		footer = fmt.Sprintf("%d/%d", min(p.list.cursor+1, len(p.index)), len(p.index))
	}
	return frame(th, title, footer, focused, p.w, p.h, body)
}

func (p *sloPane) detailLines(x *sources.SLOStatus, w int) []string {
	th := p.c.th
	out := []string{
		th.Paints.Bold.Render(x.Name) + "  " + p.levelStyle(x.Level).Render(strings.ToUpper(x.Level.String())),
	}
	if x.Description != "" {
		out = append(out, wrapText(x.Description, w)...)
	}
	out = append(out,
		fmt.Sprintf("objective %s over %s   SLI %s", pct(x.Objective, 3), fmtAge(x.Window), pct(x.SLI, 4)),
		fmt.Sprintf("error budget left %s (%s at 1x burn)", pct(x.BudgetLeft, 1), fmtBudgetTime(x.BudgetLeftTime)),
		"reason: "+x.Reason,
	)
	var burns []string
	for _, bw := range sources.BurnWindows {
		burns = append(burns, fmtAge(bw)+" "+sources.FormatBurn(x.BurnRate(bw)))
	}
	out = append(out, "burn: "+strings.Join(burns, "  "))
	if len(x.Spark) > 0 {
		step := ""
		if x.SparkStep > 0 {
			step = fmt.Sprintf(" (one point per %s)", fmtAge(x.SparkStep))
		}
		out = append(out, "trend"+step+":", th.Paints.Accent.Render(sparkline(x.Spark, w, th.Spark)))
	}
	if x.Err != "" {
		out = append(out, th.Paints.Error.Render("error: "+x.Err))
	}
	if set := p.set(); set != nil && len(set.Warnings) > 0 {
		for _, wn := range set.Warnings {
			out = append(out, th.Paints.Warn.Render("warning: "+wn))
		}
	}
	if math.IsNaN(x.SLI) {
		out = append(out, th.Paints.Muted.Render("SLI unknown: no traffic or query error"))
	}
	return out
}
