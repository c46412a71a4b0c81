package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/themes"
)

// alertRow is one line of the alerts list: a group header (alert < 0) or
// one alert of the group.
type alertRow struct {
	group int
	alert int
}

type alertGroup struct {
	name   string
	alerts []*sources.Alert
	header string // "Name ×3  critical  (2 firing, 1 pending)", made in rebuild
}

type alertsPane struct {
	cache    paneCache
	c        *shared
	feeds    feeds
	groups   []alertGroup
	rows     []alertRow
	list     list
	silences bool // showing the silences list instead of alerts
	slist    list
	sidx     []int
	detail   bool
	filter   string
	prompt   filterPrompt
	w, h     int
	// counts are the alerts per state of the whole set (the summary line),
	// counted in rebuild so no frame walks the alerts.
	counts map[sources.AlertState]int
}

func newAlertsPane(c *shared) *alertsPane { return &alertsPane{c: c} }

// SetSize is the frame size, border included.
func (p *alertsPane) SetSize(w, h int) { p.w, p.h = w, h }

// ShortHelp follows the pane.
func (p *alertsPane) ShortHelp() []key.Binding {
	k := p.c.km
	return []key.Binding{k.List.Details, k.List.Filter, k.Alerts.Silences, k.Alerts.Silence, k.Global.Actions}
}

// FullHelp is the alerts section of the help overlay.
func (p *alertsPane) FullHelp() [][]key.Binding {
	return append(p.c.km.List.FullHelp(), p.c.km.Alerts.FullHelp()...)
}

func (p *alertsPane) set() *sources.AlertSet {
	s, ok := p.feeds.current()
	if !ok {
		return nil
	}
	set, _ := s.Data.(*sources.AlertSet)
	return set
}

func (p *alertsPane) setSnapshot(s sources.Snapshot) {
	p.cache.touch()
	p.feeds.set(s)
	p.rebuild()
}

func sevRank(s string) int {
	switch strings.ToLower(s) {
	case "critical":
		return 0
	case "warning":
		return 1
	case "info":
		return 2
	}
	return 3
}

// rebuild groups by alert name, most severe group first, then the group
// that has been firing longest: the oldest critical is the incident.
func (p *alertsPane) rebuild() {
	p.groups, p.rows = p.groups[:0], p.rows[:0]
	p.sidx = p.sidx[:0]
	p.counts = map[sources.AlertState]int{}
	set := p.set()
	if set == nil {
		return
	}
	for i := range set.Alerts {
		p.counts[set.Alerts[i].State]++
	}
	f := strings.ToLower(p.filter)
	byName := map[string]int{}
	for i := range set.Alerts {
		a := &set.Alerts[i]
		if f != "" && !containsFold(a.Name+" "+a.Summary+" "+a.Severity+" "+string(a.State)+" "+labelText(a.Labels), f) {
			continue
		}
		g, ok := byName[a.Name]
		if !ok {
			g = len(p.groups)
			byName[a.Name] = g
			p.groups = append(p.groups, alertGroup{name: a.Name})
		}
		p.groups[g].alerts = append(p.groups[g].alerts, a)
	}
	for _, g := range p.groups {
		sort.SliceStable(g.alerts, func(i, j int) bool {
			a, b := g.alerts[i], g.alerts[j]
			if sevRank(a.Severity) != sevRank(b.Severity) {
				return sevRank(a.Severity) < sevRank(b.Severity)
			}
			return a.StartsAt.Before(b.StartsAt)
		})
	}
	sort.SliceStable(p.groups, func(i, j int) bool {
		a, b := p.groups[i].alerts[0], p.groups[j].alerts[0]
		if sevRank(a.Severity) != sevRank(b.Severity) {
			return sevRank(a.Severity) < sevRank(b.Severity)
		}
		oa, ob := oldest(p.groups[i].alerts), oldest(p.groups[j].alerts)
		if !oa.Equal(ob) {
			return oa.Before(ob)
		}
		return p.groups[i].name < p.groups[j].name
	})
	for gi := range p.groups {
		g := &p.groups[gi]
		counts := map[sources.AlertState]int{}
		for _, x := range g.alerts {
			counts[x.State]++
		}
		var cs []string
		for _, stt := range []sources.AlertState{sources.AlertFiring, sources.AlertPending, sources.AlertSilenced, sources.AlertInhibited} {
			if counts[stt] > 0 {
				cs = append(cs, fmt.Sprintf("%d %s", counts[stt], stt))
			}
		}
		g.header = fmt.Sprintf("%s ×%d  %s  (%s)", g.name, len(g.alerts), g.alerts[0].Severity, strings.Join(cs, ", "))
		p.rows = append(p.rows, alertRow{gi, -1})
		for ai := range g.alerts {
			p.rows = append(p.rows, alertRow{gi, ai})
		}
	}
	for i, s := range set.Silences {
		if f == "" || containsFold(s.ID+" "+s.Comment+" "+s.CreatedBy+" "+s.State+" "+ops.FormatMatchers(s.Matchers), f) {
			p.sidx = append(p.sidx, i)
		}
	}
	p.list.clamp(len(p.rows), p.listHeight())
	p.slist.clamp(len(p.sidx), p.listHeight())
}

func oldest(as []*sources.Alert) time.Time {
	t := as[0].StartsAt
	for _, a := range as {
		if a.StartsAt.Before(t) {
			t = a.StartsAt
		}
	}
	return t
}

func labelText(ls []sources.Label) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Name + "=" + l.Value
	}
	return strings.Join(parts, " ")
}

func (p *alertsPane) listHeight() int { return max(1, p.h-4) }

// wantHeight is the frame height that shows every row (the layout caps it).
func (p *alertsPane) wantHeight() int {
	if p.detail {
		return 1 << 10
	}
	rows := len(p.rows)
	if p.silences {
		rows = len(p.sidx)
	}
	n := 2 + 1 + max(1, rows)
	if p.prompt.editing || p.filter != "" {
		n++
	}
	if s, ok := p.feeds.current(); !ok || s.Err != nil || s.Stale {
		n++
	}
	return n
}

// selectedAlert is the alert under the cursor; on a group header it is the
// group's first alert and header=true (silence the whole alertname).
func (p *alertsPane) selectedAlert() (a *sources.Alert, header bool) {
	if p.silences || len(p.rows) == 0 {
		return nil, false
	}
	r := p.rows[min(p.list.cursor, len(p.rows)-1)]
	g := p.groups[r.group]
	if r.alert < 0 {
		return g.alerts[0], true
	}
	return g.alerts[r.alert], false
}

func (p *alertsPane) selectedSilence() *sources.Silence {
	set := p.set()
	if !p.silences || set == nil || len(p.sidx) == 0 {
		return nil
	}
	return &set.Silences[p.sidx[min(p.slist.cursor, len(p.sidx)-1)]]
}

func (p *alertsPane) capturesKeys() bool { return p.prompt.editing }

// Update handles keys while the pane has focus.
func (p *alertsPane) Update(msg tea.Msg) (*alertsPane, tea.Cmd) {
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
		if a, _ := p.selectedAlert(); a != nil || p.selectedSilence() != nil {
			p.detail = !p.detail
		}
	case key.Matches(km, k.List.Back):
		if p.detail {
			p.detail = false
		} else if p.filter != "" {
			p.filter = ""
			p.rebuild()
		}
	case key.Matches(km, k.List.Filter):
		p.prompt.open(p.filter)
	case key.Matches(km, k.Alerts.Silences):
		p.silences, p.detail = !p.silences, false
	case key.Matches(km, k.Postgres.NextDB):
		p.feeds.step(1)
		p.rebuild()
	case key.Matches(km, k.Postgres.PrevDB):
		p.feeds.step(-1)
		p.rebuild()
	case p.detail:
	case p.silences:
		p.slist.move(km, k.List, len(p.sidx), p.listHeight())
	default:
		p.list.move(km, k.List, len(p.rows), p.listHeight())
	}
	return p, nil
}

func (p *alertsPane) sevStyle(sev string) themes.Paint {
	switch sevRank(sev) {
	case 0:
		return p.c.th.Paints.Crit
	case 1:
		return p.c.th.Paints.Warn
	}
	return p.c.th.Paints.Base
}

// sevHeader is the bold variant for a group header.
func (p *alertsPane) sevHeader(sev string) themes.Paint {
	switch sevRank(sev) {
	case 0:
		return p.c.th.Paints.Crit
	case 1:
		return p.c.th.Paints.WarnBold
	}
	return p.c.th.Paints.BaseBold
}

// Summary is the one-line view when another pane has the space.
func (p *alertsPane) Summary() string {
	s, ok := p.feeds.current()
	set := p.set()
	if set == nil {
		n, _, _ := dataNotice(p.c, s, ok, "alerts")
		return "2 Alerts  " + strings.Join(n, " ")
	}
	count := p.counts
	out := fmt.Sprintf("2 Alerts  %s  ", feedTitle(p.c, s, ok)) +
		p.c.th.Paints.Crit.Render(fmt.Sprintf("firing %d", count[sources.AlertFiring])) +
		fmt.Sprintf("  pending %d  silenced %d", count[sources.AlertPending], count[sources.AlertSilenced])
	if len(p.groups) > 0 {
		out += "  top: " + p.groups[0].name
	}
	return out
}

// View is the pane's block at its size, redrawn only when something it
// shows has changed.
func (p *alertsPane) View(focused bool) []string {
	return p.cache.view(p.c, focused, p.w, p.h, p.draw)
}

// draw renders the block; only visible rows are formatted.
func (p *alertsPane) draw(focused bool) []string {
	th := p.c.th
	ell := th.Ellipsis
	inner := p.w - 2
	s, ok := p.feeds.current()
	notice, dim, has := dataNotice(p.c, s, ok, "alerts")
	body := notice
	title := "2 Alerts · " + feedTitle(p.c, s, ok)
	footer := ""
	set := p.set()
	switch {
	case !has || set == nil:
	case p.detail:
		if sil := p.selectedSilence(); sil != nil {
			body = append(body, p.silenceDetail(sil, inner)...)
		} else if a, _ := p.selectedAlert(); a != nil {
			body = append(body, p.alertDetail(a, inner)...)
		}
		footer = "esc back"
	case p.silences:
		title += " · silences"
		body = append(body, p.filterLine()...)
		body = append(body, th.Paints.Muted.Render(fit("ID", 10, ell)+" "+fit("STATE", 8, ell)+" "+fit("ENDS", 8, ell)+" "+fit("BY", 12, ell)+" MATCHERS / COMMENT"))
		h := p.h - 2 - len(body)
		p.slist.clamp(len(p.sidx), h)
		for i := p.slist.offset; i < min(len(p.sidx), p.slist.offset+h); i++ {
			sil := &set.Silences[p.sidx[i]]
			ends := fmtAge(sil.EndsAt.Sub(p.c.now))
			line := fit(sil.ID, 10, ell) + " " + fit(sil.State, 8, ell) + " " + fitRight("in "+ends, 8, ell) + " " + fit(sil.CreatedBy, 12, ell) + " " + ops.FormatMatchers(sil.Matchers) + " " + sil.Comment
			line = fit(line, inner, ell)
			switch {
			case focused && i == p.slist.cursor:
				line = th.Paints.Selected.Render(line)
			case dim || sil.State == "expired":
				line = th.Paints.Dim.Render(line)
			}
			body = append(body, line)
		}
		if len(p.sidx) == 0 {
			body = append(body, th.Paints.Muted.Render("no silences"))
		}
		footer = fmt.Sprintf("%d/%d  v: alerts", min(p.slist.cursor+1, len(p.sidx)), len(p.sidx))
	default:
		body = append(body, p.filterLine()...)
		body = append(body, th.Paints.Muted.Render("  "+fit("STATE", 10, ell)+fit("SEVERITY", 9, ell)+fitRight("AGE", 5, ell)+"  SUMMARY"))
		h := p.h - 2 - len(body)
		p.list.clamp(len(p.rows), h)
		for i := p.list.offset; i < min(len(p.rows), p.list.offset+h); i++ {
			r := p.rows[i]
			g := p.groups[r.group]
			var line string
			st := th.Paints.Base
			if r.alert < 0 {
				line = fit(g.header, inner, ell)
				st = p.sevHeader(g.alerts[0].Severity)
			} else {
				a := g.alerts[r.alert]
				line = fit("  "+fit(string(a.State), 10, ell)+fit(a.Severity, 9, ell)+fitRight(fmtAge(p.c.now.Sub(a.StartsAt)), 5, ell)+"  "+a.Summary, inner, ell)
				if a.State == sources.AlertFiring {
					st = p.sevStyle(a.Severity)
				} else {
					st = th.Paints.Muted
				}
			}
			switch {
			case focused && i == p.list.cursor:
				line = th.Paints.Selected.Render(line)
			case dim:
				line = th.Paints.Dim.Render(line)
			default:
				line = st.Render(line)
			}
			body = append(body, line)
		}
		if len(p.rows) == 0 {
			body = append(body, th.Paints.OK.Render("no alerts"))
		}
		footer = fmt.Sprintf("%d/%d  v: silences (%d)", min(p.list.cursor+1, len(p.rows)), len(p.rows), len(set.Silences))
	}
	return frame(th, title, footer, focused, p.w, p.h, body)
}

func (p *alertsPane) filterLine() []string {
	if p.prompt.editing {
		return []string{p.c.th.Paints.Accent.Render("/ " + p.prompt.edit.view())}
	}
	if p.filter != "" {
		return []string{p.c.th.Paints.Muted.Render(fmt.Sprintf("filter %q", p.filter))}
	}
	return nil
}

func (p *alertsPane) alertDetail(a *sources.Alert, w int) []string {
	th := p.c.th
	out := []string{
		th.Paints.Bold.Render(a.Name) + "  " + p.sevStyle(a.Severity).Render(a.Severity) + "  " + string(a.State) +
			"  since " + a.StartsAt.UTC().Format("15:04:05") + " (" + fmtAge(p.c.now.Sub(a.StartsAt)) + ")",
	}
	if a.Summary != "" {
		out = append(out, wrapText(a.Summary, w)...)
	}
	if a.Description != "" {
		out = append(out, "")
		out = append(out, wrapText(a.Description, w)...)
	}
	if a.RunbookURL != "" {
		out = append(out, "", th.Paints.Accent.Render("runbook: "+a.RunbookURL))
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
	if len(a.Receivers) > 0 {
		out = append(out, "receivers: "+strings.Join(a.Receivers, ", "))
	}
	if len(a.SilencedBy) > 0 {
		out = append(out, "silenced by: "+strings.Join(a.SilencedBy, ", "))
	}
	if len(a.InhibitedBy) > 0 {
		out = append(out, "inhibited by: "+strings.Join(a.InhibitedBy, ", "))
	}
	return out
}

func (p *alertsPane) silenceDetail(s *sources.Silence, w int) []string {
	th := p.c.th
	out := []string{
		th.Paints.Bold.Render("silence "+s.ID) + "  " + s.State,
		"matchers: " + ops.FormatMatchers(s.Matchers),
		"from " + s.StartsAt.UTC().Format("15:04") + " until " + s.EndsAt.UTC().Format("15:04") + " (in " + fmtAge(s.EndsAt.Sub(p.c.now)) + ")",
		"created by " + s.CreatedBy,
	}
	return append(out, wrapText("comment: "+s.Comment, w)...)
}
