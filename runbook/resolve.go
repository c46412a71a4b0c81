package runbook

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/ops"
	"flightdeck/sources"
)

// resolution is an action template resolved against one set of snapshots.
type resolution struct {
	// req is what the caller sends into plan → confirm → execute; nil when
	// there is nothing to do or it cannot be known.
	req *ops.Request
	// lines preview the targets, the backends left out and why, and how
	// many more match beyond max_targets.
	lines []string
	// unknown says why the template cannot be resolved now (no data).
	unknown string
	// empty says why there is nothing to do (no backend matches).
	empty string
}

// resolve turns a template into a request on the snapshots of w. Backends
// are the filter's matches, oldest first, minus those pol refuses (listed
// with the reason), capped at pol.MaxTargets; the Executor re-checks
// everything when it runs the plan.
//
// gone holds the backends (pidIdentity) this step already terminated: the
// server may still list them for a moment, and doing the step again for the
// ones beyond max_targets must not target them twice.
func resolve(a *ActionTemplate, w *world, opener *sources.Alert, pol ops.Policy, runbook string, gone map[string]bool) resolution {
	switch a.Kind {
	case ops.Cancel, ops.Terminate:
		return resolveBackends(a, w, pol, gone)
	case ops.Undo, ops.Restart, ops.Scale, ops.Pause, ops.Resume:
		return resolveDeployment(a, w, pol)
	case ops.Silence:
		return resolveSilence(a, w, opener, pol, runbook)
	case ops.PromoteReplica, ops.RebootDB, ops.RebootDBFailover, ops.FailoverCluster,
		ops.SetDesiredCount, ops.ForceDeployment, ops.RollbackTaskDef:
		return resolveAWS(a, w, pol)
	case ops.Notify:
		return resolveNotify(a)
	}
	return resolution{unknown: fmt.Sprintf("action %q cannot be resolved", a.Kind)}
}

func noData(kind, source string) string {
	if source != "" {
		return fmt.Sprintf("no data from source %q", source)
	}
	return "no " + kind + " data"
}

// pidIdentity pins a backend: pids are reused, pid and start are not.
func pidIdentity(b sources.Backend) string {
	return fmt.Sprintf("%d@%s", b.PID, b.BackendStart.UTC().Format(time.RFC3339Nano))
}

func resolveBackends(a *ActionTemplate, w *world, pol ops.Policy, gone map[string]bool) resolution {
	snap, ok := w.snapshot(sources.KindPostgres, a.Source)
	if !ok {
		return resolution{unknown: noData("postgres", a.Source)}
	}
	act := snap.Data.(*sources.PGActivity)
	sel := act.Select(sources.ParseBackendFilter(a.Backends))
	what := fmt.Sprintf("%q", a.Backends)
	if a.RootBlockers {
		roots := rootBlockers(act.Backends)
		kept := sel[:0:0]
		for _, b := range sel {
			if roots[b.PID] {
				kept = append(kept, b)
			}
		}
		sel = kept
		what += " that is a root blocker"
	}
	// Oldest first: with max_targets, the longest-running go first.
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].Since().Before(sel[j].Since()) })
	now := act.Now
	if now.IsZero() {
		now = w.now
	}
	var res resolution
	var targets []sources.Backend
	var skipped []string
	terminated := 0
	for _, b := range sel {
		if gone[pidIdentity(b)] {
			terminated++
			continue
		}
		if err := pol.Check(ops.Request{Action: a.Kind, Source: snap.Source, Backends: []sources.Backend{b}}); err != nil {
			skipped = append(skipped, fmt.Sprintf("skip pid %d (%s): %s", b.PID, b.User, refusalReason(err)))
			continue
		}
		targets = append(targets, b)
	}
	more := 0
	if pol.MaxTargets > 0 && len(targets) > pol.MaxTargets {
		more = len(targets) - pol.MaxTargets
		targets = targets[:pol.MaxTargets]
	}
	for _, b := range targets {
		res.lines = append(res.lines, "target "+describeBackend(b, now))
	}
	if more > 0 {
		res.lines = append(res.lines, fmt.Sprintf("%d more match beyond max_targets %d: do the step again for them", more, pol.MaxTargets))
	}
	res.lines = append(res.lines, skipped...)
	if terminated > 0 {
		res.lines = append(res.lines, fmt.Sprintf("%d terminated by this step, still listed by the server", terminated))
	}
	switch {
	case len(targets) > 0:
		res.req = &ops.Request{Action: a.Kind, Source: snap.Source, Backends: targets}
	case len(sel) == 0:
		res.empty = "no backend matches " + what
	default:
		var parts []string
		if terminated > 0 {
			parts = append(parts, fmt.Sprintf("%d terminated by this step", terminated))
		}
		if n := len(sel) - terminated; n > 0 {
			parts = append(parts, fmt.Sprintf("%d refused by policy", n))
		}
		res.empty = fmt.Sprintf("of the %d backend(s) matching %s, %s", len(sel), what, strings.Join(parts, ", "))
	}
	return res
}

func refusalReason(err error) string {
	var r *ops.Refusal
	if errors.As(err, &r) && r.Reason != "" {
		return r.Reason
	}
	return err.Error()
}

// describeBackend is one preview line: who, what state for how long, what.
func describeBackend(b sources.Backend, now time.Time) string {
	q := b.Query
	if r := []rune(q); len(r) > 60 {
		q = string(r[:60]) + "…"
	}
	return fmt.Sprintf("pid %d %s %s %s %s: %s", b.PID, b.User, b.Application, b.State, shortDur(nonNeg(now.Sub(b.Since()))), q)
}

func resolveDeployment(a *ActionTemplate, w *world, pol ops.Policy) resolution {
	snap, ok := w.snapshot(sources.KindRollouts, a.Source)
	if !ok {
		return resolution{unknown: noData("rollout", a.Source)}
	}
	set := snap.Data.(*sources.RolloutSet)
	var dep *sources.Deployment
	for i := range set.Deployments {
		if d := set.Deployments[i]; d.Namespace == a.Namespace && d.Name == a.Deployment {
			dep = &d
			break
		}
	}
	if dep == nil {
		return resolution{unknown: fmt.Sprintf("no deployment %s in %s", a.DeploymentKey(), snap.Source)}
	}
	req := &ops.Request{Action: a.Kind, Source: snap.Source, Deployment: dep,
		Params: ops.Params{ToRevision: a.ToRevision, Replicas: a.Replicas, Override: a.Override}}
	var line string
	switch a.Kind {
	case ops.Undo:
		to := a.ToRevision
		if to == 0 {
			to = int64(rolloutEnv(*dep, w.now).PreviousRevision)
		}
		line = fmt.Sprintf("roll back %s revision %d → %d", dep.Key(), dep.Revision, to)
	case ops.Restart:
		line = fmt.Sprintf("restart %s (%d replicas, revision %d)", dep.Key(), dep.Replicas, dep.Revision)
	case ops.Scale:
		line = fmt.Sprintf("scale %s %d → %d", dep.Key(), dep.Replicas, a.Replicas)
		if a.Override {
			line += " (override: beyond scale_max_change)"
		}
	case ops.Pause, ops.Resume:
		line = fmt.Sprintf("%s %s", a.Kind, dep.Key())
	}
	res := resolution{req: req, lines: []string{"target " + line}}
	// The Executor decides; saying now what it will refuse saves a round trip.
	if err := pol.Check(*req); err != nil {
		res.lines = append(res.lines, "policy: "+refusalReason(err))
	}
	return res
}

// resolveAWS finds the instance, Aurora cluster or ECS service of an AWS
// action in the latest AWS snapshot; one that is not there says so.
func resolveAWS(a *ActionTemplate, w *world, pol ops.Policy) resolution {
	snap, ok := w.snapshot(sources.KindAWS, a.Source)
	if !ok {
		return resolution{unknown: noData("AWS", a.Source)}
	}
	set := snap.Data.(*sources.AWSSet)
	req := &ops.Request{Action: a.Kind, Source: snap.Source}
	var line string
	switch a.Kind {
	case ops.PromoteReplica, ops.RebootDB, ops.RebootDBFailover:
		in, ok := set.Instance(a.Region, a.Instance)
		if !ok {
			return resolution{unknown: fmt.Sprintf("no RDS instance %s in %s (source %s)", a.Instance, a.Region, snap.Source)}
		}
		req.RDSInstance = &in
		where := fmt.Sprintf("%s (%s, %s, %s)", in.ID, in.Region, in.RoleText(), in.Status)
		switch a.Kind {
		case ops.PromoteReplica:
			line = "promote " + where
			if lag, ok := in.Lag(); ok {
				line += ", replica lag " + shortDur(lag)
			}
		case ops.RebootDB:
			line = "reboot " + where
		default:
			line = "reboot with failover " + where
		}
	case ops.FailoverCluster:
		c, ok := set.Cluster(a.Region, a.DBCluster)
		if !ok {
			return resolution{unknown: fmt.Sprintf("no Aurora cluster %s in %s (source %s)", a.DBCluster, a.Region, snap.Source)}
		}
		req.RDSCluster = &c
		req.Params.FailoverTarget = a.FailoverTarget
		to := a.FailoverTarget
		if to == "" {
			to = "a reader RDS chooses"
		}
		line = fmt.Sprintf("fail over %s (%s) from writer %s to %s", c.ID, c.Region, c.Writer(), to)
	default:
		s, ok := set.Service(a.Region, a.Cluster, a.Service)
		if !ok {
			return resolution{unknown: fmt.Sprintf("no ECS service %s in cluster %s (%s, source %s)", a.Service, a.Cluster, a.Region, snap.Source)}
		}
		req.ECSService = &s
		switch a.Kind {
		case ops.SetDesiredCount:
			req.Params.Desired, req.Params.Override = a.Desired, a.Override
			line = fmt.Sprintf("set desired count of %s %d → %d (%d running)", s.Key(), s.Desired, a.Desired, s.Running)
			if a.Override {
				line += " (override: beyond scale_max_change)"
			}
		case ops.ForceDeployment:
			line = fmt.Sprintf("force a new deployment of %s (%s, %d running)", s.Key(), s.TaskDefinition, s.Running)
		default:
			req.Params.TaskDefinition = a.TaskDefinition
			to := a.TaskDefinition
			if to == "" {
				to = s.PreviousTaskDefinition.String()
			}
			line = fmt.Sprintf("roll back %s %s → %s", s.Key(), s.TaskDefinition, to)
		}
	}
	res := resolution{req: req, lines: []string{"target " + line}}
	// The Executor decides; saying now what it will refuse saves a round trip.
	if err := pol.Check(*req); err != nil {
		res.lines = append(res.lines, "policy: "+refusalReason(err))
	}
	return res
}

func resolveSilence(a *ActionTemplate, w *world, opener *sources.Alert, pol ops.Policy, runbook string) resolution {
	if opener == nil {
		return resolution{unknown: "no alert opened this run: nothing to silence"}
	}
	snap, ok := w.snapshot(sources.KindAlerts, a.Source)
	if !ok {
		return resolution{unknown: noData("alert", a.Source)}
	}
	ms := make([]sources.Matcher, 0, len(opener.Labels))
	for _, l := range opener.Labels {
		ms = append(ms, sources.Matcher{Name: l.Name, Value: l.Value, IsEqual: true})
	}
	alert := *opener
	comment := a.Comment + " (runbook " + runbook + ")"
	req := &ops.Request{Action: ops.Silence, Source: snap.Source, Alert: &alert,
		Params: ops.Params{Matchers: ms, Duration: a.Duration, Comment: comment}}
	res := resolution{req: req, lines: []string{fmt.Sprintf("silence %s for %s: %s",
		ops.FormatMatchers(ms), duration.Format(a.Duration), comment)}}
	if err := pol.Check(*req); err != nil {
		res.lines = append(res.lines, "policy: "+refusalReason(err))
	}
	return res
}
