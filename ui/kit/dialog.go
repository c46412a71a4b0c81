package kit

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// KeyGuard is how long a new dialog that can confirm ignores its
// confirming keys and typed text: a burst typed for the pane must not
// choose a menu entry, submit a form, confirm a plan or fill a phrase
// that popped up under it. It never delays cancelling: a dialog's close
// key works the moment it opens.
const KeyGuard = 400 * time.Millisecond

// Dialog is a modal component on the root's stack; the top one gets every
// key. It answers through the Cmd it returns, with typed messages
// (RequestMsg, ConfirmedMsg, CancelledMsg, or a feature's own). A feature
// opens one with OpenDialogMsg, or Screen.PushDialog while it handles a
// message.
type Dialog interface {
	// Update handles a key. It returns the dialog that takes its place:
	// itself to stay open, nil to close, another to replace it.
	Update(msg tea.KeyPressMsg) (Dialog, tea.Cmd)
	// Content is what the dialog shows; the root frames it and fits it
	// to the screen.
	Content() DialogContent
}

// DialogHelp is a Dialog with its own key hints for the status bar while
// it is open; a dialog without them shows the dialog keymap's submit and
// close.
type DialogHelp interface {
	ShortHelp() []key.Binding
}

// Hint is a binding's keys described as what they do in one dialog ("enter
// plan"): the keymap's keys, the dialog's words.
func Hint(b key.Binding, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(b.Help().Key, desc))
}

// Guarded reports whether a dialog opened at opened is still inside the
// key guard. The zero time is never guarded.
func Guarded(env *Env, opened time.Time) bool { return env.Exact().Sub(opened) < KeyGuard }

// Send is a Cmd that answers msg.
func Send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// DialogSection is a run of dialog lines that may be cut short when the
// screen is too small: a label line and items, the hidden ones counted in
// an "… N more" line.
type DialogSection struct {
	Label string
	Items []string
	Max   int // most items ever shown (0 = no limit)
}

// DialogContent is a dialog as parts that must always be visible (Head,
// Tail) around sections that give way when the screen is short. The tail
// carries what the operator must act on: the phrase prompt, the input, the
// validity countdown and the key hints.
type DialogContent struct {
	Title    string
	Head     []string
	Sections []DialogSection
	Tail     []string
	// Window keeps item Focus of the only section visible (pick lists)
	// instead of cutting the end.
	Window bool
	Focus  int
}

// Lines fits the content into at most h lines of w cells. A line wider
// than w wraps, its continuation indented under its text, rather than
// being cut: a reason or a key's description must be read whole. Then
// sections shrink first (the longest loses an item at a time, an item
// being all its wrapped lines), then sections go, then the head; the tail
// is cut last, from its top.
func (dc DialogContent) Lines(h, w int, ell string) []string {
	wrapAll := func(ls []string) []string {
		var out []string
		for _, l := range ls {
			out = append(out, WrapHanging(l, w)...)
		}
		return out
	}
	head, tail := wrapAll(dc.Head), wrapAll(dc.Tail)
	items := make([][][]string, len(dc.Sections))
	labels := make([][]string, len(dc.Sections))
	for i, s := range dc.Sections {
		if s.Label != "" {
			labels[i] = WrapHanging(s.Label, w)
		}
		items[i] = make([][]string, len(s.Items))
		for j, it := range s.Items {
			items[i][j] = WrapHanging(it, w)
		}
	}
	shown := make([]int, len(dc.Sections))
	keep := make([]bool, len(dc.Sections))
	for i, s := range dc.Sections {
		shown[i] = len(s.Items)
		if s.Max > 0 && shown[i] > s.Max {
			shown[i] = s.Max
		}
		keep[i] = true
	}
	// from is the first item shown: 0, or around Focus in a window.
	from := func(i int) int {
		if dc.Window && shown[i] < len(items[i]) {
			return min(max(0, dc.Focus-shown[i]/2), len(items[i])-shown[i])
		}
		return 0
	}
	secLines := func(i int) int {
		if !keep[i] {
			return 0
		}
		n := len(labels[i])
		f := from(i)
		for _, it := range items[i][f : f+shown[i]] {
			n += len(it)
		}
		if shown[i] < len(items[i]) {
			n++
		}
		return n
	}
	total := func() int {
		n := len(head) + len(tail)
		for i := range dc.Sections {
			n += secLines(i)
		}
		return n
	}
	for total() > h {
		best := -1
		for i := range dc.Sections {
			if keep[i] && shown[i] > 0 && (best < 0 || shown[i] > shown[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		shown[best]--
	}
	for i := len(dc.Sections) - 1; i >= 0 && total() > h; i-- {
		keep[i] = false
	}
	var out []string
	if over := total() - h; over > 0 {
		head = head[:max(0, len(head)-over)]
	}
	out = append(out, head...)
	for i := range dc.Sections {
		if !keep[i] {
			continue
		}
		out = append(out, labels[i]...)
		f := from(i)
		for _, it := range items[i][f : f+shown[i]] {
			out = append(out, it...)
		}
		if hidden := len(items[i]) - shown[i]; hidden > 0 {
			out = append(out, fmt.Sprintf("  %s %d more", ell, hidden))
		}
	}
	if over := len(out) + len(tail) - h; over > 0 {
		tail = tail[min(over, len(tail)):]
	}
	return append(out, tail...)
}

// WrapHanging wraps a line (styled or not) to w cells; its continuation
// lines start two cells further in than its own text does, so a wrapped
// entry still reads as one. A line that fits is returned as it is.
func WrapHanging(l string, w int) []string {
	if w <= 0 || Width(l) <= w {
		return []string{l}
	}
	lead := len(ansi.Strip(l)) - len(strings.TrimLeft(ansi.Strip(l), " "))
	ind := min(lead+2, w/2)
	parts := strings.Split(ansi.Wrap(l, w, ""), "\n")
	if len(parts) == 1 {
		return parts
	}
	rest := strings.TrimLeft(strings.Join(parts[1:], " "), " ")
	out := []string{strings.TrimRight(parts[0], " ")}
	pad := Spaces(ind)
	for _, p := range strings.Split(ansi.Wrap(rest, w-ind, ""), "\n") {
		out = append(out, pad+strings.TrimLeft(p, " "))
	}
	return out
}

// Width is the widest line of the content, the title included.
func (dc DialogContent) Width() int {
	w := Width(dc.Title) + 4
	grow := func(ls []string) {
		for _, l := range ls {
			w = max(w, Width(l))
		}
	}
	grow(dc.Head)
	grow(dc.Tail)
	for _, s := range dc.Sections {
		w = max(w, Width(s.Label))
		grow(s.Items)
	}
	return w
}
