package themes

import (
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	for _, n := range []string{"dark", "light", "high-contrast"} {
		if _, err := Get(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	_, err := Get("solarized")
	if err == nil || !strings.Contains(err.Error(), "high-contrast") || !strings.Contains(err.Error(), "solarized") {
		t.Errorf("unknown theme error = %v", err)
	}
}

func TestNoColorKeepsAttributes(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	th, err := Get("dark")
	if err != nil {
		t.Fatal(err)
	}
	if !th.NoColor {
		t.Fatal("NO_COLOR ignored")
	}
	out := th.Styles.Crit.Render("x")
	if strings.Contains(out, "38;") || strings.Contains(out, "48;") {
		t.Errorf("colour in NO_COLOR output: %q", out)
	}
	if !th.Styles.Selected.GetReverse() || !th.Styles.Crit.GetBold() {
		t.Error("selection/crit lost their attributes")
	}
}

func TestASCII(t *testing.T) {
	th := MustGet("dark").WithASCII()
	for _, s := range []string{th.Border.Top, th.Border.Left, th.Border.TopLeft, string(th.Spark), th.Ellipsis} {
		for _, r := range s {
			if r > 127 {
				t.Errorf("non-ASCII glyph %q", r)
			}
		}
	}
}
