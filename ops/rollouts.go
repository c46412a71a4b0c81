package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
)

// The Kubernetes rollout actions.
const (
	Undo    Kind = "undo"    // kubectl rollout undo
	Restart Kind = "restart" // kubectl rollout restart
	Scale   Kind = "scale"   // kubectl scale
	Pause   Kind = "pause"   // kubectl rollout pause
	Resume  Kind = "resume"  // kubectl rollout resume
)

// RolloutController is what the rollout actions need from a Kubernetes
// source.
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

// rolloutsHandler acts on one Deployment. A target is pinned by UID,
// revision, replicas and paused: any of them changing means someone else
// acted since the plan.
type rolloutsHandler struct{}

func (rolloutsHandler) Area() sources.Kind { return sources.KindRollouts }

func (rolloutsHandler) Kinds() []KindSpec {
	return []KindSpec{{Undo, "Roll back (undo)"}, {Restart, "Restart rollout"}, {Scale, "Scale"},
		{Pause, "Pause rollout"}, {Resume, "Resume rollout"}}
}

func (rolloutsHandler) Check(pol Policy, req Request, scope CheckScope) error {
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
		if scope == TargetOnly {
			return nil // the replica count is asked for next
		}
		return checkScale(pol, *d, req.Params)
	}
	return nil
}

func checkScale(pol Policy, d sources.Deployment, params Params) error {
	to, from := params.Replicas, d.Replicas
	if to < 0 {
		return refuse(ErrInvalid, "replicas cannot be negative")
	}
	if to == from {
		return refuse(ErrInvalid, fmt.Sprintf("already at %d replicas", from))
	}
	if to == 0 && protected(pol.ProtectedNamespaces, d.Namespace) {
		return refuse(ErrPolicy, fmt.Sprintf("namespace %s is protected: never scaled to zero", d.Namespace))
	}
	if err := pol.CheckScaleCeiling(d.Key(), from, to); err != nil {
		return err
	}
	if params.Override {
		return nil
	}
	if lo, hi := pol.ScaleBounds(from); to < lo || to > hi {
		change := float64(to-from) / float64(from)
		return refuse(ErrPolicy, fmt.Sprintf("%d→%d is a %.0f%% change; scale_max_change allows %d–%d without override",
			from, to, abs(change)*100, lo, hi))
	}
	return nil
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func (rolloutsHandler) Plan(ctx context.Context, env Env, req Request, p *Plan) error {
	ctl, err := Capability[RolloutController](env, "act on rollouts")
	if err != nil {
		return err
	}
	d := *req.Deployment
	t := Target{ID: d.Key(), Identity: deploymentIdentity(d), Subject: d,
		Detail: fmt.Sprintf("%s  revision %d  %d/%d ready  %s", d.Key(), d.Revision, d.Ready, d.Replicas, strings.Join(d.Images, ","))}
	p.Phrase = d.Name
	p.Title = req.Action.Title() + " " + d.Key()
	var s seen
	s.head(d.Key())
	s.add("uid", d.UID)
	s.add("revision", strconv.FormatInt(d.Revision, 10))
	s.add("images", strings.Join(d.Images, ","))
	s.add("replicas", strconv.Itoa(int(d.Replicas)))
	s.add("ready", strconv.Itoa(int(d.Ready)))
	s.add("paused", strconv.FormatBool(d.Paused))
	s.time("rolled_out_at", d.RolledOutAt)
	switch req.Action {
	case Undo:
		to := req.Params.ToRevision
		if to == 0 {
			to = previousRevision(d)
		}
		p.Params.ToRevision = to
		p.Title = fmt.Sprintf("Roll back %s to revision %d", d.Key(), to)
		p.Preview = []string{fmt.Sprintf("revision %d → %d (like kubectl rollout undo --to-revision=%d)", d.Revision, to, to)}
		s.add("to_revision", strconv.FormatInt(to, 10))
		for _, r := range d.History {
			if r.Number != to {
				continue
			}
			s.add("to_images", strings.Join(r.Images, ","))
			s.text("to_change_cause", r.ChangeCause)
			if r.ChangeCause != "" {
				p.Preview = append(p.Preview, "target change-cause: "+r.ChangeCause)
			}
		}
		diff, dry, err := ctl.PreviewUndo(ctx, d.Namespace, d.Name, to)
		if err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
		p.Preview = append(p.Preview, diff...)
		p.DryRun = dry
	case Restart:
		p.Preview = []string{"sets kubectl.kubernetes.io/restartedAt: every pod is replaced by a rolling update"}
	case Scale:
		p.Title = fmt.Sprintf("Scale %s %d → %d", d.Key(), d.Replicas, req.Params.Replicas)
		p.Preview = []string{fmt.Sprintf("spec.replicas %d → %d", d.Replicas, req.Params.Replicas)}
		if req.Params.Override {
			p.Preview = append(p.Preview, "override: beyond scale_max_change")
		}
	case Pause:
		p.Risk = Low
		p.Preview = []string{"spec.paused=true: changes to the template stop rolling out"}
	case Resume:
		p.Preview = []string{"spec.paused=false: pending template changes roll out now"}
	}
	t.Seen = s.String()
	p.Targets = []Target{t}
	return nil
}

// previousRevision is the newest revision older than the current one, as
// kubectl rollout undo picks it.
func previousRevision(d sources.Deployment) int64 {
	var best int64
	for _, r := range d.History {
		if r.Number < d.Revision && r.Number > best {
			best = r.Number
		}
	}
	return best
}

// bind is what a plan acts with and on: its source's controller and the
// deployment as the plan saw it.
func (rolloutsHandler) bind(env Env, p Plan) (RolloutController, sources.Deployment, error) {
	return bindOne[RolloutController, sources.Deployment](env, p, "act on rollouts", "deployment")
}

func (h rolloutsHandler) Recheck(ctx context.Context, env Env, p Plan) error {
	ctl, d, err := h.bind(env, p)
	if err != nil {
		return err
	}
	// Policy sees what the plan resolved ("previous" became a number).
	check := func() error {
		return h.Check(env.Policy, Request{Action: p.Action, Source: p.Source, Deployment: &d, Params: p.Params}, WholeRequest)
	}
	// A deployment's name is a DNS label the API server validated, so it
	// is its raw name; the UID in its identity pins the object.
	return recheckOne(p, d.Key(), check, func() (sources.Deployment, error) {
		return ctl.GetDeployment(ctx, d.Namespace, d.Name)
	}, deploymentIdentity)
}

func (h rolloutsHandler) Act(ctx context.Context, env Env, p Plan) ([]string, error) {
	ctl, d, err := h.bind(env, p)
	if err != nil {
		return nil, err
	}
	var detail string
	switch p.Action {
	case Undo:
		err = ctl.Undo(ctx, d.Namespace, d.Name, p.Params.ToRevision)
		detail = fmt.Sprintf("%s rolled back to revision %d", d.Key(), p.Params.ToRevision)
	case Restart:
		err = ctl.Restart(ctx, d.Namespace, d.Name, env.Now())
		detail = d.Key() + " restarted"
	case Scale:
		err = ctl.Scale(ctx, d.Namespace, d.Name, p.Params.Replicas)
		detail = fmt.Sprintf("%s scaled %d → %d", d.Key(), d.Replicas, p.Params.Replicas)
	case Pause:
		err = ctl.SetPaused(ctx, d.Namespace, d.Name, true)
		detail = d.Key() + " paused"
	case Resume:
		err = ctl.SetPaused(ctx, d.Namespace, d.Name, false)
		detail = d.Key() + " resumed"
	default:
		return nil, refuse(ErrInvalid, fmt.Sprintf("rollouts cannot %s", p.Action))
	}
	if err != nil {
		return nil, err
	}
	return []string{detail}, nil
}

// deploymentIdentity pins a deployment: same object, same revision, same scale.
func deploymentIdentity(d sources.Deployment) string {
	return fmt.Sprintf("uid=%s rev=%d replicas=%d paused=%t", d.UID, d.Revision, d.Replicas, d.Paused)
}
