package world

import (
	"fmt"
	"slices"
	"strings"

	"flightdeck/config"
	"flightdeck/runbook"
)

// unknownSinks are the notify steps whose sink the config does not name,
// one problem per step, at the step's file and line: the step would be
// refused when it runs ("no notify sink"), in the middle of an incident,
// when it is too late to add the sink. The runbooks shipped with
// flightdeck are left out: their notify steps name the manual's sinks
// (incidents, critical-alerts), which a config without them does not
// want, and saying so on every check would drown the warnings that
// matter; a runbook of one's own names a sink one meant to have.
func unknownSinks(cfg *config.Config, books *runbook.Set) []error {
	var names []string
	if cfg.Notify != nil {
		for _, s := range cfg.Notify.Sinks {
			names = append(names, s.Name)
		}
	}
	have := "no notify sinks are configured"
	if len(names) > 0 {
		have = "configured: " + strings.Join(names, ", ")
	}
	var out []error
	for _, b := range books.All() {
		if b.Shipped {
			continue
		}
		for i, s := range b.Steps {
			if s.Act == nil || s.Act.Notification == nil || slices.Contains(names, s.Act.Notification.Sink) {
				continue
			}
			out = append(out, fmt.Errorf("%s:%d: runbook %q step %d: notify sink %q is not in config's notify.sinks (%s); the step will be refused",
				b.File, s.Line, b.Name, i+1, s.Act.Notification.Sink, have))
		}
	}
	return out
}
