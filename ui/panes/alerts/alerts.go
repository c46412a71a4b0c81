// Package alerts is the Alerts pane: what is firing, pending or silenced,
// grouped by alert name with the most severe and oldest group first, the
// silences list, and the silence and expire actions.
package alerts

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/internal/duration"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// row is one line of the alerts list: a group header (alert < 0) or one
// alert of the group.
type row struct {
	group int
	alert int
}

type group struct {
	name   string
	alerts []*sources.Alert
	header string // "Name ×3  critical  (2 firing, 1 pending)", made in Rebuild
}

// Pane shows the alerts and silences of its source.
type Pane struct {
	kit.List
	groups []group
	rows   []row
	// silences is whether the silences list is shown instead of alerts;
	// each list keeps its own cursor, the hidden one in other.
	silences bool
	other    kit.Cursor
	sidx     []int
	// counts are the alerts per state of the whole set (the summary line),
	// counted in Rebuild so no frame walks the alerts.
	counts map[sources.AlertState]int
	// rollouts are for the detail's correlation (correlate.go).
	rollouts kit.Rollouts
	// alertTable and silTable lay out the two lists.
	alertTable, silTable kit.Table
}

// New builds the pane in its slot.
func New(s kit.Slot) *Pane {
	p := &Pane{}
	p.alertTable, p.silTable = newTables()
	p.Init(s, kit.Meta{Title: "Alerts", Kind: sources.KindAlerts, Reads: []sources.Kind{sources.KindRollouts}, Noun: "alerts", Help: s.Env.Keys.Alerts.FullHelp()}, p)
	return p
}

// ShortHelp follows the pane.
func (p *Pane) ShortHelp() []key.Binding {
	k := p.Env.Keys
	return []key.Binding{k.List.Details, k.List.Filter, k.Alerts.Silences, k.Alerts.Silence, k.Global.Actions}
}

// WantHeight makes the pane compact: its grid row is as tall as its rows.
func (p *Pane) WantHeight() int { return p.ContentHeight() }

// HandleKey handles a key while the pane has focus.
func (p *Pane) HandleKey(msg tea.KeyPressMsg) tea.Cmd {
	if !p.CapturesKeys() && key.Matches(msg, p.Env.Keys.Alerts.Silences) {
		p.Touch()
		p.silences, p.Detail = !p.silences, false
		p.Cursor, p.other = p.other, p.Cursor
		return nil
	}
	p.List.HandleKey(msg)
	return nil
}

func (p *Pane) set() *sources.AlertSet { return kit.Data[*sources.AlertSet](&p.List) }

// Len is the number of rows of the list shown.
func (p *Pane) Len() int {
	if p.silences {
		return len(p.sidx)
	}
	return len(p.rows)
}

// Rebuild groups by alert name, most severe group first (the same order
// sources.SeverityRank gives everywhere), then the group that has been
// firing longest: the oldest critical is the incident.
func (p *Pane) Rebuild() {
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
	f := strings.ToLower(p.Filter)
	byName := map[string]int{}
	for i := range set.Alerts {
		a := &set.Alerts[i]
		if f != "" && !kit.ContainsFold(a.Name+" "+a.Summary+" "+a.Severity+" "+string(a.State)+" "+labelText(a.Labels), f) {
			continue
		}
		g, ok := byName[a.Name]
		if !ok {
			g = len(p.groups)
			byName[a.Name] = g
			p.groups = append(p.groups, group{name: a.Name})
		}
		p.groups[g].alerts = append(p.groups[g].alerts, a)
	}
	rank := sources.SeverityRank
	for _, g := range p.groups {
		sort.SliceStable(g.alerts, func(i, j int) bool {
			a, b := g.alerts[i], g.alerts[j]
			if ra, rb := rank(a.Severity), rank(b.Severity); ra != rb {
				return ra < rb
			}
			return a.StartsAt.Before(b.StartsAt)
		})
	}
	sort.SliceStable(p.groups, func(i, j int) bool {
		a, b := p.groups[i].alerts[0], p.groups[j].alerts[0]
		if ra, rb := rank(a.Severity), rank(b.Severity); ra != rb {
			return ra < rb
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
		p.rows = append(p.rows, row{gi, -1})
		for ai := range g.alerts {
			p.rows = append(p.rows, row{gi, ai})
		}
	}
	for i, s := range set.Silences {
		if f == "" || kit.ContainsFold(s.ID+" "+s.Comment+" "+s.CreatedBy+" "+s.State+" "+ops.FormatMatchers(s.Matchers), f) {
			p.sidx = append(p.sidx, i)
		}
	}
	alerts, sils := &p.Cursor, &p.other
	if p.silences {
		alerts, sils = sils, alerts
	}
	alerts.Clamp(len(p.rows), p.Visible())
	sils.Clamp(len(p.sidx), p.Visible())
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

// selectedAlert is the alert under the cursor; on a group header it is the
// group's first alert and header=true (silence the whole alertname).
func (p *Pane) selectedAlert() (a *sources.Alert, header bool) {
	i := p.Selected()
	if p.silences || i < 0 {
		return nil, false
	}
	r := p.rows[i]
	g := p.groups[r.group]
	if r.alert < 0 {
		return g.alerts[0], true
	}
	return g.alerts[r.alert], false
}

func (p *Pane) selectedSilence() *sources.Silence {
	set := p.set()
	if i := p.Selected(); p.silences && set != nil && i >= 0 {
		return &set.Silences[p.sidx[i]]
	}
	return nil
}

// Actions are silence (the selected alert, or its whole group on a group
// header) and expire (the selected silence).
func (p *Pane) Actions() []kit.Action {
	k := p.Env.Keys
	src := p.Feeds.Name()
	var denied sources.Denied
	if set := p.set(); set != nil {
		denied = set.Denied
	}
	sil := kit.Action{Kind: ops.Silence, Label: ops.Silence.Title(), Key: k.Alerts.Silence, Denied: denied[string(ops.Silence)],
		Request: func() ops.Request { return ops.Request{Action: ops.Silence, Source: src} }}
	if a, header := p.selectedAlert(); a != nil {
		sil.Label += " " + a.Name
		// Matchers are the form's prefill; duration and comment come from
		// the operator, so the menu checks only the target.
		sil.Request = func() ops.Request {
			aa := *a
			return ops.Request{Action: ops.Silence, Source: src, Alert: &aa, Params: ops.Params{Matchers: prefillMatchers(a, header)}}
		}
		sil.Form = p.silenceForm
	} else {
		sil.Disabled = "select an alert"
	}
	ex := kit.Action{Kind: ops.Expire, Label: ops.Expire.Title(), Key: k.Alerts.Expire, Denied: denied[string(ops.Expire)],
		Request: func() ops.Request { return ops.Request{Action: ops.Expire, Source: src} }}
	if s := p.selectedSilence(); s != nil {
		ex.Label += " " + s.ID
		id := s.ID
		ex.Request = func() ops.Request { return ops.Request{Action: ops.Expire, Source: src, SilenceID: id} }
	} else {
		ex.Disabled = "select a silence (" + kit.KeyName(k.Alerts.Silences) + " lists them)"
	}
	return []kit.Action{sil, ex}
}

// silenceForm asks for the matchers (prefilled), duration and comment.
func (p *Pane) silenceForm(req ops.Request) kit.Form {
	longest := duration.Format(p.Env.Policy.SilenceMax)
	return kit.Form{
		Intro: []string{p.Env.Theme.Paints.Muted.Render(`matchers like {alertname="X", severity="critical"}; max ` + longest)},
		Fields: []kit.Field{
			{Label: "matchers", Value: ops.FormatMatchers(req.Params.Matchers)},
			{Label: "duration", Value: "1h"},
			{Label: "comment (required)"},
		},
		Focus: 2,
		Submit: func(vs []string) (ops.Request, error) {
			ms, err := parseMatchers(vs[0])
			if err != nil {
				return req, fmt.Errorf("matchers: %v", err)
			}
			d, err := duration.Parse(strings.TrimSpace(vs[1]))
			if err != nil {
				return req, fmt.Errorf("duration: %v", err)
			}
			req.Params = ops.Params{Matchers: ms, Duration: d, Comment: strings.TrimSpace(vs[2])}
			return req, nil
		},
	}
}

// prefillMatchers proposes a silence for the alert (all its labels) or for
// the whole group (alertname only) when the cursor is on a group header.
func prefillMatchers(a *sources.Alert, group bool) []sources.Matcher {
	if group {
		return []sources.Matcher{{Name: "alertname", Value: a.Name, IsEqual: true}}
	}
	ms := make([]sources.Matcher, 0, len(a.Labels))
	for _, l := range a.Labels {
		ms = append(ms, sources.Matcher{Name: l.Name, Value: l.Value, IsEqual: true})
	}
	if len(ms) == 0 {
		ms = append(ms, sources.Matcher{Name: "alertname", Value: a.Name, IsEqual: true})
	}
	return ms
}
