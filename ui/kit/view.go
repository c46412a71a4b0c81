package kit

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
)

// View is a full-screen component: it takes the whole body instead of the
// panes (a runbook run, the incident timeline). The root keeps views on a
// stack; the top one is shown until the back or close key (or a focus key)
// returns to the panes, and it keeps its state: pushing a view whose ID is
// already kept shows the kept one again. A view lives in its own package
// (ui/views/...) and reaches the root only through the messages of this
// package.
type View interface {
	// ID tells two views apart: pushing a view with a kept ID shows the
	// kept one instead.
	ID() string
	// Title is the view's name in help.
	Title() string
	// SetSnapshot takes every snapshot, of every kind, shown or not.
	SetSnapshot(s sources.Snapshot)
	// Update takes keys while the view is shown, TickMsg every second,
	// each SnapshotsMsg once its snapshots were handed to SetSnapshot (the
	// batch is complete), the action flow's answers to requests that carry
	// an Origin, and any message the root does not know (the view's own
	// Cmd results).
	Update(msg tea.Msg) tea.Cmd
	// View draws the body: exactly h lines of w cells.
	View(w, h int) []string
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	// CapturesKeys is true while the view takes every key as text.
	CapturesKeys() bool
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
	// View is which of the pane's views to show ("statements"), for a
	// pane that has several (ViewShower); "" leaves it as it is.
	View string
}

// ViewShower is a pane with views of its own (Postgres: activity,
// statements, replication…) that a ShowPaneMsg can pick; ShowView reports
// whether it has the view.
type ViewShower interface {
	ShowView(name string) bool
}

// OpenDialogMsg opens a dialog a view made (a runbook step's skip
// reason) over whatever is open.
type OpenDialogMsg struct {
	Dialog Dialog
}

// StatusMsg puts a line in the status bar; Bad shows it as an error.
type StatusMsg struct {
	Text string
	Bad  bool
}
