// Package cosign is the cockpit's side of the two-person rule and of the
// incident's roles: every session's header shows the co-sign requests
// waiting for a second operator, who commands, and BREAK-GLASS when the
// session runs without the rule; the cosign key opens a request with the
// same preview the requester confirmed and the live state of its targets,
// where another operator co-signs by typing the phrase (the requester may
// withdraw it); the note key adds a one-line note to the timeline (anyone,
// observers included); the commander key takes command or hands it over.
// The Executor, not this package, decides who may co-sign. Feature is a
// kit.Feature; the root knows none of it.
package cosign

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/together"
	"flightdeck/ui/kit"
)

// Options connect a session to the incident it shares. nil turns the
// feature off (a golden-screen cockpit, a test).
type Options struct {
	// Board is the co-sign requests of the world; nil for a session on its
	// own, where the two-person rule refuses instead.
	Board *together.CoSigns
	// Incident holds who commands and the notes; nil turns the note and
	// commander keys off.
	Incident *together.Incident
	// Presence is who may be handed command; nil offers nobody.
	Presence *together.Presence
	// Signer and Identity are who this session is: the user as the rules
	// compare people, and the journal's identity.
	Signer   ops.Signer
	Identity string
	Role     together.Role
	// BreakGlass is the reason the session was started with --break-glass:
	// the header says BREAK-GLASS.
	BreakGlass string
	// News are the world's own troubles every session must see (a
	// notification that could not be delivered); nil hears none.
	News *together.Announcer
}

// Feature is a session's part in co-signing, roles and notes.
type Feature struct {
	env *kit.Env
	ctx context.Context
	o   Options
	ex  *ops.Executor // nil for an observer

	board  *together.Board
	reqs   []ops.CoSignRequest
	inc    *together.IncidentFollower
	state  together.IncidentState
	roster *together.Roster
	people []together.Member
	news   *together.Announcements
	snaps  map[string]sources.Snapshot
}

type newsMsg struct {
	news []together.Announcement
	err  error
}

type boardMsg struct {
	reqs []ops.CoSignRequest
	err  error
}

type incidentMsg struct {
	state together.IncidentState
	err   error
}

type rosterMsg struct {
	members []together.Member
	err     error
}

// doneMsg is the answer of an incident change (note, command), for the
// status bar.
type doneMsg struct {
	text string
	err  error
}

// New subscribes to what o shares; the subscriptions end with ctx. ex is
// the session's Executor (nil for an observer). Keys with nothing behind
// them are turned off, so help leaves them out.
func New(env *kit.Env, ctx context.Context, o *Options, ex *ops.Executor) *Feature {
	g := &env.Keys.Global
	if o == nil || o.Board == nil {
		g.CoSign.SetEnabled(false)
	}
	if o == nil || o.Incident == nil {
		g.Note.SetEnabled(false)
		g.Commander.SetEnabled(false)
	}
	if o == nil {
		return nil
	}
	f := &Feature{env: env, ctx: ctx, o: *o, ex: ex, snaps: map[string]sources.Snapshot{}}
	if o.Board != nil {
		f.board = o.Board.Subscribe()
		context.AfterFunc(ctx, f.board.Close)
	}
	if o.Incident != nil {
		f.inc = o.Incident.Subscribe()
		context.AfterFunc(ctx, f.inc.Close)
	}
	if o.Presence != nil {
		f.roster = o.Presence.Subscribe()
		context.AfterFunc(ctx, f.roster.Close)
	}
	if o.News != nil {
		f.news = o.News.Subscribe()
		context.AfterFunc(ctx, f.news.Close)
	}
	return f
}

// Init waits for the board, the incident and who is connected.
func (f *Feature) Init() tea.Cmd {
	return tea.Batch(f.boardCmd(), f.incidentCmd(), f.rosterCmd(), f.newsCmd())
}

func (f *Feature) newsCmd() tea.Cmd {
	if f.news == nil {
		return nil
	}
	n, ctx := f.news, f.ctx
	return func() tea.Msg { ns, err := n.Next(ctx); return newsMsg{news: ns, err: err} }
}

func (f *Feature) boardCmd() tea.Cmd {
	if f.board == nil {
		return nil
	}
	b, ctx := f.board, f.ctx
	return func() tea.Msg { l, err := b.Next(ctx); return boardMsg{reqs: l, err: err} }
}

func (f *Feature) incidentCmd() tea.Cmd {
	if f.inc == nil {
		return nil
	}
	i, ctx := f.inc, f.ctx
	return func() tea.Msg { s, err := i.Next(ctx); return incidentMsg{state: s, err: err} }
}

func (f *Feature) rosterCmd() tea.Cmd {
	if f.roster == nil {
		return nil
	}
	r, ctx := f.roster, f.ctx
	return func() tea.Msg { m, err := r.Next(ctx); return rosterMsg{members: m, err: err} }
}

// Update takes the board, the incident, who is connected and the
// snapshots (the live state a co-sign dialog shows).
func (f *Feature) Update(s kit.Screen, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case boardMsg:
		if msg.err != nil {
			return nil
		}
		f.onBoard(s, msg.reqs)
		return f.boardCmd()
	case incidentMsg:
		if msg.err != nil {
			return nil
		}
		if msg.state.Commander != f.state.Commander && msg.state.Commander != "" && !f.state.Since.IsZero() {
			s.Status(msg.state.Commander+" now commands the incident", false)
		}
		f.state = msg.state
		return f.incidentCmd()
	case rosterMsg:
		if msg.err != nil {
			return nil
		}
		f.people = msg.members
		return f.rosterCmd()
	case newsMsg:
		if msg.err != nil {
			return nil
		}
		for _, a := range msg.news {
			s.Status(a.String(), a.Failed)
		}
		return f.newsCmd()
	case kit.SnapshotsMsg:
		for _, sn := range msg.Snapshots {
			f.snaps[sn.Source] = sn
		}
	case doneMsg:
		if msg.err != nil {
			s.Status(msg.err.Error(), true)
		} else if msg.text != "" {
			s.Status(msg.text, false)
		}
	}
	return nil
}

// onBoard keeps the requests and says in the status bar when one from
// someone else starts waiting.
func (f *Feature) onBoard(s kit.Screen, reqs []ops.CoSignRequest) {
	known := map[string]bool{}
	for _, r := range f.reqs {
		known[r.ID] = true
	}
	for _, r := range reqs {
		if known[r.ID] || r.State != ops.CoSignPending || r.Requester.Name == f.o.Signer.Name {
			continue
		}
		what := r.Requester.Name + " asks a second operator to co-sign " + r.Plan.Title
		if f.o.Role.CanAct() {
			what += " — " + kit.KeyName(f.env.Keys.Global.CoSign) + " to review"
		}
		s.Status(what, false)
	}
	f.reqs = reqs
}

// pending are the requests still waiting, oldest first.
func (f *Feature) pending() []ops.CoSignRequest {
	var out []ops.CoSignRequest
	for _, r := range f.reqs {
		if r.State == ops.CoSignPending && f.env.Exact().Before(r.Expires) {
			out = append(out, r)
		}
	}
	return out
}

// request is the request with id as last published.
func (f *Feature) request(id string) (ops.CoSignRequest, bool) {
	for _, r := range f.reqs {
		if r.ID == id {
			return r, true
		}
	}
	return ops.CoSignRequest{}, false
}

// Key answers the cosign, note and commander keys.
func (f *Feature) Key(s kit.Screen, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	g := f.env.Keys.Global
	switch {
	case f.board != nil && key.Matches(msg, g.CoSign):
		ps := f.pending()
		switch len(ps) {
		case 0:
			s.Status("no co-sign request is waiting", false)
		case 1:
			s.PushDialog(f.dialog(ps[0].ID))
		default:
			s.PushDialog(f.picker(ps))
		}
		return nil, true
	case f.inc != nil && key.Matches(msg, g.Note):
		s.PushDialog(&noteDialog{f: f, opened: f.env.Exact()})
		return nil, true
	case f.inc != nil && key.Matches(msg, g.Commander):
		return f.command(s), true
	}
	return nil, false
}

// picker asks which waiting request to open.
func (f *Feature) picker(ps []ops.CoSignRequest) *kit.Pick {
	k := f.env.Keys
	items := make([]kit.PickItem, len(ps))
	for i, r := range ps {
		items[i] = kit.PickItem{Label: fmt.Sprintf("%s  %s  from %s  expires in %s", r.ID, r.Plan.Title, r.Requester.Name,
			kit.Dur(r.Expires.Sub(f.env.Exact()).Round(time.Second)))}
	}
	return &kit.Pick{Env: f.env, Title: "Co-sign requests", Items: items,
		Hint:  kit.KeyName(k.Dialog.Submit) + " open · " + kit.KeyName(k.Dialog.Close) + " close",
		Close: []key.Binding{k.Global.CoSign, k.Global.Quit},
		Choose: func(i int) (kit.Dialog, tea.Cmd) {
			return f.dialog(ps[i].ID), nil
		}}
}

// command takes command, or, for the commander, asks whom to hand it to.
func (f *Feature) command(s kit.Screen) tea.Cmd {
	if !f.o.Role.CanAct() {
		s.Status("an observer cannot command: "+together.ErrNotOperator.Error(), true)
		return nil
	}
	inc, who, id := f.o.Incident, f.o.Signer, f.o.Identity
	if f.state.Commander != who.Name {
		return func() tea.Msg {
			err := inc.TakeCommand(who, id, together.Operator)
			return doneMsg{text: "you command the incident", err: err}
		}
	}
	var to []together.Member
	seen := map[string]bool{who.Name: true}
	for _, m := range f.people {
		if m.Role.CanAct() && !seen[m.Name] {
			seen[m.Name] = true
			to = append(to, m)
		}
	}
	if len(to) == 0 {
		s.Status("you command; no other operator is connected to hand over to", false)
		return nil
	}
	k := f.env.Keys
	items := make([]kit.PickItem, len(to))
	for i, m := range to {
		items[i] = kit.PickItem{Label: m.Name + "  from " + m.Addr}
	}
	s.PushDialog(&kit.Pick{Env: f.env, Title: "Hand over command to", Items: items, Opened: f.env.Exact(),
		Hint:  kit.KeyName(k.Dialog.Submit) + " hand over · " + kit.KeyName(k.Dialog.Close) + " keep command",
		Close: []key.Binding{k.Global.Commander, k.Global.Quit},
		Choose: func(i int) (kit.Dialog, tea.Cmd) {
			name := to[i].Name
			return nil, func() tea.Msg {
				err := inc.HandOver(who, id, name, together.Operator)
				return doneMsg{text: "command handed to " + name, err: err}
			}
		}})
	return nil
}

// HeaderNotes are BREAK-GLASS, who commands, and the requests waiting
// (kit.HeaderNoter): each its own group, most important first, so a narrow
// header drops the requests' count before the break-glass warning.
func (f *Feature) HeaderNotes() [][]string {
	th := f.env.Theme
	var out [][]string
	if f.o.BreakGlass != "" {
		out = append(out, []string{th.Paints.Crit.Render("BREAK-GLASS")})
	}
	if c := f.state.Commander; c != "" {
		out = append(out, []string{th.Paints.Accent.Render("CMD " + c)})
	}
	if ps := f.pending(); len(ps) > 0 {
		r := ps[0]
		s := fmt.Sprintf("CO-SIGN? %s: %s (%s)", r.Requester.Name, r.Plan.Title, kit.Dur(r.Expires.Sub(f.env.Exact()).Round(time.Second)))
		if len(ps) > 1 {
			s += fmt.Sprintf(" +%d", len(ps)-1)
		}
		if f.o.Role.CanAct() {
			s += " " + kit.KeyName(f.env.Keys.Global.CoSign)
		}
		out = append(out, []string{th.Paints.Warn.Render(s)})
	}
	return out
}

// clip cuts outside text for a dialog line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
