package ui

import (
	"context"
	"time"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/cosign"
	"flightdeck/ui/views/crew"
	"flightdeck/ui/views/logs"
	"flightdeck/ui/views/runbooks"
	"flightdeck/ui/views/timeline"
)

// Subscriber delivers snapshots; *sources.Subscription satisfies it. Next
// blocks until something changed or ctx ends.
type Subscriber interface {
	Next(ctx context.Context) ([]sources.Snapshot, error)
}

// Options wire the UI: one session's cockpit, grouped by concern. Main
// (or the SSH server) builds them from the world and the session.
type Options struct {
	// Context is the session's: when it ends the UI stops waiting for
	// snapshots and cancels plans and executions in flight. nil means
	// context.Background().
	Context context.Context
	// Now is the clock; nil means time.Now. Tests pass a fixed clock.
	Now      func() time.Time
	Identity Identity
	Actions  Actions
	Data     Data
	Look     Look
	Journals Journals
	// Runbooks are what the runbook key opens, and the runs resumed.
	Runbooks runbooks.Options
	// Logs are what the logs key and runbook log steps read, and where a
	// pinned excerpt goes.
	Logs logs.Options
	// Together shares this session with the others on the same world
	// (flightdeck serve): who is connected, announcements, following. nil
	// is a cockpit on its own.
	Together *crew.Together
	// CoSign shows the co-sign requests, who commands and the notes, and
	// BREAK-GLASS (ui/views/cosign); nil turns its keys off.
	CoSign *cosign.Options
}

// Identity is who this session is and where: the header and help say it.
type Identity struct {
	Environment string
	// Production is whether Environment is a production one (the caller
	// decides, with config.IsProduction): the header's badge.
	Production bool
	// Operator is who this session is (user@host, an SSH key's name and
	// fingerprint), shown in help and starting its runbook runs.
	Operator string
	// ReadOnly and Demo pick the header's mode badge (LIVE / READ-ONLY / DEMO).
	ReadOnly, Demo bool
}

// Actions are how this session changes the world.
type Actions struct {
	// Executor is nil in read-only mode: action keys then only show a refusal.
	Executor *ops.Executor
	// Policy lets the action menu show why an action is disabled, even in
	// read-only mode where there is no Executor to ask. It is complete
	// (defaults filled in); with an Executor, the Executor's policy wins.
	Policy ops.Policy
}

// Data is how snapshots reach the panes, and which panes there are.
type Data struct {
	Updates Subscriber
	// Refresh asks the hub to poll a source now (after an action); may be nil.
	Refresh func(source string)
	// Panes says which panes have no source and which to hide.
	Panes PaneSetup
	// ExtraPanes are registered after BuiltinPanes, in order: the first
	// gets focus key 6.
	ExtraPanes []PaneFunc
}

// Look is how the cockpit draws and which keys it reads.
type Look struct {
	KeyMap keymap.KeyMap
	Theme  themes.Theme
	// Blocks are the pane blocks shared with the other sessions of the
	// world (serve: most of them show the same panes in the same state);
	// nil draws every block for this session alone. Only sessions with
	// the same key map, policy and data may share them (kit.Blocks).
	Blocks *kit.Blocks
}

// Journals are this session's records and what is read from them.
type Journals struct {
	// AuditPath is shown in help so the operator knows where the record is.
	AuditPath string
	// Timeline builds the incident timeline the timeline key shows; nil
	// means there is none to show.
	Timeline timeline.Builder
	// RecorderErr is the flight recorder's latest write error, nil while
	// it records; the status bar says so when it is not. May be nil.
	RecorderErr func() error
	// Burns is the flight recorder's knowledge of burn starts, shared by
	// every session (kit.Env.Burns); nil without a recorder.
	Burns kit.BurnStarts
	// Notices are said in the status bar at start: a damaged audit
	// journal, a run that could not be resumed.
	Notices []string
}
