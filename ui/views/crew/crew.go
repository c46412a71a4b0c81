// Package crew is the cockpit's side of sharing one world with the others
// on the incident (flightdeck serve): who is connected (the header),
// every session's action outcomes (the status bar), and watching an
// operator's screen: a session that can act publishes what it shows, and
// another can watch it (its focused pane, where the pane is, its confirm
// dialog read-only) until any key. Feature is a kit.Feature; the root
// knows none of it.
package crew

import (
	"context"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/together"
	"flightdeck/ui/kit"
)

// Together connects a session to the others sharing its world. nil is a
// cockpit on its own, and so is a nil registry here: the feature it
// serves is off.
type Together struct {
	// Presence is who is connected: the header lists them, and the follow
	// key picks an operator from them.
	Presence *together.Presence
	// Announcer carries every action's outcome to every session's status
	// bar; this session announces its own after each ResultMsg.
	Announcer *together.Announcer
	// Views is where a session that can act publishes its view (focused
	// pane, selection, confirm dialog) and where a watcher reads it.
	Views *together.Views
	// SessionID is this session in Presence and Views; Name is its user,
	// announced with its actions.
	SessionID, Name string
}

// Feature is a session's part in Together.
type Feature struct {
	env *kit.Env
	ctx context.Context
	o   Together
	// canAct: only a session that can act is worth watching, so only it
	// publishes.
	canAct  bool
	roster  *together.Roster
	news    *together.Announcements
	members []together.Member

	published     together.View // what Views last got from us
	havePublished bool

	watch *watching // nil when not watching anyone
	// mirror is the watched leader's full-screen view (a runbook run), shown
	// read-only while they have one open; nil otherwise.
	mirror *MirrorView
	// followers are who follow this session, as of the last tick.
	followers []string
}

// watching is a session mirroring a leader.
type watching struct {
	sub  *together.Watching
	name string
	view together.View
	// unhook stops the session's end from closing sub (it is closed then,
	// so a session that ends while watching leaves no subscription).
	unhook func() bool
}

// membersMsg is who is connected, from Presence.
type membersMsg struct {
	members []together.Member
	err     error
}

// newsMsg are announcements from the Announcer.
type newsMsg struct {
	news []together.Announcement
	err  error
}

// watchMsg starts watching m (from the picker).
type watchMsg struct{ m together.Member }

// LeaderMsg is the watched leader's newest view, or why there is none.
type LeaderMsg struct {
	sub  *together.Watching
	view together.View
	// Err ends the watch: the leader left, or the subscription closed.
	Err error
}

// New subscribes to what t shares; the subscriptions end with ctx. It
// returns nil for a cockpit on its own (t nil), and turns the follow key
// off when there is nobody to follow: help then leaves it out.
func New(env *kit.Env, ctx context.Context, t *Together, canAct bool) *Feature {
	if t == nil || t.Views == nil || t.Presence == nil {
		env.Keys.Global.Follow.SetEnabled(false)
	}
	if t == nil {
		return nil
	}
	f := &Feature{env: env, ctx: ctx, o: *t, canAct: canAct}
	if t.Presence != nil {
		f.roster = t.Presence.Subscribe()
		context.AfterFunc(ctx, f.roster.Close)
	}
	if t.Announcer != nil {
		f.news = t.Announcer.Subscribe()
		context.AfterFunc(ctx, f.news.Close)
	}
	return f
}

// canWatch reports whether this session can watch anyone.
func (f *Feature) canWatch() bool { return f.o.Views != nil && f.o.Presence != nil }

// Watching reports whether this session is watching a leader now.
func (f *Feature) Watching() bool { return f.watch != nil }

// Init waits for the roster and announcements, in Cmds.
func (f *Feature) Init() tea.Cmd { return tea.Batch(f.RosterCmd(), f.NewsCmd()) }

// RosterCmd waits for the next change of who is connected.
func (f *Feature) RosterCmd() tea.Cmd {
	if f.roster == nil {
		return nil
	}
	r, ctx := f.roster, f.ctx
	return func() tea.Msg {
		ms, err := r.Next(ctx)
		return membersMsg{members: ms, err: err}
	}
}

// NewsCmd waits for the next announcements.
func (f *Feature) NewsCmd() tea.Cmd {
	if f.news == nil {
		return nil
	}
	n, ctx := f.news, f.ctx
	return func() tea.Msg {
		ns, err := n.Next(ctx)
		return newsMsg{news: ns, err: err}
	}
}

func leaderCmd(ctx context.Context, sub *together.Watching) tea.Cmd {
	return func() tea.Msg {
		v, err := sub.Next(ctx)
		return LeaderMsg{sub: sub, view: v, Err: err}
	}
}

// Intercept: a watcher watches; any key stops watching, and does nothing
// else.
func (f *Feature) Intercept(s kit.Screen, _ tea.KeyPressMsg) (tea.Cmd, bool) {
	if f.watch == nil {
		return nil, false
	}
	f.stop(s)
	return nil, true
}

// Key answers the follow key: with one operator connected it watches
// them, with several it asks which, with none it says so.
func (f *Feature) Key(s kit.Screen, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if !f.canWatch() || !key.Matches(msg, f.env.Keys.Global.Follow) {
		return nil, false
	}
	ls := f.leaders()
	switch len(ls) {
	case 0:
		s.Status("nobody to follow: no other operator is connected", true)
		return nil, true
	case 1:
		return f.start(s, ls[0]), true
	}
	s.PushDialog(f.picker(ls))
	return nil, true
}

// Update takes who is connected, the announcements, the picker's choice,
// the leader's views, and this session's own results to announce.
func (f *Feature) Update(s kit.Screen, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case membersMsg:
		if msg.err != nil {
			return nil // the session is ending
		}
		f.members = msg.members
		return f.RosterCmd()
	case newsMsg:
		if msg.err != nil {
			return nil
		}
		for _, a := range msg.news {
			if a.SessionID != f.o.SessionID {
				s.Status(a.String(), a.Failed)
			}
		}
		return f.NewsCmd()
	case watchMsg:
		return f.start(s, msg.m)
	case LeaderMsg:
		return f.onLeader(s, msg)
	case kit.ResultMsg:
		return f.announce(msg)
	case kit.TickMsg:
		if f.o.Views != nil && f.canAct {
			// Who follows this session: a lock and a map, once a second.
			f.followers = f.o.Views.WatcherNames(f.o.SessionID)
		}
	}
	return nil
}

// SharedRuns are the runbook runs the other operators have open, each
// with the Cmd that follows its operator (nil when this session cannot
// watch anyone).
func (f *Feature) SharedRuns() []kit.SharedRun {
	if f.o.Views == nil {
		return nil
	}
	var out []kit.SharedRun
	for _, mb := range f.leaders() {
		v, ok := f.o.Views.Peek(mb.ID)
		if !ok {
			continue
		}
		for _, line := range v.Runs {
			r := kit.SharedRun{Who: mb.Name, Line: line}
			if f.canWatch() {
				r.Follow = kit.Send(watchMsg{m: mb})
			}
			out = append(out, r)
		}
	}
	return out
}

// announce tells every other session how this session's action ended, in
// a Cmd.
func (f *Feature) announce(r kit.ResultMsg) tea.Cmd {
	if f.o.Announcer == nil {
		return nil
	}
	text := r.Result.Summary
	if text == "" && r.Result.Err != nil {
		text = r.Result.Err.Error()
	}
	a := together.Announcement{SessionID: f.o.SessionID, From: f.o.Name, Text: text, Failed: !r.Result.OK}
	ann := f.o.Announcer
	return func() tea.Msg { ann.Announce(a); return nil }
}

// leaders are the operators this session may watch: everyone connected
// who can act, but itself.
func (f *Feature) leaders() []together.Member {
	var out []together.Member
	for _, mb := range f.members {
		if mb.Role.CanAct() && mb.ID != f.o.SessionID {
			out = append(out, mb)
		}
	}
	return out
}

// picker asks which operator to watch.
func (f *Feature) picker(ls []together.Member) *kit.Pick {
	k := f.env.Keys
	items := make([]kit.PickItem, len(ls))
	for i, mb := range ls {
		items[i] = kit.PickItem{Label: mb.Name + "  since " + mb.Since.Local().Format("15:04") + "  from " + mb.Addr}
	}
	return &kit.Pick{Env: f.env, Title: "Follow an operator", Items: items,
		Hint:  kit.KeyName(k.Dialog.Submit) + " follow · " + kit.KeyName(k.Dialog.Close) + " close · then any key stops following",
		Close: []key.Binding{k.Global.Follow, k.Global.Quit},
		Choose: func(i int) (kit.Dialog, tea.Cmd) {
			return nil, kit.Send(watchMsg{m: ls[i]})
		}}
}

// people is who is connected, by name and role, in the order they came,
// one item each: "alice (operator)", "bob (observer) ×2".
func (f *Feature) people() []string {
	type who struct {
		name string
		role together.Role
	}
	var order []who
	count := map[who]int{}
	for _, mb := range f.members {
		w := who{mb.Name, mb.Role}
		if count[w] == 0 {
			order = append(order, w)
		}
		count[w]++
	}
	parts := make([]string, len(order))
	for i, w := range order {
		parts[i] = w.name + " (" + w.role.String() + ")"
		if n := count[w]; n > 1 {
			parts[i] += " ×" + strconv.Itoa(n)
		}
	}
	return parts
}

// HeaderNotes are the header's notes: whom this session watches, with the
// runbook they have open, then who is connected.
func (f *Feature) HeaderNotes() [][]string {
	th := f.env.Theme
	var out [][]string
	if w := f.watch; w != nil {
		s := "FOLLOWING " + w.name
		if w.view.Runbook != "" {
			s += " (in " + w.view.Runbook + ")"
		}
		out = append(out, []string{th.Paints.Accent.Render(s)})
	}
	if len(f.followers) > 0 {
		// An operator must know who sees their screen.
		out = append(out, []string{th.Paints.Accent.Render("followed by " + strings.Join(counted(f.followers), ", "))})
	}
	if ps := f.people(); len(ps) > 0 {
		for i, p := range ps {
			ps[i] = th.Paints.Muted.Render(p)
		}
		out = append(out, ps)
	}
	return out
}

// counted is sorted names with repeats folded: "bob ×2", "carol".
func counted(names []string) []string {
	var out []string
	for i := 0; i < len(names); {
		j := i
		for j < len(names) && names[j] == names[i] {
			j++
		}
		s := names[i]
		if j-i > 1 {
			s += " ×" + strconv.Itoa(j-i)
		}
		out = append(out, s)
		i = j
	}
	return out
}
