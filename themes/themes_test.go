package themes

import (
	"reflect"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
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

// TestPaintsMatchStyles: a Paint must draw exactly what its Style draws for
// the single-line text the panes give it, in every theme and mode.
func TestPaintsMatchStyles(t *testing.T) {
	samples := []string{"x", "  padded cell  ", "idle-tx  12m01s 4711 UPDATE … ▶ ● 日本"}
	for _, n := range Names() {
		base := MustGet(n)
		for _, th := range []Theme{base, base.WithNoColor(), base.WithASCII()} {
			sv, pv := reflect.ValueOf(th.Styles), reflect.ValueOf(th.Paints)
			for i := 0; i < sv.NumField(); i++ {
				name := sv.Type().Field(i).Name
				pf := pv.FieldByName(name)
				if !pf.IsValid() {
					t.Errorf("Paints lacks %s", name)
					continue
				}
				st := sv.Field(i).Interface().(lipgloss.Style)
				p := pf.Interface().(Paint)
				for _, s := range samples {
					if got, want := p.Render(s), st.Render(s); got != want {
						t.Errorf("%s noColor=%v %s(%q) = %q, style gives %q", n, th.NoColor, name, s, got, want)
					}
				}
			}
			if got, want := th.Paints.WarnBold.Render("w"), th.Styles.Warn.Bold(true).Render("w"); got != want {
				t.Errorf("WarnBold = %q, want %q", got, want)
			}
		}
	}
}

// TestForEnvReadsTheSessionsEnvironment: a session's NO_COLOR decides, not
// the process's.
func TestForEnvReadsTheSessionsEnvironment(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	th, err := ForEnv("light", env(map[string]string{"NO_COLOR": "1"}))
	if err != nil || !th.NoColor || th.Name != "light" {
		t.Fatalf("session with NO_COLOR: %+v %v", th.NoColor, err)
	}
	t.Setenv("NO_COLOR", "1")
	th, err = ForEnv("dark", env(map[string]string{"TERM": "xterm-256color"}))
	if err != nil || th.NoColor {
		t.Fatalf("session without NO_COLOR took the process's: %v %v", th.NoColor, err)
	}
	if th, _ := ForEnv("dark", nil); th.NoColor {
		t.Fatal("an empty environment turned colours off")
	}
	if _, err := ForEnv("solarized", env(nil)); err == nil || !strings.Contains(err.Error(), "solarized") {
		t.Fatalf("unknown theme: %v", err)
	}
}
