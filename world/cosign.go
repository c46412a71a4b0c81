package world

import (
	"slices"
	"strconv"
	"strings"

	"flightdeck/config"
	"flightdeck/ops"
)

// twoPersonFrom is config's policy.two_person as ops enforces it.
func twoPersonFrom(cfg *config.Config) ops.TwoPerson {
	tp := cfg.Policy.TwoPerson
	if tp == nil {
		return ops.TwoPerson{}
	}
	out := ops.TwoPerson{Environments: tp.Environments, BulkOnly: tp.BulkOnly, HighRiskOnly: tp.Risk == "high", Expiry: tp.Expiry.D()}
	for _, a := range tp.Actions {
		out.Actions = append(out.Actions, ops.Kind(a))
	}
	return out
}

// checkTwoPersonActions refuses a policy.two_person action ops does not
// know, naming its line: a typo there would leave the action it meant
// uncovered without a word.
func checkTwoPersonActions(cfg *config.Config) error {
	tp := cfg.Policy.TwoPerson
	if tp == nil {
		return nil
	}
	known := make([]string, len(ops.AllKinds))
	for i, k := range ops.AllKinds {
		known[i] = string(k)
	}
	for i, a := range tp.Actions {
		if !slices.Contains(known, a) {
			return cfg.Errorf("policy.two_person.actions["+strconv.Itoa(i)+"]", "unknown action %q (one of %s)", a, strings.Join(known, ", "))
		}
	}
	return nil
}
