package main

import (
	"regexp"
	"strings"
	"testing"
)

var (
	postgresTitle = regexp.MustCompile(`╭─ 3 Postgres · pg main[^─]*`)
	firstOfMany   = regexp.MustCompile(`─ 1/\d+ ─╯`)
)

// TestDemoPostgresOpensAtTheTop is issue 17's first item in the real
// binary at 80×24: pressed during the demo's pile-up, 3 shows the top of
// the sort order with the root blocker on screen, the selection on the
// first row and a marker for the rows below, none above (it opened at
// 21/30 with the blocker above the screen); z pauses the rows and says so
// in the title with their age; G scrolls to the end with the rows above
// counted.
func TestDemoPostgresOpensAtTheTop(t *testing.T) {
	bin := buildBinary(t)
	state := t.TempDir()
	s := startTmux(t, []string{"XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "FLIGHTDECK_DEMO_SPEED=8"}, bin, "--demo")
	s.run("resize-window", "-t", "fd", "-x", "80", "-y", "24")

	// The Postgres summary line says when the pile-up has its blocker.
	s.waitFor("the pile-up", contains("root blocker(s)"))
	s.keys("3")
	scr := s.waitFor("the Postgres pane at its top", func(scr string) bool {
		return rootRow.MatchString(scr) && firstOfMany.MatchString(scr) && strings.Contains(scr, "↓ ")
	})
	if strings.Contains(scr, "↑ ") {
		t.Fatalf("opened scrolled down:\n%s", scr)
	}
	lines := strings.Split(scr, "\n")
	for i, l := range lines {
		if strings.Contains(l, "PID USER") {
			if i+1 >= len(lines) || strings.Contains(lines[i+1], "more") || !strings.Contains(lines[i+1], "│") {
				t.Fatalf("no row under the column titles:\n%s", scr)
			}
			break
		}
	}

	s.keys("z")
	scr = s.waitFor("the paused title", func(scr string) bool {
		return strings.Contains(postgresTitle.FindString(scr), "· paused ")
	})
	s.keys("z")
	s.waitFor("the resumed title", func(scr string) bool {
		title := postgresTitle.FindString(scr)
		return title != "" && !strings.Contains(title, "paused")
	})

	// G picks the last row. The demo may loop meanwhile (its backends are
	// new then, and a picked row that is gone gives the selection back to
	// the top), so G is pressed again while the end is not shown.
	s.keys("G")
	s.waitFor("the end of the list", func(scr string) bool {
		if strings.Contains(scr, "↑ ") && !firstOfMany.MatchString(scr) {
			return true
		}
		s.keys("G")
		return false
	})
	s.keys("q")
}
