package ui

import (
	"time"

	"flightdeck/ops"
	"flightdeck/sources"
)

// SnapshotsMsg carries snapshots from the Subscriber. Err ends the stream.
type SnapshotsMsg struct {
	Snapshots []sources.Snapshot
	Err       error
}

// TickMsg advances data ages and plan validity once a second.
type TickMsg struct{}

// RequestMsg asks for an action: it opens the one plan → confirm → execute
// flow, wherever it comes from (a pane's key or menu, a form, a runbook
// step, another session). The Executor plans and re-checks it; a read-only
// session refuses it.
type RequestMsg struct {
	Request ops.Request
	// Origin names who asked when the answer matters to it ("" for a
	// pane): a runbook step ("runbook:<run id>#<step>") learns what became
	// of its request. The flow's answers — a PlanMsg with an error, a
	// CancelledMsg, a ResultMsg — carry it back, and the root hands every
	// answer with an Origin to the views.
	Origin string
}

// PlanMsg is the outcome of Executor.Plan for Request: a plan opens the
// confirm dialog, an error goes to the status bar.
type PlanMsg struct {
	Request ops.Request
	Plan    ops.Plan
	Err     error
	Origin  string // the RequestMsg's
}

// ConfirmedMsg is a confirmed plan with what was typed to confirm it: the
// root hands both to Executor.Execute, which checks the phrase itself.
type ConfirmedMsg struct {
	Plan   ops.Plan
	Typed  string
	Origin string // the RequestMsg's
}

// CancelledMsg says the operator closed a dialog without acting: What is
// the action's title, for the status bar.
type CancelledMsg struct {
	What   string
	Origin string // the RequestMsg's, when a confirmation was cancelled
}

// ResultMsg is the outcome of Executor.Execute.
type ResultMsg struct {
	Result ops.Result
	Origin string // the RequestMsg's
}

// EffectWaitDoneMsg ends the wait for an action's effect (ops.EffectWait)
// that the root started after its result: Err says what was last seen when the
// effect did not come within the wait's limit.
type EffectWaitDoneMsg struct {
	Plan ops.Plan
	What string
	Took time.Duration
	Err  error
}

// PushViewMsg shows a full-screen view. A view with the same ID that the
// root already keeps is shown again instead, with its state.
type PushViewMsg struct {
	View View
}

// PopViewMsg returns from the shown view to the panes; the view is kept
// and a PushViewMsg with its ID shows it again.
type PopViewMsg struct{}

// CloseViewMsg forgets the view with ID (a finished runbook run).
type CloseViewMsg struct {
	ID string
}

// ShowPaneMsg focuses the first pane that owns Kind, returning from any
// view, and puts Filter in force when the pane is Filterable ("" clears
// it): a runbook "view" step ("state:!idle sort:duration").
type ShowPaneMsg struct {
	Kind   sources.Kind
	Filter string
}
