package themes

import (
	"reflect"
	"strings"

	"charm.land/lipgloss/v2"
)

// Paint is a style reduced to the escape sequences around its text, so a
// hot path (a table row, every frame) costs two string concatenations
// instead of a lipgloss render. It is only for single-line text without
// tabs, which is what the panes draw after fitting a cell.
type Paint struct {
	Prefix, Suffix string
}

// PaintOf captures st's escape sequences by rendering a marker.
func PaintOf(st lipgloss.Style) Paint {
	const mark = "\x00"
	out := st.Render(mark)
	i := strings.Index(out, mark)
	if i < 0 {
		return Paint{}
	}
	return Paint{Prefix: out[:i], Suffix: out[i+len(mark):]}
}

// Render wraps s in the paint; empty text stays empty, as with lipgloss.
func (p Paint) Render(s string) string {
	if s == "" || p.Prefix == "" {
		return s
	}
	return p.Prefix + s + p.Suffix
}

// Paints holds a Paint for every role in Styles (same field names), plus
// the few combinations the panes use.
type Paints struct {
	Base, Muted, Accent, Bold Paint
	OK, Warn, Crit            Paint
	Page, Ticket, Unknown     Paint
	Selected                  Paint
	Tagged                    Paint
	Dim                       Paint
	Error                     Paint
	Header, HeaderProd        Paint
	Title, TitleFocused       Paint
	Border, BorderFocused     Paint
	Recent                    Paint
	HelpKey, HelpDesc         Paint
	Disabled                  Paint
	Button, ButtonFocused     Paint
	// WarnBold and BaseBold are Warn and Base with bold forced (group
	// headers).
	WarnBold, BaseBold Paint
}

// paintsOf fills every Paints field from the Styles field of the same name.
func paintsOf(st Styles) Paints {
	var p Paints
	sv, pv := reflect.ValueOf(st), reflect.ValueOf(&p).Elem()
	for i := 0; i < sv.NumField(); i++ {
		if f := pv.FieldByName(sv.Type().Field(i).Name); f.IsValid() {
			f.Set(reflect.ValueOf(PaintOf(sv.Field(i).Interface().(lipgloss.Style))))
		}
	}
	p.WarnBold = PaintOf(st.Warn.Bold(true))
	p.BaseBold = PaintOf(st.Base.Bold(true))
	return p
}
