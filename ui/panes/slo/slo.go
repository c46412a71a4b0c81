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
	table    kit.Table
}

// New builds the pane in its slot.
func New(s kit.Slot) *Pane {
	p := &Pane{table: newTable()}
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

// Columns of the table. A roomy pane (100 cells or more) shows the
// objective and spaces the burn columns; a narrow one drops the objective
// and tightens them: the burn rates and the verdict are what an on-call
// reads first. The burn trend takes what is left.
const (
	cName = iota
	cObj
	cSLI
	cBudget
	cBurn  // four columns, one per window
	cLevel = cBurn + 4
	cSpark = cLevel + 1
)

func newTable() kit.Table {
	cols := []kit.Col{
		cName:   {Title: "NAME", W: 16, Roomy: 20},
		cObj:    {Title: "OBJ", Roomy: 8, Right: true},
		cSLI:    {Title: "SLI", W: 9, Right: true},
		cBudget: {Title: "BUDGET", W: 12, Right: true},
		cLevel:  {Title: "LEVEL", W: 7, Gap: 1},
		cSpark:  {Title: "BURN TREND", Short: "TREND", W: 1, Gap: 1},
	}
	for i, w := range []string{"5m", "1h", "6h", "3d"} {
		cols[cBurn+i] = kit.Col{Title: w, W: 6, Roomy: 7, Right: true}
	}
	return kit.Table{Cols: cols, Fill: cSpark, RoomyAt: 100}
}

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := &p.Env.Theme
	set := p.set()
	sh := kit.Sheet{Ready: set != nil, N: len(p.index), Empty: th.Paints.Muted.Render("no SLOs")}
	if x := p.selected(); x != nil {
		sh.Detail = func(w int) []string { return p.detailLines(x, w) }
	}
	if set != nil {
		p.table.Fit(p.W-2, th.Ellipsis)
		sh.Head = []string{p.table.Header(th.Paints.Muted)}
		sh.Rows = func(body []string, from, to int, dim bool) []string {
			for i := from; i < to; i++ {
				body = append(body, p.row(&set.SLOs[p.index[i]], focused && i == p.Cursor.Pos, dim))
			}
			return body
		}
	}
	return p.DrawSheet(focused, sh)
}

func (p *Pane) row(x *sources.SLOStatus, selected, dim bool) string {
	th := &p.Env.Theme
	t := &p.table
	c := t.Cells()
	c[cName].Text = x.Name
	c[cObj].Text = kit.Pct(x.Objective, 2)
	c[cSLI].Text = kit.Pct(x.SLI, 3)
	c[cBudget].Text = kit.Pct(x.BudgetLeft, 0) + " " + kit.BudgetTime(x.BudgetLeftTime)
	for i, w := range windows {
		c[cBurn+i].Text = sources.FormatBurn(x.BurnRate(w))
	}
	level := p.levelStyle(x.Level)
	c[cLevel] = kit.Cell{Text: x.Level.String(), Paint: &level}
	c[cSpark] = kit.Cell{Text: kit.Sparkline(x.Spark, t.Width(cSpark), th.Spark), Paint: &th.Paints.Accent}
	if x.Err != "" {
		c[cSpark].Text = "ERR " + x.Err
	}
	switch {
	case selected:
		return t.Row(c, &th.Paints.Selected, nil)
	case dim:
		return t.Row(c, &th.Paints.Dim, nil)
	}
	return t.Row(c, nil, &th.Paints.Base)
}

func (p *Pane) detailLines(x *sources.SLOStatus, w int) []string {
	th := &p.Env.Theme
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
