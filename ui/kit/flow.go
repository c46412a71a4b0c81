package kit

import (
	"flightdeck/ops"
	"flightdeck/sources"
)

// The messages of the root's data feed and of its one action flow. They
// are here, not in the root, because views and features outside the root
// send requests and read the answers.

// SnapshotsMsg carries snapshots from the session's subscription. Err
// ends the stream.
type SnapshotsMsg struct {
	Snapshots []sources.Snapshot
	Err       error
}

// TickMsg advances data ages and plan validity once a second.
type TickMsg struct{}

// ReadOnlyRefusal is what any action shows in a session without an
// Executor.
const ReadOnlyRefusal = "read-only mode: actions are disabled"

// Origin is who asked for an action, when the answer matters to them: a
// value of the asker's own comparable type (a runbook step: its run and
// step), nil for a pane. The flow carries it into each answer unchanged,
// the root hands every answer with an Origin to the views, and the asker
// recognises its own answers by type and value.
type Origin any

// RequestMsg asks for an action: it opens the one plan → confirm → execute
// flow, wherever it comes from (a pane's key or menu, a form, a runbook
// step, another session). The Executor plans and re-checks it; a read-only
// session refuses it.
type RequestMsg struct {
	Request ops.Request
	// Origin is who asked, when the answer matters to them (nil for a
	// pane). The flow's answers — a PlanMsg with an error, a CancelledMsg,
	// a ResultMsg — carry it back.
	Origin Origin
}

// PlanMsg is the outcome of Executor.Plan for Request: a plan opens the
// confirm dialog, an error goes to the status bar.
type PlanMsg struct {
	Request ops.Request
	Plan    ops.Plan
	Err     error
	Origin  Origin // the RequestMsg's
}

// ConfirmedMsg is a confirmed plan with what was typed to confirm it: the
// root hands both to Executor.Execute, which checks the phrase itself.
type ConfirmedMsg struct {
	Plan   ops.Plan
	Typed  string
	Origin Origin // the RequestMsg's
}

// CancelledMsg says the operator closed a dialog without acting: What is
// the action's title, for the status bar.
type CancelledMsg struct {
	What   string
	Origin Origin // the RequestMsg's, when a confirmation was cancelled
}

// ResultMsg is the outcome of Executor.Execute.
type ResultMsg struct {
	Result ops.Result
	Origin Origin // the RequestMsg's
}
