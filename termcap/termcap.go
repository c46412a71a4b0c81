// Package termcap reads what a terminal can do from its environment — TERM
// and the colour variables; the process's own for the local terminal, what
// the SSH client sent for a served session — so that both follow one rule:
// which colours to draw with, and whether the cockpit can be drawn there at
// all.
//
// colorprofile reads TERM, COLORTERM, NO_COLOR and CLICOLOR, but takes any
// TERM it does not know for a 16-colour terminal; a vt100 has no colour at
// all. termcap also asks the terminal's terminfo entry: no colours there
// means none on screen, and no cursor addressing means no cockpit.
package termcap

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/colorprofile"
	"github.com/xo/terminfo"
)

// ErrNoCursor is why a terminal is refused: the cockpit is a full-screen
// program and needs to move the cursor, which a dumb terminal cannot.
var ErrNoCursor = errors.New("flightdeck needs a terminal with cursor addressing")

// Check refuses a terminal that cannot address the cursor: TERM=dumb, or a
// TERM whose terminfo entry has no cursor_address (cup). An unset TERM, or
// one this machine has no entry for, is given the benefit of the doubt (an
// SSH client's terminal is often unknown to the server). The error wraps
// ErrNoCursor and says what to do.
func Check(environ []string) error {
	term := Lookup(environ, "TERM")
	dumb := term == "dumb"
	if !dumb {
		if ti := entry(term); ti != nil && len(ti.Strings[terminfo.CursorAddress]) == 0 {
			dumb = true
		}
	}
	if !dumb {
		return nil
	}
	shown := "TERM=" + term
	if !safeName(term) {
		shown = "this TERM"
	}
	return fmt.Errorf("%w (%s has none): run it in a terminal emulator, or set TERM to your terminal's type (e.g. TERM=xterm-256color)",
		ErrNoCursor, shown)
}

// Profile is the colour profile for a terminal known only by its
// environment (an SSH client's): colorprofile.Env's reading, with no
// colours when the terminfo entry has none.
func Profile(environ []string) colorprofile.Profile {
	return capped(colorprofile.Env(environ), environ)
}

// Detect is Profile for this process's own terminal, written to at out:
// colorprofile.Detect, which may also ask the terminal multiplexer, with
// the same cap.
func Detect(out io.Writer, environ []string) colorprofile.Profile {
	return capped(colorprofile.Detect(out, environ), environ)
}

// capped lowers p to ASCII (attributes, no colours) when the terminfo
// entry of TERM has no colours, unless the environment insists on colours
// (COLORTERM, CLICOLOR_FORCE): the user knows their terminal better.
func capped(p colorprofile.Profile, environ []string) colorprofile.Profile {
	if p <= colorprofile.ASCII || Lookup(environ, "COLORTERM") != "" || truthy(Lookup(environ, "CLICOLOR_FORCE")) {
		return p
	}
	if ti := entry(Lookup(environ, "TERM")); ti != nil && ti.Num(terminfo.MaxColors) < 8 {
		return colorprofile.ASCII
	}
	return p
}

// entry is TERM's terminfo entry, nil when there is none (or the name
// could reach outside the terminfo directories: TERM comes from the
// client).
func entry(term string) *terminfo.Terminfo {
	if !safeName(term) {
		return nil
	}
	ti, err := terminfo.Load(term)
	if err != nil {
		return nil
	}
	return ti
}

// safeName is a terminal type as terminfo names them: letters, digits and
// a few marks, never a path.
func safeName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.+", r):
		default:
			return false
		}
	}
	return true
}

func truthy(s string) bool { return s != "" && s != "0" && !strings.EqualFold(s, "false") }

// Lookup is key's value in environ ("KEY=value"; the last wins, as in
// os/exec), "" when absent.
func Lookup(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
