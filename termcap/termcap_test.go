package termcap

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/xo/terminfo"
)

// needEntries skips when this machine has no terminfo database (the rules
// that do not need one are tested regardless).
func needEntries(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := terminfo.Load(n); err != nil {
			t.Skipf("no terminfo entry for %s here (install ncurses-base): %v", n, err)
		}
	}
}

func TestProfileFollowsTheTerminfoEntry(t *testing.T) {
	needEntries(t, "vt100", "xterm-256color", "xterm")
	for _, c := range []struct {
		env  []string
		want colorprofile.Profile
	}{
		{[]string{"TERM=vt100"}, colorprofile.ASCII}, // colorprofile alone says ANSI
		{[]string{"TERM=vt100", "COLORTERM=truecolor"}, colorprofile.TrueColor},
		{[]string{"TERM=vt100", "CLICOLOR_FORCE=1"}, colorprofile.ANSI},
		{[]string{"TERM=xterm-256color"}, colorprofile.ANSI256},
		{[]string{"TERM=xterm"}, colorprofile.ANSI},
		{[]string{"TERM=xterm-256color", "NO_COLOR=1"}, colorprofile.ASCII},
		{[]string{"TERM=no-such-terminal-here"}, colorprofile.ANSI}, // unknown: colorprofile's reading stands
		{[]string{"TERM=dumb"}, colorprofile.NoTTY},
	} {
		if got := Profile(c.env); got != c.want {
			t.Errorf("%q: %v, want %v", c.env, got, c.want)
		}
	}
}

func TestCheckRefusesTerminalsWithoutCursorAddressing(t *testing.T) {
	err := Check([]string{"TERM=dumb"})
	if !errors.Is(err, ErrNoCursor) || !strings.HasPrefix(err.Error(), "flightdeck needs a terminal with cursor addressing (TERM=dumb has none)") {
		t.Fatalf("dumb: %v", err)
	}
	for _, env := range [][]string{nil, {"TERM=no-such-terminal-here"}, {"TERM=../../../../etc/passwd"}, {"TERM=xterm-256color"}} {
		if err := Check(env); err != nil {
			t.Errorf("%q refused: %v", env, err)
		}
	}
	needEntries(t, "vt100")
	if err := Check([]string{"TERM=vt100"}); err != nil {
		t.Errorf("vt100 addresses its cursor: %v", err)
	}
}

func TestNamesThatAreNotTerminalTypes(t *testing.T) {
	for _, s := range []string{"", ".", "..", "../x", "a/b", "x\x1b]0;t\a", strings.Repeat("x", 65)} {
		if safeName(s) {
			t.Errorf("%q accepted as a terminal type", s)
		}
	}
	for _, s := range []string{"xterm-256color", "screen.xterm-256color", "rxvt-unicode+256", "vt100"} {
		if !safeName(s) {
			t.Errorf("%q refused", s)
		}
	}
}
