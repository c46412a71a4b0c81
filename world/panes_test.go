package world

import (
	"context"
	"strings"
	"testing"
	"time"

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
	w, err := Build(context.Background(), cfg, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s, err := w.NewSession(SessionInfo{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[sources.Kind]string{
		sources.KindSLO:      "add prometheus: and slos: to the config",
		sources.KindAlerts:   "add alertmanager: (or prometheus:) to the config",
		sources.KindRollouts: "add kubernetes: to the config",
		sources.KindAWS:      "add aws: to the config",
	}
	if len(s.Screen.Panes.Unconfigured) != len(want) {
		t.Errorf("unconfigured %v", s.Screen.Panes.Unconfigured)
	}
	for k, how := range want {
		if s.Screen.Panes.Unconfigured[k] != how {
			t.Errorf("%s: %q, want %q", k, s.Screen.Panes.Unconfigured[k], how)
		}
	}
	if len(s.Screen.Panes.Hidden) != 1 || s.Screen.Panes.Hidden[0] != sources.KindAWS {
		t.Errorf("hidden %v", s.Screen.Panes.Hidden)
	}
	m, _ := ui.New(s.Options()).Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	out := ansi.Strip(m.(ui.Model).Render())
	if !strings.Contains(out, "not configured: add kubernetes: to the config") || strings.Contains(out, "waiting for rollouts") {
		t.Errorf("rollouts pane:\n%s", out)
	}

	demo, _ := demoWorld(t, true, nil)
	if s, _ := demo.NewSession(SessionInfo{ReadOnly: true}); s.Screen.Panes.Unconfigured != nil {
		t.Errorf("demo: unconfigured %v", s.Screen.Panes.Unconfigured)
	}
}

// TestSessionsOfAWorldShareBlocks: two sessions of one world in the same
// state draw each pane once between them (kit.Blocks, handed to every
// session by the world) and show the same screen.
func TestSessionsOfAWorldShareBlocks(t *testing.T) {
	w, _ := demoWorld(t, true, nil)
	w.Start()
	now := time.Now()
	var models [2]ui.Model
	for i := range models {
		s, err := w.NewSession(SessionInfo{Context: t.Context(), ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if s.Screen.Blocks != w.blocks || w.blocks == nil {
			t.Fatal("the session does not share the world's blocks")
		}
		o := s.Options()
		o.Now = func() time.Time { return now } // one display second for both
		m, _ := ui.New(o).Update(tea.WindowSizeMsg{Width: 200, Height: 60})
		models[i] = m.(ui.Model)
	}
	// The same snapshots to both, as the hub hands them out.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	sub := w.hub.Subscribe()
	defer sub.Close()
	seen := map[string]bool{}
	for len(seen) < 5 {
		snaps, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("snapshots: %v (have %v)", err, seen)
		}
		for i := range models {
			m, _ := models[i].Update(ui.SnapshotsMsg{Snapshots: snaps})
			models[i] = m.(ui.Model)
		}
		for _, s := range snaps {
			seen[s.Source] = true
		}
	}
	a, b := models[0].Render(), models[1].Render()
	if a != b {
		t.Errorf("two sessions in one state show different screens:\n%s\n---\n%s", ansi.Strip(a), ansi.Strip(b))
	}
	if draws, shared := w.blocks.Counts(); shared < 5 || shared < draws/2 {
		t.Errorf("%d blocks drawn, %d shared between two sessions in one state", draws, shared)
	}
}
