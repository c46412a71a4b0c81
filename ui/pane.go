package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
	"flightdeck/ui/kit"
	"flightdeck/ui/panes/alerts"
	awspane "flightdeck/ui/panes/aws"
	"flightdeck/ui/panes/postgres"
	"flightdeck/ui/panes/rollouts"
	"flightdeck/ui/panes/slo"
)

// Pane is one block of the cockpit's grid. The root knows panes only
// through this interface: it routes snapshots of the kinds a pane owns to
// it (visible or not), keys to it while it has focus, and asks it for its
// block, its summary line, its help and the actions its selection offers.
// Most panes embed kit.List, which supplies Title, Kinds, FullHelp,
// SetSnapshot, SetSize, View and CapturesKeys.
type Pane interface {
	// Title names the pane in help and in the focus keys' help: "Postgres".
	Title() string
	// Kinds are the snapshot kinds the pane owns.
	Kinds() []sources.Kind
	// SetSnapshot takes the latest snapshot of one of its sources.
	SetSnapshot(s sources.Snapshot)
	// HandleKey handles a key while the pane has focus and no dialog is
	// open. The Cmd may carry any message (a RequestMsg, a PushViewMsg).
	HandleKey(msg tea.KeyPressMsg) tea.Cmd
	// SetSize is the block's size, border included.
	SetSize(w, h int)
	// View is the block at its size: exactly h lines of w cells. It is
	// called every frame, so a pane returns its cached block when nothing
	// changed, and a new slice when something did (the root keeps the
	// joined grid while every block is the same slice).
	View(focused bool) []string
	// Summary is the one-line view when another pane has the space.
	Summary() string
	// ShortHelp is the status bar's key hints; FullHelp the pane's section
	// of the help overlay.
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	// Actions are the menu entries for the selection, allowed or not; an
	// entry with a Key is also started by that key.
	Actions() []kit.Action
	// CapturesKeys is true while the pane takes every key as text (its
	// filter prompt): then global keys give way.
	CapturesKeys() bool
}

// PaneFunc builds a pane in its slot: the session's environment and the
// focus key the pane's position gives it.
type PaneFunc func(kit.Slot) Pane

// Compact is a Pane of a few short rows (SLOs, alerts). In the grid a row
// of compact panes is as tall as their content wants, within bounds, and
// the other rows share the rest.
type Compact interface {
	WantHeight() int
}

// Filterable is a Pane whose rows a ShowPaneMsg can filter.
type Filterable interface {
	SetFilter(filter string)
}

// HelpNoter is a Pane with lines to add under the help overlay's key lists
// (the Postgres filter language).
type HelpNoter interface {
	HelpNotes() []string
}

// Reader is a Pane that reads snapshots of kinds it does not own, as
// data: the root hands it, through Read, every snapshot of the kinds in
// Reads, visible or not, without making it an owner of them (the SLO and
// Alerts details name the rollout that came shortly before a burn or an
// alert started, so they read the rollouts).
type Reader interface {
	Reads() []sources.Kind
	Read(s sources.Snapshot)
}

// BuiltinPanes are the cockpit's panes in focus-key order: 1 SLOs,
// 2 Alerts, 3 Postgres, 4 Rollouts, 5 AWS. Options.ExtraPanes come after
// them.
func BuiltinPanes() []PaneFunc {
	return []PaneFunc{
		func(s kit.Slot) Pane { return slo.New(s) },
		func(s kit.Slot) Pane { return alerts.New(s) },
		func(s kit.Slot) Pane { return postgres.New(s) },
		func(s kit.Slot) Pane { return rollouts.New(s) },
		func(s kit.Slot) Pane { return awspane.New(s) },
	}
}
