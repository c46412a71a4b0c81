package ui

import (
	"time"

	"flightdeck/ops"
	"flightdeck/ui/kit"
)

// The root's messages and its View contract are declared in kit, where
// views and features outside the root use them too; these names are the
// same types.
type (
	// SnapshotsMsg carries snapshots from the Subscriber.
	SnapshotsMsg = kit.SnapshotsMsg
	// TickMsg advances data ages and plan validity once a second.
	TickMsg = kit.TickMsg
	// RequestMsg asks for an action: the one plan → confirm → execute flow.
	RequestMsg = kit.RequestMsg
	// PlanMsg is the outcome of Executor.Plan.
	PlanMsg = kit.PlanMsg
	// ConfirmedMsg is a confirmed plan with what was typed to confirm it.
	ConfirmedMsg = kit.ConfirmedMsg
	// CancelledMsg says the operator closed a dialog without acting.
	CancelledMsg = kit.CancelledMsg
	// ResultMsg is the outcome of Executor.Execute.
	ResultMsg = kit.ResultMsg
	// PushViewMsg shows a full-screen view.
	PushViewMsg = kit.PushViewMsg
	// PopViewMsg returns from the shown view to the panes.
	PopViewMsg = kit.PopViewMsg
	// CloseViewMsg forgets a kept view.
	CloseViewMsg = kit.CloseViewMsg
	// ShowPaneMsg focuses the pane owning a kind, filtered.
	ShowPaneMsg = kit.ShowPaneMsg
	// View is a full-screen component (kit.View).
	View = kit.View
)

// EffectWaitDoneMsg ends the wait for an action's effect (ops.EffectWait)
// that the root started after its result: Err says what was last seen
// when the effect did not come within the wait's limit.
type EffectWaitDoneMsg struct {
	Plan ops.Plan
	What string
	Took time.Duration
	Err  error
}
