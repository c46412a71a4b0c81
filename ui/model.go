// Package ui is the cockpit's Bubble Tea front end. The root Model is the
// only tea.Model; the four panes are components whose Update returns their
// concrete type. Update never does I/O: snapshots arrive through a Cmd that
// waits on the Subscriber, and plans and executions run in Cmds that return
// typed messages. The UI changes the world only by handing a Plan to the
// ops Executor.
package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/themes"
)

// Subscriber delivers snapshots; *sources.Subscription satisfies it. Next
// blocks until something changed or ctx ends.
type Subscriber interface {
	Next(ctx context.Context) ([]sources.Snapshot, error)
}

// Options wire the UI. Main builds them from config.
type Options struct {
	Environment string
	// ReadOnly and Demo pick the header's mode badge (LIVE / READ-ONLY / DEMO).
	ReadOnly, Demo bool
	// Executor is nil in read-only mode: action keys then only show a refusal.
	Executor *ops.Executor
	// Policy lets the action menu show why an action is disabled, even in
	// read-only mode where there is no Executor to ask.
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
	// Context is the session's context; nil means context.Background(). The UI's own cancel derives from it.
	Context context.Context
	// Production is config.IsProduction's decision, passed in so the header badge and the Executor's tier agree.
	Production bool
	// Operator is who this session is, as the journal records it.
	Operator string
}

// SnapshotsMsg carries snapshots from the Subscriber. Err ends the stream.
type SnapshotsMsg struct {
	Snapshots []sources.Snapshot
	Err       error
}

// TickMsg advances data ages and plan validity once a second.
type TickMsg struct{}

// PlanMsg is the outcome of Executor.Plan for Request.
type PlanMsg struct {
	Request ops.Request
	Plan    ops.Plan
	Err     error
}

// ResultMsg is the outcome of Executor.Execute.
type ResultMsg struct {
	Result ops.Result
}

type focus int

const (
	focusSLO focus = iota
	focusAlerts
	focusPostgres
	focusRollouts
	numPanes
)

// Model is the root of the cockpit.
type Model struct {
	o      Options
	c      *shared
	policy ops.Policy
	ctx    context.Context
	cancel context.CancelFunc

	slo    *sloPane
	alerts *alertsPane
	pg     *pgPane
	ro     *rolloutsPane

	focus  focus
	w, h   int
	health *health
	rc     *renderCache

	help    bool
	menu    *menuDialog
	form    *formDialog
	confirm *confirmDialog
	pending string // action being planned or executed

	status    string // last action result or refusal
	statusBad bool
	quitting  bool
}

// health is the status bar's record of every source, in first-seen order.
type health struct {
	order []string
	snaps map[string]sources.Snapshot
}

// New builds the root model.
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
	pol := o.Policy
	if o.Executor != nil {
		pol = o.Executor.Policy()
	} else {
		def := ops.DefaultPolicy()
		if pol.MaxTargets == 0 {
			pol.MaxTargets = def.MaxTargets
		}
		if pol.MaxPlanAge == 0 {
			pol.MaxPlanAge = def.MaxPlanAge
		}
		if pol.SilenceMax == 0 {
			pol.SilenceMax = def.SilenceMax
		}
		if pol.LowRiskSilence == 0 {
			pol.LowRiskSilence = def.LowRiskSilence
		}
	}
	c := &shared{th: o.Theme, km: o.KeyMap, prod: o.Production}
	c.setNow(o.Now())
	parent := o.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	m := Model{o: o, c: c, policy: pol, ctx: ctx, cancel: cancel,
		slo: newSLOPane(c), alerts: newAlertsPane(c), pg: newPGPane(c), ro: newRolloutsPane(c),
		focus: focusSLO, w: 80, h: 24, health: &health{snaps: map[string]sources.Snapshot{}}, rc: &renderCache{}}
	m.layout()
	return m
}

// Init starts listening for snapshots and the age ticker.
func (m Model) Init() tea.Cmd { return tea.Batch(m.waitCmd(), tick()) }

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return TickMsg{} })
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

// Update routes messages: keys to the open dialog first, then to global
// keys, then to the focused pane; data to the pane that owns it.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.c.setNow(m.o.Now())
	mm, cmd := m.update(msg)
	if r, ok := mm.(Model); ok && r.grid() {
		r.layout() // data, filters and details change how much the top row needs
		return r, cmd
	}
	return mm, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.layout()
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
		return m, m.waitCmd()
	case TickMsg:
		return m, tick()
	case PlanMsg:
		return m.onPlan(msg)
	case ResultMsg:
		return m.onResult(msg)
	case tea.KeyPressMsg:
		return m.onKey(msg)
	}
	return m, nil
}

// route hands a snapshot to the pane owning its Kind, visible or not.
func (m *Model) route(s sources.Snapshot) {
	if _, ok := m.health.snaps[s.Source]; !ok {
		m.health.order = append(m.health.order, s.Source)
	}
	m.health.snaps[s.Source] = s
	switch s.Kind {
	case sources.KindSLO:
		m.slo.setSnapshot(s)
	case sources.KindAlerts:
		m.alerts.setSnapshot(s)
	case sources.KindPostgres:
		m.pg.setSnapshot(s)
	case sources.KindRollouts:
		m.ro.setSnapshot(s)
	}
}

func (m *Model) setStatus(s string, bad bool) { m.status, m.statusBad = s, bad }

func (m Model) capturing() bool {
	switch m.focus {
	case focusSLO:
		return m.slo.capturesKeys()
	case focusAlerts:
		return m.alerts.capturesKeys()
	case focusPostgres:
		return m.pg.capturesKeys()
	case focusRollouts:
		return m.ro.capturesKeys()
	}
	return false
}

func (m Model) onKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.c.km
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	switch {
	case m.confirm != nil:
		return m.updateConfirm(msg)
	case m.form != nil:
		return m.updateForm(msg)
	case m.menu != nil:
		return m.updateMenu(msg)
	case m.help:
		if key.Matches(msg, k.Global.Help, k.List.Back, k.Dialog.Close) || key.Matches(msg, k.Global.Quit) {
			m.help = false
		}
		return m, nil
	}
	if !m.capturing() {
		switch {
		case key.Matches(msg, k.Global.Quit):
			return m.quit()
		case key.Matches(msg, k.Global.Help):
			m.help = true
			return m, nil
		case key.Matches(msg, k.Global.FocusSLOs):
			return m.setFocus(focusSLO), nil
		case key.Matches(msg, k.Global.FocusAlerts):
			return m.setFocus(focusAlerts), nil
		case key.Matches(msg, k.Global.FocusPostgres):
			return m.setFocus(focusPostgres), nil
		case key.Matches(msg, k.Global.FocusRollouts):
			return m.setFocus(focusRollouts), nil
		case key.Matches(msg, k.Global.NextPane):
			return m.setFocus((m.focus + 1) % numPanes), nil
		case key.Matches(msg, k.Global.PrevPane):
			return m.setFocus((m.focus + numPanes - 1) % numPanes), nil
		case key.Matches(msg, k.Global.Actions):
			return m.openMenu()
		}
		if kind, ok := m.directAction(msg); ok {
			return m.startAction(kind)
		}
	}
	var cmd tea.Cmd
	switch m.focus {
	case focusSLO:
		m.slo, cmd = m.slo.Update(msg)
	case focusAlerts:
		m.alerts, cmd = m.alerts.Update(msg)
	case focusPostgres:
		m.pg, cmd = m.pg.Update(msg)
	case focusRollouts:
		m.ro, cmd = m.ro.Update(msg)
	}
	return m, cmd
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.quitting = true
	m.cancel()
	return m, tea.Quit
}

func (m Model) setFocus(f focus) Model {
	m.focus = f
	m.layout()
	return m
}

// directAction maps C/K/u/R/S/x/E to the action of the focused pane; a key
// of another pane's action does nothing here.
func (m Model) directAction(msg tea.KeyPressMsg) (ops.Kind, bool) {
	k := m.c.km
	switch m.focus {
	case focusPostgres:
		switch {
		case key.Matches(msg, k.Postgres.Cancel):
			return ops.Cancel, true
		case key.Matches(msg, k.Postgres.Terminate):
			return ops.Terminate, true
		}
	case focusRollouts:
		switch {
		case key.Matches(msg, k.Rollouts.Undo):
			return ops.Undo, true
		case key.Matches(msg, k.Rollouts.Restart):
			return ops.Restart, true
		case key.Matches(msg, k.Rollouts.Scale):
			return ops.Scale, true
		}
	case focusAlerts:
		switch {
		case key.Matches(msg, k.Alerts.Silence):
			return ops.Silence, true
		case key.Matches(msg, k.Alerts.Expire):
			return ops.Expire, true
		}
	}
	return "", false
}

// Grid proportions. The top row (SLOs | Alerts) is a few short lists: it
// takes the height its content needs, within bounds, and the bottom row
// (Postgres | Rollouts), where the long tables are, gets the rest. Within a
// row the focused pane gets most of the width.
const (
	topMinH      = 5
	topMaxPct    = 40
	focusedWPct  = 65
	unfocusedMin = 40
)

// layout gives each pane its size: a content-aware 2×2 grid on big
// terminals, otherwise the focused pane takes the body and the others
// shrink to one-line summaries. It runs after every Update (it is a few
// integer sums), so the grid follows the data.
func (m *Model) layout() {
	bodyH := max(3, m.h-3)
	if m.grid() {
		want := max(m.slo.wantHeight(), m.alerts.wantHeight())
		top := min(max(want, topMinH), bodyH*topMaxPct/100)
		sloW := m.splitW(m.focus == focusSLO, m.focus == focusAlerts, 50)
		pgW := m.splitW(m.focus == focusPostgres, m.focus == focusRollouts, focusedWPct)
		m.slo.SetSize(sloW, top)
		m.alerts.SetSize(m.w-sloW, top)
		m.pg.SetSize(pgW, bodyH-top)
		m.ro.SetSize(m.w-pgW, bodyH-top)
		return
	}
	h := max(3, bodyH-int(numPanes-1))
	for _, c := range m.components() {
		c.SetSize(m.w, h)
	}
}

// splitW is the width of a row's left pane: ~65% when it has focus, the
// rest when its neighbour has, else idlePct; neither side below 40 cols.
func (m *Model) splitW(leftFocused, rightFocused bool, idlePct int) int {
	pct := idlePct
	switch {
	case leftFocused:
		pct = focusedWPct
	case rightFocused:
		pct = 100 - focusedWPct
	}
	w := m.w * pct / 100
	return min(max(w, unfocusedMin), m.w-unfocusedMin)
}

func (m Model) grid() bool { return m.w >= 150 && m.h >= 40 }

func (m Model) components() []paneComponent {
	return []paneComponent{m.slo, m.alerts, m.pg, m.ro}
}

// paneComponent is a Component the root can draw.
type paneComponent interface {
	Component
	View(focused bool) []string
	Summary() string
}

func (m Model) focused() paneComponent { return m.components()[m.focus] }

// View draws header, panes, status bar and the open overlay.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "flightdeck " + m.o.Environment
	return v
}

// Render is the screen as a string (View without the tea.View wrapper), for
// tests and benchmarks.
func (m Model) Render() string {
	if m.quitting {
		return ""
	}
	th := m.c.th
	rc := m.rc
	var body []string
	if m.grid() {
		top := [2][]string{m.slo.View(m.focus == focusSLO), m.alerts.View(m.focus == focusAlerts)}
		bot := [2][]string{m.pg.View(m.focus == focusPostgres), m.ro.View(m.focus == focusRollouts)}
		k := gridKey{w: m.w, h: m.h, gens: [4]uint64{m.slo.cache.gen, m.alerts.cache.gen, m.pg.cache.gen, m.ro.cache.gen}}
		if !rc.gridOK || rc.grid != k {
			rc.body = append(joinH(top[0], top[1]), joinH(bot[0], bot[1])...)
			rc.grid, rc.gridOK = k, true
			rc.bodyStr = ""
		}
		body = rc.body
	} else {
		rc.gridOK = false
		for i, c := range m.components() {
			if focus(i) != m.focus {
				body = append(body, fit(" "+c.Summary(), m.w, th.Ellipsis))
			}
		}
		body = append(body, m.focused().View(true)...)
	}
	head, status := m.header(), m.statusBar()
	// Dialogs and help sit over the whole screen, not the body: the body is
	// three lines shorter, and a dialog cut there hid its own prompt.
	if box := m.overlayBox(); box != nil || !rc.gridOK {
		lines := make([]string, 0, len(body)+3)
		lines = append(append(append(lines, head), body...), status...)
		if len(lines) > m.h {
			lines = lines[:m.h]
		}
		if box != nil {
			lines = overlay(lines, box, m.w)
		}
		return strings.Join(lines, "\n")
	}
	// The grid's joined text is reused while no pane redrew; the frame is
	// reused while the header and status bar say the same.
	if rc.bodyStr == "" {
		n := min(len(body), max0(m.h-1-len(status)))
		rc.bodyStr = strings.Join(body[:n], "\n")
		rc.out = ""
	}
	if rc.out == "" || rc.head != head || rc.status != strings.Join(status, "\n") {
		rc.head, rc.status = head, strings.Join(status, "\n")
		rc.out = head + "\n" + rc.bodyStr + "\n" + rc.status
	}
	return rc.out
}

// gridKey identifies a joined grid: the four blocks it was made of.
type gridKey struct {
	w, h int
	gens [4]uint64
}

// renderCache is the root's share of the frame cache. It is a pointer in
// the Model value, like the panes, so every copy of the Model sees it.
type renderCache struct {
	grid         gridKey
	gridOK       bool
	body         []string
	bodyStr      string
	head, status string
	out          string
}

func (m Model) header() string {
	th := m.c.th
	mode := "LIVE"
	switch {
	case m.o.Demo && m.o.ReadOnly:
		mode = "DEMO · READ-ONLY"
	case m.o.Demo:
		mode = "DEMO"
	case m.o.ReadOnly || m.o.Executor == nil:
		mode = "READ-ONLY"
	}
	env := m.o.Environment
	if env == "" {
		env = "unknown env"
	}
	envS := th.Paints.Header.Render(" " + env + " ")
	if m.c.prod {
		envS = th.Paints.HeaderProd.Render(" " + strings.ToUpper(env) + " ")
	}
	left := th.Paints.Header.Render(" flightdeck ") + " " + envS + " " + th.Paints.Bold.Render(mode)
	right := m.c.now.Format("15:04:05") + " "
	return fit(left, m.w-ansiWidth(right), th.Ellipsis) + right
}

func (m Model) statusBar() []string {
	th := m.c.th
	var parts []string
	for _, name := range m.health.order {
		s := m.health.snaps[name]
		age := "-"
		if !s.FetchedAt.IsZero() {
			age = fmtAge(s.Age(m.c.now))
		}
		switch {
		case s.Err != nil:
			parts = append(parts, th.Paints.Crit.Render(name+" ERR "+age))
		case s.Stale:
			parts = append(parts, th.Paints.Warn.Render(name+" stale "+age))
		default:
			parts = append(parts, th.Paints.OK.Render(name)+" "+th.Paints.Muted.Render(age))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, th.Paints.Muted.Render("no sources yet"))
	}
	line1 := fit(" "+strings.Join(parts, "  "), m.w, th.Ellipsis)
	var line2 string
	switch {
	case m.pending != "":
		line2 = th.Paints.Accent.Render(" " + m.pending)
	case m.status != "":
		st := th.Paints.OK
		if m.statusBad {
			st = th.Paints.Error
		}
		line2 = st.Render(" " + m.status)
	default:
		var hs []string
		for _, b := range m.focused().ShortHelp() {
			hs = append(hs, th.Paints.HelpKey.Render(b.Help().Key)+" "+th.Paints.HelpDesc.Render(b.Help().Desc))
		}
		hs = append(hs, th.Paints.HelpKey.Render(m.c.km.Global.Help.Help().Key)+" "+th.Paints.HelpDesc.Render("help"))
		line2 = " " + strings.Join(hs, "  ")
	}
	return []string{line1, fit(line2, m.w, th.Ellipsis)}
}

// String describes the model for debugging.
func (m Model) String() string { return fmt.Sprintf("flightdeck ui %dx%d focus=%d", m.w, m.h, m.focus) }
