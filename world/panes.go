package world

import (
	"flightdeck/config"
	"flightdeck/sources"
	"flightdeck/ui"
)

// paneKinds are the kinds of data config's pane names (config.PaneNames)
// stand for.
var paneKinds = map[string]sources.Kind{
	"slos":     sources.KindSLO,
	"alerts":   sources.KindAlerts,
	"postgres": sources.KindPostgres,
	"rollouts": sources.KindRollouts,
	"aws":      sources.KindAWS,
}

// paneSetup is what every session is told about the panes: a kind no
// source on the hub provides is unconfigured, with what the config lacks
// for it, and hide_panes are hidden. Whether a source is there is asked of
// the hub, not the config, so the demo (which feeds every pane from no
// config at all) has none unconfigured. Call it once the sources are added.
func paneSetup(cfg *config.Config, hub *sources.Hub) ui.PaneSetup {
	fed := map[sources.Kind]bool{}
	for _, s := range hub.Latest() {
		fed[s.Kind] = true
	}
	var ps ui.PaneSetup
	for _, name := range config.PaneNames {
		if k := paneKinds[name]; !fed[k] {
			if ps.Unconfigured == nil {
				ps.Unconfigured = map[sources.Kind]string{}
			}
			ps.Unconfigured[k] = cfg.PaneSetup(name)
		}
	}
	for _, name := range cfg.HidePanes {
		ps.Hidden = append(ps.Hidden, paneKinds[name])
	}
	return ps
}
