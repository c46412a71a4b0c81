package config

import (
	"slices"
	"strconv"
	"strings"
)

// PaneNames are the cockpit's built-in panes as hide_panes names them, in
// focus-key order.
var PaneNames = []string{"slos", "alerts", "postgres", "rollouts", "aws"}

// checkPanes validates hide_panes: known names, each once, and at least
// one pane left to show. It is called from validate.
func (c *Config) checkPanes() Errors {
	var errs Errors
	seen := map[string]bool{}
	for i, name := range c.HidePanes {
		path := "hide_panes[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(PaneNames, name):
			errs = append(errs, c.errAt(path, "unknown pane %q (one of %s)", name, strings.Join(PaneNames, ", ")))
		case seen[name]:
			errs = append(errs, c.errAt(path, "%q is listed twice", name))
		}
		seen[name] = true
	}
	if len(errs) == 0 && len(seen) == len(PaneNames) {
		errs = append(errs, c.errAt("hide_panes", "hides every pane: leave at least one"))
	}
	return errs
}

// PaneSetup says what to add to this config for the named pane to have
// data — "add kubernetes: to the config" — for a pane that has none.
func (c *Config) PaneSetup(pane string) string {
	switch pane {
	case "slos":
		if c.Prometheus != nil {
			return "add slos: to the config (computed on prometheus:)"
		}
		return "add prometheus: and slos: to the config"
	case "alerts":
		return "add alertmanager: (or prometheus:) to the config"
	case "rollouts":
		return "add kubernetes: to the config"
	case "postgres", "aws":
		return "add " + pane + ": to the config"
	}
	return ""
}
