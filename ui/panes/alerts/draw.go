package alerts

import (
	"fmt"
	"strings"

	"flightdeck/internal/redact"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// sevStyle paints an alert by severity, ranked by sources.SeverityRank:
// critical (and error) red, warning yellow, the rest plain; a group's
// header in bold.
func (p *Pane) sevStyle(sev string, header bool) themes.Paint {
	ps := p.Env.Theme.Paints
	warn, base := ps.Warn, ps.Base
	if header {
		warn, base = ps.WarnBold, ps.BaseBold
	}
	switch r := sources.SeverityRank(sev); {
	case r <= 1:
		return ps.Crit
	case r == 2:
		return warn
	}
	return base
}

// Summary is the one-line view when another pane has the space.
func (p *Pane) Summary() string {
	head, ok := p.SummaryHead()
	if !ok || p.set() == nil {
		return head
	}
	count := p.counts
	out := head + "  " + p.Env.Theme.Paints.Crit.Render(fmt.Sprintf("firing %d", count[sources.AlertFiring])) +
		fmt.Sprintf("  pending %d  silenced %d", count[sources.AlertPending], count[sources.AlertSilenced])
	if len(p.groups) > 0 {
		out += "  top: " + p.groups[0].name
	}
	return out
}

// Columns of the alerts table (the group headers span the row) and of the
// silences table; the summary and the matchers take what is left.
const (
	aIndent = iota
	aState
	aSeverity
	aAge
	aSummary
)

const (
	sID = iota
	sState
	sEnds
	sBy
	sMatchers
)

func newTables() (alerts, silences kit.Table) {
	alerts = kit.Table{Fill: aSummary, Cols: []kit.Col{
		aIndent:   {W: 2},
		aState:    {Title: "STATE", W: 10},
		aSeverity: {Title: "SEVERITY", W: 9},
		aAge:      {Title: "AGE", W: 5, Right: true},
		aSummary:  {Title: "SUMMARY", W: 1, Gap: 2},
	}}
	silences = kit.Table{Fill: sMatchers, Cols: []kit.Col{
		sID:       {Title: "ID", W: 10},
		sState:    {Title: "STATE", W: 8, Gap: 1},
		sEnds:     {Title: "ENDS", W: 8, Gap: 1, Right: true},
		sBy:       {Title: "BY", W: 12, Gap: 1},
		sMatchers: {Title: "MATCHERS / COMMENT", W: 1, Gap: 1},
	}}
	return alerts, silences
}

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := &p.Env.Theme
	toggle := kit.KeyName(p.Env.Keys.Alerts.Silences)
	set := p.set()
	sh := kit.Sheet{Ready: set != nil}
	if sil := p.selectedSilence(); sil != nil {
		sh.Detail = func(w int) []string { return p.silenceDetail(sil, w) }
	} else if a, _ := p.selectedAlert(); a != nil {
		sh.Detail = func(w int) []string { return p.alertDetail(a, w) }
	}
	if set == nil {
		return p.DrawSheet(focused, sh)
	}
	inner := p.W - 2
	if p.silences {
		t := &p.silTable
		t.Fit(inner, th.Ellipsis)
		sh.Title = p.FrameTitle() + " · silences"
		sh.Head = []string{t.Header(th.Paints.Muted)}
		sh.N, sh.Empty = len(p.sidx), th.Paints.Muted.Render("no silences")
		sh.Footer = "  " + toggle + ": alerts"
		sh.Rows = func(body []string, from, to int, dim bool) []string {
			for i := from; i < to; i++ {
				body = append(body, p.silenceRow(&set.Silences[p.sidx[i]], focused && i == p.Cursor.Pos, dim))
			}
			return body
		}
		return p.DrawSheet(focused, sh)
	}
	t := &p.alertTable
	t.Fit(inner, th.Ellipsis)
	sh.Head = []string{t.Header(th.Paints.Muted)}
	sh.N, sh.Empty = len(p.rows), th.Paints.OK.Render("no alerts")
	sh.Footer = fmt.Sprintf("  %s: silences (%d)", toggle, len(set.Silences))
	sh.Rows = func(body []string, from, to int, dim bool) []string {
		for i := from; i < to; i++ {
			body = append(body, p.row(p.rows[i], inner, focused && i == p.Cursor.Pos, dim))
		}
		return body
	}
	return p.DrawSheet(focused, sh)
}

func (p *Pane) silenceRow(sil *sources.Silence, selected, dim bool) string {
	th := &p.Env.Theme
	t := &p.silTable
	c := t.Cells()
	c[sID].Text = sil.ID
	c[sState].Text = sil.State
	c[sEnds].Text = "in " + kit.Age(sil.EndsAt.Sub(p.Env.Now()))
	c[sBy].Text = sil.CreatedBy
	c[sMatchers].Text = ops.FormatMatchers(sil.Matchers) + " " + sil.Comment
	switch {
	case selected:
		return t.Row(c, &th.Paints.Selected, nil)
	case dim || sil.State == "expired":
		return t.Row(c, &th.Paints.Dim, nil)
	}
	return t.Row(c, nil, nil)
}

// row is a group's header line across the row, or one alert in the table.
func (p *Pane) row(r row, w int, selected, dim bool) string {
	th := &p.Env.Theme
	g := p.groups[r.group]
	paint := &th.Paints.Base
	var line string
	if r.alert < 0 {
		st := p.sevStyle(g.alerts[0].Severity, true)
		paint, line = &st, kit.Fit(g.header, w, th.Ellipsis)
	} else {
		a := g.alerts[r.alert]
		if a.State == sources.AlertFiring {
			st := p.sevStyle(a.Severity, false)
			paint = &st
		} else {
			paint = &th.Paints.Muted
		}
		switch {
		case selected:
			paint = &th.Paints.Selected
		case dim:
			paint = &th.Paints.Dim
		}
		t := &p.alertTable
		c := t.Cells()
		c[aState].Text = string(a.State)
		c[aSeverity].Text = a.Severity
		c[aAge].Text = kit.Age(p.Env.Now().Sub(a.StartsAt))
		c[aSummary].Text = a.Summary
		return t.Row(c, paint, nil)
	}
	switch {
	case selected:
		return th.Paints.Selected.Render(line)
	case dim:
		return th.Paints.Dim.Render(line)
	}
	return paint.Render(line)
}

func (p *Pane) alertDetail(a *sources.Alert, w int) []string {
	th := &p.Env.Theme
	now := p.Env.Now()
	out := []string{
		th.Paints.Bold.Render(a.Name) + "  " + p.sevStyle(a.Severity, false).Render(a.Severity) + "  " + string(a.State) +
			"  since " + a.StartsAt.UTC().Format("15:04:05") + " (" + kit.Age(now.Sub(a.StartsAt)) + ")",
	}
	if c := p.correlation(a); c != "" {
		out = append(out, th.Paints.Warn.Render(c))
	}
	if a.Summary != "" {
		out = append(out, kit.Wrap(a.Summary, w)...)
	}
	if a.Description != "" {
		out = append(out, "")
		out = append(out, kit.Wrap(a.Description, w)...)
	}
	if a.RunbookURL != "" {
		out = append(out, "", th.Paints.Accent.Render("runbook: "+redact.Link(a.RunbookURL)))
	}
	out = append(out, "", th.Paints.Muted.Render("labels:"))
	for _, l := range a.Labels {
		out = append(out, "  "+l.Name+"="+l.Value)
	}
	if len(a.Annotations) > 0 {
		out = append(out, th.Paints.Muted.Render("annotations:"))
		for _, l := range a.Annotations {
			out = append(out, "  "+l.Name+": "+l.Value)
		}
	}
	for _, x := range []struct {
		label string
		vs    []string
	}{{"receivers", a.Receivers}, {"silenced by", a.SilencedBy}, {"inhibited by", a.InhibitedBy}} {
		if len(x.vs) > 0 {
			out = append(out, x.label+": "+strings.Join(x.vs, ", "))
		}
	}
	return out
}

func (p *Pane) silenceDetail(s *sources.Silence, w int) []string {
	th := &p.Env.Theme
	out := []string{
		th.Paints.Bold.Render("silence "+s.ID) + "  " + s.State,
		"matchers: " + ops.FormatMatchers(s.Matchers),
		"from " + s.StartsAt.UTC().Format("15:04") + " until " + s.EndsAt.UTC().Format("15:04") + " (in " + kit.Age(s.EndsAt.Sub(p.Env.Now())) + ")",
		"created by " + s.CreatedBy,
	}
	return append(out, kit.Wrap("comment: "+s.Comment, w)...)
}
