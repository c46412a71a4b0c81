package kit_test

import (
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// The pick list moves on kit.Cursor's keys and the dialog's next and
// previous keys, never past its ends; a disabled item and a choice inside
// the key guard leave it open; the close keys close it.
func TestPick(t *testing.T) {
	env := uitest.Env()
	var chosen []int
	p := &kit.Pick{Env: env, Title: "Pick", Opened: env.Exact(),
		Items:  []kit.PickItem{{Label: "a"}, {Label: "b", Disabled: "not now"}, {Label: "c"}},
		Close:  []key.Binding{env.Keys.Global.Actions},
		Choose: func(i int) (kit.Dialog, tea.Cmd) { chosen = append(chosen, i); return nil, nil }}
	press := func(k string) kit.Dialog {
		t.Helper()
		d, _ := p.Update(uitest.Key(k))
		return d
	}
	for _, c := range []struct {
		key  string
		want int
	}{{"j", 1}, {"G", 2}, {"j", 2}, {"tab", 2}, {"shift+tab", 1}, {"g", 0}, {"k", 0}} {
		if press(c.key); p.Selected() != c.want {
			t.Fatalf("after %s: on %d, want %d", c.key, p.Selected(), c.want)
		}
	}
	if d := press("enter"); d != p || len(chosen) != 0 {
		t.Fatal("chosen inside the key guard")
	}
	env.SetClock(env.Exact().Add(kit.KeyGuard + time.Millisecond))
	press("j")
	if d := press("enter"); d != p || len(chosen) != 0 {
		t.Fatal("a disabled item was chosen")
	}
	press("j")
	if d := press("enter"); d != nil || len(chosen) != 1 || chosen[0] != 2 {
		t.Fatalf("choosing: %v", chosen)
	}
	if d := press("a"); d != nil {
		t.Fatal("the close key left it open")
	}
	dc := p.Content()
	if !dc.Window || dc.Focus != 2 || len(dc.Sections[0].Items) != 3 {
		t.Fatalf("content %+v", dc)
	}
}
