package keymap

import (
	"fmt"
	"reflect"
	"sort"

	"charm.land/bubbles/v2/key"
)

// Conflict is a key bound to two actions that can both be live at once, or
// an action key that is also the dialogs' yes: pressed twice, it would open
// a confirmation and answer it.
type Conflict struct {
	Key string
	// A and B are the two action names, as in the config's keys: section.
	A, B string
	// Where is the context in which both are live ("the postgres pane",
	// "every pane", "dialogs").
	Where string
}

func (c Conflict) String() string {
	return fmt.Sprintf("key %q is bound to both %s and %s in %s", c.Key, c.A, c.B, c.Where)
}

// Shared groups are live in every pane; Dialog is live in dialogs; every
// other group of KeyMap is live only in its own pane. They are found by
// the struct's shape, so a group or binding added to KeyMap is checked
// without listing it here.
const (
	groupGlobal = "Global"
	groupList   = "List"
	groupDialog = "Dialog"
)

// confirmOpeners name the actions whose key opens a confirmation dialog
// (or the action menu that leads to one): their key must not be the
// dialogs' yes or submit key.
var confirmOpeners = []string{"actions", "cancel", "terminate", "undo", "restart", "scale", "silence", "expire"}

// Conflicts lists the keys of km bound to two actions that are live in the
// same context — a pane (its own keys plus the global and list keys), or a
// dialog — and the action keys that are also the dialogs' yes or submit
// key. An empty result means every key does one thing wherever it is
// pressed. The order is stable: by context, then key.
func Conflicts(km KeyMap) []Conflict {
	groups := groupsOf(&km)
	var out []Conflict
	check := func(where string, names []string) {
		owner := map[string]string{}
		for _, name := range names {
			for _, k := range groups.binding[name].Keys() {
				if other, ok := owner[k]; ok && other != name {
					out = append(out, Conflict{Key: k, A: name, B: other, Where: where})
					continue
				}
				owner[k] = name
			}
		}
	}
	shared := append(append([]string(nil), groups.names[groupGlobal]...), groups.names[groupList]...)
	check("every pane", shared)
	for _, g := range groups.order {
		if g == groupGlobal || g == groupList || g == groupDialog {
			continue
		}
		// Only report what involves the pane's own keys: shared clashes
		// are reported once, above.
		before := len(out)
		check("the "+paneName(g)+" pane", append(append([]string(nil), groups.names[g]...), shared...))
		kept := out[:before]
		for _, c := range out[before:] {
			if groups.group[c.A] == g || groups.group[c.B] == g {
				kept = append(kept, c)
			}
		}
		out = kept
	}
	check("dialogs", groups.names[groupDialog])
	for _, name := range confirmOpeners {
		b, ok := groups.binding[name]
		if !ok {
			continue
		}
		for _, dialogKey := range []string{"confirm_yes", "submit"} {
			d, ok := groups.binding[dialogKey]
			if !ok {
				continue
			}
			for _, k := range b.Keys() {
				for _, dk := range d.Keys() {
					if k == dk {
						out = append(out, Conflict{Key: k, A: name, B: dialogKey,
							Where: "a confirmation (pressed twice, it opens and answers one)"})
					}
				}
			}
		}
	}
	return out
}

// keyGroups is KeyMap seen as named bindings in groups.
type keyGroups struct {
	order   []string                // group names in struct order
	names   map[string][]string     // group → action names, sorted
	group   map[string]string       // action name → group
	binding map[string]*key.Binding // action name → binding
}

// groupsOf maps each action name (bindings()) to the KeyMap group whose
// field holds its binding.
func groupsOf(km *KeyMap) keyGroups {
	byPtr := map[*key.Binding]string{}
	g := keyGroups{names: map[string][]string{}, group: map[string]string{}, binding: km.bindings()}
	v := reflect.ValueOf(km).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		g.order = append(g.order, name)
		f := v.Field(i)
		if f.Kind() != reflect.Struct {
			continue
		}
		for j := range f.NumField() {
			if b, ok := f.Field(j).Addr().Interface().(*key.Binding); ok {
				byPtr[b] = name
			}
		}
	}
	for action, b := range g.binding {
		grp := byPtr[b]
		g.group[action] = grp
		g.names[grp] = append(g.names[grp], action)
	}
	for _, names := range g.names {
		sort.Strings(names)
	}
	return g
}

// paneName is how a group is named in messages: "Postgres" → "postgres".
func paneName(group string) string {
	b := []byte(group)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
