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

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := p.Env.Theme
	ell := th.Ellipsis
	inner := p.W - 2
	notice, dim, has := p.Notice()
	body := notice
	title := p.FrameTitle()
	footer := ""
	toggle := kit.KeyName(p.Env.Keys.Alerts.Silences)
	set := p.set()
	switch {
	case !has || set == nil:
	case p.Detail:
		if sil := p.selectedSilence(); sil != nil {
			body = append(body, p.Scrolled(p.silenceDetail(sil, inner))...)
		} else if a, _ := p.selectedAlert(); a != nil {
			body = append(body, p.Scrolled(p.alertDetail(a, inner))...)
		}
		footer = kit.KeyName(p.Env.Keys.List.Back) + " back"
	case p.silences:
		title += " · silences"
		body = append(body, p.FilterLine()...)
		body = append(body, th.Paints.Muted.Render(kit.Fit("ID", 10, ell)+" "+kit.Fit("STATE", 8, ell)+" "+kit.Fit("ENDS", 8, ell)+" "+kit.Fit("BY", 12, ell)+" MATCHERS / COMMENT"))
		from, to := p.Window(len(p.sidx), p.H-2-len(body))
		for i := from; i < to; i++ {
			sil := &set.Silences[p.sidx[i]]
			ends := kit.Age(sil.EndsAt.Sub(p.Env.Now()))
			line := kit.Fit(sil.ID, 10, ell) + " " + kit.Fit(sil.State, 8, ell) + " " + kit.FitRight("in "+ends, 8, ell) + " " + kit.Fit(sil.CreatedBy, 12, ell) + " " + ops.FormatMatchers(sil.Matchers) + " " + sil.Comment
			line = kit.Fit(line, inner, ell)
			switch {
			case focused && i == p.Cursor.Pos:
				line = th.Paints.Selected.Render(line)
			case dim || sil.State == "expired":
				line = th.Paints.Dim.Render(line)
			}
			body = append(body, line)
		}
		if len(p.sidx) == 0 {
			body = append(body, th.Paints.Muted.Render("no silences"))
		}
		footer = p.Position(len(p.sidx)) + "  " + toggle + ": alerts"
	default:
		body = append(body, p.FilterLine()...)
		body = append(body, th.Paints.Muted.Render("  "+kit.Fit("STATE", 10, ell)+kit.Fit("SEVERITY", 9, ell)+kit.FitRight("AGE", 5, ell)+"  SUMMARY"))
		from, to := p.Window(len(p.rows), p.H-2-len(body))
		for i := from; i < to; i++ {
			body = append(body, p.row(p.rows[i], inner, focused && i == p.Cursor.Pos, dim))
		}
		if len(p.rows) == 0 {
			body = append(body, th.Paints.OK.Render("no alerts"))
		}
		footer = p.Position(len(p.rows)) + fmt.Sprintf("  %s: silences (%d)", toggle, len(set.Silences))
	}
	return kit.Frame(th, title, footer, focused, p.W, p.H, body)
}

func (p *Pane) row(r row, w int, selected, dim bool) string {
	th := p.Env.Theme
	ell := th.Ellipsis
	g := p.groups[r.group]
	var line string
	st := th.Paints.Base
	if r.alert < 0 {
		line = kit.Fit(g.header, w, ell)
		st = p.sevStyle(g.alerts[0].Severity, true)
	} else {
		a := g.alerts[r.alert]
		line = kit.Fit("  "+kit.Fit(string(a.State), 10, ell)+kit.Fit(a.Severity, 9, ell)+kit.FitRight(kit.Age(p.Env.Now().Sub(a.StartsAt)), 5, ell)+"  "+a.Summary, w, ell)
		if a.State == sources.AlertFiring {
			st = p.sevStyle(a.Severity, false)
		} else {
			st = th.Paints.Muted
		}
	}
	switch {
	case selected:
		return th.Paints.Selected.Render(line)
	case dim:
		return th.Paints.Dim.Render(line)
	}
	return st.Render(line)
}

func (p *Pane) alertDetail(a *sources.Alert, w int) []string {
	th := p.Env.Theme
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
	th := p.Env.Theme
	out := []string{
		th.Paints.Bold.Render("silence "+s.ID) + "  " + s.State,
		"matchers: " + ops.FormatMatchers(s.Matchers),
		"from " + s.StartsAt.UTC().Format("15:04") + " until " + s.EndsAt.UTC().Format("15:04") + " (in " + kit.Age(s.EndsAt.Sub(p.Env.Now())) + ")",
		"created by " + s.CreatedBy,
	}
	return append(out, kit.Wrap("comment: "+s.Comment, w)...)
}
