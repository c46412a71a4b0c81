package ops

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"flightdeck/sources"
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
	// MaxPlanAge is how long a plan stays valid.
	MaxPlanAge time.Duration
	// LowRiskSilence is the longest silence confirmed with y/N.
	LowRiskSilence time.Duration
}

// DefaultPolicy is the policy when config says nothing.
func DefaultPolicy() Policy {
	return Policy{
		MaxTargets:       5,
		ProtectedRoles:   []string{"postgres"},
		SilenceMax:       4 * time.Hour,
		SilenceMaxAlerts: 10,
		ScaleMaxChange:   0.5,
		MaxPlanAge:       30 * time.Second,
		LowRiskSilence:   time.Hour,
	}
}

// CheckBackend says why a backend may not be signalled, "" when it may.
func (p Policy) CheckBackend(b sources.Backend) string {
	switch {
	case b.Self:
		return fmt.Sprintf("pid %d is flightdeck's own connection", b.PID)
	case b.Hidden || b.BackendStart.IsZero():
		// Without backend_start the pid cannot be pinned: it may be reused
		// by the time the signal is sent.
		return fmt.Sprintf("pid %d is hidden from this role (needs pg_monitor): its identity cannot be checked", b.PID)
	case !b.IsClient():
		return fmt.Sprintf("pid %d is a %s, not a client backend", b.PID, b.BackendType)
	case b.LeaderPID != 0 && b.LeaderPID != b.PID:
		return fmt.Sprintf("pid %d is a parallel worker of %d; act on the leader", b.PID, b.LeaderPID)
	case slices.Contains(p.ProtectedRoles, b.User):
		return fmt.Sprintf("role %q is protected by policy", b.User)
	case b.Application != "" && slices.Contains(p.ProtectedApps, b.Application):
		return fmt.Sprintf("application %q is protected by policy", b.Application)
	}
	return ""
}

// Check applies the policy to a request. It is pure, so the UI can show a
// disabled action with the reason before anything is planned, and the
// Executor runs it again at execution.
func (p Policy) Check(req Request) error {
	switch req.Action {
	case Cancel, Terminate:
		if len(req.Backends) == 0 {
			return refuse(ErrInvalid, "no backend selected")
		}
		if p.MaxTargets > 0 && len(req.Backends) > p.MaxTargets {
			return refuse(ErrPolicy, fmt.Sprintf("%d targets exceed max_targets %d", len(req.Backends), p.MaxTargets))
		}
		for _, b := range req.Backends {
			if why := p.CheckBackend(b); why != "" {
				return refuse(ErrPolicy, why)
			}
			// The server ignores a cancel sent to a backend with nothing
			// running, so offering it would be a confirm dialog for a no-op.
			if req.Action == Cancel && (b.State == "idle" || strings.HasPrefix(b.State, "idle in transaction")) {
				return refuse(ErrInvalid, fmt.Sprintf("pid %d is %s: no running query to cancel (terminate ends the session)", b.PID, b.State))
			}
		}
	case Undo, Restart, Scale, Pause, Resume:
		d := req.Deployment
		if d == nil {
			return refuse(ErrInvalid, "no deployment selected")
		}
		switch req.Action {
		case Undo:
			if len(d.History) < 2 && req.Params.ToRevision == 0 {
				return refuse(ErrInvalid, "no previous revision to roll back to")
			}
			if req.Params.ToRevision != 0 && req.Params.ToRevision == d.Revision {
				return refuse(ErrInvalid, fmt.Sprintf("revision %d is already current", d.Revision))
			}
		case Pause:
			if d.Paused {
				return refuse(ErrInvalid, "rollout is already paused")
			}
		case Resume:
			if !d.Paused {
				return refuse(ErrInvalid, "rollout is not paused")
			}
		case Scale:
			return p.checkScale(*d, req.Params)
		}
	case Silence:
		if len(req.Params.Matchers) == 0 {
			return refuse(ErrInvalid, "a silence needs at least one matcher")
		}
		if req.Params.Duration <= 0 {
			return refuse(ErrInvalid, "silence duration must be positive")
		}
		if p.SilenceMax > 0 && req.Params.Duration > p.SilenceMax {
			return refuse(ErrPolicy, fmt.Sprintf("duration %s exceeds silence_max %s", sources.FormatDuration(req.Params.Duration), sources.FormatDuration(p.SilenceMax)))
		}
		if req.Params.Comment == "" {
			return refuse(ErrInvalid, "a silence needs a comment")
		}
	case Expire:
		if req.SilenceID == "" {
			return refuse(ErrInvalid, "no silence selected")
		}
	default:
		return refuse(ErrInvalid, fmt.Sprintf("unknown action %q", req.Action))
	}
	return nil
}

// CheckTarget is Check without the parameters the operator has yet to give
// (replica count, silence matchers, duration, comment): whether the action can
// apply to this selection at all, so a menu can disable it with the reason
// before asking for them.
func (p Policy) CheckTarget(req Request) error {
	switch req.Action {
	case Scale:
		if req.Deployment == nil {
			return refuse(ErrInvalid, "no deployment selected")
		}
		return nil
	case Silence:
		if req.Alert == nil && len(req.Params.Matchers) == 0 {
			return refuse(ErrInvalid, "no alert selected")
		}
		return nil
	}
	return p.Check(req)
}

func (p Policy) checkScale(d sources.Deployment, params Params) error {
	to, from := params.Replicas, d.Replicas
	if to < 0 {
		return refuse(ErrInvalid, "replicas cannot be negative")
	}
	if to == from {
		return refuse(ErrInvalid, fmt.Sprintf("already at %d replicas", from))
	}
	if to == 0 && slices.Contains(p.ProtectedNamespaces, d.Namespace) {
		return refuse(ErrPolicy, fmt.Sprintf("namespace %s is protected: never scaled to zero", d.Namespace))
	}
	if params.Override || p.ScaleMaxChange <= 0 || from == 0 {
		return nil
	}
	change := math.Abs(float64(to-from)) / float64(from)
	if change > p.ScaleMaxChange+1e-9 {
		lo := int(math.Ceil(float64(from) * (1 - p.ScaleMaxChange)))
		hi := int(math.Floor(float64(from) * (1 + p.ScaleMaxChange)))
		return refuse(ErrPolicy, fmt.Sprintf("%d→%d is a %.0f%% change; scale_max_change allows %d–%d without override",
			from, to, change*100, lo, hi))
	}
	return nil
}
