package world

import (
	"log/slog"
	"sort"

	"flightdeck/config"
	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/themes"
)

// Check is `flightdeck config check` beyond what config.Load judges: the
// key overrides and the theme (CheckKeys), the runbooks, and every
// configured source constructed without connecting, so a problem only a
// backend can judge (a template, a DSN) is an error at file:line. Problems
// outside the file (no kubeconfig on this machine) go to warn.
func Check(cfg *config.Config, warn func(error)) error {
	if err := CheckKeys(cfg); err != nil {
		return err
	}
	books, err := runbook.LoadAll(cfg.Runbooks)
	if err != nil {
		return err
	}
	for _, e := range unknownSinks(cfg, books) {
		warn(e)
	}
	return checkSources(cfg, warn)
}

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

// CheckKeys validates key overrides one name at a time, so the error can
// point at the line of the offending name, then the theme's name. Loading a
// config for the cockpit runs it too: a broken key stops startup as broken
// config does.
func CheckKeys(cfg *config.Config) error {
	names := make([]string, 0, len(cfg.Keys))
	for name := range cfg.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		km := keymap.DefaultKeyMap()
		if err := keymap.ApplyOverrides(&km, map[string][]string{name: cfg.Keys[name]}); err != nil {
			return cfg.Errorf("keys."+name, "%v", err)
		}
	}
	if err := keyConflicts(cfg); err != nil {
		return err
	}
	if err := checkTwoPersonActions(cfg); err != nil {
		return err
	}
	if _, err := themes.ForEnv(cfg.Theme, nil); err != nil {
		return cfg.Errorf("theme", "%v", err)
	}
	return nil
}

// checkSources constructs (without connecting) every configured source, so
// config check catches what only a backend can judge (templates, DSNs).
// Problems outside the file (no kubeconfig on this machine) are warnings.
func checkSources(cfg *config.Config, warn func(error)) error {
	w := &World{hub: sources.NewHub(nil), caps: ops.Capabilities{}, log: slog.New(slog.DiscardHandler)}
	defer w.Close()
	return w.addLiveSources(cfg, warn)
}
