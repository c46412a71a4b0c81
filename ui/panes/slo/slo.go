// Package slo is the SLOs pane: each objective, its SLI, error budget left
// and burn rates over the page/ticket windows, with a burn trend.
package slo

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/internal/duration"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// windows are the burn-rate columns: the pairs the page/ticket rules use.
var windows = []time.Duration{5 * time.Minute, time.Hour, 6 * time.Hour, 72 * time.Hour}

// Pane shows the SLO set of its source.
type Pane struct {
	kit.List
	index []int // rows: indexes into the set's SLOs that pass the filter
	// rollouts are for the detail's correlation (correlate.go).
	rollouts kit.Rollouts
}

// New builds the pane in its slot.
func New(s kit.Slot) *Pane {
	p := &Pane{}
	p.Init(s, kit.Meta{Title: "SLOs", Kind: sources.KindSLO, Reads: []sources.Kind{sources.KindRollouts}, Noun: "SLOs"}, p)
	return p
}

// ShortHelp is what matters when reading SLOs.
func (p *Pane) ShortHelp() []key.Binding {
	k := p.Env.Keys
	return []key.Binding{k.List.Up, k.List.Down, k.List.Details, k.List.Filter}
}

// WantHeight makes the pane compact: its grid row is as tall as its rows.
func (p *Pane) WantHeight() int { return p.ContentHeight() }

// HandleKey handles a key while the pane has focus.
func (p *Pane) HandleKey(msg tea.KeyPressMsg) tea.Cmd {
	p.List.HandleKey(msg)
	return nil
}

// Actions: the SLOs pane offers none; acting happens where the cause is.
func (p *Pane) Actions() []kit.Action { return nil }

func (p *Pane) set() *sources.SLOSet { return kit.Data[*sources.SLOSet](&p.List) }

// Len is the number of SLOs shown.
func (p *Pane) Len() int { return len(p.index) }

// Rebuild applies the filter to the current set.
func (p *Pane) Rebuild() {
	p.index = p.index[:0]
	set := p.set()
	if set == nil {
		return
	}
	f := strings.ToLower(p.Filter)
	for i, s := range set.SLOs {
		if f == "" || kit.ContainsFold(s.Name+" "+s.Description+" "+s.Level.String(), f) {
			p.index = append(p.index, i)
		}
	}
	p.Cursor.Clamp(len(p.index), p.Visible())
}

func (p *Pane) selected() *sources.SLOStatus {
	set := p.set()
	if i := p.Selected(); set != nil && i >= 0 {
		return &set.SLOs[p.index[i]]
	}
	return nil
}

func (p *Pane) levelStyle(l sources.SLOLevel) themes.Paint {
	ps := p.Env.Theme.Paints
	switch l {
	case sources.SLOPage:
		return ps.Page
	case sources.SLOTicket:
		return ps.Ticket
	case sources.SLOOK:
		return ps.OK
	}
	return ps.Unknown
}

// Summary is the one-line view when another pane has the space.
func (p *Pane) Summary() string {
	head, ok := p.SummaryHead()
	set := p.set()
	if !ok || set == nil {
		return head
	}
	count := map[sources.SLOLevel]int{}
	worst := ""
	for _, x := range set.SLOs {
		count[x.Level]++
		if x.Level == sources.SLOPage && worst == "" {
			worst = x.Name + " " + x.Reason
		}
	}
	ps := p.Env.Theme.Paints
	out := head + "  " + ps.Page.Render(fmt.Sprintf("page %d", count[sources.SLOPage])) + "  " +
		ps.Ticket.Render(fmt.Sprintf("ticket %d", count[sources.SLOTicket])) + "  " +
		fmt.Sprintf("ok %d", count[sources.SLOOK])
	if worst != "" {
		out += "  " + worst
	}
	return out
}

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := p.Env.Theme
	ell := th.Ellipsis
	inner := p.W - 2
	notice, dim, has := p.Notice()
	body := notice
	footer := ""
	set := p.set()
	switch {
	case !has || set == nil:
	case p.Detail && p.selected() != nil:
		body = append(body, p.Scrolled(p.detailLines(p.selected(), inner))...)
		footer = "esc back"
	default:
		body = append(body, p.FilterLine()...)
		// Narrow panes drop the objective and tighten the burn columns: the
		// burn rates and the verdict are what an on-call reads first.
		nameW, objW, burnW := 20, 8, 7
		if inner < 100 {
			nameW, objW, burnW = 16, 0, 6
		}
		fixed := nameW + objW + 9 + 12 + 4*burnW + 8
		sparkW := max(0, inner-fixed-1)
		hdr := kit.Fit("NAME", nameW, ell) + kit.FitRight("OBJ", objW, ell) + kit.FitRight("SLI", 9, ell) + kit.FitRight("BUDGET", 12, ell)
		for _, w := range []string{"5m", "1h", "6h", "3d"} {
			hdr += kit.FitRight(w, burnW, ell)
		}
		hdr += " " + kit.Fit("LEVEL", 7, ell) + " " + kit.Fit("BURN TREND", sparkW, ell)
		body = append(body, th.Paints.Muted.Render(hdr))
		from, to := p.Window(len(p.index), p.H-2-len(body))
		for i := from; i < to; i++ {
			x := &set.SLOs[p.index[i]]
			line := kit.Fit(x.Name, nameW, ell) + kit.FitRight(kit.Pct(x.Objective, 2), objW, ell) + kit.FitRight(kit.Pct(x.SLI, 3), 9, ell) +
				kit.FitRight(kit.Pct(x.BudgetLeft, 0)+" "+kit.BudgetTime(x.BudgetLeftTime), 12, ell)
			for _, w := range windows {
				line += kit.FitRight(sources.FormatBurn(x.BurnRate(w)), burnW, ell)
			}
			lvl := kit.Fit(x.Level.String(), 7, ell)
			spark := kit.Fit(kit.Sparkline(x.Spark, sparkW, th.Spark), sparkW, ell)
			if x.Err != "" {
				spark = kit.Fit("ERR "+x.Err, sparkW, ell)
			}
			switch {
			case focused && i == p.Cursor.Pos:
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
		footer = p.Position(len(p.index))
	}
	return kit.Frame(th, p.FrameTitle(), footer, focused, p.W, p.H, body)
}

func (p *Pane) detailLines(x *sources.SLOStatus, w int) []string {
	th := p.Env.Theme
	out := []string{
		th.Paints.Bold.Render(x.Name) + "  " + p.levelStyle(x.Level).Render(strings.ToUpper(x.Level.String())),
	}
	if x.Description != "" {
		out = append(out, kit.Wrap(x.Description, w)...)
	}
	if note, ok := p.burnNote(x); ok {
		out = append(out, th.Paints.Warn.Render(note))
	}
	out = append(out,
		fmt.Sprintf("objective %s over %s   SLI %s", kit.Pct(x.Objective, 3), duration.Format(x.Window), kit.Pct(x.SLI, 4)),
		fmt.Sprintf("error budget left %s (%s at 1x burn)", kit.Pct(x.BudgetLeft, 1), kit.BudgetTime(x.BudgetLeftTime)),
		"reason: "+x.Reason,
	)
	// Windows are written as the columns and the config write them: 1d,
	// not kit.Age's 24h.
	var burns []string
	for _, bw := range sources.BurnWindows {
		burns = append(burns, duration.Format(bw)+" "+sources.FormatBurn(x.BurnRate(bw)))
	}
	out = append(out, "burn: "+strings.Join(burns, "  "))
	if len(x.Spark) > 0 {
		step := ""
		if x.SparkStep > 0 {
			step = fmt.Sprintf(" (one point per %s)", duration.Format(x.SparkStep))
		}
		out = append(out, "trend"+step+":", th.Paints.Accent.Render(kit.Sparkline(x.Spark, w, th.Spark)))
	}
	if x.Err != "" {
		out = append(out, th.Paints.Error.Render("error: "+x.Err))
	}
	if set := p.set(); set != nil {
		for _, wn := range set.Warnings {
			out = append(out, th.Paints.Warn.Render("warning: "+wn))
		}
	}
	if math.IsNaN(x.SLI) {
		out = append(out, th.Paints.Muted.Render("SLI unknown: no traffic or query error"))
	}
	return out
}
