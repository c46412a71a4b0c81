package ops

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TwoPerson is the two-person rule: which plans need a second operator's
// co-signature before the Executor acts. Every selector that is set must
// match (an action listed, an environment listed, more than one target when
// BulkOnly); a rule with no selector at all applies to nothing.
type TwoPerson struct {
	// Actions are the action kinds that need a co-signer (promote_read_replica,
	// failover_db_cluster, terminate, …); empty means any action.
	Actions []Kind
	// Environments limits the rule to these environments; empty means any.
	Environments []string
	// BulkOnly limits the rule to plans on more than one target.
	BulkOnly bool
	// HighRiskOnly limits the rule to the actions rated high risk in
	// themselves (Plan.ActionRisk: a terminate, a failover, a slot drop,
	// a REINDEX; not an ANALYZE, a short silence or a notification), in
	// whatever environment they are confirmed: config's risk: high.
	HighRiskOnly bool
	// Expiry is how long a co-sign request waits for its co-signer before
	// it expires; zero takes DefaultCoSignExpiry.
	Expiry time.Duration
}

// DefaultCoSignExpiry is how long a co-sign request stays open when the
// policy says nothing: long enough to reach a colleague on the bridge,
// short enough that what they co-sign is still what was asked.
const DefaultCoSignExpiry = 2 * time.Minute

// Enabled reports whether the rule applies to anything.
func (t TwoPerson) Enabled() bool {
	return len(t.Actions) > 0 || len(t.Environments) > 0 || t.BulkOnly || t.HighRiskOnly
}

// Requires reports whether p needs a co-signer. It is the one place the
// rule's selectors are read: the plan's flag, the Executor and the UI all
// follow it.
func (t TwoPerson) Requires(p Plan) bool {
	switch {
	case !t.Enabled():
		return false
	case len(t.Actions) > 0 && !slices.Contains(t.Actions, p.Action):
		return false
	case len(t.Environments) > 0 && !slices.Contains(t.Environments, p.Environment):
		return false
	case t.BulkOnly && !p.IsBulk():
		return false
	case t.HighRiskOnly && p.ActionRisk != High:
		return false
	}
	return true
}

// expiry is Expiry or its default.
func (t TwoPerson) expiry() time.Duration {
	if t.Expiry > 0 {
		return t.Expiry
	}
	return DefaultCoSignExpiry
}

// Signer is one person who confirmed a plan: the user (the same for every
// key of that user, which is what "two distinct users" compares), the key
// that signed and where the session came from.
type Signer struct {
	// Name is the user: the configured name of an SSH key's owner, the OS
	// user at a local terminal.
	Name string `json:"name"`
	// Fingerprint is the SSH key's ("SHA256:…"), "" at a local terminal.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Addr is the client's address, "" at a local terminal.
	Addr string `json:"addr,omitempty"`
}

// String is "alice (SHA256:…, 10.0.0.5:53122)".
func (s Signer) String() string {
	var where []string
	for _, x := range []string{s.Fingerprint, s.Addr} {
		if x != "" {
			where = append(where, x)
		}
	}
	if len(where) == 0 {
		return s.Name
	}
	return s.Name + " (" + strings.Join(where, ", ") + ")"
}

// signerFrom is the Signer of an Executor configured with only an
// operator string ("oncall@bastion", "alice (SHA256:…, ssh from …)"): its
// name is the part before any parenthesis.
func signerFrom(operator string) Signer {
	name, _, _ := strings.Cut(operator, " (")
	return Signer{Name: strings.TrimSpace(name)}
}

// twoPersonNote is the preview line of a plan that needs a co-signer.
func twoPersonNote(t TwoPerson) string {
	return fmt.Sprintf("two-person rule: a second operator must co-sign within %s before this runs", t.expiry())
}
