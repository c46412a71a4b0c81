package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/ui/kit"
)

// readOnlyRefusal is what any action key shows without an Executor.
const readOnlyRefusal = "read-only mode: actions are disabled"

// entry is an action as the menu shows it: its request, built once, and
// every reason it is disabled ("" when it is not).
type entry struct {
	kit.Action
	req    ops.Request
	reason string
}

// entry builds a's request and collects why it is disabled.
func (m Model) entry(a kit.Action) entry {
	e := entry{Action: a, req: ops.Request{Action: a.Kind}}
	if a.Request != nil {
		e.req = a.Request()
	}
	e.reason = m.reason(a, e.req)
	return e
}

// reason collects why an entry is disabled: the pane's own reason alone
// when it has one, else every reason (read-only, the source's denial,
// policy), so the operator learns all of them at once.
func (m Model) reason(a kit.Action, req ops.Request) string {
	if a.Disabled != "" {
		return a.Disabled
	}
	var rs []string
	if m.o.Executor == nil {
		rs = append(rs, "read-only mode")
	}
	if a.Denied != "" {
		rs = append(rs, a.Denied)
	}
	// CheckTarget: whether the action can apply to this selection at all;
	// parameters still to be typed in a form are checked when submitted.
	if err := m.env.Policy.CheckTarget(req); err != nil {
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

// choose starts an action from its direct key: the same as choosing it in
// the menu, except that a disabled one says why in the status bar.
func (m Model) choose(a kit.Action) (Model, tea.Cmd) {
	if m.o.Executor == nil {
		m.setStatus(readOnlyRefusal, true)
		return m, nil
	}
	e := m.entry(a)
	if e.reason != "" {
		m.setStatus("refused: "+e.Label+": "+e.reason, true)
		return m, nil
	}
	if e.Form != nil {
		return m.pushDialog(newForm(m.env, e)), nil
	}
	return m.request(e.req, "")
}

// openMenu lists the focused pane's actions, disabled ones with the reason.
func (m Model) openMenu() Model {
	var es []entry
	for _, a := range m.panes[m.focus].Actions() {
		es = append(es, m.entry(a))
	}
	if len(es) == 0 {
		m.setStatus("no actions for this pane", false)
		return m
	}
	title := "Actions"
	if m.o.Executor == nil {
		title += " (read-only)"
	}
	return m.pushDialog(&menuDialog{env: m.env, title: title, entries: es, opened: m.env.Exact()})
}

// request is where every RequestMsg lands: it asks the Executor for a plan
// in a Cmd, since Plan may do I/O (dry runs, matching alerts).
func (m Model) request(req ops.Request, origin string) (Model, tea.Cmd) {
	if m.o.Executor == nil {
		m.setStatus(readOnlyRefusal, true)
		if origin != "" {
			// The asker (a runbook step) must not wait for a plan forever.
			return m, send(PlanMsg{Request: req, Err: &ops.Refusal{Kind: ops.ErrReadOnly, Reason: "actions are disabled"}, Origin: origin})
		}
		return m, nil
	}
	ex, ctx := m.o.Executor, m.ctx
	m.pending = "planning " + req.Action.Title() + "…"
	m.status = ""
	return m, func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		p, err := ex.Plan(c, req)
		return PlanMsg{Request: req, Plan: p, Err: err, Origin: origin}
	}
}

// onPlan opens the confirm dialog for a plan, or says why there is none.
func (m Model) onPlan(msg PlanMsg) (Model, tea.Cmd) {
	m.pending = ""
	if msg.Err != nil {
		if ops.IsRefusal(msg.Err) {
			m.setStatus("refused: "+msg.Err.Error(), true)
		} else {
			m.setStatus("plan failed: "+msg.Err.Error(), true)
		}
		return m, nil
	}
	return m.pushDialog(&confirmDialog{env: m.env, plan: msg.Plan, environment: m.o.Environment, opened: m.env.Exact(), origin: msg.Origin}), nil
}

// execute hands the confirmed plan and what was typed to the Executor,
// which re-checks everything itself.
func (m Model) execute(p ops.Plan, typed, origin string) (Model, tea.Cmd) {
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
		return ResultMsg{Result: ex.Execute(c, p, typed), Origin: origin}
	}
}

// onResult reports the outcome and asks the hub to poll the source now, so
// the pane shows the effect. An action whose effect takes minutes (an ECS
// deployment, an RDS reboot) is then awaited: a Cmd runs the source's
// waiter and keeps asking the hub for fresh data while it waits, and the
// status line says what is awaited until EffectWaitDoneMsg.
func (m Model) onResult(msg ResultMsg) (Model, tea.Cmd) {
	m.pending = ""
	r := msg.Result
	sum := r.Summary
	if sum == "" && r.Err != nil {
		sum = r.Err.Error()
	}
	m.setStatus(sum, !r.OK)
	if r.OK && m.o.Executor != nil {
		if f, ok := m.o.Executor.EffectWait(r.Plan); ok {
			m.setStatus("waiting for "+f.What+"… · "+sum, false)
			return m, effectWaitCmd(m.ctx, r.Plan, f, m.o.Refresh)
		}
	}
	if m.o.Refresh == nil || r.Plan.Source == "" {
		return m, nil
	}
	refresh, src := m.o.Refresh, r.Plan.Source
	return m, func() tea.Msg { refresh(src); return nil }
}

// effectWaitRefresh is how often the source is polled while an action's
// effect is awaited: the pane shows tasks starting and statuses changing
// as they happen, not at the source's usual interval.
const effectWaitRefresh = 2 * time.Second

// effectWaitCmd waits for f in a Cmd, refreshing p's source now and every
// effectWaitRefresh until the wait ends (bounded by f.Limit; the session's
// end cancels it).
func effectWaitCmd(ctx context.Context, p ops.Plan, f ops.EffectWait, refresh func(string)) tea.Cmd {
	poll := func() {
		if refresh != nil && p.Source != "" {
			refresh(p.Source)
		}
	}
	return func() tea.Msg {
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- f.Wait(ctx) }()
		t := time.NewTicker(effectWaitRefresh)
		defer t.Stop()
		poll()
		for {
			select {
			case err := <-done:
				poll()
				if ctx.Err() != nil {
					return nil // the session ended
				}
				return EffectWaitDoneMsg{Plan: p, What: f.What, Took: time.Since(start), Err: err}
			case <-t.C:
				poll()
			}
		}
	}
}

// onEffectWaitDone says how the awaited effect turned out: the latest news,
// so it replaces whatever the status line said.
func (m Model) onEffectWaitDone(msg EffectWaitDoneMsg) Model {
	if msg.Err != nil {
		m.setStatus(msg.Plan.Title+": done, but "+msg.Err.Error(), true)
		return m
	}
	m.setStatus(msg.Plan.Title+": "+msg.What+" after "+kit.Dur(msg.Took.Round(time.Second)), false)
	return m
}
