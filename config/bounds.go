package config

import (
	"time"

	"flightdeck/internal/duration"
)

// Bounds on the durations and numbers a config file sets: each value comes
// from outside, so each has a floor and a ceiling, and config check names
// the file:line of one outside them. (Timeouts: MinTimeout, MaxTimeout;
// response sizes: MaxResponseMiB; ECS tasks: maxECSTasks.)
const (
	// MaxInterval bounds every poll interval: a slower poll shows
	// hour-old data as the present.
	MaxInterval = time.Hour
	// MinSparkRange and MaxSparkRange bound prometheus.spark_range.
	MinSparkRange = time.Minute
	MaxSparkRange = 30 * 24 * time.Hour
	// MinSLOWindow and MaxSLOWindow bound an SLO's window: shorter than the
	// burn-rate windows is meaningless, longer than a year is not kept.
	MinSLOWindow = time.Hour
	MaxSLOWindow = 366 * 24 * time.Hour
	// MaxMaxTargets bounds policy.max_targets.
	MaxMaxTargets = 1000
	// MinSilenceMax and MaxSilenceMax bound policy.silence_max.
	MinSilenceMax = time.Minute
	MaxSilenceMax = 30 * 24 * time.Hour
	// MaxSilenceAlerts bounds policy.silence_max_alerts.
	MaxSilenceAlerts = 10000
	// MaxServeIdle and MaxServeLength bound serve's idle_timeout and
	// max_session_length (0 still disables either).
	MaxServeIdle   = 24 * time.Hour
	MaxServeLength = 7 * 24 * time.Hour
	// MaxServeRate and MaxServeBurst bound serve.rate_limit.
	MaxServeRate  = 1000
	MaxServeBurst = 1000
)

// checkPoll bounds how often a source is polled and how long one poll may
// take: a 1ns interval is a busy loop against the server, an hour-long one
// shows stale data as current; a 1ns timeout fails every poll, and an
// hour-long one freezes a pane.
func (c *Config) checkPoll(base string, interval, timeout Duration, floor time.Duration) Errors {
	var errs Errors
	switch {
	case interval.D() < floor:
		errs = append(errs, c.errAt(base+".interval", "must be at least %s (got %s): faster polling only loads the server", duration.Format(floor), duration.Format(interval.D())))
	case interval.D() > MaxInterval:
		errs = append(errs, c.errAt(base+".interval", "must be at most %s (got %s): slower polling shows old data as current", duration.Format(MaxInterval), duration.Format(interval.D())))
	}
	if err := c.checkDuration(base+".timeout", timeout, MinTimeout, MaxTimeout); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// checkDuration is the one message for a duration outside [lo, hi].
func (c *Config) checkDuration(path string, d Duration, lo, hi time.Duration) *Error {
	if d.D() < lo || d.D() > hi {
		return c.errAt(path, "must be between %s and %s, got %s", duration.Format(lo), duration.Format(hi), duration.Format(d.D()))
	}
	return nil
}

// checkInt is the one message for a number outside [lo, hi].
func (c *Config) checkInt(path string, n, lo, hi int) *Error {
	if n < lo || n > hi {
		return c.errAt(path, "must be between %d and %d, got %d", lo, hi, n)
	}
	return nil
}
