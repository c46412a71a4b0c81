package config

import (
	"strconv"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/internal/sanitize"
)

// TwoPerson is policy.two_person: the actions that need a second
// operator's co-signature before they run. Every selector given must
// match: an action listed (names as the keymap and ops spell them:
// promote_read_replica, failover_db_cluster, terminate, …), an
// environment listed, more than one target when bulk_only, an action rated
// high risk in itself when risk: high. Outside
// `flightdeck serve` such an action is refused unless the session was
// started with --break-glass.
type TwoPerson struct {
	Actions      []string `yaml:"actions,omitempty"`
	Environments []string `yaml:"environments,omitempty"`
	BulkOnly     bool     `yaml:"bulk_only,omitempty"`
	// Risk "high" limits the rule to the actions rated high risk in
	// themselves (typed confirmation outside production too).
	Risk string `yaml:"risk,omitempty"`
	// Expiry is how long a co-sign request waits (default 2m).
	Expiry Duration `yaml:"expiry,omitempty"`
}

// Bounds on policy.two_person.expiry: long enough to reach a colleague,
// short enough that the live state co-signed is still what was asked.
const (
	MinCoSignExpiry = 10 * time.Second
	MaxCoSignExpiry = time.Hour
)

func (c *Config) sanitizeTwoPerson() {
	if tp := c.Policy.TwoPerson; tp != nil {
		sanitize.All(tp.Actions)
		sanitize.All(tp.Environments)
	}
}

// checkTwoPerson checks the rule's shape; action names are checked against
// the actions ops knows by the caller (flightdeck's checkKeys), since this
// package does not know them.
func (c *Config) checkTwoPerson() Errors {
	tp := c.Policy.TwoPerson
	if tp == nil {
		return nil
	}
	var errs Errors
	if len(tp.Actions) == 0 && len(tp.Environments) == 0 && !tp.BulkOnly && tp.Risk == "" {
		errs = append(errs, c.errAt("policy.two_person", "names no actions, environments, bulk_only or risk: it would cover nothing"))
	}
	if tp.Risk != "" && tp.Risk != "high" {
		errs = append(errs, c.errAt("policy.two_person.risk", "only high is a tier the rule selects (low-risk actions are confirmed with y), got %q", tp.Risk))
	}
	for field, list := range map[string][]string{"actions": tp.Actions, "environments": tp.Environments} {
		seen := map[string]bool{}
		for i, v := range list {
			path := "policy.two_person." + field + "[" + strconv.Itoa(i) + "]"
			switch {
			case v == "":
				errs = append(errs, c.errAt(path, "is empty"))
			case seen[v]:
				errs = append(errs, c.errAt(path, "%q is listed twice", v))
			}
			seen[v] = true
		}
	}
	if d := tp.Expiry.D(); d != 0 && (d < MinCoSignExpiry || d > MaxCoSignExpiry) {
		errs = append(errs, c.errAt("policy.two_person.expiry", "must be between %s and %s, got %s",
			duration.Format(MinCoSignExpiry), duration.Format(MaxCoSignExpiry), duration.Format(d)))
	}
	return errs
}
