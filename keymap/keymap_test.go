package keymap

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

func press(s string) tea.KeyPressMsg {
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func TestDefaultsMatchDesign(t *testing.T) {
	km := DefaultKeyMap()
	cases := map[string]key.Binding{
		"1": km.Global.Focus[0], "2": km.Global.Focus[1], "3": km.Global.Focus[2], "4": km.Global.Focus[3], "9": km.Global.Focus[8],
		"j": km.List.Down, "k": km.List.Up, "g": km.List.Top, "G": km.List.Bottom, "/": km.List.Filter,
		"s": km.Postgres.Sort, "a": km.Global.Actions, "C": km.Postgres.Cancel, "K": km.Postgres.Terminate,
		"u": km.Rollouts.Undo, "R": km.Rollouts.Restart, "S": km.Rollouts.Scale, "x": km.Alerts.Silence,
		"?": km.Global.Help, "q": km.Global.Quit,
	}
	for k, bd := range cases {
		if !key.Matches(press(k), bd) {
			t.Errorf("%q does not trigger %q", k, bd.Help().Desc)
		}
	}
	if !key.Matches(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}, km.Postgres.Tag) {
		t.Error("space does not tag")
	}
	if !key.Matches(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}, km.Global.Quit) {
		t.Error("ctrl+c does not quit")
	}
	if !key.Matches(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}, km.Global.PrevPane) {
		t.Error("shift+tab does not go back")
	}
}

func TestApplyOverrides(t *testing.T) {
	km := DefaultKeyMap()
	if err := ApplyOverrides(&km, map[string][]string{"terminate": {"X"}, "focus_postgres": {"p", "3"}}); err != nil {
		t.Fatal(err)
	}
	if key.Matches(press("K"), km.Postgres.Terminate) || !key.Matches(press("X"), km.Postgres.Terminate) {
		t.Error("terminate not remapped to X")
	}
	if km.Postgres.Terminate.Help().Key != "X" || km.Postgres.Terminate.Help().Desc != "terminate" {
		t.Errorf("help not updated: %+v", km.Postgres.Terminate.Help())
	}
	if !key.Matches(press("p"), km.Global.Focus[2]) {
		t.Error("focus_postgres not remapped")
	}
}

// TestFocusKeysByPosition: focus_N remaps the Nth pane's key; the names of
// the built-in panes stay aliases of their places, and naming one place
// twice is an error rather than a coin toss.
func TestFocusKeysByPosition(t *testing.T) {
	km := DefaultKeyMap()
	if err := ApplyOverrides(&km, map[string][]string{"focus_5": {"w"}, "focus_slos": {"!"}}); err != nil {
		t.Fatal(err)
	}
	if !key.Matches(press("w"), km.Global.Focus[4]) || key.Matches(press("5"), km.Global.Focus[4]) {
		t.Error("focus_5 not remapped to w")
	}
	if !key.Matches(press("!"), km.Global.Focus[0]) {
		t.Error("focus_slos is not the first pane's key")
	}
	err := ApplyOverrides(&km, map[string][]string{"focus_rollouts": {"r"}, "focus_4": {"4"}})
	if err == nil || !strings.Contains(err.Error(), "focus_rollouts and focus_4") {
		t.Errorf("alias and place both remapped: %v", err)
	}
	if !key.Matches(press("4"), km.Global.Focus[3]) {
		t.Error("a refused override changed the keymap")
	}
}

func TestApplyOverridesUnknown(t *testing.T) {
	km := DefaultKeyMap()
	err := ApplyOverrides(&km, map[string][]string{"termnate": {"X"}, "cancel": {"c"}, "zap": {"z"}})
	if err == nil {
		t.Fatal("unknown names accepted")
	}
	for _, want := range []string{"termnate", "zap", "valid:", "terminate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if !key.Matches(press("C"), km.Postgres.Cancel) {
		t.Error("a failed override changed the keymap")
	}
	if err := ApplyOverrides(&km, map[string][]string{"cancel": {}}); err == nil {
		t.Error("empty key list accepted")
	}
}

func TestNamesCoverKinds(t *testing.T) {
	names := strings.Join(Names(), " ")
	for _, k := range []string{"cancel", "terminate", "undo", "restart", "scale", "silence", "expire", "filter", "help", "quit", "focus_postgres"} {
		if !strings.Contains(" "+names+" ", " "+k+" ") {
			t.Errorf("Names() lacks %s", k)
		}
	}
}
