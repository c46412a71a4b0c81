// Package ui is the cockpit's Bubble Tea front end: one root Model (the
// only tea.Model) doing routing, layout, the chrome (header, status bar,
// help), the action flow and the dialog stack, over components it knows
// only by interface. Everything else lives in its own package: the panes
// under ui/panes, the full-screen views and the features that open them
// under ui/views, and the contracts they share in ui/kit.
//
// # Components
//
//   - Panes (Pane) are the grid's blocks, in an ordered list fixed at
//     construction: BuiltinPanes (SLOs, Alerts, Postgres, Rollouts, AWS), then
//     Data.ExtraPanes. Position is everything the root knows: focus key
//     N (keymap Global.Focus, 1…9) focuses the Nth pane, tab cycles them,
//     the grid lays them out two to a row. Data.Panes (PaneSetup) may
//     hide some, the others keeping their keys, and mark those no source
//     feeds, which share a one-line row at the grid's foot. Snapshots go
//     to every pane whose Kinds include theirs, visible or not, and to
//     every pane that Reads their kind besides its own. Each pane lives in
//     its own package under ui/panes and most embed kit.List, the shared
//     list base (cursor, filter prompt, detail view, render cache).
//   - Views (kit.View) take the whole body: a runbook run, a timeline. A
//     PushViewMsg shows one; back/close returns to the panes and the view
//     is kept, with its state, until a CloseViewMsg. Views see every
//     snapshot and every tick.
//   - Features (kit.Feature) are what the global keys open: the runbook
//     list and runs (ui/views/runbooks, Options.Runbooks), the incident
//     timeline (ui/views/timeline, Journals.Timeline), following and
//     presence (ui/views/crew, Options.Together). The root offers them
//     the keys nothing else took and every message, and a kit.Screen to
//     act on.
//   - Dialogs (kit.Dialog: the action menu, a form, confirm, help, and
//     any a view opens with kit.OpenDialogMsg) sit on a small stack over
//     the screen; the top one takes every key. They answer with typed
//     messages: a form or a menu entry sends a RequestMsg, the confirm
//     dialog a ConfirmedMsg or a CancelledMsg. Dialogs that can confirm
//     ignore their confirming keys and typed text for kit.KeyGuard after
//     they open; their cancel keys work at once.
//
// # Actions
//
// A pane offers actions for its selection as kit.Action entries (kind,
// label, direct key, request builder, optional form, its own reason to
// refuse). The action key ('a') lists them with every reason an entry is
// disabled; a direct key starts the entry bound to it. Either way, and
// from outside any pane, a RequestMsg opens the one flow: Executor.Plan in
// a Cmd → PlanMsg → confirm dialog → ConfirmedMsg → Executor.Execute in a
// Cmd → ResultMsg → status bar (and a refresh of the source). An asker
// whose answer matters (a runbook step) puts a typed kit.Origin in its
// request; the answers carry it back to the views. The UI changes the
// world only through that Executor; a read-only session has none and
// refuses.
//
// # Adding a pane
//
// Write a package under ui/panes whose type embeds kit.List:
//
//	func New(s kit.Slot) *Pane {
//		p := &Pane{}
//		p.Init(s, kit.Meta{Title: "AWS", Kind: sources.KindAWS, Noun: "aws", Help: keys}, p)
//		return p
//	}
//
// and give it Len, Rebuild and Draw (kit.Rows; Visible too when more than a
// column title line sits above its rows), HandleKey (List.HandleKey, then
// its own keys), Summary, ShortHelp and Actions. kit.List supplies the rest
// of Pane and SetFilter (so ShowPaneMsg can filter it). A pane of a few
// short rows also says WantHeight (Compact); one with notes for the help
// overlay, HelpNotes; one that reads another kind's data (the rollouts an
// SLO burn follows), Reads and Read. Register it in BuiltinPanes, or pass
// it in Data.ExtraPanes: it gets the next focus key. Nothing in the root
// changes.
//
// # Adding a view
//
// Write a package under ui/views with a type that is a kit.View, and
// return a Cmd answering kit.PushViewMsg{View: v} (from a pane's
// HandleKey, a view, or a feature's key); back or close returns to the
// panes, PushViewMsg with the same ID comes back to it, CloseViewMsg{ID}
// forgets it. A view that a global key opens comes with a kit.Feature,
// which New builds from its part of Options.
//
// Update never does I/O: snapshots arrive through a Cmd that waits on the
// Subscriber, and plans and executions run in Cmds.
package ui
