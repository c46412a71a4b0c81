// Package ui is the cockpit's Bubble Tea front end: one root Model (the
// only tea.Model) over components it knows only by interface.
//
// # Components
//
//   - Panes (Pane) are the grid's blocks, in an ordered list fixed at
//     construction: BuiltinPanes (SLOs, Alerts, Postgres, Rollouts, AWS), then
//     Options.ExtraPanes. Position is everything the root knows: focus key
//     N (keymap Global.Focus, 1…9) focuses the Nth pane, tab cycles them,
//     the grid lays them out two to a row. Options.Panes (PaneSetup) may
//     hide some, the others keeping their keys, and mark those no source
//     feeds, which share a one-line row at the grid's foot. Snapshots go
//     to every pane whose Kinds include theirs, visible or not. Each pane
//     lives in its own
//     package under ui/panes and most embed kit.List, the shared list base
//     (cursor, filter prompt, detail view, render cache).
//   - Views (View) take the whole body: a runbook run, a timeline. A
//     PushViewMsg shows one; back/close returns to the panes and the view
//     is kept, with its state, until a CloseViewMsg. Views see every
//     snapshot and every tick. The runbook key opens the selected alert's
//     runbook (or the list of runbooks and open runs) in a run view, which
//     sends its steps' requests into the same flow as the panes and writes
//     the run's records through Options.RunJournal; the timeline key shows
//     Options.Timeline.
//   - Dialogs (menu, form, confirm, help) sit on a small stack over the
//     screen; the top one takes every key. They answer with typed messages:
//     a form or a menu entry sends a RequestMsg, the confirm dialog a
//     ConfirmedMsg or a CancelledMsg. Dialogs that can confirm ignore their
//     confirming keys for keyGuard after they open.
//
// # Actions
//
// A pane offers actions for its selection as kit.Action entries (kind,
// label, direct key, request builder, optional form, its own reason to
// refuse). The action key ('a') lists them with every reason an entry is
// disabled; a direct key starts the entry bound to it. Either way, and
// from outside any pane, a RequestMsg opens the one flow: Executor.Plan in
// a Cmd → PlanMsg → confirm dialog → ConfirmedMsg → Executor.Execute in a
// Cmd → ResultMsg → status bar (and a refresh of the source). The UI
// changes the world only through that Executor; a read-only session has
// none and refuses.
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
// overlay, HelpNotes. Register it in BuiltinPanes, or pass it in
// Options.ExtraPanes: it gets the next focus key. Nothing in the root
// changes.
//
// # Showing a view
//
// Return a Cmd answering PushViewMsg{View: v} (from a pane's HandleKey, a
// view, or a runbook); back or close returns to the panes, PushViewMsg with
// the same ID comes back to it, CloseViewMsg{ID} forgets it.
//
// Update never does I/O: snapshots arrive through a Cmd that waits on the
// Subscriber, and plans and executions run in Cmds.
package ui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// FPS is how many frames a second a cockpit's program draws at most. Its
// screen changes about once a second (the clock, a poll); Bubble Tea's
// default of 60 spends CPU on every session for nothing.
const FPS = 20

// Subscriber delivers snapshots; *sources.Subscription satisfies it. Next
// blocks until something changed or ctx ends.
type Subscriber interface {
	Next(ctx context.Context) ([]sources.Snapshot, error)
}

// Options wire the UI: one session's cockpit. Main (or the SSH server)
// builds them from the world and the session.
type Options struct {
	// Context is the session's: when it ends the UI stops waiting for
	// snapshots and cancels plans and executions in flight. nil means
	// context.Background().
	Context     context.Context
	Environment string
	// Production is whether Environment is a production one (the caller
	// decides, with config.IsProduction): the header's badge.
	Production bool
	// Operator is who this session is (user@host, an SSH key's name and
	// fingerprint), shown in help.
	Operator string
	// ReadOnly and Demo pick the header's mode badge (LIVE / READ-ONLY / DEMO).
	ReadOnly, Demo bool
	// Executor is nil in read-only mode: action keys then only show a refusal.
	Executor *ops.Executor
	// Policy lets the action menu show why an action is disabled, even in
	// read-only mode where there is no Executor to ask. It is complete
	// (defaults filled in); with an Executor, the Executor's policy wins.
	Policy  ops.Policy
	Updates Subscriber
	// Refresh asks the hub to poll a source now (after an action); may be nil.
	Refresh func(source string)
	KeyMap  keymap.KeyMap
	Theme   themes.Theme
	// Now is the clock; nil means time.Now. Tests pass a fixed clock.
	Now func() time.Time
	// AuditPath is shown in help so the operator knows where the record is.
	AuditPath string
	// Runbooks are what the runbook key opens (nil: none loaded); Runs
	// are open runs to continue, resumed from the audit journal.
	Runbooks *runbook.Set
	Runs     []*runbook.Run
	// RunJournal is where runs' records go (the world's audit journal);
	// nil in a read-only session, whose runs are followed, not recorded.
	RunJournal runbook.Recorder
	// Timeline builds the incident timeline the timeline key shows, one
	// line per entry, oldest first. It reads files: it runs in a Cmd. nil
	// means there is none to show.
	Timeline func(ctx context.Context) ([]string, error)
	// RecorderErr is the flight recorder's latest write error, nil while
	// it records; the status bar says so when it is not. May be nil.
	RecorderErr func() error
	// Notices are said in the status bar at start: a damaged audit
	// journal, a run that could not be resumed.
	Notices []string
	// ExtraPanes are registered after BuiltinPanes, in order: the first
	// gets focus key 6.
	ExtraPanes []PaneFunc
	// Panes says which panes have no source and which to hide.
	Panes PaneSetup
	// Together shares this session with the others on the same world
	// (flightdeck serve): who is connected, announcements, following. nil
	// is a cockpit on its own.
	Together *Together
}

// Model is the root of the cockpit.
type Model struct {
	o      Options
	env    *kit.Env
	ctx    context.Context
	cancel context.CancelFunc

	panes []Pane
	// keyOf is each pane's focus key (an index into Global.Focus, which may
	// be past its end); off says the pane has no source (PaneSetup).
	keyOf []int
	off   []bool
	// owners are the panes (indexes) that own each snapshot kind.
	owners map[sources.Kind][]int
	focus  int
	w, h   int
	health *health
	rc     *renderCache
	sizes  []size // each pane's block size, from the last layout

	dialogs []dialog // the top one, last, has the keyboard
	views   []View   // kept views, the top one last
	viewOn  bool     // the top view is shown instead of the panes

	sh *shared // this session's part in Options.Together; nil alone

	pending   string // action being planned or executed
	status    string // last action result or refusal
	statusBad bool
	quitting  bool

	recErr string // the flight recorder's write error, as of the last tick
	// runQueue writes runs' records in order (shared by every copy).
	runQueue *journalQueue
}

// health is the status bar's record of every source, in first-seen order.
type health struct {
	order []string
	snaps map[string]sources.Snapshot
}

// New builds the root model and its panes.
func New(o Options) Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Theme.Name == "" {
		o.Theme = themes.MustGet("dark")
	}
	if len(o.KeyMap.Global.Quit.Keys()) == 0 {
		o.KeyMap = keymap.DefaultKeyMap()
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	if o.Together == nil || o.Together.Follow == nil || o.Together.Presence == nil {
		// Nobody to follow: the key does nothing and help leaves it out.
		o.KeyMap.Global.Follow.SetEnabled(false)
	}
	// The policy's defaults are filled in one place, ops.Policy.WithDefaults.
	pol := o.Policy.WithDefaults()
	if o.Executor != nil {
		pol = o.Executor.Policy()
	}
	env := &kit.Env{Theme: o.Theme, Keys: o.KeyMap, Policy: pol, Unconfigured: o.Panes.Unconfigured}
	env.SetClock(o.Now())
	ctx, cancel := context.WithCancel(o.Context)
	m := Model{o: o, env: env, ctx: ctx, cancel: cancel, owners: map[sources.Kind][]int{},
		w: 80, h: 24, health: &health{snaps: map[string]sources.Snapshot{}}, rc: &renderCache{}}
	m.addPanes(append(BuiltinPanes(), o.ExtraPanes...))
	m.sh = newShared(ctx, o.Together)
	m.layout()
	m.startRunbooks()
	return m
}

// Init starts listening for snapshots, the age ticker and, when shared,
// for who is connected and what they announce.
func (m Model) Init() tea.Cmd {
	return tea.Batch(append([]tea.Cmd{m.waitCmd(), tick()}, m.togetherCmds()...)...)
}

// tick fires just after each whole second of the wall clock: the display
// clock (whole seconds) then turns once a second, right away, rather than
// at whichever of a free-running tick and a poll comes first after the
// second turned, which drew the clock and every age twice.
func tick() tea.Cmd {
	return tea.Every(time.Second, func(time.Time) tea.Msg { return TickMsg{} })
}

// waitCmd blocks on the Subscriber in a Cmd, never in Update.
func (m Model) waitCmd() tea.Cmd {
	if m.o.Updates == nil {
		return nil
	}
	sub, ctx := m.o.Updates, m.ctx
	return func() tea.Msg {
		snaps, err := sub.Next(ctx)
		return SnapshotsMsg{Snapshots: snaps, Err: err}
	}
}

// Update routes messages: keys to the open dialog first, then to the shown
// view, then to global keys, then to the focused pane; data to the panes
// that own it and to every view; the action flow's messages to the root.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.env.SetClock(m.o.Now())
	m, cmd := m.update(msg)
	m.layout() // data, filters and details change how much a grid row needs
	m.publish()
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	if mm, cmd, ok := m.runbookMsg(msg); ok {
		return mm, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		return m, nil
	case SnapshotsMsg:
		if msg.Err != nil {
			if m.ctx.Err() == nil {
				m.setStatus("updates stopped: "+msg.Err.Error(), true)
			}
			return m, nil
		}
		for _, s := range msg.Snapshots {
			m.route(s)
		}
		// Views learn the batch is complete (a run observes it whole).
		return m, tea.Batch(append(m.toViews(msg), m.waitCmd())...)
	case TickMsg:
		m.recErr = m.recorderErr()
		return m, tea.Batch(append(m.toViews(msg), tick())...)
	case tea.KeyPressMsg:
		return m.onKey(msg)
	case RequestMsg:
		return m.request(msg.Request, msg.Origin)
	case PlanMsg:
		return m.onPlan(msg)
	case ConfirmedMsg:
		return m.execute(msg.Plan, msg.Typed, msg.Origin)
	case CancelledMsg:
		m.setStatus(msg.What+": cancelled", false)
		return m, nil
	case ResultMsg:
		mm, cmd := m.onResult(msg)
		return mm, tea.Batch(cmd, m.announce(msg))
	case EffectWaitDoneMsg:
		return m.onEffectWaitDone(msg), nil
	case PushViewMsg:
		return m.pushView(msg.View), nil
	case PopViewMsg:
		return m.popView(), nil
	case CloseViewMsg:
		return m.closeView(msg.ID), nil
	case ShowPaneMsg:
		return m.showPane(msg), nil
	}
	if m.sh != nil {
		if mm, cmd, ok := m.updateTogether(msg); ok {
			return mm, cmd
		}
	}
	return m, tea.Batch(m.toViews(msg)...)
}

// route hands a snapshot to the panes owning its Kind, visible or not, and
// to every view.
func (m *Model) route(s sources.Snapshot) {
	if _, ok := m.health.snaps[s.Source]; !ok {
		m.health.order = append(m.health.order, s.Source)
	}
	m.health.snaps[s.Source] = s
	for _, i := range m.owners[s.Kind] {
		m.panes[i].SetSnapshot(s)
	}
	if s.Kind == sources.KindRollouts {
		for _, p := range m.panes {
			if w, ok := p.(RolloutWatcher); ok {
				w.SetRollouts(s)
			}
		}
	}
	for _, v := range m.views {
		v.SetSnapshot(s)
	}
}

func (m *Model) setStatus(s string, bad bool) { m.status, m.statusBad = s, bad }

func (m Model) onKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.env.Keys
	// A quit key that types nothing (ctrl+c) quits from anywhere.
	if key.Matches(msg, k.Global.Quit) && !kit.Types(msg) {
		return m.quit()
	}
	// A follower watches: any key stops following, and does nothing else.
	if m.sh != nil && m.sh.follow != nil {
		return m.stopFollowing(), nil
	}
	if len(m.dialogs) > 0 {
		return m.dialogKey(msg)
	}
	if v := m.shownView(); v != nil {
		return m.viewKey(v, msg)
	}
	p := m.panes[m.focus]
	if !p.CapturesKeys() {
		if mm, cmd, ok := m.globalKey(msg); ok {
			return mm, cmd
		}
		switch {
		case key.Matches(msg, k.Global.NextPane):
			return m.setFocus((m.focus + 1) % len(m.panes)), nil
		case key.Matches(msg, k.Global.PrevPane):
			return m.setFocus((m.focus + len(m.panes) - 1) % len(m.panes)), nil
		case key.Matches(msg, k.Global.Actions):
			return m.openMenu(), nil
		}
		for _, a := range p.Actions() {
			if len(a.Key.Keys()) > 0 && key.Matches(msg, a.Key) {
				return m.choose(a)
			}
		}
	}
	return m, p.HandleKey(msg)
}

// globalKey handles the keys that work over panes and views alike: quit,
// help and the focus keys (which also leave a view).
func (m Model) globalKey(msg tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	k := m.env.Keys
	switch {
	case key.Matches(msg, k.Global.Quit):
		mm, cmd := m.quit()
		return mm, cmd, true
	case key.Matches(msg, k.Global.Help):
		return m.pushDialog(m.newHelp()), nil, true
	case m.sh.canFollow() && key.Matches(msg, k.Global.Follow):
		mm, cmd := m.followKey()
		return mm, cmd, true
	case key.Matches(msg, k.Global.Runbook):
		mm, cmd := m.openRunbooks()
		return mm, cmd, true
	case key.Matches(msg, k.Global.Timeline):
		mm, cmd := m.openTimeline()
		return mm, cmd, true
	}
	for i, fk := range m.keyOf {
		if fk < len(k.Global.Focus) && key.Matches(msg, k.Global.Focus[fk]) {
			m.viewOn = false
			return m.setFocus(i), nil, true
		}
	}
	return m, nil, false
}

func (m Model) quit() (Model, tea.Cmd) {
	m.quitting = true
	m.cancel()
	return m, tea.Quit
}

func (m Model) setFocus(i int) Model {
	m.focus = i
	return m
}

// showPane focuses the first pane owning the kind and filters it.
func (m Model) showPane(msg ShowPaneMsg) Model {
	owners := m.owners[msg.Kind]
	if len(owners) == 0 {
		m.setStatus("no pane shows "+string(msg.Kind), true)
		return m
	}
	m.viewOn = false
	m = m.setFocus(owners[0])
	if f, ok := m.panes[owners[0]].(Filterable); ok {
		f.SetFilter(msg.Filter)
	}
	return m
}

// String describes the model for debugging.
func (m Model) String() string {
	return fmt.Sprintf("flightdeck ui %dx%d focus=%s", m.w, m.h, m.panes[m.focus].Title())
}
