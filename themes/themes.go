// Package themes builds the cockpit's look in layers, as crush does: a
// palette of colour roles, a Styles builder that turns any palette into the
// styles the panes use, and named themes. Panes only ever ask for a role
// ("crit", "stale"), so a theme or NO_COLOR can never make a state unreadable.
package themes

import (
	"fmt"
	"image/color"
	"os"
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
)

// Palette assigns a colour to every role the UI uses but Base: plain text
// is drawn in the terminal's own foreground, which the user chose to be
// legible on their background, and which costs nothing to send when a
// counter in a row changes every second (a coloured cell is re-sent with
// its colour set and reset).
type Palette struct {
	Muted, Accent            color.Color
	OK, Warn, Crit           color.Color
	Page, Ticket             color.Color
	SelectionFG, SelectionBG color.Color
	Border, FocusBorder      color.Color
	Dim                      color.Color // stale data
	HeaderFG, HeaderBG       color.Color
	ProdFG, ProdBG           color.Color // the environment badge in production
	Tagged                   color.Color
}

// Styles are the rendered roles. Every field is safe to use with NoColor:
// the roles that must stay distinguishable keep bold, reverse or underline.
type Styles struct {
	Base, Muted, Accent, Bold lipgloss.Style
	OK, Warn, Crit            lipgloss.Style
	Page, Ticket, Unknown     lipgloss.Style
	Selected                  lipgloss.Style
	Tagged                    lipgloss.Style
	Dim                       lipgloss.Style
	Error                     lipgloss.Style
	Header, HeaderProd        lipgloss.Style
	Title, TitleFocused       lipgloss.Style
	Border, BorderFocused     lipgloss.Style
	Recent                    lipgloss.Style // "deployed 4m ago"
	HelpKey, HelpDesc         lipgloss.Style
	Disabled                  lipgloss.Style
	Button, ButtonFocused     lipgloss.Style
}

// Theme is a named palette with its styles and the glyphs the terminal can
// show.
type Theme struct {
	Name    string
	Palette Palette
	Styles  Styles
	// Paints are Styles as prefix/suffix pairs for the per-frame paths.
	Paints Paints
	// NoColor is set when colours are off (NO_COLOR or asked for); styles
	// then carry only bold/reverse/underline.
	NoColor bool
	// ASCII restricts borders and glyphs to +-| and plain ASCII for poor
	// terminals (serial consoles, some bastion setups).
	ASCII  bool
	Border lipgloss.Border
	// Spark are the sparkline levels, lowest first.
	Spark []rune
	// Ellipsis marks truncated text.
	Ellipsis string
}

var palettes = map[string]Palette{
	"dark": {
		Muted: lipgloss.Color("#7B8394"), Accent: lipgloss.Color("#88C0D0"),
		OK: lipgloss.Color("#A3BE8C"), Warn: lipgloss.Color("#EBCB8B"), Crit: lipgloss.Color("#FF6B6B"),
		Page: lipgloss.Color("#FF6B6B"), Ticket: lipgloss.Color("#EBCB8B"),
		SelectionFG: lipgloss.Color("#ECEFF4"), SelectionBG: lipgloss.Color("#434C5E"),
		Border: lipgloss.Color("#4C566A"), FocusBorder: lipgloss.Color("#88C0D0"),
		Dim: lipgloss.Color("#5C6370"), HeaderFG: lipgloss.Color("#ECEFF4"), HeaderBG: lipgloss.Color("#3B4252"),
		ProdFG: lipgloss.Color("#FFFFFF"), ProdBG: lipgloss.Color("#BF616A"), Tagged: lipgloss.Color("#B48EAD"),
	},
	"light": {
		Muted: lipgloss.Color("#6E7781"), Accent: lipgloss.Color("#0969DA"),
		OK: lipgloss.Color("#1A7F37"), Warn: lipgloss.Color("#9A6700"), Crit: lipgloss.Color("#CF222E"),
		Page: lipgloss.Color("#CF222E"), Ticket: lipgloss.Color("#9A6700"),
		SelectionFG: lipgloss.Color("#24292F"), SelectionBG: lipgloss.Color("#DDF4FF"),
		Border: lipgloss.Color("#D0D7DE"), FocusBorder: lipgloss.Color("#0969DA"),
		Dim: lipgloss.Color("#8C959F"), HeaderFG: lipgloss.Color("#24292F"), HeaderBG: lipgloss.Color("#EAEEF2"),
		ProdFG: lipgloss.Color("#FFFFFF"), ProdBG: lipgloss.Color("#CF222E"), Tagged: lipgloss.Color("#8250DF"),
	},
	"high-contrast": {
		Muted: lipgloss.Color("7"), Accent: lipgloss.Color("14"),
		OK: lipgloss.Color("10"), Warn: lipgloss.Color("11"), Crit: lipgloss.Color("9"),
		Page: lipgloss.Color("9"), Ticket: lipgloss.Color("11"),
		SelectionFG: lipgloss.Color("0"), SelectionBG: lipgloss.Color("15"),
		Border: lipgloss.Color("15"), FocusBorder: lipgloss.Color("11"),
		Dim: lipgloss.Color("8"), HeaderFG: lipgloss.Color("0"), HeaderBG: lipgloss.Color("15"),
		ProdFG: lipgloss.Color("15"), ProdBG: lipgloss.Color("9"), Tagged: lipgloss.Color("13"),
	},
}

// Names lists the built-in themes.
func Names() []string {
	out := make([]string, 0, len(palettes))
	for n := range palettes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns a named theme for this process's terminal: ForEnv with the
// process environment.
func Get(name string) (Theme, error) { return ForEnv(name, os.Getenv) }

// ForEnv returns a named theme for a session whose environment getenv
// reads: NO_COLOR (any non-empty value, per no-color.org) turns colours off.
// A session over SSH has its own environment, so its choice is not the
// server process's. An unknown name is an error naming the valid ones.
func ForEnv(name string, getenv func(string) string) (Theme, error) {
	p, ok := palettes[name]
	if !ok {
		return Theme{}, fmt.Errorf("theme %q unknown; valid: %s", name, strings.Join(Names(), ", "))
	}
	noColor := getenv != nil && getenv("NO_COLOR") != ""
	return Build(name, p, noColor, false), nil
}

// MustGet is Get for names known to exist (tests, defaults).
func MustGet(name string) Theme {
	t, err := Get(name)
	if err != nil {
		panic(err)
	}
	return t
}

// WithNoColor returns the theme with colours off: for NO_COLOR, and for
// stable golden screens.
func (t Theme) WithNoColor() Theme { return Build(t.Name, t.Palette, true, t.ASCII) }

// WithASCII returns the theme restricted to ASCII borders and glyphs.
func (t Theme) WithASCII() Theme { return Build(t.Name, t.Palette, t.NoColor, true) }

// Build turns a palette into a theme. With noColor every style keeps only
// its attributes, so selection (reverse) and criticality (bold) survive.
func Build(name string, p Palette, noColor, ascii bool) Theme {
	fg := func(s lipgloss.Style, c color.Color) lipgloss.Style {
		if noColor {
			return s
		}
		return s.Foreground(c)
	}
	bg := func(s lipgloss.Style, c color.Color) lipgloss.Style {
		if noColor {
			return s
		}
		return s.Background(c)
	}
	n := lipgloss.NewStyle
	st := Styles{
		Base:          n(),
		Muted:         fg(n(), p.Muted),
		Accent:        fg(n(), p.Accent),
		Bold:          n().Bold(true),
		OK:            fg(n(), p.OK),
		Warn:          fg(n(), p.Warn).Bold(noColor),
		Crit:          fg(n(), p.Crit).Bold(true),
		Page:          fg(n(), p.Page).Bold(true),
		Ticket:        fg(n(), p.Ticket),
		Tagged:        fg(n(), p.Tagged).Bold(true),
		Dim:           fg(n(), p.Dim).Faint(noColor),
		Error:         fg(n(), p.Crit).Bold(true),
		Recent:        fg(n(), p.Warn).Bold(true),
		Title:         fg(n(), p.Muted).Bold(true),
		TitleFocused:  fg(n(), p.Accent).Bold(true),
		Border:        fg(n(), p.Border),
		BorderFocused: fg(n(), p.FocusBorder).Bold(noColor),
		HelpKey:       fg(n(), p.Accent).Bold(true),
		HelpDesc:      fg(n(), p.Muted),
		Disabled:      fg(n(), p.Dim).Faint(noColor),
		Button:        fg(n(), p.Muted),
		Unknown:       fg(n(), p.Muted),
	}
	st.Header = bg(fg(n(), p.HeaderFG), p.HeaderBG).Bold(true)
	st.HeaderProd = bg(fg(n(), p.ProdFG), p.ProdBG).Bold(true)
	if noColor {
		st.Selected = n().Reverse(true)
		st.ButtonFocused = n().Reverse(true).Bold(true)
		st.HeaderProd = n().Reverse(true).Bold(true)
	} else {
		st.Selected = n().Foreground(p.SelectionFG).Background(p.SelectionBG).Bold(true)
		st.ButtonFocused = n().Foreground(p.SelectionFG).Background(p.SelectionBG).Bold(true)
	}
	t := Theme{Name: name, Palette: p, Styles: st, Paints: paintsOf(st), NoColor: noColor, ASCII: ascii,
		Border: lipgloss.RoundedBorder(), Spark: []rune("▁▂▃▄▅▆▇█"), Ellipsis: "…"}
	if ascii {
		t.Border = lipgloss.ASCIIBorder()
		t.Spark = []rune("_.-=+*#@")
		t.Ellipsis = "~"
	}
	return t
}
