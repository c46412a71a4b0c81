package ops

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"flightdeck/sources"
)

// The ECS service actions.
const (
	// SetDesiredCount is `aws ecs update-service --desired-count`.
	SetDesiredCount Kind = "set_desired_count"
	// ForceDeployment is `aws ecs update-service --force-new-deployment`.
	ForceDeployment Kind = "force_deployment"
	// RollbackTaskDef is `aws ecs update-service --task-definition` to an
	// older revision of the family the service runs.
	RollbackTaskDef Kind = "rollback_task_definition"
)

// ECSController is what the ECS actions need from an AWS source. service
// is always the service's raw ARN (sources.ECSService.RawARN), never its
// sanitized name: two services whose names sanitize alike stay apart.
type ECSController interface {
	// DescribeService reads the service as it is now (for the re-check).
	DescribeService(ctx context.Context, region, cluster, service string) (sources.ECSService, error)
	// SetDesiredCount sets the service's desired count.
	SetDesiredCount(ctx context.Context, region, cluster, service string, n int32) error
	// ForceNewDeployment replaces every task with the same task definition.
	ForceNewDeployment(ctx context.Context, region, cluster, service string) error
	// PreviewRollback lists what pointing the service at toTaskDef changes
	// (images, cpu, memory, environment names).
	PreviewRollback(ctx context.Context, region, cluster, service, toTaskDef string) ([]string, error)
	// RollbackTaskDefinition points the service at an older revision.
	RollbackTaskDefinition(ctx context.Context, region, cluster, service, toTaskDef string) error
	// WaitServicesStable blocks until the services have one deployment and
	// every desired task running, or maxWait passes.
	WaitServicesStable(ctx context.Context, region, cluster string, services []string, maxWait time.Duration) error
}

// DesiredBounds is the range an ECS service's desired count may be set to
// without override, and where each end comes from: the service's min and
// max from config (the manual's Terraform min_count/max_count) where
// configured, scale_max_change around the current count (ScaleBounds)
// where not. With override the scale_max_change ends open up; configured
// ends never do, and nothing goes above the scale_max_replicas ceiling
// (Policy.ScaleCeiling). It is the one statement of that rule: the
// desired-count form shows it and the ECS handler enforces it.
func (p Policy) DesiredBounds(s sources.ECSService, override bool) (lo, hi int32, why string) {
	lo, hi = p.ScaleBounds(s.Desired)
	if override {
		lo, hi = 0, p.ScaleCeiling(s.Desired)
	}
	var from []string
	if s.Bounds.HasMin {
		lo = s.Bounds.Min
		from = append(from, "min "+strconv.Itoa(int(lo))+" from config")
	}
	if s.Bounds.HasMax {
		hi = s.Bounds.Max
		from = append(from, "max "+strconv.Itoa(int(hi))+" from config")
		if c := p.ScaleCeiling(s.Desired); hi > c {
			hi = c
			from[len(from)-1] = "max " + strconv.Itoa(int(hi)) + " from scale_max_replicas"
		}
	}
	if (!s.Bounds.HasMin || !s.Bounds.HasMax) && !override && p.ScaleMaxChange > 0 && s.Desired > 0 {
		from = append(from, fmt.Sprintf("scale_max_change ±%.0f%%", p.ScaleMaxChange*100))
	}
	switch len(from) {
	case 0:
		why = "no limit"
	case 1:
		why = from[0]
	default:
		why = from[0]
		for _, f := range from[1:] {
			why += ", " + f
		}
	}
	return lo, hi, why
}

// ecsHandler acts on one ECS service, named by its raw ARN. A target is
// pinned by that ARN, its task definition, desired count, status and
// creation time: any of them changing means someone else acted (or the
// service was recreated) since the plan.
type ecsHandler struct{}

func (ecsHandler) Area() sources.Kind { return sources.KindAWS }

func (ecsHandler) Kinds() []KindSpec {
	return []KindSpec{{SetDesiredCount, "Set desired count"}, {ForceDeployment, "Force new deployment"},
		{RollbackTaskDef, "Roll back task definition"}}
}

func (ecsHandler) Check(pol Policy, req Request, scope CheckScope) error {
	s := req.ECSService
	if s == nil {
		return refuse(ErrInvalid, "no ECS service selected")
	}
	if s.Status != "" && s.Status != "ACTIVE" {
		return refuse(ErrInvalid, fmt.Sprintf("service %s is %s", s.Name, s.Status))
	}
	switch req.Action {
	case SetDesiredCount:
		if scope == TargetOnly {
			return nil // the count is asked for next
		}
		return checkDesired(pol, *s, req.Params)
	case RollbackTaskDef:
		to := req.Params.TaskDefinition
		if to == "" {
			if r := s.RollbackRefusal(); r != "" {
				return refuse(ErrInvalid, r)
			}
			return nil
		}
		return checkRollbackTo(*s, sources.ParseTaskDef(to))
	}
	return nil
}

// checkDesired applies the service's bounds and the policy to a new
// desired count.
func checkDesired(pol Policy, s sources.ECSService, params Params) error {
	n := params.Desired
	if r := s.DesiredRefusal(n); r != "" {
		if n < 0 || n == s.Desired {
			return refuse(ErrInvalid, r)
		}
		return refuse(ErrPolicy, r)
	}
	if err := pol.CheckScaleCeiling(s.Name, s.Desired, n); err != nil {
		return err
	}
	if lo, hi, why := pol.DesiredBounds(s, params.Override); n < lo || n > hi {
		return refuse(ErrPolicy, fmt.Sprintf("%s %d→%d is outside %d–%d (%s)", s.Name, s.Desired, n, lo, hi, why))
	}
	return nil
}

// checkRollbackTo refuses anything but an older revision of the family the
// service runs: that is what a rollback is.
func checkRollbackTo(s sources.ECSService, to sources.TaskDef) error {
	switch {
	case to.Family != s.TaskDefinition.Family:
		return refuse(ErrInvalid, fmt.Sprintf("%s is not a revision of %s, which %s runs", to, s.TaskDefinition.Family, s.Name))
	case to.Revision <= 0:
		return refuse(ErrInvalid, fmt.Sprintf("%q names no revision (family:revision)", to.String()))
	case to.Revision >= s.TaskDefinition.Revision:
		return refuse(ErrInvalid, fmt.Sprintf("%s is not older than the current %s", to, s.TaskDefinition))
	}
	return nil
}

func (ecsHandler) Plan(ctx context.Context, env Env, req Request, p *Plan) error {
	ctl, err := Capability[ECSController](env, "act on ECS services")
	if err != nil {
		return err
	}
	s := *req.ECSService
	if s.RawARN == "" {
		// A source that gives no raw ARN cannot be acted on: the name is
		// display text, and two services may share it.
		return refuse(ErrInvalid, fmt.Sprintf("service %s has no ARN to act on", s.Name))
	}
	where := s.Name + " (" + s.Cluster + ", " + s.Region + ")"
	t := Target{ID: s.Key(), Identity: serviceIdentity(s), Subject: s,
		Detail: fmt.Sprintf("%s  %s  desired %d running %d pending %d  %s", s.Key(), s.TaskDefinition, s.Desired, s.Running, s.Pending, rolloutText(s))}
	p.Phrase = s.Name
	var sn seen
	sn.head(s.Key())
	sn.add("arn", rawText(s.RawARN))
	sn.add("task_definition", s.TaskDefinition.String())
	sn.add("desired", strconv.Itoa(int(s.Desired)))
	sn.add("running", strconv.Itoa(int(s.Running)))
	sn.add("pending", strconv.Itoa(int(s.Pending)))
	sn.add("status", s.Status)
	sn.add("deployment", s.Rollout.ID)
	sn.add("rollout", string(s.Rollout.RolloutState))
	sn.time("created_at", s.CreatedAt)
	// The command names what the plan acts on: the name where it is the
	// raw one, else the raw ARN, escaped — a sanitized lookalike name
	// would name another service.
	service := s.Name
	if s.RawName() != s.Name {
		service = rawText(s.RawARN)
	}
	cli := fmt.Sprintf("aws ecs update-service --region %s --cluster %s --service %s", s.Region, s.Cluster, service)
	switch req.Action {
	case SetDesiredCount:
		n := req.Params.Desired
		p.Title = fmt.Sprintf("Set desired count of %s %d → %d", where, s.Desired, n)
		lo, hi, why := env.Policy.DesiredBounds(s, false)
		p.Preview = []string{
			fmt.Sprintf("desired count %d → %d (running %d, pending %d)", s.Desired, n, s.Running, s.Pending),
			fmt.Sprintf("allowed without override: %d–%d (%s)", lo, hi, why),
			"like: " + cli + " --desired-count " + strconv.Itoa(int(n)),
		}
		if req.Params.Override {
			p.Preview = append(p.Preview, "override: beyond scale_max_change")
		}
		sn.add("to_desired", strconv.Itoa(int(n)))
	case ForceDeployment:
		p.Title = "Force a new deployment of " + where
		p.Preview = []string{
			fmt.Sprintf("every task of %s is replaced by a new deployment of %s", s.Name, s.TaskDefinition),
			"like: " + cli + " --force-new-deployment",
		}
	case RollbackTaskDef:
		to := req.Params.TaskDefinition
		if to == "" {
			to = s.PreviousTaskDefinition.String()
		}
		p.Params.TaskDefinition = to
		p.Title = fmt.Sprintf("Roll back %s to %s", where, to)
		p.Preview = []string{fmt.Sprintf("task definition %s → %s", s.TaskDefinition, to), "like: " + cli + " --task-definition " + to}
		sn.add("to_task_definition", to)
		diff, err := ctl.PreviewRollback(ctx, s.Region, s.Cluster, s.RawARN, to)
		if err != nil {
			return fmt.Errorf("preview: %w", err)
		}
		p.Preview = append(p.Preview, diff...)
	}
	t.Seen = sn.String()
	p.Targets = []Target{t}
	return nil
}

// rolloutText is the primary deployment's rollout state for a preview.
func rolloutText(s sources.ECSService) string {
	if s.Rollout.RolloutState == "" {
		return "rollout state unknown"
	}
	return "rollout " + string(s.Rollout.RolloutState)
}

// bind is what a plan acts with and on: the source's controller and the
// service as the plan saw it.
func (ecsHandler) bind(env Env, p Plan) (ECSController, sources.ECSService, error) {
	return bindOne[ECSController, sources.ECSService](env, p, "act on ECS services", "ECS service")
}

func (h ecsHandler) Recheck(ctx context.Context, env Env, p Plan) error {
	ctl, s, err := h.bind(env, p)
	if err != nil {
		return err
	}
	// Policy sees what the plan resolved ("previous" became a revision).
	check := func() error {
		return h.Check(env.Policy, Request{Action: p.Action, Source: p.Source, ECSService: &s, Params: p.Params}, WholeRequest)
	}
	return recheckOne(p, s.Key(), check, func() (sources.ECSService, error) {
		return ctl.DescribeService(ctx, s.Region, s.Cluster, s.RawARN)
	}, serviceIdentity)
}

func (h ecsHandler) Act(ctx context.Context, env Env, p Plan) ([]string, error) {
	ctl, s, err := h.bind(env, p)
	if err != nil {
		return nil, err
	}
	var detail string
	switch p.Action {
	case SetDesiredCount:
		err = ctl.SetDesiredCount(ctx, s.Region, s.Cluster, s.RawARN, p.Params.Desired)
		detail = fmt.Sprintf("%s desired count %d → %d", s.Key(), s.Desired, p.Params.Desired)
	case ForceDeployment:
		err = ctl.ForceNewDeployment(ctx, s.Region, s.Cluster, s.RawARN)
		detail = s.Key() + " new deployment of " + s.TaskDefinition.String() + " started"
	case RollbackTaskDef:
		err = ctl.RollbackTaskDefinition(ctx, s.Region, s.Cluster, s.RawARN, p.Params.TaskDefinition)
		detail = fmt.Sprintf("%s rolled back %s → %s", s.Key(), s.TaskDefinition, p.Params.TaskDefinition)
	default:
		return nil, refuse(ErrInvalid, fmt.Sprintf("ECS cannot %s", p.Action))
	}
	if err != nil {
		return nil, err
	}
	return []string{detail}, nil
}

// EffectWait waits for the service to be stable again: one deployment,
// every desired task running.
func (h ecsHandler) EffectWait(env Env, p Plan) (EffectWait, bool) {
	ctl, s, err := h.bind(env, p)
	if err != nil {
		return EffectWait{}, false
	}
	limit := env.Waits.ServicesStable
	return EffectWait{
		What:  "services stable: " + s.Name + " in " + s.Cluster,
		Limit: limit,
		Wait: func(ctx context.Context) error {
			return ctl.WaitServicesStable(ctx, s.Region, s.Cluster, []string{s.RawARN}, limit)
		},
	}, true
}

// serviceIdentity pins a service: same service (its raw ARN), same task
// definition, same desired count, same status.
func serviceIdentity(s sources.ECSService) string {
	id := fmt.Sprintf("arn=%s task_definition=%s desired=%d status=%s", rawText(s.RawARN), s.TaskDefinition, s.Desired, s.Status)
	if !s.CreatedAt.IsZero() {
		id += " created=" + s.CreatedAt.UTC().Format(time.RFC3339)
	}
	return id
}
