package ops

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy holds the limits the Executor enforces whatever the UI did.
type Policy struct {
	// MaxTargets caps the targets of one action (bulk terminate).
	MaxTargets int
	// ProtectedRoles are database roles whose backends are never signalled.
	ProtectedRoles []string
	// ProtectedApps are application_names whose backends are never signalled.
	ProtectedApps []string
	// ProtectedNamespaces are Kubernetes namespaces never scaled to zero.
	ProtectedNamespaces []string
	// SilenceMax caps a silence's duration.
	SilenceMax time.Duration
	// SilenceMaxAlerts caps how many active alerts a regex silence may hit.
	SilenceMaxAlerts int
	// ScaleMaxChange is the largest relative replica change allowed without
	// override (0.5 = ±50%).
	ScaleMaxChange float64
	// ScaleMaxReplicas is the absolute ceiling of a replica or desired
	// count: override lifts ScaleMaxChange, never this. Scaling down from
	// above it is allowed.
	ScaleMaxReplicas int32
	// MaxPlanAge is how long a plan stays valid.
	MaxPlanAge time.Duration
	// LowRiskSilence is the longest silence confirmed with y/N.
	LowRiskSilence time.Duration
	// TwoPerson names the plans a second operator must co-sign.
	TwoPerson TwoPerson
}

// DefaultScaleMaxReplicas is the replica ceiling when config sets none:
// ten times the largest fleet the manual runs (api, max_count 10), so a
// typo or a runaway runbook (100000 with override) cannot scale to
// thousands; a bigger estate raises policy.scale_max_replicas.
const DefaultScaleMaxReplicas = 100

// DefaultPolicy is the policy when config says nothing.
func DefaultPolicy() Policy {
	return Policy{
		MaxTargets:       5,
		ProtectedRoles:   []string{"postgres"},
		SilenceMax:       4 * time.Hour,
		SilenceMaxAlerts: 10,
		ScaleMaxChange:   0.5,
		ScaleMaxReplicas: DefaultScaleMaxReplicas,
		MaxPlanAge:       30 * time.Second,
		LowRiskSilence:   time.Hour,
	}
}

// WithDefaults returns p with every zero field taken from DefaultPolicy.
// ProtectedRoles is zero only when nil: an explicitly empty list protects
// no role.
func (p Policy) WithDefaults() Policy {
	def := DefaultPolicy()
	if p.MaxTargets == 0 {
		p.MaxTargets = def.MaxTargets
	}
	if p.ProtectedRoles == nil {
		p.ProtectedRoles = def.ProtectedRoles
	}
	if p.SilenceMax == 0 {
		p.SilenceMax = def.SilenceMax
	}
	if p.SilenceMaxAlerts == 0 {
		p.SilenceMaxAlerts = def.SilenceMaxAlerts
	}
	if p.ScaleMaxChange == 0 {
		p.ScaleMaxChange = def.ScaleMaxChange
	}
	if p.ScaleMaxReplicas == 0 {
		p.ScaleMaxReplicas = def.ScaleMaxReplicas
	}
	if p.MaxPlanAge == 0 {
		p.MaxPlanAge = def.MaxPlanAge
	}
	if p.LowRiskSilence == 0 {
		p.LowRiskSilence = def.LowRiskSilence
	}
	return p
}

// ScaleBounds is the replica range a deployment at current replicas may be
// scaled to without override: within ScaleMaxChange of current, rounded
// inwards, and never above the ceiling (ScaleCeiling). It is the one
// rounding of scale_max_change; the scale form shows it and the rollouts
// handler enforces it. Without a limit (ScaleMaxChange ≤ 0) or from zero
// replicas (no relative change to measure) any count up to the ceiling is
// allowed.
func (p Policy) ScaleBounds(current int32) (lo, hi int32) {
	ceiling := p.ScaleCeiling(current)
	if p.ScaleMaxChange <= 0 || current <= 0 {
		return 0, ceiling
	}
	// The epsilon keeps an exact boundary (10 ± 30% = 7 and 13) inside the
	// range despite 10*0.7 being 7.000000000000001 in floating point.
	const eps = 1e-9
	from := float64(current)
	l := math.Ceil(from*(1-p.ScaleMaxChange) - eps)
	h := math.Floor(from*(1+p.ScaleMaxChange) + eps)
	return int32(max(l, 0)), int32(min(h, float64(ceiling)))
}

// ScaleCeiling is the highest count a target at current may be set to,
// override or not: ScaleMaxReplicas, or current itself when it is already
// above (scaling down from there is allowed). No ceiling (≤ 0) is
// MaxInt32.
func (p Policy) ScaleCeiling(current int32) int32 {
	if p.ScaleMaxReplicas <= 0 {
		return math.MaxInt32
	}
	return max(p.ScaleMaxReplicas, current)
}

// CheckScaleCeiling refuses setting what (a deployment, a service) from
// current to n above ScaleCeiling, with the reason; override does not
// lift it. The rollouts and ECS handlers both apply it.
func (p Policy) CheckScaleCeiling(what string, current, n int32) error {
	if c := p.ScaleCeiling(current); n > c {
		return refuse(ErrPolicy, fmt.Sprintf("%s %d→%d is above scale_max_replicas %d, which override does not lift", what, current, n, c))
	}
	return nil
}

// ParseCount reads a replica or task count an operator typed: a whole
// number from 0 to MaxInt32, never truncated. It is the one bounds check
// of a typed count (what names the field in the error); the scale and the
// desired-count forms both use it. Policy limits come after, in Check.
func ParseCount(what, s string) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: want a whole number from 0 to %d", what, math.MaxInt32)
	}
	return int32(n), nil
}

// Check applies the policy to a request through its kind's handler. It is
// pure, so the UI can show a disabled action with the reason before anything
// is planned, and the Executor runs it again at execution.
func (p Policy) Check(req Request) error {
	h, err := handlerFor(req.Action)
	if err != nil {
		return err
	}
	return h.Check(p, req, WholeRequest)
}

// CheckTarget is Check without the parameters the operator has yet to give
// (replica count, silence matchers, duration, comment): whether the action can
// apply to this selection at all, so a menu can disable it with the reason
// before asking for them.
func (p Policy) CheckTarget(req Request) error {
	h, err := handlerFor(req.Action)
	if err != nil {
		return err
	}
	return h.Check(p, req, TargetOnly)
}

// CheckTargetCount refuses an action on more than MaxTargets targets. The
// Executor applies it to every plan; handlers call it on a request so the
// menu can say so before planning.
func (p Policy) CheckTargetCount(n int) error {
	if p.MaxTargets > 0 && n > p.MaxTargets {
		return refuse(ErrPolicy, fmt.Sprintf("%d targets exceed max_targets %d", n, p.MaxTargets))
	}
	return nil
}

// protected reports whether name is on a protected list.
func protected(list []string, name string) bool { return name != "" && slices.Contains(list, name) }
