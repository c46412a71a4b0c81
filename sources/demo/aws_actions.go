package demo

// The demo AWS estate's actions, re-reads and waits: the methods the real
// sources/aws offers the ops handlers (actions.go there), acting on the
// scripted estate so every AWS action and runbook works in the demo.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"flightdeck/sources"
)

// withService runs f on the service with the world locked, as every
// service action does.
func (s *AWSSource) withService(ctx context.Context, region, cluster, service string, f func(*demoService) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.w.mu.Unlock()
	sv, err := s.service(region, cluster, service)
	if err != nil {
		return err
	}
	return f(sv)
}

// withInstance runs f on the RDS instance with the world locked.
func (s *AWSSource) withInstance(ctx context.Context, region, id string, f func(*demoInstance) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.w.mu.Unlock()
	in, err := s.instance(region, id)
	if err != nil {
		return err
	}
	return f(in)
}

// DescribeService reads the service as it is now.
func (s *AWSSource) DescribeService(ctx context.Context, region, cluster, service string) (sources.ECSService, error) {
	var out sources.ECSService
	err := s.withService(ctx, region, cluster, service, func(sv *demoService) error {
		out = s.snapshotService(sv)
		return nil
	})
	return out, err
}

// SetDesiredCount sets the desired count; tasks start or stop one at a
// time.
func (s *AWSSource) SetDesiredCount(ctx context.Context, region, cluster, service string, n int32) error {
	return s.withService(ctx, region, cluster, service, func(sv *demoService) error {
		if n < 0 {
			return fmt.Errorf("ecs:UpdateService in %s: the desired count cannot be negative", region)
		}
		sv.desired = n
		sv.deployments[0].updated = s.w.wall(s.w.tick)
		return nil
	})
}

// ForceNewDeployment starts a deployment of the same revision.
func (s *AWSSource) ForceNewDeployment(ctx context.Context, region, cluster, service string) error {
	return s.withService(ctx, region, cluster, service, func(sv *demoService) error {
		s.deploy(sv, sv.revision)
		return nil
	})
}

func (s *AWSSource) deploy(sv *demoService, rev int32) {
	now := s.w.wall(s.w.tick)
	d := &demoDeployment{id: s.nextID("ecs-svc/"), revision: rev, started: s.w.tick, created: now, updated: now}
	sv.deployments = append([]*demoDeployment{d}, sv.deployments...)
	if len(sv.deployments) > sources.MaxECSDeployments {
		sv.deployments = sv.deployments[:sources.MaxECSDeployments]
	}
	sv.revision = rev
	sv.nextTask = s.w.tick + 1
}

// rollbackTarget checks toTaskDef like the real source: an older ACTIVE
// revision of the family the service runs.
func rollbackTarget(sv *demoService, toTaskDef string) (int32, error) {
	to := sources.ParseTaskDef(toTaskDef)
	switch {
	case to.Family != sv.family:
		return 0, fmt.Errorf("%s is not a revision of %s, which %s runs", to, sv.family, sv.name)
	case to.Revision == 0 || to.Revision >= sv.revision:
		return 0, fmt.Errorf("%s is not older than the current %s:%d", to, sv.family, sv.revision)
	case !slices.Contains(sv.active, to.Revision):
		return 0, fmt.Errorf("ClientException: TaskDefinition %s is inactive or does not exist", to)
	}
	return to.Revision, nil
}

// PreviewRollback lists what rolling back to toTaskDef changes.
func (s *AWSSource) PreviewRollback(ctx context.Context, region, cluster, service, toTaskDef string) ([]string, error) {
	var out []string
	err := s.withService(ctx, region, cluster, service, func(sv *demoService) error {
		rev, err := rollbackTarget(sv, toTaskDef)
		if err != nil {
			return err
		}
		from := taskImages[fmt.Sprintf("%s:%d", sv.family, sv.revision)]
		to := taskImages[fmt.Sprintf("%s:%d", sv.family, rev)]
		name := sv.family[len("nudgecampaign-"):]
		out = []string{"container " + name + ": image " + from + " → " + to}
		return nil
	})
	return out, err
}

// RollbackTaskDefinition points the service at an older revision; a
// deployment replaces the tasks.
func (s *AWSSource) RollbackTaskDefinition(ctx context.Context, region, cluster, service, toTaskDef string) error {
	return s.withService(ctx, region, cluster, service, func(sv *demoService) error {
		rev, err := rollbackTarget(sv, toTaskDef)
		if err != nil {
			return err
		}
		s.deploy(sv, rev)
		return nil
	})
}

// ---------------------------------------------------------------- RDS actions

// DescribeDBInstance reads the instance as it is now.
func (s *AWSSource) DescribeDBInstance(ctx context.Context, region, id string) (sources.RDSInstance, error) {
	var out sources.RDSInstance
	err := s.withInstance(ctx, region, id, func(in *demoInstance) error {
		out = s.snapshotInstance(in)
		out.CPUPercent, out.Connections, out.ReplicaLag = math.NaN(), math.NaN(), math.NaN() // as the real re-read
		return nil
	})
	return out, err
}

// DescribeDBCluster reads the Aurora cluster as it is now.
func (s *AWSSource) DescribeDBCluster(ctx context.Context, region, id string) (sources.RDSCluster, error) {
	if err := s.lock(ctx); err != nil {
		return sources.RDSCluster{}, err
	}
	defer s.w.mu.Unlock()
	if err := checkRegion(region); err != nil {
		return sources.RDSCluster{}, err
	}
	c := s.cluster(region, id)
	if c == nil {
		return sources.RDSCluster{}, fmt.Errorf("rds:DescribeDBClusters in %s: DBClusterNotFoundFault: DBCluster %s not found.", region, id)
	}
	return s.snapshotCluster(c), nil
}

// RebootDBInstance reboots; with forceFailover the Multi-AZ standby takes
// over (the zones swap when it is back).
func (s *AWSSource) RebootDBInstance(ctx context.Context, region, id string, forceFailover bool) error {
	return s.withInstance(ctx, region, id, func(in *demoInstance) error {
		if in.status != "available" {
			return fmt.Errorf("rds:RebootDBInstance in %s: InvalidDBInstanceState: Instance %s is not in available state.", region, id)
		}
		if forceFailover && !in.multiAZ {
			return fmt.Errorf("rds:RebootDBInstance in %s: InvalidParameterCombination: Reboot with failover is only supported for Multi-AZ instances.", region)
		}
		in.status, in.busyUntil, in.failover = "rebooting", s.w.tick+rebootSecs, forceFailover
		msg := "DB instance shutdown"
		if forceFailover {
			msg = "Multi-AZ instance failover started."
		}
		in.events = rdsEvent(in.events, s.w.wall(s.w.tick), in.id, "db-instance", "availability", msg)
		return nil
	})
}

// PromoteReadReplica makes the DR replica a standalone instance:
// replication stops at once, the instance modifies for a while.
func (s *AWSSource) PromoteReadReplica(ctx context.Context, region, id string) error {
	return s.withInstance(ctx, region, id, func(in *demoInstance) error {
		if in.replicaOf.IsZero() {
			return fmt.Errorf("rds:PromoteReadReplica in %s: InvalidDBInstanceState: DB Instance %s is not a read replica.", region, id)
		}
		if in.status != "available" {
			return fmt.Errorf("rds:PromoteReadReplica in %s: InvalidDBInstanceState: Instance %s is not in available state.", region, id)
		}
		src := in.replicaOf
		if p, err := s.instance(src.Region, src.ID); err == nil {
			p.replicas = slices.DeleteFunc(p.replicas, func(r sources.RDSRef) bool { return r == in.ref() })
		}
		in.replicaOf = sources.RDSRef{}
		in.status, in.busyUntil = "modifying", s.w.tick+promoteSecs
		return nil
	})
}

func (in *demoInstance) ref() sources.RDSRef { return sources.RDSRef{Region: in.region, ID: in.id} }

// FailoverDBCluster makes target (or the first reader) the writer.
func (s *AWSSource) FailoverDBCluster(ctx context.Context, region, clusterID, target string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.w.mu.Unlock()
	if err := checkRegion(region); err != nil {
		return err
	}
	c := s.cluster(region, clusterID)
	if c == nil {
		return fmt.Errorf("rds:FailoverDBCluster in %s: DBClusterNotFoundFault: DBCluster %s not found.", region, clusterID)
	}
	if r := s.snapshotCluster(c).FailoverRefusal(target); r != "" {
		return fmt.Errorf("rds:FailoverDBCluster in %s: InvalidDBClusterStateFault: %s", region, r)
	}
	if target == "" {
		target = c.readers[0]
	}
	c.status, c.busyUntil, c.target = "failing-over", s.w.tick+clusterFOSecs, target
	c.events = rdsEvent(c.events, s.w.wall(s.w.tick), c.id, "db-cluster", "failover", "Started cross AZ failover to DB instance: "+target)
	return nil
}

// ---------------------------------------------------------------- waiters

// pollEvery is how often the demo's waiters look at the world.
const pollEvery = 250 * time.Millisecond

// waitFor polls cond on the world until it holds or maxWait passes;
// describe says what was last seen, for the error.
func (s *AWSSource) waitFor(ctx context.Context, what string, maxWait time.Duration, cond func() (bool, string, error)) error {
	if maxWait <= 0 {
		return fmt.Errorf("maximum wait time for waiter must be greater than zero")
	}
	ctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	last := ""
	for {
		if err := s.lock(ctx); err != nil {
			return fmt.Errorf("%s: not done within %s%s", what, maxWait, last)
		}
		ok, seen, err := cond()
		s.w.mu.Unlock()
		if err != nil || ok {
			return err
		}
		last = ": " + seen
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not done within %s%s", what, maxWait, last)
		case <-t.C:
		}
	}
}

// WaitServicesStable waits for one deployment and all tasks running.
func (s *AWSSource) WaitServicesStable(ctx context.Context, region, cluster string, services []string, maxWait time.Duration) error {
	return s.waitFor(ctx, "wait for services stable in "+region, maxWait, func() (bool, string, error) {
		var seen []string
		all := true
		for _, name := range services {
			sv, err := s.service(region, cluster, name)
			if err != nil {
				return false, "", err
			}
			e := s.snapshotService(sv)
			if !e.Steady() {
				all = false
			}
			seen = append(seen, fmt.Sprintf("%s: %d of %d running, %d deployment(s)", sv.name, e.Running, e.Desired, len(e.Deployments)))
		}
		return all, fmt.Sprint(seen), nil
	})
}

// WaitDBInstanceAvailable waits for the instance to be available again;
// "available" counts once another status was seen or settle passed.
func (s *AWSSource) WaitDBInstanceAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error {
	start, changed := time.Now(), false
	return s.waitFor(ctx, "wait for "+id+" available", maxWait, func() (bool, string, error) {
		in, err := s.instance(region, id)
		if err != nil {
			return false, "", err
		}
		if in.status != "available" {
			changed = true
		}
		return in.status == "available" && (changed || time.Since(start) >= settle), "status " + in.status, nil
	})
}

// WaitDBClusterAvailable waits for the Aurora cluster to be available.
func (s *AWSSource) WaitDBClusterAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error {
	start, changed := time.Now(), false
	return s.waitFor(ctx, "wait for cluster "+id+" available", maxWait, func() (bool, string, error) {
		c := s.cluster(region, id)
		if c == nil {
			return false, "", fmt.Errorf("DBClusterNotFoundFault: DBCluster %s not found.", id)
		}
		if c.status != "available" {
			changed = true
		}
		return c.status == "available" && (changed || time.Since(start) >= settle), "status " + c.status, nil
	})
}
