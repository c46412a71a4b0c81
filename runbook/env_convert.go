package runbook

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/sources"
)

// The converters below turn one snapshot payload into its part of the
// expression environment.

// awsEnv is the AWS snapshot as expressions see it; set may be nil (no
// data yet: every lookup is unknown).
func awsEnv(set *sources.AWSSet, source string) AWS {
	a := AWS{Source: source}
	if set != nil {
		for _, in := range set.RDS {
			a.Instances = append(a.Instances, rdsEnv(in))
		}
		for _, s := range set.ECS {
			a.Services = append(a.Services, ecsEnv(s))
		}
	}
	a.Instance = func(region, id string) RDS {
		if set != nil {
			if in, ok := set.Instance(region, id); ok {
				return rdsEnv(in)
			}
		}
		panic(&missing{fmt.Sprintf("no RDS instance %s in %s", id, region)})
	}
	a.Service = func(region, cluster, name string) ECS {
		if set != nil {
			if s, ok := set.Service(region, cluster, name); ok {
				return ecsEnv(s)
			}
		}
		panic(&missing{fmt.Sprintf("no ECS service %s in cluster %s (%s)", name, cluster, region)})
	}
	return a
}

func rdsEnv(in sources.RDSInstance) RDS {
	h, _ := in.Health()
	r := RDS{Region: in.Region, ID: in.ID, Status: in.Status, Available: in.Status == "available",
		Role: string(in.Role()), MultiAZ: in.MultiAZ, LagSeconds: in.ReplicaLag, CPUPercent: in.CPUPercent,
		Connections: in.Connections, Health: h.String()}
	if !in.ReplicaOf.IsZero() {
		r.ReplicaOf = in.ReplicaOf.Region + "/" + in.ReplicaOf.ID
	}
	return r
}

func ecsEnv(s sources.ECSService) ECS {
	return ECS{Region: s.Region, Cluster: s.Cluster, Name: s.Name, Status: s.Status, Desired: int(s.Desired),
		Running: int(s.Running), Pending: int(s.Pending), Steady: s.Steady(),
		TaskDefinition: s.TaskDefinition.String(), RolloutState: string(s.Rollout.RolloutState)}
}

func pgEnv(p *sources.PGActivity, source string, now time.Time) PG {
	if !p.Now.IsZero() {
		now = p.Now // ages on the server's clock, as the filter measures them
	}
	blocking := p.Blockers()
	roots := rootBlockers(p.Backends)
	g := PG{
		Source:         source,
		Connections:    p.Connections,
		Usable:         p.Usable(),
		MaxConnections: p.MaxConnections,
		ByState:        map[string]int{},
		Blockers:       len(blocking),
		RootBlockers:   len(roots),
	}
	if g.Usable > 0 {
		g.Ratio = float64(g.Connections) / float64(g.Usable)
	}
	for k, v := range p.ByState {
		g.ByState[k] = v
	}
	g.Active = p.ByState["active"]
	g.Idle = p.ByState["idle"]
	g.IdleInTransaction = p.ByState["idle in transaction"] + p.ByState["idle in transaction (aborted)"]
	view := func(b *sources.Backend) Backend {
		v := Backend{PID: int(b.PID), User: b.User, App: b.Application, DB: b.Database, State: b.State,
			Query: b.Query, Age: nonNeg(now.Sub(b.Since())), BackendAge: nonNeg(now.Sub(b.BackendStart)),
			Blocked: len(b.BlockedBy) > 0, Blocking: blocking[b.PID], Root: roots[b.PID]}
		if b.WaitType != "" {
			v.Wait = b.WaitType + ":" + b.WaitEvent
		}
		if !b.XactStart.IsZero() {
			v.XactAge = nonNeg(now.Sub(b.XactStart))
		}
		for _, by := range b.BlockedBy {
			v.BlockedBy = append(v.BlockedBy, int(by))
		}
		return v
	}
	for i := range p.Backends {
		b := &p.Backends[i]
		if !b.IsClient() {
			continue
		}
		if len(b.BlockedBy) > 0 {
			g.Waiting++
		}
		v := view(b)
		g.OldestXact = max(g.OldestXact, v.XactAge)
		g.Backends = append(g.Backends, v)
	}
	g.Select = func(filter string) []Backend {
		sel := p.Select(sources.ParseBackendFilter(filter))
		out := make([]Backend, len(sel))
		for i := range sel {
			out[i] = view(&sel[i])
		}
		return out
	}
	g.Count = func(filter string) int { return len(p.Select(sources.ParseBackendFilter(filter))) }
	g.PGViews = pgViewsEnv(p, source, now)
	return g
}

// rootBlockers are the backends that block others while waiting on nobody.
func rootBlockers(bs []sources.Backend) map[int32]bool {
	out := map[int32]bool{}
	for _, n := range sources.BlockingTree(bs) {
		if n.Root {
			out[n.PID] = true
		}
	}
	return out
}

func nonNeg(d time.Duration) time.Duration { return max(d, 0) }

func sloEnv(s sources.SLOStatus) SLO {
	return SLO{Name: s.Name, Objective: s.Objective, SLI: s.SLI, BudgetLeft: s.BudgetLeft,
		Level: s.Level.String(), Reason: s.Reason,
		Burn: func(window string) float64 {
			d, err := duration.Parse(window)
			if err != nil {
				panic(&missing{fmt.Sprintf("burn window %q: %v", window, err)})
			}
			v, ok := s.Burn[d]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				panic(&missing{fmt.Sprintf("no %s burn rate for %s", window, s.Name)})
			}
			return v
		}}
}

func alertEnv(a sources.Alert, now time.Time) Alert {
	v := Alert{Name: a.Name, Severity: a.Severity, State: string(a.State), Labels: map[string]string{},
		RunbookURL: a.RunbookURL}
	v.Firing = a.State == sources.AlertFiring
	v.Active = true // listed by the source: firing, pending, silenced or inhibited
	v.Silenced = a.State == sources.AlertSilenced
	if !a.StartsAt.IsZero() {
		v.Since = nonNeg(now.Sub(a.StartsAt))
	}
	for _, l := range a.Labels {
		v.Labels[l.Name] = l.Value
	}
	return v
}

func sameLabels(a, b []sources.Label) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	less := func(p, q sources.Label) int { return strings.Compare(p.Name, q.Name) }
	slices.SortFunc(x, less)
	slices.SortFunc(y, less)
	return slices.Equal(x, y)
}

func rolloutEnv(d sources.Deployment, now time.Time) Rollout {
	r := Rollout{Namespace: d.Namespace, Name: d.Name, Revision: int(d.Revision), Status: string(d.State),
		Replicas: int(d.Replicas), Ready: int(d.Ready), Updated: int(d.Updated), Available: int(d.Available),
		Images: d.Images, Paused: d.Paused}
	r.Complete = d.State == sources.RolloutComplete && d.Updated >= d.Replicas && d.Available >= d.Replicas
	if len(d.Images) > 0 {
		r.Image = d.Images[0]
	}
	at := d.RolledOutAt
	for _, h := range d.History {
		if h.Number < d.Revision && int(h.Number) > r.PreviousRevision {
			r.PreviousRevision = int(h.Number)
		}
		if h.Number == d.Revision {
			r.ChangeCause = h.ChangeCause
			if at.IsZero() {
				at = h.CreatedAt
			}
		}
	}
	if !at.IsZero() {
		r.DeployedAgo = nonNeg(now.Sub(at))
	}
	r.Warnings = d.Evidence.WarningCount
	for _, p := range d.Evidence.Pods {
		r.Restarts += int(p.Restarts)
		if t := p.LastTermination; t != nil && t.Reason == "OOMKilled" {
			r.OOMKilled++
		}
	}
	return r
}
