package ui

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/together"
	"flightdeck/ui/kit"
)

// Together connects a session to the others sharing its world (flightdeck
// serve): who is connected, what they just did, where an operator is
// looking. Options.Together nil is a cockpit on its own, and so is a nil
// registry here: the feature it serves is off.
type Together struct {
	// Presence is who is connected: the header lists them, and the follow
	// key picks an operator from them.
	Presence *together.Presence
	// Announcer carries every action's outcome to every session's status
	// bar; this session announces its own after each ResultMsg.
	Announcer *together.Announcer
	// Follow is where a session that can act publishes its view (focused
	// pane, selection, confirm dialog) and where a follower reads it.
	Follow *together.Views
	// SessionID is this session in Presence and Follow; Name is its user,
	// announced with its actions.
	SessionID, Name string
}

// shared is a session's part in Together, kept by pointer in the Model
// (like the panes) so every copy of the Model sees it.
type shared struct {
	o       Together
	roster  *together.Roster
	news    *together.Announcements
	members []together.Member

	published     together.View // what Follow last got from us
	havePublished bool

	follow *following // nil when not following
}

// following is a session mirroring a leader.
type following struct {
	sub  *together.Watching
	name string
	view together.View
	// unhook stops the session's end from closing sub (it is closed then,
	// so a session that ends while following leaves no subscription).
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

// followMsg starts following m (from the picker).
type followMsg struct{ m together.Member }

// leaderMsg is the followed leader's newest view, or why there is none.
type leaderMsg struct {
	sub  *together.Watching
	view together.View
	err  error
}

// newShared subscribes to what t shares; the subscriptions end with ctx.
func newShared(ctx context.Context, t *Together) *shared {
	if t == nil {
		return nil
	}
	sh := &shared{o: *t}
	if t.Presence != nil {
		sh.roster = t.Presence.Subscribe()
		context.AfterFunc(ctx, sh.roster.Close)
	}
	if t.Announcer != nil {
		sh.news = t.Announcer.Subscribe()
		context.AfterFunc(ctx, sh.news.Close)
	}
	return sh
}

// canFollow reports whether this session can follow anyone.
func (sh *shared) canFollow() bool { return sh != nil && sh.o.Follow != nil && sh.o.Presence != nil }

// togetherCmds wait for the roster and announcements, in Cmds.
func (m Model) togetherCmds() []tea.Cmd {
	if m.sh == nil {
		return nil
	}
	return []tea.Cmd{m.rosterCmd(), m.newsCmd()}
}

func (m Model) rosterCmd() tea.Cmd {
	if m.sh.roster == nil {
		return nil
	}
	r, ctx := m.sh.roster, m.ctx
	return func() tea.Msg {
		ms, err := r.Next(ctx)
		return membersMsg{members: ms, err: err}
	}
}

func (m Model) newsCmd() tea.Cmd {
	if m.sh.news == nil {
		return nil
	}
	n, ctx := m.sh.news, m.ctx
	return func() tea.Msg {
		ns, err := n.Next(ctx)
		return newsMsg{news: ns, err: err}
	}
}

func leaderCmd(ctx context.Context, sub *together.Watching) tea.Cmd {
	return func() tea.Msg {
		v, err := sub.Next(ctx)
		return leaderMsg{sub: sub, view: v, err: err}
	}
}

// updateTogether handles the messages of this file; ok is false for any
// other message.
func (m Model) updateTogether(msg tea.Msg) (Model, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case membersMsg:
		if msg.err != nil {
			return m, nil, true // the session is ending
		}
		m.sh.members = msg.members
		return m, m.rosterCmd(), true
	case newsMsg:
		if msg.err != nil {
			return m, nil, true
		}
		for _, a := range msg.news {
			if a.SessionID != m.sh.o.SessionID {
				m.setStatus(a.String(), a.Failed)
			}
		}
		return m, m.newsCmd(), true
	case followMsg:
		mm, cmd := m.startFollowing(msg.m)
		return mm, cmd, true
	case leaderMsg:
		mm, cmd := m.onLeader(msg)
		return mm, cmd, true
	}
	return m, nil, false
}

// announce tells every other session how this session's action ended, in
// a Cmd.
func (m Model) announce(r ResultMsg) tea.Cmd {
	if m.sh == nil || m.sh.o.Announcer == nil {
		return nil
	}
	text := r.Result.Summary
	if text == "" && r.Result.Err != nil {
		text = r.Result.Err.Error()
	}
	a := together.Announcement{SessionID: m.sh.o.SessionID, From: m.sh.o.Name, Text: text, Failed: !r.Result.OK}
	ann := m.sh.o.Announcer
	return func() tea.Msg { ann.Announce(a); return nil }
}

// leaders are the operators this session may follow: everyone connected
// who can act, but itself.
func (m Model) leaders() []together.Member {
	var out []together.Member
	for _, mb := range m.sh.members {
		if mb.Role.CanAct() && mb.ID != m.sh.o.SessionID {
			out = append(out, mb)
		}
	}
	return out
}

// followKey answers the follow key: with one operator connected it follows
// them, with several it asks which, with none it says so.
func (m Model) followKey() (Model, tea.Cmd) {
	ls := m.leaders()
	switch len(ls) {
	case 0:
		m.setStatus("nobody to follow: no other operator is connected", true)
		return m, nil
	case 1:
		return m.startFollowing(ls[0])
	}
	return m.pushDialog(&pickDialog{env: m.env, members: ls}), nil
}

// startFollowing subscribes to mb's view. Subscribe only takes a lock: it
// is fine in Update; the waiting is in leaderCmd.
func (m Model) startFollowing(mb together.Member) (Model, tea.Cmd) {
	m = m.stopFollowing()
	sub, err := m.sh.o.Follow.Subscribe(mb.ID)
	if err != nil {
		m.setStatus("cannot follow "+mb.Name+": they have not shown anything yet", true)
		return m, nil
	}
	m.sh.follow = &following{sub: sub, name: mb.Name, unhook: context.AfterFunc(m.ctx, sub.Close)}
	m.setStatus("following "+mb.Name+": any key stops", false)
	return m, leaderCmd(m.ctx, sub)
}

// stopFollowing ends following, if any, and takes the mirrored dialog
// down; the panes stay where the leader had them.
func (m Model) stopFollowing() Model {
	f := m.sh.follow
	if f == nil {
		return m
	}
	f.unhook()
	f.sub.Close()
	m.sh.follow = nil
	m = m.setMirror(nil)
	m.setStatus("stopped following "+f.name, false)
	return m
}

// onLeader puts this session where its leader is.
func (m Model) onLeader(msg leaderMsg) (Model, tea.Cmd) {
	f := m.sh.follow
	if f == nil || f.sub != msg.sub {
		return m, nil // from a following that has ended
	}
	if msg.err != nil {
		m = m.stopFollowing()
		if errors.Is(msg.err, together.ErrLeaderGone) {
			m.setStatus(f.name+" left: stopped following", false)
		}
		return m, nil
	}
	f.view = msg.view
	v := msg.view
	for i, p := range m.panes {
		if p.Title() != v.Focus {
			continue
		}
		m.focus, m.viewOn = i, false
		if pl, ok := p.(placed); ok {
			pl.SetPlace(kit.Place(v.Place))
		}
		break
	}
	m = m.setMirror(v.Dialog)
	return m, leaderCmd(m.ctx, f.sub)
}

// placed is a pane a follower can put where its leader's is; kit.List
// provides it.
type placed interface {
	Place() kit.Place
	SetPlace(kit.Place)
}

// setMirror shows the leader's confirm dialog read-only over this
// session's screen (lines nil: takes it down). It sits on the dialog stack
// like any dialog, but keys never reach it: while following, any key
// stops following first.
func (m Model) setMirror(lines []string) Model {
	ds := m.dialogs
	if n := len(ds); n > 0 {
		if _, ok := ds[n-1].(*mirrorDialog); ok {
			ds = ds[:n-1]
		}
	}
	if lines != nil && m.sh.follow != nil {
		ds = append(ds[:len(ds):len(ds)], &mirrorDialog{env: m.env, leader: m.sh.follow.name, lines: lines})
	}
	m.dialogs = ds
	return m
}

// publish gives Follow this session's view when it changed. Only a session
// that can act is worth following. Publish only takes a lock and never
// blocks, so it is called from Update.
func (m Model) publish() {
	sh := m.sh
	if sh == nil || sh.o.Follow == nil || m.o.Executor == nil {
		return
	}
	v := m.viewState()
	if sh.havePublished && v.Equal(sh.published) {
		return
	}
	sh.published, sh.havePublished = v, true
	sh.o.Follow.Publish(sh.o.SessionID, v)
}

// viewState is what a follower mirrors of this session now.
func (m Model) viewState() together.View {
	p := m.panes[m.focus]
	v := together.View{Focus: p.Title()}
	if pl, ok := p.(placed); ok {
		v.Place = together.Place(pl.Place())
	}
	if sv := m.shownView(); sv != nil {
		v.Runbook = sv.Title()
	}
	if n := len(m.dialogs); n > 0 {
		if pv, ok := m.dialogs[n-1].(previewer); ok {
			v.Dialog = pv.preview()
		}
	}
	return v
}

// previewer is a dialog a follower may see: its text without styling and
// without anything being typed into it.
type previewer interface {
	preview() []string
}

// preview is the plan as the confirm dialog shows it: title, risk,
// targets, preview and dry run; not the phrase being typed.
func (d *confirmDialog) preview() []string {
	dc := d.content()
	var out []string
	for _, l := range dc.head {
		out = append(out, ansi.Strip(l))
	}
	for _, s := range dc.sections {
		if s.label != "" {
			out = append(out, ansi.Strip(s.label))
		}
		for _, it := range s.items {
			out = append(out, ansi.Strip(it))
		}
	}
	return out
}

// mirrorDialog is a leader's confirm dialog as a follower sees it: read
// only, with nothing to confirm.
type mirrorDialog struct {
	env    *kit.Env
	leader string
	lines  []string
}

func (d *mirrorDialog) preview() []string { return d.lines }

// update never runs while following (any key stops following first);
// should a key reach it, it closes.
func (d *mirrorDialog) update(tea.KeyPressMsg) (dialog, tea.Cmd) { return nil, nil }

func (d *mirrorDialog) content() dialogContent {
	th := d.env.Theme
	dc := dialogContent{title: d.leader + "'s confirm dialog (read-only)"}
	if len(d.lines) > 0 {
		dc.head = []string{th.Paints.Bold.Render(d.lines[0])}
		dc.sections = []dialogSection{{items: d.lines[1:]}}
	}
	dc.tail = []string{"", th.Paints.Muted.Render(d.leader + " confirms or cancels it; you cannot. Any key stops following.")}
	return dc
}

// pickDialog asks which operator to follow.
type pickDialog struct {
	env     *kit.Env
	members []together.Member
	cursor  int
}

func (d *pickDialog) update(msg tea.KeyPressMsg) (dialog, tea.Cmd) {
	k := d.env.Keys
	switch {
	case key.Matches(msg, k.Dialog.Close, k.Global.Follow, k.Global.Quit):
		return nil, nil
	case key.Matches(msg, k.List.Up, k.Dialog.Prev):
		d.cursor = max(0, d.cursor-1)
	case key.Matches(msg, k.List.Down, k.Dialog.Next):
		d.cursor = min(len(d.members)-1, d.cursor+1)
	case key.Matches(msg, k.Dialog.Submit):
		return nil, send(followMsg{m: d.members[d.cursor]})
	}
	return d, nil
}

func (d *pickDialog) content() dialogContent {
	th := d.env.Theme
	k := d.env.Keys
	items := make([]string, len(d.members))
	for i, mb := range d.members {
		l := mb.Name + "  since " + mb.Since.Local().Format("15:04") + "  from " + mb.Addr
		st := th.Paints.Base
		if i == d.cursor {
			st = th.Paints.Selected
		}
		items[i] = st.Render(l)
	}
	hint := kit.KeyName(k.Dialog.Submit) + " follow · " + kit.KeyName(k.Dialog.Close) + " close · then any key stops following"
	return dialogContent{title: "Follow an operator", sections: []dialogSection{{items: items}}, window: true, focus: d.cursor,
		tail: []string{"", th.Paints.Muted.Render(hint)}}
}

// people is the header's list of who is connected, by name and role, in
// the order they came: "alice (operator) · bob (observer) ×2".
func (m Model) people() string {
	if m.sh == nil || len(m.sh.members) == 0 {
		return ""
	}
	type who struct {
		name string
		role together.Role
	}
	var order []who
	count := map[who]int{}
	for _, mb := range m.sh.members {
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
	return strings.Join(parts, " · ")
}

// followLabel is the header's note while following: "following alice",
// with the runbook they have open.
func (m Model) followLabel() string {
	if m.sh == nil || m.sh.follow == nil {
		return ""
	}
	f := m.sh.follow
	s := "FOLLOWING " + f.name
	if f.view.Runbook != "" {
		s += " (in " + f.view.Runbook + ")"
	}
	return s
}
