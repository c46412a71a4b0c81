package config

import (
	"strings"
	"testing"
)

// TestHidePanes: hide_panes takes the panes' names; a wrong name, a name
// twice and hiding everything are refused at their line.
func TestHidePanes(t *testing.T) {
	c, err := Parse("c.yaml", []byte("hide_panes: [rollouts, aws]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.HidePanes, ",") != "rollouts,aws" {
		t.Errorf("hide_panes = %q", c.HidePanes)
	}
	for _, tc := range []struct{ src, want string }{
		{"hide_panes:\n  - rollouts\n  - kube\n", `c.yaml:3: hide_panes[1]: unknown pane "kube" (one of slos, alerts, postgres, rollouts, aws)`},
		{"hide_panes: [aws, aws]\n", `c.yaml:1: hide_panes[1]: "aws" is listed twice`},
		{"hide_panes: [slos, alerts, postgres, rollouts, aws]\n", "c.yaml:1: hide_panes: hides every pane: leave at least one"},
	} {
		_, err := Parse("c.yaml", []byte(tc.src))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got  %v\n want %s", tc.src, err, tc.want)
		}
	}
}

// TestPaneSetupNamesTheSection: every pane says which section gives it
// data, and the SLOs pane asks only for what is missing.
func TestPaneSetupNamesTheSection(t *testing.T) {
	c := Default()
	for _, name := range PaneNames {
		if got := c.PaneSetup(name); !strings.HasPrefix(got, "add ") || !strings.Contains(got, ":") {
			t.Errorf("PaneSetup(%q) = %q", name, got)
		}
	}
	if got := c.PaneSetup("rollouts"); got != "add kubernetes: to the config" {
		t.Errorf("rollouts: %q", got)
	}
	if got := c.PaneSetup("slos"); got != "add prometheus: and slos: to the config" {
		t.Errorf("slos without prometheus: %q", got)
	}
	c.Prometheus = &Prometheus{URL: "http://p:9090"}
	if got := c.PaneSetup("slos"); got != "add slos: to the config (computed on prometheus:)" {
		t.Errorf("slos with prometheus: %q", got)
	}
}
