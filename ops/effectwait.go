package ops

import (
	"context"
	"time"
)

// EffectWaiter is a Handler whose actions take effect over minutes rather
// than at once (an ECS deployment, an RDS reboot or promotion): after a
// successful Execute the cockpit waits for the effect through it, so the
// operator sees "waiting for services stable…" until AWS says so instead of
// guessing from the next poll.
type EffectWaiter interface {
	// EffectWait says what to wait for after p succeeded, and how; false
	// when there is nothing to wait for.
	EffectWait(env Env, p Plan) (EffectWait, bool)
}

// EffectWait is the wait for one action's effect. Wait does I/O and blocks (at
// most Limit, plus the cost of reading credentials): run it in a tea.Cmd.
type EffectWait struct {
	// What is waited for, for the status line: "services stable: api in
	// nudgecampaign-dr", "nudgecampaign-dr-db available".
	What string
	// Limit bounds the wait.
	Limit time.Duration
	// Wait blocks until the effect is there (nil), Limit passes or ctx
	// ends (an error saying what was last seen).
	Wait func(ctx context.Context) error
}

// Waits bound how long the cockpit watches an action's effect. Zero fields
// take DefaultWaits' values.
type Waits struct {
	// ServicesStable bounds the wait for an ECS service to be stable
	// after a change of desired count, deployment or task definition.
	ServicesStable time.Duration
	// DBAvailable bounds the wait for an RDS instance or Aurora cluster to
	// be available after a reboot, promotion or failover.
	DBAvailable time.Duration
	// DBSettle is how long an "available" seen right after the call is not
	// believed: RDS may report the old status for a few seconds before it
	// shows "rebooting" or "modifying". Negative believes the first
	// "available".
	DBSettle time.Duration
}

// DefaultWaits: an ECS rolling deployment of a few tasks takes minutes, a
// Multi-AZ reboot with failover one or two, a promotion up to a quarter of
// an hour on a large instance.
func DefaultWaits() Waits {
	return Waits{ServicesStable: 10 * time.Minute, DBAvailable: 20 * time.Minute, DBSettle: 15 * time.Second}
}

// withDefaults fills zero fields from DefaultWaits.
func (w Waits) withDefaults() Waits {
	def := DefaultWaits()
	if w.ServicesStable <= 0 {
		w.ServicesStable = def.ServicesStable
	}
	if w.DBAvailable <= 0 {
		w.DBAvailable = def.DBAvailable
	}
	if w.DBSettle < 0 {
		w.DBSettle = 0
	} else if w.DBSettle == 0 {
		w.DBSettle = def.DBSettle
	}
	return w
}

// EffectWait is how to wait for the effect of a plan that succeeded, when
// its handler has one to wait for (EffectWaiter). It does no I/O; the
// returned Wait does.
func (e *Executor) EffectWait(p Plan) (EffectWait, bool) {
	h, err := handlerFor(p.Action)
	if err != nil {
		return EffectWait{}, false
	}
	w, ok := h.(EffectWaiter)
	if !ok || e.cfg.ReadOnly {
		return EffectWait{}, false
	}
	return w.EffectWait(e.env(p.Source), p)
}
