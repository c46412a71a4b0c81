package kit

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Fit pads or truncates s to exactly w cells. Widths are measured with the
// ANSI-aware functions so styled and wide text (CJK, emoji) never breaks a
// column or a border; the common case (ASCII, box drawing, our glyphs, SGR
// colours) takes a fast path that gives the same answer without grapheme
// segmentation. A tab would move the terminal's cursor to the next stop, so
// it is drawn as a space.
func Fit(s string, w int, ell string) string {
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
		sw = Width(s)
	}
	if sw < w {
		s += Spaces(w - sw)
	}
	return s
}

// WriteFit is Fit writing into sb, without the intermediate string in the
// common (fast-path) case: a row is one buffer, not a string per cell.
func WriteFit(sb *strings.Builder, s string, w int, ell string) {
	if w <= 0 {
		return
	}
	sw, plain, ok := fastWidth(s)
	if !ok || (sw > w && !plain) {
		sb.WriteString(Fit(s, w, ell))
		return
	}
	if sw > w {
		s = truncPlain(s, w, ell)
		sw = w
	}
	sb.WriteString(s)
	sb.WriteString(Spaces(w - sw))
}

// WriteFitRight is FitRight writing into sb.
func WriteFitRight(sb *strings.Builder, s string, w int, ell string) {
	if sw, _, ok := fastWidth(s); ok && sw < w {
		sb.WriteString(Spaces(w - sw))
		sb.WriteString(s)
		return
	}
	WriteFit(sb, s, w, ell)
}

// FitRight right-aligns s in w cells (numbers, ages).
func FitRight(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	sw, _, ok := fastWidth(s)
	if !ok {
		sw = ansi.StringWidth(s)
	}
	if sw >= w {
		return Fit(s, w, ell)
	}
	return Spaces(w-sw) + s
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

// Spaces returns n blanks without allocating for the usual widths.
func Spaces(n int) string {
	if n <= 0 {
		return ""
	}
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}

var blanks = strings.Repeat(" ", 512)

// Width is how many cells s takes on screen, escape sequences excluded.
func Width(s string) int {
	if w, _, ok := fastWidth(s); ok {
		return w
	}
	return ansi.StringWidth(s)
}

// Wrap wraps plain text to w cells, hard-breaking long words (queries
// often have none).
func Wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// JoinH places blocks side by side; each block's lines already have its width.
func JoinH(blocks ...[]string) []string {
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

// Overlay places box (lines of equal width) centred over base (lines of
// width w), cutting the covered cells out of each base line.
func Overlay(base []string, box []string, w int) []string {
	if len(box) == 0 {
		return base
	}
	bw := ansi.StringWidth(box[0])
	x := max(0, (w-bw)/2)
	y := max(0, (len(base)-len(box))/2)
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

// Blank is h empty lines of w cells.
func Blank(w, h int) []string {
	out := make([]string, max(0, h))
	for i := range out {
		out[i] = Spaces(w)
	}
	return out
}

// ContainsFold reports whether hay contains needle, which is lower case.
func ContainsFold(hay, needle string) bool {
	return strings.Contains(strings.ToLower(hay), needle)
}

// CutMiddle fits s in w cells by cutting out its middle, so both ends stay:
// names that differ only at the end (nudgecampaign-api,
// nudgecampaign-worker) stay apart, where Fit would leave their common
// start. The end gets the odd cell. s is returned as it is when it fits;
// it must hold no escape sequences.
func CutMiddle(s string, w int, ell string) string {
	sw := Width(s)
	if sw <= w {
		return s
	}
	keep := w - Width(ell)
	if keep < 2 {
		return Fit(s, w, ell)
	}
	head := keep / 2
	return ansi.Truncate(s, head, "") + ell + ansi.TruncateLeft(s, sw-(keep-head), "")
}
