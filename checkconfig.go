package main

import (
	"flightdeck/config"
	"flightdeck/keymap"
)

// keyConflicts refuses key overrides that bind one key to two actions live
// at the same time (or an action key to the dialogs' yes), at the line of
// the overridden name.
func keyConflicts(cfg *config.Config) error {
	km := keymap.DefaultKeyMap()
	if err := keymap.ApplyOverrides(&km, cfg.Keys); err != nil {
		return err
	}
	var errs config.Errors
	for _, c := range keymap.Conflicts(km) {
		name := c.A
		if _, ok := cfg.Keys[name]; !ok {
			name = c.B
		}
		errs = append(errs, cfg.ErrorAt("keys."+name, "%s", c))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
