// Package keymap holds every key binding of the cockpit, grouped by the area
// that reacts to it, so help can follow the focused pane and config can remap
// any key by a stable action name.
package keymap

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
)

// FocusKeys is how many panes have a focus key of their own.
const FocusKeys = 9

// Global keys work whatever pane is focused (unless a dialog or a text input
// has the keyboard).
type Global struct {
	// Focus[i] focuses the pane registered (i+1)th: 1…9 by default. Panes
	// are ordered at construction, so the keys follow the order, not the
	// kinds; help names each key after its pane.
	Focus    [FocusKeys]key.Binding
	NextPane key.Binding
	PrevPane key.Binding
	Actions  key.Binding
	// Runbook opens the selected alert's runbook (on an alert), else the
	// list of runbooks and open runs; Timeline shows the incident timeline.
	Runbook  key.Binding
	Timeline key.Binding
	Help     key.Binding
	// Quit quits; a quit key that types no character (ctrl+c) quits from
	// anywhere, even a dialog or a text field.
	Quit key.Binding
	// Follow mirrors an operator's cockpit (flightdeck serve): their
	// focused pane, selection and confirm dialog; any key stops it.
	Follow key.Binding
	// Return goes back from the panes to the view left last (the runbook
	// run whose view step showed a pane), with its state.
	Return key.Binding
	// CoSign opens the co-sign requests waiting for a second operator
	// (flightdeck serve); Note adds a one-line note to the timeline;
	// Commander takes the incident commander role, or hands it over.
	CoSign    key.Binding
	Note      key.Binding
	Commander key.Binding
}

// List keys move the selection in any pane that shows rows.
type List struct {
	Up      key.Binding
	Down    key.Binding
	Top     key.Binding
	Bottom  key.Binding
	PageUp  key.Binding
	PageDn  key.Binding
	Details key.Binding
	Filter  key.Binding
	Back    key.Binding
	// Pause freezes the focused pane's rows while you read them; pressed
	// again, the latest data comes in.
	Pause key.Binding
}

// Postgres keys act on pg_stat_activity rows.
type Postgres struct {
	Sort      key.Binding
	Tag       key.Binding
	System    key.Binding
	PrevDB    key.Binding
	NextDB    key.Binding
	Cancel    key.Binding
	Terminate key.Binding
	ClearTags key.Binding
	// View cycles the pane's views: activity, statements, replication,
	// tables, indexes, databases, progress.
	View key.Binding
	// Statement jumps between a backend and its statement's figures
	// (query_id, 14+): from activity to statements and back, filtered to
	// the backends running it.
	Statement key.Binding
}

// Rollouts keys act on deployments.
type Rollouts struct {
	Undo    key.Binding
	Restart key.Binding
	Scale   key.Binding
	// Logs opens the log view of the selected deployment's pods.
	Logs key.Binding
}

// Logs keys act in the log view, besides the list keys (scrolling) and
// the filter key.
type Logs struct {
	// Pause stops the lines moving (they are kept and come in on resume).
	Pause key.Binding
	// Previous switches between the containers' current and previous
	// instances (kubectl logs --previous).
	Previous key.Binding
	// Follow switches following new lines on and off.
	Follow key.Binding
	// Pin pins the lines on screen into the incident timeline.
	Pin key.Binding
}

// Alerts keys act on alerts and silences.
type Alerts struct {
	Silence  key.Binding
	Expire   key.Binding
	Silences key.Binding
}

// Runbook keys act in a runbook run's view, besides the list keys (enter
// runs the selected step).
type Runbook struct {
	// Skip skips the selected step, asking for the reason.
	Skip key.Binding
	// Copy copies a note's command to the clipboard (OSC 52).
	Copy key.Binding
}

// Dialog keys drive confirm dialogs, menus, forms and the filter prompt.
// They are checked before a text field sees the key.
type Dialog struct {
	Yes    key.Binding
	No     key.Binding
	Submit key.Binding
	Close  key.Binding
	Next   key.Binding
	Prev   key.Binding
}

// KeyMap is every binding of the cockpit.
type KeyMap struct {
	Global   Global
	List     List
	Postgres Postgres
	Rollouts Rollouts
	Alerts   Alerts
	Runbook  Runbook
	Logs     Logs
	Dialog   Dialog
}

func b(desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKeys(keys), desc))
}

// helpKeys is how a binding's keys appear in help: the way a user types them.
func helpKeys(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		switch k {
		case "up":
			k = "↑"
		case "down":
			k = "↓"
		}
		out[i] = k
	}
	return strings.Join(out, "/")
}

// DefaultKeyMap is the keymap of DESIGN.md; docs and tests rely on it.
func DefaultKeyMap() KeyMap {
	var focus [FocusKeys]key.Binding
	for i := range focus {
		n := strconv.Itoa(i + 1)
		focus[i] = b("pane "+n, n)
	}
	return KeyMap{
		Global: Global{
			Focus:     focus,
			NextPane:  b("next pane", "tab"),
			PrevPane:  b("prev pane", "shift+tab"),
			Actions:   b("actions", "a"),
			Runbook:   b("runbook", "r"),
			Timeline:  b("timeline", "t"),
			Help:      b("help", "?"),
			Quit:      b("quit", "q", "ctrl+c"),
			Follow:    b("follow an operator", "f"),
			CoSign:    b("co-sign requests", "!"),
			Note:      b("note on the timeline", "n"),
			Commander: b("take/hand over command", "@"),
			Return:    b("back to the view", "backspace"),
		},
		List: List{
			Up:      b("up", "k", "up"),
			Down:    b("down", "j", "down"),
			Top:     b("top", "g", "home"),
			Bottom:  b("bottom", "G", "end"),
			PageUp:  b("page up", "pgup", "ctrl+u"),
			PageDn:  b("page down", "pgdown", "ctrl+d"),
			Details: b("details", "enter"),
			Filter:  b("filter", "/"),
			Back:    b("back/clear", "esc"),
			Pause:   b("pause/resume", "z"),
		},
		Postgres: Postgres{
			Sort:      b("sort", "s"),
			Tag:       b("tag", "space"),
			System:    b("non-client backends", "b"),
			PrevDB:    b("prev db", "["),
			NextDB:    b("next db", "]"),
			Cancel:    b("cancel query", "C"),
			Terminate: b("terminate", "K"),
			ClearTags: b("clear tags", "T"),
			View:      b("next view", "v"),
			Statement: b("backend ⇄ statement", "Q"),
		},
		Rollouts: Rollouts{
			Undo:    b("undo", "u"),
			Restart: b("restart", "R"),
			Scale:   b("scale", "S"),
			Logs:    b("logs", "l"),
		},
		Alerts: Alerts{
			Silence:  b("silence", "x"),
			Expire:   b("expire silence", "E"),
			Silences: b("alerts/silences", "v"),
		},
		Logs: Logs{
			Pause:    b("pause", "space"),
			Previous: b("previous container", "p"),
			Follow:   b("follow on/off", "F"),
			Pin:      b("pin to timeline", "P"),
		},
		Runbook: Runbook{
			Skip: b("skip step", "s"),
			Copy: b("copy command", "c"),
		},
		Dialog: Dialog{
			Yes:    b("yes", "y", "Y"),
			No:     b("no", "n", "N"),
			Submit: b("submit", "enter"),
			Close:  b("cancel", "esc"),
			Next:   b("next field", "tab", "right"),
			Prev:   b("prev field", "shift+tab", "left"),
		},
	}
}

// focusAliases are the focus keys' names from before panes were ordered:
// the built-in panes' places, kept so existing configs keep working.
var focusAliases = map[string]int{"focus_slos": 0, "focus_alerts": 1, "focus_postgres": 2, "focus_rollouts": 3}

// focusName is the config name of Focus[i]: focus_1 … focus_9.
func focusName(i int) string { return "focus_" + strconv.Itoa(i+1) }

// bindings maps action names (the config's `keys:` section) to the binding
// they remap. Names of actions match ops.Kind values where one exists.
func (km *KeyMap) bindings() map[string]*key.Binding {
	m := map[string]*key.Binding{
		"next_pane":       &km.Global.NextPane,
		"prev_pane":       &km.Global.PrevPane,
		"actions":         &km.Global.Actions,
		"runbook":         &km.Global.Runbook,
		"timeline":        &km.Global.Timeline,
		"help":            &km.Global.Help,
		"quit":            &km.Global.Quit,
		"follow":          &km.Global.Follow,
		"return":          &km.Global.Return,
		"cosign":          &km.Global.CoSign,
		"note":            &km.Global.Note,
		"commander":       &km.Global.Commander,
		"up":              &km.List.Up,
		"down":            &km.List.Down,
		"top":             &km.List.Top,
		"bottom":          &km.List.Bottom,
		"page_up":         &km.List.PageUp,
		"page_down":       &km.List.PageDn,
		"details":         &km.List.Details,
		"filter":          &km.List.Filter,
		"back":            &km.List.Back,
		"pause":           &km.List.Pause,
		"sort":            &km.Postgres.Sort,
		"tag":             &km.Postgres.Tag,
		"toggle_system":   &km.Postgres.System,
		"prev_db":         &km.Postgres.PrevDB,
		"next_db":         &km.Postgres.NextDB,
		"cancel":          &km.Postgres.Cancel,
		"terminate":       &km.Postgres.Terminate,
		"clear_tags":      &km.Postgres.ClearTags,
		"pg_view":         &km.Postgres.View,
		"pg_statement":    &km.Postgres.Statement,
		"undo":            &km.Rollouts.Undo,
		"restart":         &km.Rollouts.Restart,
		"scale":           &km.Rollouts.Scale,
		"logs":            &km.Rollouts.Logs,
		"logs_pause":      &km.Logs.Pause,
		"logs_previous":   &km.Logs.Previous,
		"logs_follow":     &km.Logs.Follow,
		"logs_pin":        &km.Logs.Pin,
		"silence":         &km.Alerts.Silence,
		"expire":          &km.Alerts.Expire,
		"toggle_silences": &km.Alerts.Silences,
		"skip_step":       &km.Runbook.Skip,
		"copy_command":    &km.Runbook.Copy,
		"confirm_yes":     &km.Dialog.Yes,
		"confirm_no":      &km.Dialog.No,
		"submit":          &km.Dialog.Submit,
		"close":           &km.Dialog.Close,
		"next_field":      &km.Dialog.Next,
		"prev_field":      &km.Dialog.Prev,
	}
	for i := range km.Global.Focus {
		m[focusName(i)] = &km.Global.Focus[i]
	}
	for name, i := range focusAliases {
		m[name] = &km.Global.Focus[i]
	}
	return m
}

// Names lists every action name ApplyOverrides accepts, sorted.
func Names() []string {
	km := DefaultKeyMap()
	m := km.bindings()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ApplyOverrides remaps bindings by action name. Unknown names are rejected
// loudly (all of them at once, with the valid names) so a typo in config
// never silently leaves a dangerous key on its default. Nothing is changed
// when an error is returned.
func ApplyOverrides(km *KeyMap, overrides map[string][]string) error {
	m := km.bindings()
	var unknown, empty []string
	for name, keys := range overrides {
		if _, ok := m[name]; !ok {
			unknown = append(unknown, name)
			continue
		}
		if len(keys) == 0 || slices.Contains(keys, "") {
			empty = append(empty, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("keymap: unknown action(s) %s; valid: %s",
			strings.Join(unknown, ", "), strings.Join(Names(), ", "))
	}
	if len(empty) > 0 {
		sort.Strings(empty)
		return fmt.Errorf("keymap: action(s) %s need at least one non-empty key", strings.Join(empty, ", "))
	}
	// An alias and its focus_N in one config would leave the binding to
	// map order; say so instead.
	for name, i := range focusAliases {
		if _, a := overrides[name]; a {
			if _, n := overrides[focusName(i)]; n {
				return fmt.Errorf("keymap: %s and %s name the same key; keep one", name, focusName(i))
			}
		}
	}
	for name, keys := range overrides {
		bd := m[name]
		bd.SetKeys(keys...)
		bd.SetHelp(helpKeys(keys), bd.Help().Desc)
	}
	return nil
}

// ShortHelp is the global help line.
func (g Global) ShortHelp() []key.Binding {
	return []key.Binding{g.Help, g.Actions, g.NextPane, g.Quit}
}

// FullHelp is the global section of the help overlay. The focus keys are
// not in it: the root lists them named after the panes it registered.
func (g Global) FullHelp() [][]key.Binding {
	return [][]key.Binding{{g.NextPane, g.PrevPane, g.Actions, g.Help, g.Follow, g.Quit}, {g.Runbook, g.Timeline, g.Return, g.CoSign, g.Note, g.Commander}}
}

// ShortHelp is the movement help line.
func (l List) ShortHelp() []key.Binding {
	return []key.Binding{l.Up, l.Down, l.Details, l.Filter}
}

// FullHelp is the movement section of the help overlay.
func (l List) FullHelp() [][]key.Binding {
	return [][]key.Binding{{l.Up, l.Down, l.Top, l.Bottom, l.PageUp, l.PageDn}, {l.Details, l.Filter, l.Back, l.Pause}}
}

// ShortHelp is the Postgres pane's help line.
func (p Postgres) ShortHelp() []key.Binding {
	return []key.Binding{p.Sort, p.Tag, p.Cancel, p.Terminate}
}

// FullHelp is the Postgres section of the help overlay.
func (p Postgres) FullHelp() [][]key.Binding {
	return [][]key.Binding{{p.Sort, p.Tag, p.ClearTags, p.System, p.PrevDB, p.NextDB}, {p.Cancel, p.Terminate, p.View, p.Statement}}
}

// ShortHelp is the Rollouts pane's help line.
func (r Rollouts) ShortHelp() []key.Binding {
	return []key.Binding{r.Undo, r.Restart, r.Scale, r.Logs}
}

// FullHelp is the Rollouts section of the help overlay.
func (r Rollouts) FullHelp() [][]key.Binding { return [][]key.Binding{r.ShortHelp()} }

// ShortHelp is the log view's own keys.
func (l Logs) ShortHelp() []key.Binding {
	return []key.Binding{l.Pause, l.Previous, l.Follow, l.Pin}
}

// FullHelp is the log view's section of the help overlay.
func (l Logs) FullHelp() [][]key.Binding { return [][]key.Binding{l.ShortHelp()} }

// ShortHelp is the Alerts pane's help line.
func (a Alerts) ShortHelp() []key.Binding {
	return []key.Binding{a.Silence, a.Silences, a.Expire}
}

// FullHelp is the Alerts section of the help overlay.
func (a Alerts) FullHelp() [][]key.Binding { return [][]key.Binding{a.ShortHelp()} }

// ShortHelp is the runbook view's own keys.
func (r Runbook) ShortHelp() []key.Binding { return []key.Binding{r.Skip, r.Copy} }

// FullHelp is the runbook view's section of the help overlay.
func (r Runbook) FullHelp() [][]key.Binding { return [][]key.Binding{r.ShortHelp()} }

// ShortHelp is the dialog's help line.
func (d Dialog) ShortHelp() []key.Binding {
	return []key.Binding{d.Yes, d.No, d.Submit, d.Close}
}

// FullHelp is the dialog section of the help overlay.
func (d Dialog) FullHelp() [][]key.Binding {
	return [][]key.Binding{{d.Yes, d.No, d.Submit, d.Close, d.Next, d.Prev}}
}
