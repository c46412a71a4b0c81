package kit

import (
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/themes"
)

// Cut says which part of a cell's text survives when it is too wide.
type Cut uint8

const (
	// KeepHead keeps the start: most text.
	KeepHead Cut = iota
	// KeepTail keeps the end: a task definition keeps its revision, a
	// cluster/service label its service.
	KeepTail
	// KeepEnds cuts the middle: names that differ only at the end
	// (nudgecampaign-api, nudgecampaign-worker).
	KeepEnds
)

// Col is one column of a Table.
type Col struct {
	Title string
	// Short is the title a column too narrow for Title shows instead
	// ("TREND" for "BURN TREND"), so a narrow pane's header reads as
	// whole words rather than "BURN TR…"; "" for none.
	Short string
	// W is the column's width when it is shown, Roomy its width once the
	// table is Table.RoomyAt wide or more (0: W). A column whose width is
	// 0 is not shown: Roomy alone makes a column that only a roomy table
	// has.
	W, Roomy int
	// Gap is the blank cells before the column (none before the first
	// shown); a roomy table adds Table.Spread to every gap that is not 0.
	Gap   int
	Right bool
	Cut   Cut
}

// StepKind is what a Step claims.
type StepKind uint8

const (
	// Show shows a column if it fits at its width; one that does not fit
	// gives way, and a narrower one ranked after it may still show (see
	// Table.InOrder). The Show steps rank the columns: the earlier a
	// column's step, the longer it stays. A column no Show step names is
	// always shown.
	Show StepKind = iota
	// Grow widens a column towards its text (Table.Want), at most to To.
	// A name column whose text cannot fit even with everything left drops
	// the prefix its names share (Table.Names) and grows to what remains.
	Grow
	// Pad widens a column to To whatever its text: room a column keeps
	// before the next claim (the query's comfortable width), or the room a
	// last column takes.
	Pad
)

// Step is one claim on a table's width. A table's steps, in order, are the
// pane's ranking: which columns show first, which grow before others are
// shown, and so which give way first when the pane narrows.
type Step struct {
	Kind StepKind
	Col  int
	To   int
}

// Cell is one cell of a row: its text, its paint (nil: the row's), and
// the row's raw identity (an ARN, a UID) where the text is a name that
// may read alike on two rows. It never shows as it is: when two rows'
// cells would read the same on screen, each shows a short tag of its ID
// (Tell) after the text.
type Cell struct {
	Text  string
	Paint *themes.Paint
	ID    string
}

// Table lays columns out in a width and draws rows in it. A pane keeps one
// per table; Want and Names are set when the data changes (Rebuild), Fit
// once per draw, then Header and Row for the lines on screen only. Its
// buffers are reused from draw to draw, so a steady screen costs one
// string per line.
type Table struct {
	Cols  []Col
	Steps []Step
	// Fill is the column that takes the width left after the steps; -1
	// (say so: 0 is the first column) for none, the row ends where its
	// columns end.
	Fill int
	// RoomyAt is the width from which the columns take their Roomy widths
	// and the gaps widen by Spread (0: never).
	RoomyAt, Spread int
	// InOrder makes the columns give way strictly in their Show steps'
	// order: once one does not fit, every later one stays hidden too, so a
	// column is never shown while one ranked before it is not.
	InOrder bool
	// Want is the widest text of each column (Grow's target), measured in
	// Rebuild; nil or 0: the column does not grow.
	Want []int

	// prefix is the start a name column's texts share (see Names), and
	// rest the widest text without it.
	prefix  []string
	rest    []int
	trimmed []bool
	widths  []int
	gaps    []int
	ell     string
	scratch []Cell
	rows    []Cell // the rows collected for Lines, len(Cols) cells each
	paints  []*themes.Paint
	fitted  []string
}

// Names records a name column's shared prefix (SharedPrefix of its texts),
// so a Grow step that cannot show the widest name whole drops it; rest is
// the widest text without it, an ellipsis in its place.
func (t *Table) Names(col int, prefix string, rest int) {
	if len(t.prefix) != len(t.Cols) {
		t.prefix, t.rest = make([]string, len(t.Cols)), make([]int, len(t.Cols))
	}
	t.prefix[col], t.rest[col] = prefix, rest
}

// Trimmed is the prefix the last Fit dropped from col's texts ("" for
// none): rows show an ellipsis in its place (TrimName), the header says it
// once.
func (t *Table) Trimmed(col int) string {
	if col < len(t.trimmed) && t.trimmed[col] {
		return t.prefix[col]
	}
	return ""
}

// Width is col's width from the last Fit, 0 when it is not shown.
func (t *Table) Width(col int) int { return t.widths[col] }

// Fit lays the columns out in w cells: every column at its width, then the
// steps in order, then the fill column takes what is left (at least one
// cell). ell is the theme's ellipsis, for the cells that are cut.
func (t *Table) Fit(w int, ell string) {
	n := len(t.Cols)
	t.ell = ell
	if cap(t.widths) < n {
		t.widths, t.gaps, t.trimmed = make([]int, n), make([]int, n), make([]bool, n)
	}
	t.widths, t.gaps, t.trimmed = t.widths[:n], t.gaps[:n], t.trimmed[:n]
	roomy := t.RoomyAt > 0 && w >= t.RoomyAt
	for i, c := range t.Cols {
		t.widths[i], t.gaps[i], t.trimmed[i] = c.W, c.Gap, false
		if roomy {
			if c.Roomy > 0 {
				t.widths[i] = c.Roomy
			}
			if c.Gap > 0 {
				t.gaps[i] += t.Spread
			}
		}
	}
	for _, s := range t.Steps {
		if s.Kind == Show {
			t.widths[s.Col] = -t.widths[s.Col] // hidden until its step shows it
		}
	}
	used := t.used()
	giveWay := false
	for _, s := range t.Steps {
		c := s.Col
		switch s.Kind {
		case Show:
			cw := -t.widths[c]
			if cw <= 0 {
				t.widths[c] = 0
				continue
			}
			t.widths[c] = cw
			if giveWay || t.used() > w {
				giveWay = t.InOrder
				t.widths[c] = 0
				continue
			}
			used = t.used()
		case Grow, Pad:
			if t.widths[c] <= 0 {
				continue
			}
			target := s.To
			if s.Kind == Grow {
				want := 0
				if c < len(t.Want) {
					want = t.Want[c]
				}
				if want > t.widths[c]+max(0, w-used) && c < len(t.prefix) && t.prefix[c] != "" {
					want = max(t.rest[c], Width(t.prefix[c]+ell))
					t.trimmed[c] = true
				}
				if s.To > 0 {
					target = min(s.To, want)
				} else {
					target = want
				}
			}
			if add := min(target-t.widths[c], w-used); add > 0 {
				t.widths[c] += add
				used += add
			}
		}
	}
	for i := range t.widths {
		t.widths[i] = max(0, t.widths[i])
	}
	if f := t.Fill; f >= 0 && t.widths[f] > 0 {
		t.widths[f] = max(1, t.widths[f]+w-t.used())
	}
}

// used is the width of the shown columns and their gaps.
func (t *Table) used() int {
	n, first := 0, true
	for i, cw := range t.widths {
		if cw <= 0 {
			continue
		}
		if !first {
			n += t.gaps[i]
		}
		first = false
		n += cw
	}
	return n
}

// Header is the column titles at the last Fit's widths, in paint; a
// title too wide for its column gives way to its Short form, and only one
// too wide even so is cut at its end, whatever the column's Cut.
func (t *Table) Header(paint themes.Paint) string {
	cells := t.Cells()
	for i := range t.Cols {
		cells[i].Text = t.Title(i)
		if w := t.widths[i]; w > 0 && Width(cells[i].Text) > w {
			cells[i].Text = Fit(cells[i].Text, w, t.ell) // titles keep their start
		}
	}
	return t.line(cells, &paint, nil)
}

// Title is the title col's header shows at the last Fit's width: Title
// when it fits, else Short when there is one.
func (t *Table) Title(col int) string {
	c := t.Cols[col]
	if c.Short != "" && Width(c.Title) > t.widths[col] {
		return c.Short
	}
	return c.Title
}

// Cells is a row's cells, cleared, to fill and pass to Row or Add; the
// slice is reused by the next call.
func (t *Table) Cells() []Cell {
	if len(t.scratch) != len(t.Cols) {
		t.scratch = make([]Cell, len(t.Cols))
	}
	clear(t.scratch)
	return t.scratch
}

// Row draws one row at the last Fit's widths: the whole line in whole's
// paint when it is not nil (the selection, stale data), else each cell in
// its own paint over the row's base paint (nil: none). No tag shows: use
// Add and Lines for rows that may collide.
func (t *Table) Row(cells []Cell, whole, base *themes.Paint) string {
	if whole != nil {
		return t.line(cells, whole, nil)
	}
	return t.line(cells, nil, base)
}

// Add collects a row for Lines, which draws the rows collected since the
// last Lines and tells apart those that collide.
func (t *Table) Add(cells []Cell, whole, base *themes.Paint) {
	if len(cells) == len(t.Cols) {
		t.rows = append(t.rows, cells...)
		t.paints = append(t.paints, whole, base)
	}
}

// Lines draws the rows collected by Add onto out. Cells of one column that
// would read the same on two rows, where an ID is given, show the tag of
// their ID (Tell) after the text, cut by the column's Cut: rows whose
// display names collide are told apart on screen. Rows whose IDs are alike
// too are numbered in screen order. The tags are made only then, so a
// screen without collisions costs nothing more.
func (t *Table) Lines(out []string) []string {
	n := len(t.Cols)
	rows := len(t.paints) / 2
	for c := 0; c < n && rows > 1; c++ {
		t.tell(c, rows)
	}
	for r := 0; r < rows; r++ {
		out = append(out, t.Row(t.rows[r*n:(r+1)*n], t.paints[2*r], t.paints[2*r+1]))
	}
	clear(t.rows) // drop the texts for the collector
	t.rows, t.paints = t.rows[:0], t.paints[:0]
	return out
}

// tell tags col's cells that read alike on screen.
func (t *Table) tell(col, rows int) {
	n, w := len(t.Cols), t.widths[col]
	if w <= 0 {
		return
	}
	given := false
	for r := 0; r < rows && !given; r++ {
		given = t.rows[r*n+col].ID != ""
	}
	if !given {
		return
	}
	t.fitted = t.fitted[:0]
	for r := 0; r < rows; r++ {
		t.fitted = append(t.fitted, t.cut(t.rows[r*n+col].Text, col, w))
	}
	for r := 0; r < rows; r++ {
		cell := &t.rows[r*n+col]
		clash, twin, ord := false, false, 1
		for o := 0; o < rows; o++ {
			if o == r || t.fitted[o] != t.fitted[r] {
				continue
			}
			clash = true
			if t.rows[o*n+col].ID == cell.ID {
				twin = true
				if o < r {
					ord++
				}
			}
		}
		if !clash {
			continue
		}
		tell := Tell(cell.ID)
		if twin || tell == "" {
			tell = strings.TrimSpace(tell + " " + strconv.Itoa(ord))
		}
		cell.Text = t.cut(cell.Text, col, max(0, w-Width(tell)-1)) + " " + tell
	}
	clear(t.fitted)
}

// cut fits s in w cells by col's Cut (padding left to line).
func (t *Table) cut(s string, col, w int) string {
	switch t.Cols[col].Cut {
	case KeepTail:
		return CutStart(s, w, t.ell)
	case KeepEnds:
		return CutMiddle(s, w, t.ell)
	}
	if Width(s) > w {
		return Fit(s, w, t.ell)
	}
	return s
}

// line writes the cells at their widths into one buffer: in whole's paint
// when it is not nil, else each painted cell in its paint and the rest in
// base's.
func (t *Table) line(cells []Cell, whole, base *themes.Paint) string {
	var sb strings.Builder
	sb.Grow(t.used() + 64)
	run := whole
	if run == nil {
		run = base
	}
	if run != nil {
		sb.WriteString(run.Prefix)
	}
	first := true
	for i, c := range t.Cols {
		cw := t.widths[i]
		if cw <= 0 {
			continue
		}
		if !first {
			sb.WriteString(Spaces(t.gaps[i]))
		}
		first = false
		text := cells[i].Text
		if c.Cut != KeepHead && Width(text) > cw {
			text = t.cut(text, i, cw)
		}
		p := cells[i].Paint
		if whole != nil || p == nil || p.Prefix == "" {
			t.write(&sb, text, i, cw)
			continue
		}
		sb.WriteString(p.Prefix)
		t.write(&sb, text, i, cw)
		sb.WriteString(p.Suffix)
		if run != nil {
			sb.WriteString(run.Prefix)
		}
	}
	if run != nil {
		sb.WriteString(run.Suffix)
	}
	return sb.String()
}

func (t *Table) write(sb *strings.Builder, text string, col, w int) {
	if t.Cols[col].Right {
		WriteFitRight(sb, text, w, t.ell)
	} else {
		WriteFit(sb, text, w, t.ell)
	}
}

// CutStart fits s in w cells by cutting its front, an ellipsis in its
// place; s is returned as it is when it fits.
func CutStart(s string, w int, ell string) string {
	sw := Width(s)
	if sw <= w {
		return s
	}
	if w <= Width(ell) {
		return Fit(s, w, ell)
	}
	return ell + ansi.TruncateLeft(s, sw-(w-Width(ell)), "")
}

// SharedPrefix is the start all names share, cut back to its last word
// separator (- . _) so the rest of each name is whole words; "" unless
// there are two names or more and every one keeps something after it.
func SharedPrefix(names []string) string {
	if len(names) < 2 {
		return ""
	}
	pre := names[0]
	for _, n := range names[1:] {
		i := 0
		for i < len(pre) && i < len(n) && pre[i] == n[i] {
			i++
		}
		pre = pre[:i]
	}
	pre = pre[:strings.LastIndexAny(pre, "-._")+1]
	for _, n := range names {
		if len(n) == len(pre) {
			return ""
		}
	}
	return pre
}

// TrimName is name for a column that dropped prefix (Table.Trimmed): an
// ellipsis in the prefix's place; name as it is when prefix is "".
func TrimName(name, prefix, ell string) string {
	if prefix == "" {
		return name
	}
	return ell + strings.TrimPrefix(name, prefix)
}

// Tell is the short, printable tag of a raw identity (an ARN, a UID) that
// Lines shows for Cell.ID: "#" and four hex digits of its hash. Two rows whose names
// read alike differ here whenever their identities differ, even when the
// identities differ only in characters sanitizing removed.
func Tell(identity string) string {
	if identity == "" {
		return ""
	}
	h := fnv.New32a()
	h.Write([]byte(identity))
	const hex = "0123456789abcdef"
	v := h.Sum32()
	var b [5]byte
	b[0] = '#'
	for i := 4; i >= 1; i-- {
		b[i] = hex[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
