package kit

import tea "charm.land/bubbletea/v2"

// Feature is a part of the cockpit that lives in its own package under
// ui/views (runbooks, the timeline, following and presence) rather than
// in the root, reached by a global key. The root holds its features in
// order and knows them only through this interface and the optional ones
// below: it offers each the keys no dialog, view or pane took, every
// message but key presses (after handling the message itself), and a
// Screen to act on while it handles them. A feature's views and dialogs
// answer with the messages of this package.
type Feature interface {
	// Key is offered each key no dialog took, over the panes or a shown
	// view, unless a prompt is capturing keys; ok says it was the
	// feature's (the runbook, timeline or follow key).
	Key(s Screen, msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool)
}

// Updater is a Feature with messages of its own: Update sees every
// message but key presses, after the root handled it.
type Updater interface {
	Update(s Screen, msg tea.Msg) tea.Cmd
}

// Starter is a Feature with something to put on screen when the session
// starts (the runs resumed from the journal, kept as hidden views).
type Starter interface {
	Start(s Screen)
}

// Initer is a Feature with Cmds to run when the program starts (waiting
// on who is connected).
type Initer interface {
	Init() tea.Cmd
}

// Interceptor is a Feature that sees every key first, before dialogs,
// views and panes (a follower: any key stops following). ok swallows the
// key. A quit key that types nothing quits before it is offered.
type Interceptor interface {
	Intercept(s Screen, msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool)
}

// Settler is a Feature told when an Update is done and the screen
// settled (a leader publishes what it shows).
type Settler interface {
	Settled(s Screen)
}

// HeaderNoter is a Feature with notes for the header, after the mode
// ("FOLLOWING alice", who is connected): groups of items, already
// styled, most important first. The root separates groups by two spaces
// and a group's items by " · ", and when the line is too short drops
// whole items from the end, saying how many ("+2 more"), never cutting
// one in the middle or running into the clock.
type HeaderNoter interface {
	HeaderNotes() [][]string
}

// Screen is the root as a feature sees it while it handles a key or a
// message: what is on screen, and the few changes a feature may make.
// It is valid only during that call.
type Screen interface {
	// Pane is the focused pane (also while a view is shown): a feature
	// asks it for the interfaces it declares (the selected alert).
	Pane() any
	// Shown is the view on screen, nil over the panes; Views are the kept
	// views, the most recently shown last.
	Shown() View
	Views() []View
	// Dialog is the top dialog, nil when none is open.
	Dialog() Dialog
	// Status puts a line in the status bar.
	Status(text string, bad bool)
	// PushDialog opens d over whatever is open; PopDialog closes the top
	// one.
	PushDialog(d Dialog)
	PopDialog()
	// Push shows v (a kept view with its ID comes back instead, with its
	// state, and a new one is first given every source's latest
	// snapshot); Keep keeps v without showing it; Close forgets the view
	// with id.
	Push(v View)
	Keep(v View)
	Close(id string)
	// Focus focuses the pane titled title, leaving any view, and returns
	// it; nil (and nothing changes) when no pane has that title.
	Focus(title string) any
	// Size is the body's size, where a view is drawn.
	Size() (w, h int)
}

// SharedRun is a runbook run open in another session (flightdeck serve):
// whose it is, its line (runbook, alert, progress), and the Cmd that
// follows that session to it (nil when this session cannot follow).
type SharedRun struct {
	Who, Line string
	Follow    tea.Cmd
}

// SharedRuns is a Feature that knows the runs open in other sessions: the
// runbook list shows them, so an observer finds the operator's run.
type SharedRuns interface {
	SharedRuns() []SharedRun
}
