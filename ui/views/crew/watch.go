package crew

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"flightdeck/together"
	"flightdeck/ui/kit"
)

// Placed is a pane a watcher can put where its leader's is; kit.List
// provides it.
type Placed interface {
	Place() together.Place
	SetPlace(together.Place)
}

// Previewer is a dialog a watcher may see: its text without styling and
// without anything being typed into it (the root's confirm dialog).
type Previewer interface {
	Preview() []string
}

// titled is what a watcher needs of any pane: its name.
type titled interface {
	Title() string
}

// start subscribes to mb's view. Subscribe only takes a lock: it is fine
// in Update; the waiting is in leaderCmd.
func (f *Feature) start(s kit.Screen, mb together.Member) tea.Cmd {
	f.stop(s)
	sub, err := f.o.Views.Subscribe(mb.ID)
	if err != nil {
		s.Status("cannot follow "+mb.Name+": they have not shown anything yet", true)
		return nil
	}
	f.watch = &watching{sub: sub, name: mb.Name, unhook: context.AfterFunc(f.ctx, sub.Close)}
	s.Status("following "+mb.Name+": any key stops", false)
	return leaderCmd(f.ctx, sub)
}

// stop ends watching, if any, and takes the mirrored dialog down; the
// panes stay where the leader had them.
func (f *Feature) stop(s kit.Screen) {
	w := f.watch
	if w == nil {
		return
	}
	w.unhook()
	w.sub.Close()
	f.watch = nil
	f.setMirror(s, nil)
	s.Status("stopped following "+w.name, false)
}

// onLeader puts this session where its leader is.
func (f *Feature) onLeader(s kit.Screen, msg LeaderMsg) tea.Cmd {
	w := f.watch
	if w == nil || w.sub != msg.sub {
		return nil // from a watch that has ended
	}
	if msg.Err != nil {
		f.stop(s)
		if errors.Is(msg.Err, together.ErrLeaderGone) {
			s.Status(w.name+" left: stopped following", false)
		}
		return nil
	}
	w.view = msg.view
	if p, ok := s.Focus(msg.view.Focus).(Placed); ok {
		p.SetPlace(msg.view.Place)
	}
	f.setMirror(s, msg.view.Dialog)
	return leaderCmd(f.ctx, w.sub)
}

// setMirror shows the leader's confirm dialog read-only over this
// session's screen (lines nil: takes it down). It sits on the dialog stack
// like any dialog, but keys never reach it: while watching, any key
// stops watching first.
func (f *Feature) setMirror(s kit.Screen, lines []string) {
	if _, ok := s.Dialog().(*MirrorDialog); ok {
		s.PopDialog()
	}
	if lines != nil && f.watch != nil {
		s.PushDialog(&MirrorDialog{env: f.env, leader: f.watch.name, lines: lines})
	}
}

// Settled gives Views this session's view when it changed. Only a
// session that can act is worth watching. Publish only takes a lock and
// never blocks, so it is called from Update.
func (f *Feature) Settled(s kit.Screen) {
	if f.o.Views == nil || !f.canAct {
		return
	}
	v := viewState(s)
	if f.havePublished && v.Equal(f.published) {
		return
	}
	f.published, f.havePublished = v, true
	f.o.Views.Publish(f.o.SessionID, v)
}

// viewState is what a watcher mirrors of this session now.
func viewState(s kit.Screen) together.View {
	var v together.View
	p := s.Pane()
	if t, ok := p.(titled); ok {
		v.Focus = t.Title()
	}
	if pl, ok := p.(Placed); ok {
		v.Place = pl.Place()
	}
	if sv := s.Shown(); sv != nil {
		v.Runbook = sv.Title()
	}
	if pv, ok := s.Dialog().(Previewer); ok {
		v.Dialog = pv.Preview()
	}
	return v
}

// MirrorDialog is a leader's confirm dialog as a watcher sees it: read
// only, with nothing to confirm.
type MirrorDialog struct {
	env    *kit.Env
	leader string
	lines  []string
}

// Preview is what the leader showed.
func (d *MirrorDialog) Preview() []string { return d.lines }

// Update never runs while watching (any key stops watching first);
// should a key reach it, it closes.
func (d *MirrorDialog) Update(tea.KeyPressMsg) (kit.Dialog, tea.Cmd) { return nil, nil }

// Content is the leader's dialog, its owner named.
func (d *MirrorDialog) Content() kit.DialogContent {
	th := d.env.Theme
	dc := kit.DialogContent{Title: d.leader + "'s confirm dialog (read-only)"}
	if len(d.lines) > 0 {
		dc.Head = []string{th.Paints.Bold.Render(d.lines[0])}
		dc.Sections = []kit.DialogSection{{Items: d.lines[1:]}}
	}
	dc.Tail = []string{"", th.Paints.Muted.Render(d.leader + " confirms or cancels it; you cannot. Any key stops following.")}
	return dc
}
