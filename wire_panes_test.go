package main

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/config"
	"flightdeck/sources"
	"flightdeck/ui"
)

// TestPaneSetupFromConfig: a config with only postgres: tells every
// session which panes have no source and which section turns each on, and
// the Rollouts pane says so instead of waiting; hide_panes hides; the demo
// feeds every pane.
func TestPaneSetupFromConfig(t *testing.T) {
	for _, name := range config.PaneNames {
		if _, ok := paneKinds[name]; !ok {
			t.Errorf("config pane %q has no kind", name)
		}
	}
	cfg := config.Default()
	cfg.Postgres = []config.Postgres{{Name: "main", DSN: "postgres://flightdeck@127.0.0.1:1/app", Interval: config.Duration(2e9), Timeout: config.Duration(1e9)}}
	cfg.HidePanes = []string{"aws"}
	w, err := wire(context.Background(), cfg, wireOptions{readOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	o, err := w.NewSession(SessionInfo{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[sources.Kind]string{
		sources.KindSLO:      "add prometheus: and slos: to the config",
		sources.KindAlerts:   "add alertmanager: (or prometheus:) to the config",
		sources.KindRollouts: "add kubernetes: to the config",
		sources.KindAWS:      "add aws: to the config",
	}
	if len(o.Data.Panes.Unconfigured) != len(want) {
		t.Errorf("unconfigured %v", o.Data.Panes.Unconfigured)
	}
	for k, how := range want {
		if o.Data.Panes.Unconfigured[k] != how {
			t.Errorf("%s: %q, want %q", k, o.Data.Panes.Unconfigured[k], how)
		}
	}
	if len(o.Data.Panes.Hidden) != 1 || o.Data.Panes.Hidden[0] != sources.KindAWS {
		t.Errorf("hidden %v", o.Data.Panes.Hidden)
	}
	m, _ := ui.New(o).Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	out := ansi.Strip(m.(ui.Model).Render())
	if !strings.Contains(out, "not configured: add kubernetes: to the config") || strings.Contains(out, "waiting for rollouts") {
		t.Errorf("rollouts pane:\n%s", out)
	}

	demo, _ := demoWorld(t, true, nil)
	if o, _ := demo.NewSession(SessionInfo{ReadOnly: true}); o.Data.Panes.Unconfigured != nil {
		t.Errorf("demo: unconfigured %v", o.Data.Panes.Unconfigured)
	}
}
