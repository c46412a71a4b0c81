package ui

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/themes"
)

// fit pads or truncates s to exactly w cells. Widths are measured with the
// ANSI-aware functions so styled and wide text (CJK, emoji) never breaks a
// column or a border; the common case (ASCII, box drawing, our glyphs, SGR
// colours) takes a fast path that gives the same answer without grapheme
// segmentation. A tab would move the terminal's cursor to the next stop, so
// it is drawn as a space.
func fit(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	sw, plain, ok := fastWidth(s)
	if !ok {
		if strings.IndexByte(s, '\t') >= 0 {
			s = strings.ReplaceAll(s, "\t", " ")
		}
		sw = ansi.StringWidth(s)
	}
	if sw > w {
		if ok && plain {
			s = truncPlain(s, w, ell)
		} else {
			s = ansi.Truncate(s, w, ell)
		}
		sw = ansiWidth(s)
	}
	if sw < w {
		s += spaces(w - sw)
	}
	return s
}

// writeFit is fit writing into sb, without the intermediate string in the
// common (fast-path) case: a row is one buffer, not a string per cell.
func writeFit(sb *strings.Builder, s string, w int, ell string) {
	if w <= 0 {
		return
	}
	sw, plain, ok := fastWidth(s)
	if !ok || (sw > w && !plain) {
		sb.WriteString(fit(s, w, ell))
		return
	}
	if sw > w {
		s = truncPlain(s, w, ell)
		sw = w
	}
	sb.WriteString(s)
	sb.WriteString(spaces(w - sw))
}

// writeFitRight is fitRight writing into sb.
func writeFitRight(sb *strings.Builder, s string, w int, ell string) {
	if sw, _, ok := fastWidth(s); ok && sw < w {
		sb.WriteString(spaces(w - sw))
		sb.WriteString(s)
		return
	}
	writeFit(sb, s, w, ell)
}

// narrow1 marks the runes, outside ASCII, that are one cell wide on their
// own and never join a neighbour into a grapheme cluster: Latin-1 and Latin
// Extended letters, general punctuation (… — •), arrows, box drawing, block
// elements and geometric shapes (▶ ▷ ● █ ░ ▁). It is built by asking ansi
// itself, so the fast path cannot disagree with it.
var narrow1 = func() map[rune]bool {
	m := map[rune]bool{}
	for _, rg := range [][2]rune{{0xa1, 0x300}, {0x2010, 0x2028}, {0x2030, 0x2060}, {0x2190, 0x2200}, {0x2500, 0x2600}} {
		for r := rg[0]; r < rg[1]; r++ {
			if r == 0xad {
				continue // soft hyphen: zero width in some terminals
			}
			if ansi.StringWidth(string(r)) == 1 && ansi.StringWidth("a"+string(r)+"a") == 3 {
				m[r] = true
			}
		}
	}
	return m
}()

// fastWidth measures s when it holds only printable ASCII, narrow1 runes and
// SGR sequences; ok is false otherwise. plain reports that s has no escape
// sequences at all.
func fastWidth(s string) (w int, plain, ok bool) {
	plain = true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			w++
			i++
		case c == 0x1b:
			if i+1 >= len(s) || s[i+1] != '[' {
				return 0, false, false
			}
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
				j++
			}
			if j >= len(s) || s[j] != 'm' {
				return 0, false, false
			}
			plain = false
			i = j + 1
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			if !narrow1[r] {
				return 0, false, false
			}
			w++
			i += n
		default:
			return 0, false, false
		}
	}
	return w, plain, true
}

// truncPlain cuts s (fastWidth-clean, no escapes) to w cells, ell included.
func truncPlain(s string, w int, ell string) string {
	keep := w - ansi.StringWidth(ell)
	if keep <= 0 {
		return ansi.Truncate(ell, w, "")
	}
	n := 0
	for i := range s {
		if n == keep {
			return s[:i] + ell
		}
		n++
	}
	return s
}

// spaces returns n blanks without allocating for the usual widths.
func spaces(n int) string {
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}

var blanks = strings.Repeat(" ", 512)

// fitRight right-aligns s in w cells (numbers, ages).
func fitRight(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	sw, _, ok := fastWidth(s)
	if !ok {
		sw = ansi.StringWidth(s)
	}
	if sw >= w {
		return fit(s, w, ell)
	}
	return spaces(w-sw) + s
}

// fmtAge is the compact age used for data freshness and alert ages.
func fmtAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// fmtDur is the precise duration used for queries and transactions, where
// the difference between 59s and 5m matters.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	switch {
	case s < 60:
		return strconv.Itoa(s) + "s"
	case s < 3600:
		return strconv.Itoa(s/60) + "m" + pad2(s%60) + "s"
	case s < 86400:
		return strconv.Itoa(s/3600) + "h" + pad2(s/60%60) + "m"
	}
	return strconv.Itoa(s/86400) + "d" + pad2(s/3600%24) + "h"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// fmtBudgetTime renders an error budget expressed as time ("18d", "5h").
func fmtBudgetTime(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return fmtAge(d)
}

func pct(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v*100, 'f', digits, 64) + "%"
}

// sparkline draws vs scaled to its own max, at most w points (the newest).
// NaN points are gaps.
func sparkline(vs []float64, w int, levels []rune) string {
	if w <= 0 || len(vs) == 0 {
		return ""
	}
	if len(vs) > w {
		vs = vs[len(vs)-w:]
	}
	max := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) && v > max {
			max = v
		}
	}
	var b strings.Builder
	for _, v := range vs {
		if math.IsNaN(v) {
			b.WriteByte(' ')
			continue
		}
		i := 0
		if max > 0 {
			i = int(v / max * float64(len(levels)-1))
		}
		i = min(max0(i), len(levels)-1)
		b.WriteRune(levels[i])
	}
	return b.String()
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

// frame draws a bordered box of exactly w×h cells around body, with the
// title in the top border and a footer in the bottom one. Drawn by hand
// (not lipgloss borders) so the cost is a handful of string joins and the
// title can sit in the border line.
func frame(th themes.Theme, title, footer string, focused bool, w, h int, body []string) []string {
	if w < 4 || h < 2 {
		return blank(w, h)
	}
	bs := th.Paints.Border
	ts := th.Paints.Title
	if focused {
		bs, ts = th.Paints.BorderFocused, th.Paints.TitleFocused
	}
	bd := th.Border
	inner := w - 2
	out := make([]string, 0, h)

	t := fit(" "+title+" ", max0(inner-2), th.Ellipsis)
	t = strings.TrimRight(t, " ") + " "
	tw := ansiWidth(t)
	top := bs.Render(bd.TopLeft+bd.Top) + ts.Render(t) + bs.Render(strings.Repeat(bd.Top, max0(inner-1-tw))+bd.TopRight)
	out = append(out, top)
	left, right := bs.Render(bd.Left), bs.Render(bd.Right)
	var sb strings.Builder
	for i := 0; i < h-2; i++ {
		line := ""
		if i < len(body) {
			line = body[i]
		}
		sb.Grow(len(left) + len(right) + len(line) + inner)
		sb.WriteString(left)
		writeFit(&sb, line, inner, th.Ellipsis)
		sb.WriteString(right)
		out = append(out, sb.String())
		sb.Reset()
	}
	f := ""
	if footer != "" {
		f = fit(" "+footer+" ", max0(inner-2), th.Ellipsis)
		f = strings.TrimRight(f, " ") + " "
	}
	fw := ansiWidth(f)
	bottom := bs.Render(bd.BottomLeft + strings.Repeat(bd.Bottom, max0(inner-1-fw)))
	if f != "" {
		bottom += th.Paints.Muted.Render(f)
	}
	bottom += bs.Render(bd.Bottom + bd.BottomRight)
	if fw == 0 {
		bottom = bs.Render(bd.BottomLeft + strings.Repeat(bd.Bottom, inner) + bd.BottomRight)
	}
	out = append(out, bottom)
	return out
}

func blank(w, h int) []string {
	out := make([]string, h)
	for i := range out {
		out[i] = strings.Repeat(" ", max0(w))
	}
	return out
}

// overlay places box (lines of equal width) centred over base (lines of
// width w), cutting the covered cells out of each base line.
func overlay(base []string, box []string, w int) []string {
	if len(box) == 0 {
		return base
	}
	bw := ansi.StringWidth(box[0])
	x := max0((w - bw) / 2)
	y := max0((len(base) - len(box)) / 2)
	out := make([]string, len(base))
	copy(out, base)
	for i, l := range box {
		if y+i >= len(out) {
			break
		}
		row := out[y+i]
		out[y+i] = ansi.Cut(row, 0, x) + "\x1b[m" + l + "\x1b[m" + ansi.Cut(row, x+bw, w)
	}
	return out
}

// wrapText wraps plain text to w cells, hard-breaking long words (queries
// often have none).
func wrapText(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// joinH places blocks side by side; each block's lines already have its width.
func joinH(blocks ...[]string) []string {
	n := 0
	for _, b := range blocks {
		n = max(n, len(b))
	}
	out := make([]string, n)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.Reset()
		for _, b := range blocks {
			if i < len(b) {
				sb.WriteString(b[i])
			}
		}
		out[i] = sb.String()
	}
	return out
}

// styleIf renders s with st unless plain is set (stale data is drawn with a
// single dim style so it cannot be mistaken for live colours).
func styleIf(st themes.Paint, s string) string {
	if s == "" {
		return s
	}
	return st.Render(s)
}

func ansiWidth(s string) int {
	if w, _, ok := fastWidth(s); ok {
		return w
	}
	return ansi.StringWidth(s)
}

// containsFold reports whether hay contains needle, which is lower case.
func containsFold(hay, needle string) bool {
	return strings.Contains(strings.ToLower(hay), needle)
}
