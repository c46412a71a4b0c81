package keymap

import (
	"strings"
	"testing"
)

func TestDefaultKeyMapHasNoConflicts(t *testing.T) {
	if cs := Conflicts(DefaultKeyMap()); len(cs) != 0 {
		t.Fatalf("default keymap conflicts: %v", cs)
	}
}

func TestConflicts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string][]string
		want      string
	}{
		{"two actions in one pane", map[string][]string{"cancel": {"K"}, "terminate": {"K"}},
			`key "K" is bound to both terminate and cancel in the postgres pane`},
		{"action key is the dialogs' yes", map[string][]string{"terminate": {"y"}},
			`key "y" is bound to both terminate and confirm_yes in a confirmation`},
		{"quit on a navigation key", map[string][]string{"quit": {"j"}},
			`key "j" is bound to both down and quit in every pane`},
		{"pane key shadows a global one", map[string][]string{"undo": {"?"}},
			`key "?" is bound to both help and undo in the rollouts pane`},
		{"two dialog keys", map[string][]string{"confirm_no": {"y"}},
			`key "y" is bound to both confirm_yes and confirm_no in dialogs`},
		{"submit opens and answers", map[string][]string{"silence": {"enter"}},
			`key "enter" is bound to both silence and submit in a confirmation`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			km := DefaultKeyMap()
			if err := ApplyOverrides(&km, tc.overrides); err != nil {
				t.Fatal(err)
			}
			cs := Conflicts(km)
			var got []string
			for _, c := range cs {
				got = append(got, c.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("conflicts:\n%s\nwant %s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
	// Keys of different panes may be the same: only one pane is focused.
	km := DefaultKeyMap()
	if err := ApplyOverrides(&km, map[string][]string{"undo": {"K"}, "silence": {"K"}}); err != nil {
		t.Fatal(err)
	}
	if cs := Conflicts(km); len(cs) != 0 {
		t.Errorf("keys of different panes reported: %v", cs)
	}
}
