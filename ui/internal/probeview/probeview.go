// Package probeview is a full-screen view written the way any new view
// is, outside the ui root and knowing it only through ui/kit: the root's
// tests push it, deliver messages to it and pop it, proving a view needs
// no edit to the root. It counts what reaches it, says every key it
// gets in the status bar, and on enter asks for an action with an Origin
// of its own type, to learn the flow's answer.
package probeview

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// PingMsg is the view's own message: the root does not know it and hands
// it to the views.
type PingMsg struct{ N int }

// origin is the Origin of the view's requests.
type origin struct{ id string }

// View counts what the root delivers to it.
type View struct {
	env *kit.Env
	id  string
	// Snapshots, Batches, Ticks, Pings and Keys count SetSnapshot calls,
	// SnapshotsMsgs, TickMsgs, the sum of PingMsg.N and key presses.
	Snapshots, Batches, Ticks, Pings, Keys int
	// Answer is the flow's answer to the view's last request.
	Answer tea.Msg
}

// New is a probe view with id.
func New(env *kit.Env, id string) *View { return &View{env: env, id: id} }

// ID tells probes apart.
func (v *View) ID() string { return v.id }

// Title names the view in help.
func (v *View) Title() string { return "Probe " + v.id }

// SetSnapshot counts a snapshot.
func (v *View) SetSnapshot(sources.Snapshot) { v.Snapshots++ }

// CapturesKeys: the probe types no text.
func (v *View) CapturesKeys() bool { return false }

// Update counts what it gets; a key is said in the status bar, and enter
// asks to cancel a backend.
func (v *View) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case kit.SnapshotsMsg:
		v.Batches++
	case kit.TickMsg:
		v.Ticks++
	case PingMsg:
		v.Pings += msg.N
	case kit.PlanMsg:
		if msg.Origin == (origin{v.id}) {
			v.Answer = msg
		}
	case tea.KeyPressMsg:
		v.Keys++
		if key.Matches(msg, v.env.Keys.List.Details) {
			return kit.Send(kit.RequestMsg{Request: ops.Request{Action: ops.Cancel}, Origin: origin{v.id}})
		}
		return kit.Send(kit.StatusMsg{Text: "probe " + v.id + " got " + msg.String()})
	}
	return nil
}

// View draws the counts.
func (v *View) View(w, h int) []string {
	line := fmt.Sprintf("probe %s: %d snapshots, %d batches, %d pings, %d keys", v.id, v.Snapshots, v.Batches, v.Pings, v.Keys)
	return kit.Frame(v.env.Theme, v.Title(), "", true, w, h, []string{line})
}

// ShortHelp is the status bar's hints.
func (v *View) ShortHelp() []key.Binding { return []key.Binding{v.env.Keys.List.Back} }

// FullHelp is the view's section of help.
func (v *View) FullHelp() [][]key.Binding { return [][]key.Binding{v.ShortHelp()} }
