package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
)

// readOnlyRefusal is what any action key shows without an Executor.
const readOnlyRefusal = "read-only mode: actions are disabled"

// actionEntry is one line of the action menu: a request that is ready to be
// planned (or needs parameters first), or the reason it cannot be.
type actionEntry struct {
	kind   ops.Kind
	label  string
	req    ops.Request
	reason string // non-empty: disabled, and why
	params bool   // needs a form before planning
}

// entries lists every action for the focused pane's selection, disabled
// ones with the reason (read-only, backend denial, policy).
func (m Model) entries() []actionEntry {
	var out []actionEntry
	var denied sources.Denied
	switch m.focus {
	case focusPostgres:
		src := m.pg.feeds.name()
		if v := m.pg.view(); v != nil && v.act != nil {
			denied = v.act.Denied
		}
		var sel []sources.Backend
		what := ""
		if t := m.pg.tagged(); len(t) > 0 {
			sel, what = t, fmt.Sprintf("%d tagged", len(t))
		} else if b := m.pg.selected(); b != nil {
			sel, what = []sources.Backend{*b}, fmt.Sprintf("pid %d", b.PID)
		}
		for _, k := range []ops.Kind{ops.Cancel, ops.Terminate} {
			out = append(out, actionEntry{kind: k, label: k.Title() + " (" + what + ")",
				req: ops.Request{Action: k, Source: src, Backends: sel}})
		}
		if all := m.pg.matching(); len(all) > 0 {
			out = append(out, actionEntry{kind: ops.Terminate, label: fmt.Sprintf("Terminate all %d matching filter", len(all)),
				req: ops.Request{Action: ops.Terminate, Source: src, Backends: all}})
		}
	case focusRollouts:
		src := m.ro.feeds.name()
		d := m.ro.selected()
		name := ""
		var to int64
		if d != nil {
			dd := *d
			d = &dd
			name = d.Key()
			to = m.ro.undoTarget(d)
			if set := m.ro.set(); set != nil {
				denied = set.Denied[d.Namespace]
			}
		}
		for _, k := range []ops.Kind{ops.Undo, ops.Restart, ops.Scale, ops.Pause, ops.Resume} {
			e := actionEntry{kind: k, label: k.Title() + " " + name, req: ops.Request{Action: k, Source: src, Deployment: d}}
			switch k {
			case ops.Undo:
				e.req.Params.ToRevision = to
				if to != 0 {
					e.label += fmt.Sprintf(" to revision %d", to)
				} else {
					e.label += " to previous revision"
				}
			case ops.Scale:
				e.params = true // the replica count comes from the form
			}
			out = append(out, e)
		}
	case focusAlerts:
		src := m.alerts.feeds.name()
		if set := m.alerts.set(); set != nil {
			denied = set.Denied
		}
		a, header := m.alerts.selectedAlert()
		e := actionEntry{kind: ops.Silence, label: ops.Silence.Title(), params: true,
			req: ops.Request{Action: ops.Silence, Source: src}}
		if a != nil {
			aa := *a
			e.req.Alert = &aa
			// Matchers are the form's prefill; duration and comment come
			// from the operator, so the menu checks only the target.
			e.req.Params = ops.Params{Matchers: prefillMatchers(a, header)}
			e.label += " " + a.Name
		} else {
			e.reason = "select an alert"
		}
		out = append(out, e)
		ex := actionEntry{kind: ops.Expire, label: ops.Expire.Title(), req: ops.Request{Action: ops.Expire, Source: src}}
		if s := m.alerts.selectedSilence(); s != nil {
			ex.req.SilenceID = s.ID
			ex.label += " " + s.ID
		} else {
			ex.reason = "select a silence (v lists them)"
		}
		out = append(out, ex)
	}
	for i := range out {
		out[i].reason = m.reasonFor(out[i], denied)
	}
	return out
}

// reasonFor collects why an entry is disabled: every reason, so the
// operator learns all of them at once.
func (m Model) reasonFor(e actionEntry, denied sources.Denied) string {
	var rs []string
	if e.reason != "" {
		return e.reason
	}
	if m.o.Executor == nil {
		rs = append(rs, "read-only mode")
	}
	if why := denied[string(e.kind)]; why != "" {
		rs = append(rs, why)
	}
	// CheckTarget: whether the action can apply to this selection at all;
	// parameters still to be typed in a form are checked when submitted.
	if err := m.policy.CheckTarget(e.req); err != nil {
		// "invalid request: pid 7 is idle…" reads as a fault; the reason
		// alone says it. Policy refusals keep their "refused by policy".
		var r *ops.Refusal
		if errors.As(err, &r) && errors.Is(r.Kind, ops.ErrInvalid) && r.Reason != "" {
			rs = append(rs, r.Reason)
		} else {
			rs = append(rs, err.Error())
		}
	}
	return strings.Join(rs, "; ")
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

// startAction is a direct action key: the same as choosing the kind's first
// entry in the menu.
func (m Model) startAction(kind ops.Kind) (tea.Model, tea.Cmd) {
	if m.o.Executor == nil {
		m.setStatus(readOnlyRefusal, true)
		return m, nil
	}
	for _, e := range m.entries() {
		if e.kind == kind {
			return m.choose(e)
		}
	}
	m.setStatus(fmt.Sprintf("%s: nothing selected", kind.Title()), true)
	return m, nil
}

func (m Model) choose(e actionEntry) (tea.Model, tea.Cmd) {
	if m.o.Executor == nil {
		m.setStatus(readOnlyRefusal, true)
		return m, nil
	}
	if e.reason != "" {
		m.setStatus("refused: "+e.label+": "+e.reason, true)
		return m, nil
	}
	if e.params {
		m.form = newForm(e, m)
		return m, nil
	}
	return m.planCmd(e.req)
}

// planCmd asks the Executor for a plan in a Cmd: Plan may do I/O (dry runs,
// matching alerts).
func (m Model) planCmd(req ops.Request) (tea.Model, tea.Cmd) {
	if m.o.Executor == nil {
		m.setStatus(readOnlyRefusal, true)
		return m, nil
	}
	ex, ctx := m.o.Executor, m.ctx
	m.pending = "planning " + req.Action.Title() + "…"
	m.status = ""
	return m, func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		p, err := ex.Plan(c, req)
		return PlanMsg{Request: req, Plan: p, Err: err}
	}
}

func (m Model) onPlan(msg PlanMsg) (tea.Model, tea.Cmd) {
	m.pending = ""
	if msg.Err != nil {
		if ops.IsRefusal(msg.Err) {
			m.setStatus("refused: "+msg.Err.Error(), true)
		} else {
			m.setStatus("plan failed: "+msg.Err.Error(), true)
		}
		return m, nil
	}
	m.confirm = &confirmDialog{plan: msg.Plan, openedAt: m.c.exact}
	return m, nil
}

// executeCmd hands the confirmed plan and what was typed to the Executor,
// which re-checks everything itself.
func (m Model) executeCmd(p ops.Plan, typed string) (tea.Model, tea.Cmd) {
	m.confirm = nil
	if m.o.Executor == nil {
		m.setStatus(readOnlyRefusal, true)
		return m, nil
	}
	ex, ctx := m.o.Executor, m.ctx
	m.pending = "executing " + p.Title + "…"
	m.status = ""
	return m, func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return ResultMsg{Result: ex.Execute(c, p, typed)}
	}
}

func (m Model) onResult(msg ResultMsg) (tea.Model, tea.Cmd) {
	m.pending = ""
	r := msg.Result
	sum := r.Summary
	if sum == "" && r.Err != nil {
		sum = r.Err.Error()
	}
	m.setStatus(sum, !r.OK)
	if m.o.Refresh == nil || r.Plan.Source == "" {
		return m, nil
	}
	refresh, src := m.o.Refresh, r.Plan.Source
	return m, func() tea.Msg { refresh(src); return nil }
}

// parseMatchers reads `{a="b", c=~"d"}` (braces and quotes optional), the
// form Alertmanager prints, so a prefilled silence can be edited as text.
func parseMatchers(s string) ([]sources.Matcher, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var parts []string
	var cur strings.Builder
	inQ, esc := false, false
	for _, r := range s {
		switch {
		case esc:
			esc = false
		case r == '\\' && inQ:
			esc = true
		case r == '"':
			inQ = !inQ
		case r == ',' && !inQ:
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if inQ {
		return nil, errors.New("unterminated quote")
	}
	parts = append(parts, cur.String())
	var out []sources.Matcher
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		i := strings.IndexAny(p, "=!")
		if i <= 0 {
			return nil, fmt.Errorf("matcher %q: want name=\"value\"", p)
		}
		m := sources.Matcher{Name: strings.TrimSpace(p[:i])}
		rest := p[i:]
		switch {
		case strings.HasPrefix(rest, "=~"):
			m.IsRegex, m.IsEqual, rest = true, true, rest[2:]
		case strings.HasPrefix(rest, "!~"):
			m.IsRegex, rest = true, rest[2:]
		case strings.HasPrefix(rest, "!="):
			rest = rest[2:]
		case strings.HasPrefix(rest, "="):
			m.IsEqual, rest = true, rest[1:]
		default:
			return nil, fmt.Errorf("matcher %q: unknown operator", p)
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, `"`) {
			v, err := strconv.Unquote(rest)
			if err != nil {
				return nil, fmt.Errorf("matcher %q: %v", p, err)
			}
			rest = v
		}
		m.Value = rest
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("at least one matcher is needed")
	}
	return out, nil
}
