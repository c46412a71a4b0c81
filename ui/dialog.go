package ui

import (
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"flightdeck/ui/kit"
)

// keyGuard is how long a new dialog that can confirm ignores its
// confirming keys: a burst typed for the pane must not choose a menu
// entry, submit a form or confirm a plan that popped up under it.
const keyGuard = 400 * time.Millisecond

// dialog is a modal component on the root's stack; the top one gets every
// key. It answers through the Cmd it returns, with typed messages
// (RequestMsg, ConfirmedMsg, CancelledMsg).
type dialog interface {
	// update handles a key. It returns the dialog that takes its place:
	// itself to stay open, nil to close, another to replace it.
	update(msg tea.KeyPressMsg) (dialog, tea.Cmd)
	// content is what the dialog shows; the root frames it and fits it
	// to the screen.
	content() dialogContent
}

// guarded reports whether a dialog opened at opened is still inside the
// key guard.
func guarded(env *kit.Env, opened time.Time) bool { return env.Exact().Sub(opened) < keyGuard }

// send is a Cmd that answers msg.
func send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// pushDialog opens d over whatever is open.
func (m Model) pushDialog(d dialog) Model {
	m.dialogs = append(slices.Clip(m.dialogs), d)
	return m
}

// dialogKey gives a key to the top dialog and puts what it returns in its
// place.
func (m Model) dialogKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	n := len(m.dialogs)
	next, cmd := m.dialogs[n-1].update(msg)
	ds := slices.Clone(m.dialogs[:n-1])
	if next != nil {
		ds = append(ds, next)
	}
	m.dialogs = ds
	return m, cmd
}

// dialogSection is a run of dialog lines that may be cut short when the
// screen is too small: a label line and items, the hidden ones counted in
// an "… N more" line.
type dialogSection struct {
	label string
	items []string
	max   int // most items ever shown (0 = no limit)
}

// dialogContent is a dialog as parts that must always be visible (head,
// tail) around sections that give way when the screen is short. The tail
// carries what the operator must act on: the phrase prompt, the input, the
// validity countdown and the key hints.
type dialogContent struct {
	title    string
	head     []string
	sections []dialogSection
	tail     []string
	// window keeps item `focus` of the only section visible (menus) instead
	// of cutting the end.
	window bool
	focus  int
}

// layoutLines fits the content into at most h lines: sections shrink first
// (the longest loses an item at a time), then sections go, then the head;
// the tail is cut last, from its top.
func (dc dialogContent) layoutLines(h int, ell string) []string {
	shown := make([]int, len(dc.sections))
	keep := make([]bool, len(dc.sections))
	for i, s := range dc.sections {
		shown[i] = len(s.items)
		if s.max > 0 && shown[i] > s.max {
			shown[i] = s.max
		}
		keep[i] = true
	}
	secLines := func(i int) int {
		if !keep[i] {
			return 0
		}
		n := shown[i]
		if dc.sections[i].label != "" {
			n++
		}
		if shown[i] < len(dc.sections[i].items) {
			n++
		}
		return n
	}
	total := func() int {
		n := len(dc.head) + len(dc.tail)
		for i := range dc.sections {
			n += secLines(i)
		}
		return n
	}
	for total() > h {
		best := -1
		for i := range dc.sections {
			if keep[i] && shown[i] > 0 && (best < 0 || shown[i] > shown[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		shown[best]--
	}
	for i := len(dc.sections) - 1; i >= 0 && total() > h; i-- {
		keep[i] = false
	}
	var out []string
	head := dc.head
	if over := total() - h; over > 0 {
		head = head[:max(0, len(head)-over)]
	}
	out = append(out, head...)
	for i, s := range dc.sections {
		if !keep[i] {
			continue
		}
		if s.label != "" {
			out = append(out, s.label)
		}
		from := 0
		if dc.window && shown[i] < len(s.items) {
			from = min(max(0, dc.focus-shown[i]/2), len(s.items)-shown[i])
		}
		out = append(out, s.items[from:from+shown[i]]...)
		if hidden := len(s.items) - shown[i]; hidden > 0 {
			out = append(out, fmt.Sprintf("  %s %d more", ell, hidden))
		}
	}
	tail := dc.tail
	if over := len(out) + len(tail) - h; over > 0 {
		tail = tail[min(over, len(tail)):]
	}
	return append(out, tail...)
}

// width is the widest line of the content, the title included.
func (dc dialogContent) width() int {
	w := kit.Width(dc.title) + 4
	grow := func(ls []string) {
		for _, l := range ls {
			w = max(w, kit.Width(l))
		}
	}
	grow(dc.head)
	grow(dc.tail)
	for _, s := range dc.sections {
		w = max(w, kit.Width(s.label))
		grow(s.items)
	}
	return w
}

// Dialog sizes: wide enough to read a preview line, never wider than the
// screen.
const (
	dialogMinW = 44
	dialogMaxW = 110
)

// overlayBox renders the top dialog as lines of equal width, sized to the
// content and capped to the whole screen, which it is drawn over.
func (m Model) overlayBox() []string {
	if len(m.dialogs) == 0 {
		return nil
	}
	dc := m.dialogs[len(m.dialogs)-1].content()
	th := m.env.Theme
	maxW := min(m.w-2, dialogMaxW)
	if maxW < 6 || m.h < 3 {
		return nil
	}
	w := min(maxW, max(dc.width(), dialogMinW)+2)
	maxH := m.h
	if maxH >= 12 {
		maxH -= 2 // keep the header (environment, mode) and a status line in view
	}
	lines := dc.layoutLines(maxH-2, th.Ellipsis)
	return kit.Frame(th, dc.title, "", true, w, len(lines)+2, lines)
}
