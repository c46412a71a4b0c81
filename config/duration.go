package config

import (
	"fmt"
	"time"

	"flightdeck/internal/duration"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in Go syntax plus a day unit: 30s,
// 1h30m, 30d, 1d12h.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML accepts a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration such as 30s")
	}
	v, err := duration.Parse(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML prints the duration as written.
func (d Duration) MarshalYAML() (any, error) { return duration.Format(time.Duration(d)), nil }
