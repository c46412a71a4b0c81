package kit

import (
	"strings"

	"flightdeck/themes"
)

// Frame draws a bordered box of exactly w×h cells around body, with the
// title in the top border and a footer in the bottom one. Drawn by hand
// (not lipgloss borders) so the cost is a handful of string joins and the
// title can sit in the border line.
func Frame(th themes.Theme, title, footer string, focused bool, w, h int, body []string) []string {
	if w < 4 || h < 2 {
		return Blank(w, h)
	}
	bs := th.Paints.Border
	ts := th.Paints.Title
	if focused {
		bs, ts = th.Paints.BorderFocused, th.Paints.TitleFocused
	}
	bd := th.Border
	inner := w - 2
	out := make([]string, 0, h)

	t := Fit(" "+title+" ", max(0, inner-2), th.Ellipsis)
	t = strings.TrimRight(t, " ") + " "
	tw := Width(t)
	top := bs.Render(bd.TopLeft+bd.Top) + ts.Render(t) + bs.Render(strings.Repeat(bd.Top, max(0, inner-1-tw))+bd.TopRight)
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
		WriteFit(&sb, line, inner, th.Ellipsis)
		sb.WriteString(right)
		out = append(out, sb.String())
		sb.Reset()
	}
	f := ""
	if footer != "" {
		f = Fit(" "+footer+" ", max(0, inner-2), th.Ellipsis)
		f = strings.TrimRight(f, " ") + " "
	}
	fw := Width(f)
	bottom := bs.Render(bd.BottomLeft + strings.Repeat(bd.Bottom, max(0, inner-1-fw)))
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
