package world

import (
	"context"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/themes"
	"flightdeck/ui"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/cosign"
	"flightdeck/ui/views/crew"
	"flightdeck/ui/views/logs"
)

// Session is one person's cockpit on the world, grouped by concern: who it
// is for, what it may act with, the data it sees, the journals it reads
// back, what it shares with the other sessions and how it looks. NewSession
// makes it; ui.New takes it as Options.
type Session struct {
	// Context ends when the session does: the UI stops, and the hub
	// subscription is released.
	Context context.Context
	// Identity is who the cockpit is for.
	Identity Identity
	// Actions is what the session may change the world with.
	Actions Actions
	// Data is the snapshots the session sees.
	Data Data
	// Journals is what the session reads back from the journals.
	Journals Journals
	// Together shares the session with the others on the world (flightdeck
	// serve): who is connected, announcements, following. nil for a
	// cockpit on its own.
	Together *crew.Together
	// Screen is how the cockpit looks.
	Screen Screen
	// Logs is where the log view reads (the sources that read logs) and
	// where an excerpt pinned from it goes (the flight recorder).
	Logs logs.Options
	// CoSign is the two-person rule's side of the session: the co-sign
	// requests board, roles and notes (nil when the world shares none).
	CoSign *cosign.Options
}

// Identity is who a session is for.
type Identity struct {
	// ID names the session among those sharing the world (serve's session
	// ID); "" for the local terminal.
	ID string
	// User is the person as the others see them: the SSH key's user, or
	// user@host at the local terminal.
	User string
	// Actor is who the journal says acted (SessionInfo.identity).
	Actor string
	// ReadOnly is an observer, or any session of a read-only world: it has
	// no Executor and no run journal.
	ReadOnly bool
}

// Actions is what a session may change the world with. Everything it
// changes goes through Executor; runbook runs record their steps in
// RunJournal.
type Actions struct {
	// Executor journals under Identity.Actor; nil for a read-only session.
	Executor *ops.Executor
	// Policy is the world's, complete (defaults filled in): a read-only
	// cockpit, with no Executor to ask, still says why an action is
	// disabled.
	Policy ops.Policy
	// RunJournal is where runs record their steps (the audit journal);
	// nil for a read-only session, which follows runs without recording.
	RunJournal runbook.Recorder
	// Runbooks are the loaded runbooks; Runs are those left open in the
	// audit journal, resumed and continued under Identity.Actor.
	Runbooks *runbook.Set
	Runs     []*runbook.Run
}

// Data is what a session sees of the sources.
type Data struct {
	// Updates is the session's own subscription to the hub.
	Updates ui.Subscriber
	// Refresh asks the hub to poll a source now (after an action).
	Refresh func(source string)
}

// Journals is what a session reads back from the world's journals.
type Journals struct {
	// AuditPath is where the audit journal is, for help to show.
	AuditPath string
	// Timeline reads the incident timeline from the journals; it does I/O,
	// so the UI calls it in a Cmd.
	Timeline func(context.Context) ([]string, error)
	// RecorderErr is the flight recorder's health: nil while it records.
	RecorderErr func() error
	// Burns is the flight recorder's knowledge of burn starts, the same
	// for every session whenever it joined; nil without a recorder.
	Burns kit.BurnStarts
	// Notices are what reading the audit journal found: damaged lines,
	// runs that could not be resumed, journals repaired. The status bar says them at start.
	Notices []string
}

// Screen is how a session's cockpit looks.
type Screen struct {
	// Environment and Production make the header's badge; Demo its mode.
	Environment      string
	Production, Demo bool
	KeyMap           keymap.KeyMap
	// Theme is decided from the session's own terminal (SessionInfo.Environ).
	Theme themes.Theme
	// Panes says which panes have no source and which are hidden.
	Panes ui.PaneSetup
	// Blocks are the pane blocks the world's sessions share.
	Blocks *kit.Blocks
}
