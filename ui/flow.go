package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/ui/dialogs"
	"flightdeck/ui/kit"
)

// flow handles the action flow's messages: a request is planned, a plan
// confirmed, a confirmation executed, a result reported and its effect
// awaited.
func (m Model) flow(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case RequestMsg:
		return m.request(msg.Request, msg.Origin)
	case PlanMsg:
		return m.onPlan(msg)
	case ConfirmedMsg:
		return m.execute(msg.Plan, msg.Typed, msg.Origin)
	case CancelledMsg:
		m.setStatus(msg.What+": cancelled", false)
	case ResultMsg:
		return m.onResult(msg)
	case EffectWaitDoneMsg:
		return m.onEffectWaitDone(msg), nil
	}
	return m, nil
}

// answer handles an answer of the action flow to an asker (one with an
// Origin: a PlanMsg with an error, a CancelledMsg, a ResultMsg) as any
// other (without its origin: status bar, refresh, the effect awaited),
// and then hands it, origin and all, to the views, so the one that asked
// learns the outcome. A plan goes on to its confirm dialog, which carries
// the origin on; only a failure to plan is an answer.
func (m Model) answer(msg tea.Msg) (Model, tea.Cmd, bool) {
	var plain tea.Msg
	switch msg := msg.(type) {
	case PlanMsg:
		if msg.Origin == nil || msg.Err == nil {
			return m, nil, false
		}
		msg.Origin = nil
		plain = msg
	case CancelledMsg:
		if msg.Origin == nil {
			return m, nil, false
		}
		msg.Origin = nil
		plain = msg
	case ResultMsg:
		if msg.Origin == nil {
			return m, nil, false
		}
		msg.Origin = nil
		plain = msg
	default:
		return m, nil, false
	}
	mm, cmd := m.update(plain)
	return mm, tea.Batch(append(mm.toViews(msg), cmd)...), true
}

// request is where every RequestMsg lands: it asks the Executor for a plan
// in a Cmd, since Plan may do I/O (dry runs, matching alerts).
func (m Model) request(req ops.Request, origin kit.Origin) (Model, tea.Cmd) {
	if m.o.Actions.Executor == nil {
		m.setStatus(kit.ReadOnlyRefusal, true)
		if origin != nil {
			// The asker (a runbook step) must not wait for a plan forever.
			return m, kit.Send(PlanMsg{Request: req, Err: &ops.Refusal{Kind: ops.ErrReadOnly, Reason: "actions are disabled"}, Origin: origin})
		}
		return m, nil
	}
	ex, ctx := m.o.Actions.Executor, m.ctx
	m.pending = "planning " + req.Action.Title() + "… (" + kit.KeyName(m.env.Keys.Dialog.Close) + " cancels)"
	m.planning, m.dropPlan = true, false
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
	dropped := m.dropPlan
	m.planning, m.dropPlan = false, false
	if dropped && msg.Err == nil {
		// Cancelled while it was being made: the answer is a cancel, also
		// for an asker (a runbook step goes back to pending).
		m.setStatus(msg.Plan.Title+": cancelled", false)
		if msg.Origin != nil {
			return m, kit.Send(CancelledMsg{What: msg.Plan.Title, Origin: msg.Origin})
		}
		return m, nil
	}
	if msg.Err != nil {
		if ops.IsRefusal(msg.Err) {
			m.setStatus("refused: "+msg.Err.Error(), true)
		} else {
			m.setStatus("plan failed: "+msg.Err.Error(), true)
		}
		return m, nil
	}
	return m.pushDialog(dialogs.NewConfirm(m.env, msg.Plan, m.o.Identity.Environment, msg.Origin)), nil
}

// execute hands the confirmed plan and what was typed to the Executor,
// which re-checks everything itself.
func (m Model) execute(p ops.Plan, typed string, origin kit.Origin) (Model, tea.Cmd) {
	if m.o.Actions.Executor == nil {
		m.setStatus(kit.ReadOnlyRefusal, true)
		return m, nil
	}
	ex, ctx := m.o.Actions.Executor, m.ctx
	m.pending = "executing " + p.Title + "…"
	if ex.AwaitsCoSigner(p) {
		m.pending = p.Title + ": waiting for a second operator to co-sign…"
	}
	m.status = ""
	return m, func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		r := ex.Execute(c, p, typed)
		cancel()
		// A plan the two-person rule covers waits for its co-signer (every
		// session's header shows the request); the asker, a runbook step
		// included, learns how it ended.
		return ResultMsg{Result: ex.AwaitCoSign(ctx, r), Origin: origin}
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
	if r.OK && m.o.Actions.Executor != nil {
		if f, ok := m.o.Actions.Executor.EffectWait(r.Plan); ok {
			m.setStatus("waiting for "+f.What+"… · "+sum, false)
			return m, effectWaitCmd(m.ctx, r.Plan, f, m.o.Data.Refresh)
		}
	}
	if m.o.Data.Refresh == nil || r.Plan.Source == "" {
		return m, nil
	}
	refresh, src := m.o.Data.Refresh, r.Plan.Source
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

// onEffectWaitDone says how the awaited effect turned out: the latest news, so
// it replaces whatever the status line said.
func (m Model) onEffectWaitDone(msg EffectWaitDoneMsg) Model {
	if msg.Err != nil {
		m.setStatus(msg.Plan.Title+": done, but "+msg.Err.Error(), true)
		return m
	}
	m.setStatus(msg.Plan.Title+": "+msg.What+" after "+kit.Dur(msg.Took.Round(time.Second)), false)
	return m
}
