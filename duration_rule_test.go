package main

import (
	"strings"
	"testing"
	"time"

	"flightdeck/config"
	"flightdeck/record"
	"flightdeck/runbook"

	"gopkg.in/yaml.v3"
)

// TestOneDurationRule feeds the same strings through the three places a
// person writes a duration — a config value, the timeline's --since flag and a
// runbook step's within — and expects one answer from all of them.
func TestOneDurationRule(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration // 0: refused everywhere
	}{
		{"2m", 2 * time.Minute},
		{"90s", 90 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"1d", 24 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"0.5d", 12 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"30d", 30 * 24 * time.Hour},
		{"-2h", 0},
		{"1e3d", 0},
		{"d", 0},
		{"2x", 0},
		{"99999d", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			// config
			var c struct {
				D config.Duration `yaml:"d"`
			}
			cerr := yaml.Unmarshal([]byte("d: "+tc.in+"\n"), &c)
			// flag
			since, ferr := record.ParseTime(tc.in, now)
			// runbook
			book := "name: d\ntitle: D\nsteps:\n  - kind: verify\n    title: V\n    expr: true\n    within: " + tc.in + "\n"
			rb, rerr := runbook.Load("d.yaml", []byte(book))
			if tc.want == 0 {
				if cerr == nil || ferr == nil || rerr == nil {
					t.Fatalf("accepted somewhere: config %v, --since %v, runbook %v", cerr, ferr, rerr)
				}
				if !strings.Contains(rerr.Error(), "d.yaml:7") {
					t.Errorf("runbook error without file:line: %v", rerr)
				}
				return
			}
			if cerr != nil || c.D.D() != tc.want {
				t.Errorf("config: %v, %v", c.D.D(), cerr)
			}
			if ferr != nil || now.Sub(since) != tc.want {
				t.Errorf("--since: %v, %v", now.Sub(since), ferr)
			}
			// A verify step waits at most a day: that bound is the field's,
			// not the syntax's, and it is named as such.
			if tc.want > 24*time.Hour {
				if rerr == nil || !strings.Contains(rerr.Error(), "at most 24h") {
					t.Errorf("runbook: want the field's bound, got %v", rerr)
				}
			} else if rerr != nil || rb.Steps[0].Within != tc.want {
				t.Errorf("runbook: %v", rerr)
			}
		})
	}
}
