package ops

import (
	"context"
	"time"

	"flightdeck/sources"
)

// The capability interfaces are declared here, where they are used; the
// backends satisfy them without importing ops.

// BackendSignaler is what ops needs from a Postgres source.
type BackendSignaler interface {
	// LookupBackends returns the live rows of these pids (absent when gone),
	// with Self set for the source's own connections.
	LookupBackends(ctx context.Context, pids []int32) ([]sources.Backend, error)
	// SignalBackend cancels (terminate=false) or terminates pid, but only if
	// its backend_start still equals start, checked in the same statement.
	// matched=false means the pid is gone or now belongs to another backend.
	// It must never be retried by the caller: a signal is not idempotent.
	SignalBackend(ctx context.Context, pid int32, start time.Time, terminate bool) (matched bool, err error)
}

// RolloutController is what ops needs from a Kubernetes source.
type RolloutController interface {
	// GetDeployment reads the deployment as it is now, history included.
	GetDeployment(ctx context.Context, namespace, name string) (sources.Deployment, error)
	// PreviewUndo describes rolling back to toRevision (0 = previous): the
	// pod-template difference (images, env names, resources), and the result
	// of a server-side dry run of the change.
	PreviewUndo(ctx context.Context, namespace, name string, toRevision int64) (diff, dryRun []string, err error)
	// Undo rolls back like `kubectl rollout undo --to-revision`.
	Undo(ctx context.Context, namespace, name string, toRevision int64) error
	// Restart sets kubectl.kubernetes.io/restartedAt like `kubectl rollout restart`.
	Restart(ctx context.Context, namespace, name string, at time.Time) error
	// Scale sets spec.replicas like `kubectl scale`.
	Scale(ctx context.Context, namespace, name string, replicas int32) error
	// SetPaused pauses or resumes the rollout.
	SetPaused(ctx context.Context, namespace, name string, paused bool) error
}

// Silencer is what ops needs from Alertmanager.
type Silencer interface {
	// MatchingAlerts returns the active (not yet silenced) alerts the
	// matchers select, for the preview and the policy check.
	MatchingAlerts(ctx context.Context, matchers []sources.Matcher) ([]sources.Alert, error)
	// CreateSilence creates s (ID empty) and returns its id.
	CreateSilence(ctx context.Context, s sources.Silence) (string, error)
	// GetSilence reads one silence.
	GetSilence(ctx context.Context, id string) (sources.Silence, error)
	// ExpireSilence ends a silence now.
	ExpireSilence(ctx context.Context, id string) error
}

// Capabilities are the backends the Executor may act through, keyed by
// source name (Request.Source, Plan.Source).
type Capabilities struct {
	Backends map[string]BackendSignaler
	Rollouts map[string]RolloutController
	Silences map[string]Silencer
}
