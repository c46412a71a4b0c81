package crew

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
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
	sub, err := f.o.Views.SubscribeAs(mb.ID, f.o.Name)
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
	f.showScreen(s, nil)
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
	f.showScreen(s, msg.view.Screen)
	f.setMirror(s, msg.view.Dialog)
	return leaderCmd(f.ctx, w.sub)
}

// showScreen shows the leader's full-screen view (their runbook run)
// read-only over this session's panes, or takes it down (lines nil).
func (f *Feature) showScreen(s kit.Screen, lines []string) {
	if lines == nil || f.watch == nil {
		if f.mirror != nil {
			s.Close(f.mirror.ID())
			f.mirror = nil
		}
		return
	}
	if f.mirror == nil {
		f.mirror = &MirrorView{env: f.env}
	}
	f.mirror.leader, f.mirror.title, f.mirror.lines = f.watch.name, f.watch.view.Runbook, lines
	f.mirror.cache.Touch()
	s.Push(f.mirror)
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
	// The full-screen view is drawn for the others only while someone
	// follows (as of the last tick): a new follower gets it within a
	// second, and a session nobody follows draws nothing extra.
	v := viewState(s, len(f.followers) > 0)
	if f.havePublished && v.Equal(f.published) {
		return
	}
	f.published, f.havePublished = v, true
	f.o.Views.Publish(f.o.SessionID, v)
}

// viewState is what a watcher mirrors of this session now; screen: with
// the shown view's lines.
func viewState(s kit.Screen, screen bool) together.View {
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
		if screen {
			// What the leader reads, for a watcher to read too: drawn at
			// the leader's size (the view keeps the block for the frame).
			w, h := s.Size()
			v.Screen = unframe(sv.View(w, h))
		}
	}
	for _, kv := range s.Views() {
		if r, ok := kv.(OpenRun); ok {
			if line := r.OpenRun(); line != "" {
				v.Runs = append(v.Runs, line)
			}
		}
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

// OpenRun is a kept view that is a runbook run: its line while it is open
// ("" once ended), for the others' runbook lists.
type OpenRun interface {
	OpenRun() string
}

// unframe is a framed block as plain text, without its border: the title
// and footer lines go, and each line's edge cells.
func unframe(block []string) []string {
	if len(block) < 2 {
		return nil
	}
	out := make([]string, 0, len(block)-2)
	for _, l := range block[1 : len(block)-1] {
		r := []rune(ansi.Strip(l))
		if len(r) >= 2 {
			r = r[1 : len(r)-1]
		}
		out = append(out, strings.TrimRight(string(r), " "))
	}
	return out
}

// MirrorView is a watched leader's full-screen view (their runbook run),
// as they see it and read-only: every key stops watching first.
type MirrorView struct {
	env           *kit.Env
	leader, title string
	lines         []string
	cache         kit.Cache
	w, h          int
}

// ID is fixed: one leader watched at a time.
func (v *MirrorView) ID() string { return "crew:mirror" }

// Title names the view in help.
func (v *MirrorView) Title() string { return v.leader + "'s " + v.title + " (read-only)" }

// SetSnapshot: the view is the leader's, not this session's data.
func (v *MirrorView) SetSnapshot(sources.Snapshot) {}

// Update: keys never reach it while watching; nothing else concerns it.
func (v *MirrorView) Update(tea.Msg) tea.Cmd { return nil }

// ShortHelp says the one thing a key does here.
func (v *MirrorView) ShortHelp() []key.Binding {
	return []key.Binding{key.NewBinding(key.WithKeys(), key.WithHelp("any key", "stops following "+v.leader))}
}

// FullHelp is ShortHelp.
func (v *MirrorView) FullHelp() [][]key.Binding { return [][]key.Binding{v.ShortHelp()} }

// CapturesKeys: the view types no text.
func (v *MirrorView) CapturesKeys() bool { return false }

// View draws the leader's lines in this session's frame.
func (v *MirrorView) View(w, h int) []string {
	v.w, v.h = w, h
	return v.cache.Block(v.env, true, w, h, v.draw)
}

func (v *MirrorView) draw(bool) []string {
	th := v.env.Theme
	return kit.Frame(th, v.Title(), "read-only · any key stops following", true, v.w, v.h, v.lines)
}
