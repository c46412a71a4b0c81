package ui

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/ui/kit"
)

// Grid proportions. Panes go two to a row, in order. A row of Compact
// panes (SLOs | Alerts: a few short lists) takes the height its content
// needs, within bounds, and the other rows, where the long tables are,
// share the rest. Within a row the focused pane gets most of the width;
// when neither has focus a row of tables favours its first pane. Panes
// with no source (PaneSetup.Unconfigured) leave the pairs and share one
// row at the foot, each a block of one line saying what turns it on.
const (
	topMinH      = 5
	topMaxPct    = 40
	focusedWPct  = 65
	unfocusedMin = 40
	offH         = 3
)

// size is a pane's block size, border included.
type size struct{ w, h int }

// grid reports whether the terminal is big enough for every pane at once;
// otherwise the focused pane takes the body and the others shrink to
// their one-line summaries.
func (m Model) grid() bool { return m.w >= 150 && m.h >= 40 }

func (m Model) bodyH() int { return max(3, m.h-3) }

// gridRows are the panes' indexes two to a row, then the unconfigured
// ones all in one row.
func (m Model) gridRows() [][]int {
	var on, off []int
	for i := range m.panes {
		if m.off[i] {
			off = append(off, i)
		} else {
			on = append(on, i)
		}
	}
	var rows [][]int
	for i := 0; i < len(on); i += 2 {
		rows = append(rows, on[i:min(i+2, len(on))])
	}
	if len(off) > 0 {
		rows = append(rows, off)
	}
	return rows
}

// layout gives each pane its size. It runs after every Update (it is a few
// integer sums), so the grid follows the data.
func (m *Model) layout() {
	if len(m.sizes) != len(m.panes) {
		m.sizes = make([]size, len(m.panes))
	}
	bodyH := m.bodyH()
	if !m.grid() {
		h := max(3, bodyH-(len(m.panes)-1))
		for i := range m.panes {
			m.place(i, m.w, h)
		}
		return
	}
	rows := m.gridRows()
	heights := make([]int, len(rows))
	flex, rest := 0, bodyH
	fill := len(rows) - 1 // the row that takes what nothing else wants
	for r, row := range rows {
		if m.off[row[0]] {
			heights[r] = offH
			rest -= offH
			if r == fill && r > 0 {
				fill--
			}
			continue
		}
		want, compact := 0, true
		for _, i := range row {
			c, ok := m.panes[i].(Compact)
			if !ok {
				compact = false
				break
			}
			want = max(want, c.WantHeight())
		}
		if !compact {
			heights[r] = -1
			flex++
			continue
		}
		heights[r] = min(max(want, topMinH), bodyH*topMaxPct/100)
		rest -= heights[r]
	}
	if flex == 0 { // nothing to fill the body: the last row of data does
		heights[fill] += rest
	}
	for r, k := range heights {
		if k < 0 {
			heights[r] = rest / flex
			if flex--; flex == 0 {
				heights[r] = rest
			}
			rest -= heights[r]
		}
	}
	for r, row := range rows {
		if len(row) == 1 {
			m.place(row[0], m.w, heights[r])
			continue
		}
		if m.off[row[0]] { // unconfigured: equal shares
			for j, i := range row {
				m.place(i, m.w*(j+1)/len(row)-m.w*j/len(row), heights[r])
			}
			continue
		}
		idle := 50
		if _, ok := m.panes[row[0]].(Compact); !ok {
			idle = focusedWPct
		}
		lw := m.splitW(m.focus == row[0], m.focus == row[1], idle)
		m.place(row[0], lw, heights[r])
		m.place(row[1], m.w-lw, heights[r])
	}
}

func (m *Model) place(i, w, h int) {
	m.sizes[i] = size{w, h}
	m.panes[i].SetSize(w, h)
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

// View draws header, body (panes or the shown view), status bar and the
// open dialog.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "flightdeck " + m.o.Identity.Environment
	return v
}

// blockID is a drawn block's identity: panes return the same slice while
// nothing changed.
type blockID struct {
	first *string
	n     int
}

// gridKey is a joined grid body's identity across sessions: the blocks
// (by identity), which grid row each sits in, the width and the lines
// used. A cockpit of more than maxGridPanes panes joins its own.
type gridKey struct {
	ids   [maxGridPanes]blockID
	row   [maxGridPanes]int8
	panes int
	w, n  int
}

const maxGridPanes = 12

func gridKeyOf(ids []blockID, rows [][]int, w, n int) (gridKey, bool) {
	k := gridKey{panes: len(ids), w: w, n: n}
	if len(ids) > maxGridPanes {
		return k, false
	}
	copy(k.ids[:], ids)
	for r, row := range rows {
		for _, i := range row {
			k.row[i] = int8(r)
		}
	}
	return k, true
}

func idOf(b []string) blockID {
	if len(b) == 0 {
		return blockID{}
	}
	return blockID{&b[0], len(b)}
}

// renderCache is the root's share of the frame cache. It is a pointer in
// the Model value, like the panes, so every copy of the Model sees it.
type renderCache struct {
	w, h   int
	ids    []blockID // the blocks the joined grid was made of
	gridOK bool
	// blocks and now are the frame's blocks and their ids, kept to spare
	// two allocations a frame.
	blocks       [][]string
	now          []blockID
	body         []string // never written to: it may be shared (kit.Blocks.Grid)
	bodyStr      string
	n            int // the body lines the text holds
	head, status string
	out          string
}

// Render is the screen as a string (View without the tea.View wrapper), for
// tests and benchmarks.
func (m Model) Render() string {
	if m.quitting {
		return ""
	}
	th := m.env.Theme
	rc := m.rc
	var body, status []string
	switch v := m.shownView(); {
	case v != nil:
		rc.gridOK = false
		body = v.View(m.w, m.bodyH())
	case m.grid():
		blocks, ids := rc.blocks[:0], rc.now[:0]
		for i, p := range m.panes {
			b := p.View(i == m.focus)
			blocks, ids = append(blocks, b), append(ids, idOf(b))
		}
		rc.blocks, rc.now = blocks, ids
		status = m.statusBar()
		n := max(0, m.h-1-len(status))
		if !rc.gridOK || rc.w != m.w || rc.h != m.h || rc.n != n || !slices.Equal(rc.ids, ids) {
			rows := m.gridRows()
			join := func() ([]string, string) {
				var body []string
				for _, row := range rows {
					if len(row) == 1 {
						body = append(body, blocks[row[0]]...)
						continue
					}
					bs := make([][]string, len(row))
					for j, i := range row {
						bs[j] = blocks[i]
					}
					body = append(body, kit.JoinH(bs...)...)
				}
				return body, strings.Join(body[:min(len(body), n)], "\n")
			}
			// Sessions whose blocks are the same (shared) slices, sitting
			// the same way, join them once between them.
			if k, ok := gridKeyOf(ids, rows, m.w, n); ok && m.env.Blocks != nil {
				rc.body, rc.bodyStr = m.env.Blocks.Grid(k, join)
			} else {
				rc.body, rc.bodyStr = join()
			}
			rc.w, rc.h, rc.n, rc.ids, rc.gridOK = m.w, m.h, n, append(rc.ids[:0], ids...), true
			rc.out = ""
		}
		body = rc.body
	default:
		rc.gridOK = false
		for i, p := range m.panes {
			if i != m.focus {
				body = append(body, kit.Fit(" "+p.Summary(), m.w, th.Ellipsis))
			}
		}
		body = append(body, m.panes[m.focus].View(true)...)
	}
	head := m.header()
	if status == nil {
		status = m.statusBar()
	}
	note := m.returnNote(m.returnPane)
	if note != "" {
		body = m.noteInTitle(body, note)
	}
	// Dialogs and help sit over the whole screen, not the body: the body is
	// three lines shorter, and a dialog cut there hid its own prompt.
	if box := m.overlayBox(); box != nil || !rc.gridOK || note != "" {
		lines := make([]string, 0, len(body)+3)
		lines = append(append(append(lines, head), body...), status...)
		if len(lines) > m.h {
			lines = lines[:m.h]
		}
		if box != nil {
			lines = kit.Overlay(lines, box, m.w)
		}
		return strings.Join(lines, "\n")
	}
	// The grid's joined text is reused while no pane redrew; the frame is
	// reused while the header and status bar say the same.
	if st := strings.Join(status, "\n"); rc.out == "" || rc.head != head || rc.status != st {
		rc.head, rc.status = head, st
		if m.env.Blocks != nil {
			rc.out = m.env.Blocks.Frame(head, rc.bodyStr, st)
		} else {
			rc.out = head + "\n" + rc.bodyStr + "\n" + st
		}
	}
	return rc.out
}

// noteInTitle writes note into the right end of the top border of the
// pane it belongs to (returnPane), on a copy of body: the grid's cached
// body stays as the panes drew it. A pane not drawn whole (a summary
// line), or too narrow to keep its own title readable, gets none.
func (m Model) noteInTitle(body []string, note string) []string {
	x, y, w := 0, -1, 0
	if m.grid() {
		top := 0
		for _, row := range m.gridRows() {
			left := 0
			for _, i := range row {
				if i == m.returnPane {
					x, y, w = left, top, m.sizes[i].w
				}
				left += m.sizes[i].w
			}
			top += m.sizes[row[0]].h
		}
	} else if m.focus == m.returnPane {
		x, y, w = 0, len(m.panes)-1, m.w
	}
	nw := kit.Width(note)
	if y < 0 || y >= len(body) || w-nw < 24 {
		return body
	}
	out := slices.Clone(body)
	at := x + w - 2 - nw
	line := out[y]
	out[y] = ansi.Cut(line, 0, at) + "\x1b[m" + m.env.Theme.Paints.Accent.Render(note) + "\x1b[m" + ansi.Cut(line, at+nw, m.w)
	return out
}
