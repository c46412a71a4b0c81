package slo

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// TestDetailNamesWindowsLikeTheColumns: the detail view writes the 1d burn
// window as 1d (it said 24h next to 3d), and whole-day SLO windows in days.
func TestDetailNamesWindowsLikeTheColumns(t *testing.T) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "1"})
	p.SetSize(120, 30)
	p.SetSnapshot(uitest.AllSnaps()[0])
	p.HandleKey(uitest.Key("enter"))
	out := ansi.Strip(strings.Join(p.View(true), "\n"))
	for _, want := range []string{"over 30d", "burn: 5m 21.3x  30m 21.3x  1h 15.2x  2h 15.2x  6h 4.1x  1d 4.1x  3d 1.2x"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "24h") {
		t.Errorf("detail still says 24h:\n%s", out)
	}
}
