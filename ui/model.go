package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/cosign"
	"flightdeck/ui/views/crew"
	"flightdeck/ui/views/logs"
	"flightdeck/ui/views/runbooks"
	"flightdeck/ui/views/timeline"
)

// FPS is how many frames a second a cockpit's program draws at most. Its
// screen changes about once a second (the clock, a poll); Bubble Tea's
// default of 60 spends CPU on every session for nothing.
const FPS = 20

// Model is the root of the cockpit.
type Model struct {
	// o is a pointer because the Model is a value that Bubble Tea copies
	// (and boxes) on every message: Options hold the theme and the key
	// map, 22 KB, and copying them on each of 50 sessions' messages was a
	// tenth of serve's CPU.
	o      *Options
	env    *kit.Env
	ctx    context.Context
	cancel context.CancelFunc

	panes []Pane
	// keyOf is each pane's focus key (an index into Global.Focus, which may
	// be past its end); off says the pane has no source (PaneSetup).
	keyOf []int
	off   []bool
	// owners are the panes (indexes) that own each snapshot kind; readers
	// those that read it besides their own (Reader).
	owners  map[sources.Kind][]int
	readers map[sources.Kind][]int
	focus   int
	w, h    int
	health  *health
	rc      *renderCache
	sizes   []size // each pane's block size, from the last layout

	dialogs []kit.Dialog // the top one, last, has the keyboard
	views   []View       // kept views, the top one last
	viewOn  bool         // the top view is shown instead of the panes
	// returnTo is the view a ShowPaneMsg left (a runbook's view step) and
	// returnPane the pane it showed: the footer and that pane's title say
	// how to go back, until the operator does or the view closes.
	returnTo   string
	returnPane int
	// features are what the global keys open, in the order they are
	// offered keys and messages.
	features []kit.Feature

	pending string // action being planned or executed
	// planning: a plan is being made; dropPlan: the operator cancelled it
	// (esc) before its confirm dialog could open, so it must not open.
	planning, dropPlan bool
	status             string // last action result or refusal
	statusBad          bool
	// statusUntil is when the status gives the line back to the key
	// hints (the zero time: it stays until replaced).
	statusUntil time.Time
	quitting    bool

	recErr string // the flight recorder's write error, as of the last tick

	// scriptLoop is the latest run of a scripted world (the demo) seen in
	// the data, 0 for real backends: a later one is said in the status bar.
	scriptLoop uint64
}

// health is the status bar's record of every source, in first-seen order.
type health struct {
	order []string
	snaps map[string]sources.Snapshot
}

// New builds the root model, its panes and its features.
func New(o Options) Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Look.Theme.Name == "" {
		o.Look.Theme = themes.MustGet("dark")
	}
	if len(o.Look.KeyMap.Global.Quit.Keys()) == 0 {
		o.Look.KeyMap = keymap.DefaultKeyMap()
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	// The policy's defaults are filled in one place, ops.Policy.WithDefaults.
	pol := o.Actions.Policy.WithDefaults()
	if o.Actions.Executor != nil {
		pol = o.Actions.Executor.Policy()
	}
	env := &kit.Env{Theme: o.Look.Theme, Keys: o.Look.KeyMap, Policy: pol, Unconfigured: o.Data.Panes.Unconfigured, Burns: o.Journals.Burns, Blocks: o.Look.Blocks}
	env.SetClock(o.Now())
	ctx, cancel := context.WithCancel(o.Context)
	m := Model{o: &o, env: env, ctx: ctx, cancel: cancel, owners: map[sources.Kind][]int{}, readers: map[sources.Kind][]int{},
		w: 80, h: 24, health: &health{snaps: map[string]sources.Snapshot{}}, rc: &renderCache{}}
	m.addPanes(append(BuiltinPanes(), o.Data.ExtraPanes...))
	canAct := o.Actions.Executor != nil
	// The crew, when sharing a world, tells the runbook list the runs
	// open in the other sessions.
	c := crew.New(env, ctx, o.Together, canAct)
	var shared kit.SharedRuns
	if c != nil {
		shared = c
	}
	m.features = []kit.Feature{
		runbooks.New(env, o.Runbooks, o.Identity.Operator, canAct, shared),
		timeline.New(env, ctx, o.Journals.Timeline),
		logs.New(env, ctx, o.Logs),
	}
	if c != nil {
		m.features = append(m.features, c)
	}
	if c := cosign.New(env, ctx, o.CoSign, o.Actions.Executor); c != nil {
		m.features = append(m.features, c)
	}
	m.layout()
	for _, f := range m.features {
		if s, ok := f.(kit.Starter); ok {
			s.Start(screen{&m})
		}
	}
	if len(o.Journals.Notices) > 0 {
		m.setStatusFor(strings.Join(o.Journals.Notices, "; "), true, time.Minute)
	}
	return m
}

// Init starts listening for snapshots, the age ticker and whatever the
// features wait on (who is connected, what they announce).
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.waitCmd(), tick()}
	for _, f := range m.features {
		if i, ok := f.(kit.Initer); ok {
			cmds = append(cmds, i.Init())
		}
	}
	return tea.Batch(cmds...)
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
	if m.o.Data.Updates == nil {
		return nil
	}
	sub, ctx := m.o.Data.Updates, m.ctx
	return func() tea.Msg {
		snaps, err := sub.Next(ctx)
		return SnapshotsMsg{Snapshots: snaps, Err: err}
	}
}

// Update routes messages: keys to the open dialog first, then to the shown
// view, then to global keys, then to the focused pane; data to the panes
// that own it and to every view; the action flow's messages to the root;
// every other message to the features and the views.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.env.SetClock(m.o.Now())
	m, cmd := m.update(msg)
	m.layout() // data, filters and details change how much a grid row needs
	for _, f := range m.features {
		if s, ok := f.(kit.Settler); ok {
			s.Settled(screen{&m})
		}
	}
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		return m.onKey(k)
	}
	if mm, cmd, ok := m.answer(msg); ok {
		return mm, cmd
	}
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case SnapshotsMsg:
		if msg.Err != nil {
			if m.ctx.Err() == nil {
				m.setStatusFor("updates stopped: "+msg.Err.Error(), true, 0) // it stays true
			}
			break
		}
		for _, s := range msg.Snapshots {
			m.route(s)
		}
		m.noteRestart(msg.Snapshots)
		// Views learn the batch is complete (a run observes it whole).
		cmds = append(m.toViews(msg), m.waitCmd())
	case TickMsg:
		m.recErr = m.recorderErr()
		cmds = append(m.toViews(msg), tick())
	case RequestMsg, PlanMsg, ConfirmedMsg, CancelledMsg, ResultMsg, EffectWaitDoneMsg:
		var cmd tea.Cmd
		m, cmd = m.flow(msg)
		cmds = append(cmds, cmd)
	case PushViewMsg:
		m = m.pushView(msg.View)
	case PopViewMsg:
		m = m.popView()
	case CloseViewMsg:
		m = m.closeView(msg.ID)
	case ShowPaneMsg:
		m = m.showPane(msg)
	case kit.OpenDialogMsg:
		m = m.pushDialog(msg.Dialog)
	case kit.StatusMsg:
		m.setStatus(msg.Text, msg.Bad)
	default:
		// Not the root's: a view's or a feature's own.
		cmds = append(cmds, m.toViews(msg)...)
	}
	for _, f := range m.features {
		if u, ok := f.(kit.Updater); ok {
			cmds = append(cmds, u.Update(screen{&m}, msg))
		}
	}
	return m, tea.Batch(cmds...)
}

// route hands a snapshot to the panes owning its Kind or reading it,
// visible or not, and to every view.
func (m *Model) route(s sources.Snapshot) {
	if _, ok := m.health.snaps[s.Source]; !ok {
		m.health.order = append(m.health.order, s.Source)
	}
	m.health.snaps[s.Source] = s
	for _, i := range m.owners[s.Kind] {
		m.panes[i].SetSnapshot(s)
	}
	for _, i := range m.readers[s.Kind] {
		m.panes[i].(Reader).Read(s)
	}
	for _, v := range m.views {
		v.SetSnapshot(s)
	}
}

// scriptRestartTTL is how long the status bar says the demo started its
// incident over: long enough to be read by someone looking at a pane.
const scriptRestartTTL = 20 * time.Second

// noteRestart says in the status bar when a scripted world (the demo)
// starts its incident over by itself, and what that undid, so nobody
// takes the undoing for something they did or a fault (issue 17 item 5).
// The first run seen is not news.
func (m *Model) noteRestart(snaps []sources.Snapshot) {
	for _, s := range snaps {
		sc := sources.ScriptOf(s.Data)
		if sc == nil || sc.Loop <= m.scriptLoop {
			continue
		}
		if m.scriptLoop > 0 {
			m.setStatusFor(fmt.Sprintf("demo incident restarted (loop %d): %s", sc.Loop, sc.Reset), false, scriptRestartTTL)
		}
		m.scriptLoop = sc.Loop
	}
}

// How long a status message stays before the key hints come back: an
// error long enough to be read at 3 a.m., anything else a few seconds,
// a key that does nothing (item 11) briefly.
const (
	statusTTL    = 6 * time.Second
	statusBadTTL = 15 * time.Second
	statusKeyTTL = 3 * time.Second
)

// setStatus puts a message in the status bar for statusTTL (statusBadTTL
// when bad).
func (m *Model) setStatus(s string, bad bool) {
	ttl := statusTTL
	if bad {
		ttl = statusBadTTL
	}
	m.setStatusFor(s, bad, ttl)
}

// setStatusFor puts a message in the status bar for ttl (0: until
// replaced).
func (m *Model) setStatusFor(s string, bad bool, ttl time.Duration) {
	m.status, m.statusBad, m.statusUntil = s, bad, time.Time{}
	if ttl > 0 {
		m.statusUntil = m.env.Exact().Add(ttl)
	}
}

// statusNow is the status message still in force, "" once it expired.
func (m Model) statusNow() string {
	if m.status != "" && !m.statusUntil.IsZero() && !m.env.Exact().Before(m.statusUntil) {
		return ""
	}
	return m.status
}

// recorderErr is the flight recorder's write error for the status bar.
func (m Model) recorderErr() string {
	if m.o.Journals.RecorderErr == nil {
		return ""
	}
	if err := m.o.Journals.RecorderErr(); err != nil {
		return err.Error()
	}
	return ""
}

// String describes the model for debugging.
func (m Model) String() string {
	return fmt.Sprintf("flightdeck ui %dx%d focus=%s", m.w, m.h, m.panes[m.focus].Title())
}
