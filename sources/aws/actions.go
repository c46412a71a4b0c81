package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"flightdeck/sources"
)

// The methods in this file are what the ops Executor's AWS handlers call
// (ops declares matching interfaces; this package never imports ops). Each
// action is one API call under Options.Timeout. Writes use the SDK's
// standard retryer narrowed to throttling: a throttled request was not
// executed and is safe to send again, while a write whose connection broke
// after sending may have happened, and rebooting a database twice is worse
// than an error the operator can read. AccessDenied is never retried and
// comes back as an *Error wrapping sources.ErrAccessDenied with AWS's
// message.

// writeRetryer is shared by every write: its retry token bucket then
// bounds retries across actions, as the SDK intends.
var writeRetryer = retry.NewStandard(func(o *retry.StandardOptions) {
	o.Retryables = []retry.IsErrorRetryable{
		retry.NoRetryCanceledError{},
		retry.RetryableErrorCode{Codes: retry.DefaultThrottleErrorCodes},
		retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{429: {}}},
	}
})

func writeRDS(o *rds.Options) { o.Retryer = writeRetryer }
func writeECS(o *ecs.Options) { o.Retryer = writeRetryer }

// act prepares a call in a configured region: the timeout, credentials and
// the region's clients.
func (s *Source) act(ctx context.Context, region string) (context.Context, context.CancelFunc, *regionClients, Region, error) {
	r, err := s.region(region)
	if err != nil {
		return ctx, func() {}, nil, Region{}, &Error{Op: "aws", Message: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	cfg, _, err := s.ready(ctx)
	if err != nil {
		cancel()
		return ctx, func() {}, nil, Region{}, err
	}
	return ctx, cancel, s.clientsFor(cfg, region), r, nil
}

// ecsTarget checks that cluster is the one configured for region: actions
// only go where flightdeck looks.
func ecsTarget(r Region, cluster string) error {
	if r.ECSCluster == "" || cluster != r.ECSCluster {
		return &Error{Op: "ecs", Region: r.Name, Message: fmt.Sprintf("ECS cluster %q is not configured in %s", cluster, r.Name)}
	}
	return nil
}

// ---------------------------------------------------------------- ECS

// SetDesiredCount sets the service's desired count, like `aws ecs
// update-service --desired-count n`. Bounds are the Executor's to check
// (ECSService.DesiredRefusal); this refuses only a negative count.
func (s *Source) SetDesiredCount(ctx context.Context, region, cluster, service string, n int32) error {
	if n < 0 {
		return &Error{Op: "ecs:UpdateService", Region: region, Message: "the desired count cannot be negative"}
	}
	return s.updateService(ctx, region, cluster, &ecs.UpdateServiceInput{Service: aws.String(service), DesiredCount: aws.Int32(n)})
}

// ForceNewDeployment starts a new deployment with the same task
// definition, replacing every task (`aws ecs update-service
// --force-new-deployment`).
func (s *Source) ForceNewDeployment(ctx context.Context, region, cluster, service string) error {
	return s.updateService(ctx, region, cluster, &ecs.UpdateServiceInput{Service: aws.String(service), ForceNewDeployment: true})
}

// RollbackTaskDefinition points the service at toTaskDef (family:revision
// or ARN), which must be an older revision of the family the service runs:
// anything else is not a rollback. ECS starts a deployment.
func (s *Source) RollbackTaskDefinition(ctx context.Context, region, cluster, service, toTaskDef string) error {
	cur, err := s.DescribeService(ctx, region, cluster, service)
	if err != nil {
		return err
	}
	to := sources.ParseTaskDef(toTaskDef)
	if err := rollbackCheck(cur, to); err != nil {
		return &Error{Op: "ecs:UpdateService", Region: region, Message: err.Error()}
	}
	return s.updateService(ctx, region, cluster, &ecs.UpdateServiceInput{Service: aws.String(service), TaskDefinition: aws.String(toTaskDef)})
}

func rollbackCheck(cur sources.ECSService, to sources.TaskDef) error {
	switch {
	case to.Family != cur.TaskDefinition.Family:
		return fmt.Errorf("%s is not a revision of %s, which %s runs", to, cur.TaskDefinition.Family, cur.Name)
	case to.Revision == 0:
		return fmt.Errorf("%q names no revision (family:revision)", to.String())
	case to.Revision >= cur.TaskDefinition.Revision:
		return fmt.Errorf("%s is not older than the current %s", to, cur.TaskDefinition)
	}
	return nil
}

func (s *Source) updateService(ctx context.Context, region, cluster string, in *ecs.UpdateServiceInput) error {
	ctx, cancel, c, r, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return err
	}
	if err := ecsTarget(r, cluster); err != nil {
		return err
	}
	in.Cluster = aws.String(cluster)
	_, err = c.ecs.UpdateService(ctx, in, writeECS)
	return s.classify(ctx, "ecs:UpdateService", region, err)
}

// PreviewRollback lists what rolling the service back to toTaskDef changes,
// container by container: image, cpu, memory, environment variable names
// (never values: they may be secrets). Sanitized.
func (s *Source) PreviewRollback(ctx context.Context, region, cluster, service, toTaskDef string) ([]string, error) {
	cur, err := s.DescribeService(ctx, region, cluster, service)
	if err != nil {
		return nil, err
	}
	to := sources.ParseTaskDef(toTaskDef)
	if err := rollbackCheck(cur, to); err != nil {
		return nil, &Error{Op: "ecs:DescribeTaskDefinition", Region: region, Message: err.Error()}
	}
	ctx, cancel, c, _, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return nil, err
	}
	get := func(td string) (*ecstypes.TaskDefinition, error) {
		out, err := c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
		if err != nil {
			return nil, s.classify(ctx, "ecs:DescribeTaskDefinition", region, err)
		}
		return out.TaskDefinition, nil
	}
	from := cur.TaskDefinition.ARN
	if from == "" {
		from = cur.TaskDefinition.String()
	}
	a, err := get(from)
	if err != nil {
		return nil, err
	}
	b, err := get(toTaskDef)
	if err != nil {
		return nil, err
	}
	return taskDefDiff(a, b), nil
}

func taskDefDiff(from, to *ecstypes.TaskDefinition) []string {
	var out []string
	if f, t := aws.ToString(from.Cpu), aws.ToString(to.Cpu); f != t {
		out = append(out, "task cpu "+san(f)+" → "+san(t))
	}
	if f, t := aws.ToString(from.Memory), aws.ToString(to.Memory); f != t {
		out = append(out, "task memory "+san(f)+" → "+san(t))
	}
	find := func(cs []ecstypes.ContainerDefinition, name string) *ecstypes.ContainerDefinition {
		for i := range cs {
			if aws.ToString(cs[i].Name) == name {
				return &cs[i]
			}
		}
		return nil
	}
	for _, c := range from.ContainerDefinitions {
		if find(to.ContainerDefinitions, aws.ToString(c.Name)) == nil {
			out = append(out, "- container "+san(aws.ToString(c.Name))+" ("+san(aws.ToString(c.Image))+")")
		}
	}
	for _, t := range to.ContainerDefinitions {
		name := san(aws.ToString(t.Name))
		c := find(from.ContainerDefinitions, aws.ToString(t.Name))
		if c == nil {
			out = append(out, "+ container "+name+" ("+san(aws.ToString(t.Image))+")")
			continue
		}
		p := "container " + name + ": "
		if aws.ToString(c.Image) != aws.ToString(t.Image) {
			out = append(out, p+"image "+san(aws.ToString(c.Image))+" → "+san(aws.ToString(t.Image)))
		}
		if c.Cpu != t.Cpu {
			out = append(out, fmt.Sprintf("%scpu %d → %d", p, c.Cpu, t.Cpu))
		}
		if aws.ToInt32(c.Memory) != aws.ToInt32(t.Memory) {
			out = append(out, fmt.Sprintf("%smemory %d → %d MiB", p, aws.ToInt32(c.Memory), aws.ToInt32(t.Memory)))
		}
		fe, te := envNames(c), envNames(&t)
		for _, n := range te {
			if !slices.Contains(fe, n) {
				out = append(out, p+"env +"+san(n))
			}
		}
		for _, n := range fe {
			if !slices.Contains(te, n) {
				out = append(out, p+"env -"+san(n))
			}
		}
	}
	if len(out) == 0 {
		out = []string{"images, cpu, memory and environment names are unchanged"}
	}
	return out
}

// envNames lists environment variable and secret names, never values.
func envNames(c *ecstypes.ContainerDefinition) []string {
	var out []string
	for _, e := range c.Environment {
		out = append(out, aws.ToString(e.Name))
	}
	for _, e := range c.Secrets {
		out = append(out, aws.ToString(e.Name))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// DescribeService reads the service as it is now, for the Executor's
// target re-check: the same fields as a snapshot, previous revision
// included. Like every ECS action here, service may be a name or an ARN;
// ops always passes the raw ARN, which no sanitized lookalike shares.
func (s *Source) DescribeService(ctx context.Context, region, cluster, service string) (sources.ECSService, error) {
	ctx, cancel, c, r, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return sources.ECSService{}, err
	}
	if err := ecsTarget(r, cluster); err != nil {
		return sources.ECSService{}, err
	}
	svcs, warns, err := s.describeServices(ctx, c, r, []string{service})
	if err != nil {
		return sources.ECSService{}, err
	}
	if len(svcs) == 0 {
		msg := fmt.Sprintf("service %s not found in cluster %s", san(arnName(service)), san(cluster))
		if len(warns) > 0 {
			msg = warns[0]
		}
		return sources.ECSService{}, &Error{Op: "ecs:DescribeServices", Region: region, Code: "MISSING", Message: msg}
	}
	return svcs[0], nil
}

// ---------------------------------------------------------------- RDS

// RebootDBInstance reboots the instance; with forceFailover a Multi-AZ
// instance fails over to its standby (`aws rds reboot-db-instance
// --force-failover`).
func (s *Source) RebootDBInstance(ctx context.Context, region, id string, forceFailover bool) error {
	ctx, cancel, c, _, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return err
	}
	in := &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String(id)}
	if forceFailover {
		in.ForceFailover = aws.Bool(true)
	}
	_, err = c.rds.RebootDBInstance(ctx, in, writeRDS)
	return s.classify(ctx, "rds:RebootDBInstance", region, err)
}

// PromoteReadReplica turns the read replica into a standalone instance
// (`aws rds promote-read-replica`): the first step of the manual's
// failover.sh. Replication from the old primary stops for good.
func (s *Source) PromoteReadReplica(ctx context.Context, region, id string) error {
	ctx, cancel, c, _, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return err
	}
	_, err = c.rds.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String(id)}, writeRDS)
	return s.classify(ctx, "rds:PromoteReadReplica", region, err)
}

// FailoverDBCluster makes an Aurora reader the writer (`aws rds
// failover-db-cluster`); target "" lets RDS choose.
func (s *Source) FailoverDBCluster(ctx context.Context, region, clusterID, target string) error {
	ctx, cancel, c, _, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return err
	}
	in := &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String(clusterID)}
	if target != "" {
		in.TargetDBInstanceIdentifier = aws.String(target)
	}
	_, err = c.rds.FailoverDBCluster(ctx, in, writeRDS)
	return s.classify(ctx, "rds:FailoverDBCluster", region, err)
}

// DescribeDBInstance reads the instance as it is now, for the Executor's
// target re-check. CloudWatch figures are not read (NaN); an Aurora
// member's cluster is, so the role says writer or reader.
func (s *Source) DescribeDBInstance(ctx context.Context, region, id string) (sources.RDSInstance, error) {
	ctx, cancel, c, _, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return sources.RDSInstance{}, err
	}
	out, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return sources.RDSInstance{}, s.classify(ctx, "rds:DescribeDBInstances", region, err)
	}
	if len(out.DBInstances) == 0 {
		return sources.RDSInstance{}, &Error{Op: "rds:DescribeDBInstances", Region: region, Code: "DBInstanceNotFound", Message: "DB instance " + san(id) + " not found"}
	}
	in := out.DBInstances[0]
	var clusters []sources.RDSCluster
	if cid := aws.ToString(in.DBClusterIdentifier); cid != "" {
		cl, err := s.describeCluster(ctx, c, region, cid)
		if err != nil {
			return sources.RDSInstance{}, err
		}
		clusters = append(clusters, cl)
	}
	return convertInstance(region, in, clusters), nil
}

// DescribeDBCluster reads the Aurora cluster as it is now.
func (s *Source) DescribeDBCluster(ctx context.Context, region, id string) (sources.RDSCluster, error) {
	ctx, cancel, c, _, err := s.act(ctx, region)
	defer cancel()
	if err != nil {
		return sources.RDSCluster{}, err
	}
	return s.describeCluster(ctx, c, region, id)
}

func (s *Source) describeCluster(ctx context.Context, c *regionClients, region, id string) (sources.RDSCluster, error) {
	out, err := c.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		return sources.RDSCluster{}, s.classify(ctx, "rds:DescribeDBClusters", region, err)
	}
	if len(out.DBClusters) == 0 {
		return sources.RDSCluster{}, &Error{Op: "rds:DescribeDBClusters", Region: region, Code: "DBClusterNotFoundFault", Message: "DB cluster " + san(id) + " not found"}
	}
	return convertCluster(region, out.DBClusters[0]), nil
}

// ---------------------------------------------------------------- waiters

// WaitServicesStable blocks until every named service has one deployment
// and as many tasks running as desired (the SDK's ServicesStable waiter),
// or maxWait passes; meant for a tea.Cmd that shows an action's effect. The
// error says what was last seen ("api: 2 of 4 running, 2 deployments").
func (s *Source) WaitServicesStable(ctx context.Context, region, cluster string, services []string, maxWait time.Duration) error {
	ctx, cancel, c, err := s.beginWait(ctx, region, maxWait, func(r Region) error { return ecsTarget(r, cluster) })
	defer cancel()
	if err != nil {
		return err
	}
	var last *ecs.DescribeServicesOutput
	w := ecs.NewServicesStableWaiter(c.ecs, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = s.poll, max(s.poll, 15*time.Second)
		def := o.Retryable
		o.Retryable = func(ctx context.Context, in *ecs.DescribeServicesInput, out *ecs.DescribeServicesOutput, err error) (bool, error) {
			if err == nil {
				last = out
			}
			return def(ctx, in, out, err)
		}
	})
	err = w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: services}, maxWait)
	if err == nil {
		return nil
	}
	e := s.classify(ctx, "wait for services stable", region, err).(*Error)
	if e.Code == "" {
		e.Message = "not stable within " + maxWait.String()
		if last != nil {
			var parts []string
			for _, sv := range last.Services {
				parts = append(parts, fmt.Sprintf("%s: %d of %d running, %d deployment(s)", san(aws.ToString(sv.ServiceName)),
					sv.RunningCount, sv.DesiredCount, len(sv.Deployments)))
			}
			e.Message += ": " + strings.Join(parts, "; ")
		}
	}
	return e
}

// beginWait prepares a waiter in a configured region: a positive maximum,
// the region (and what vet, when not nil, asks of it), credentials and the
// region's clients. The context it returns bounds everything, credentials
// included, to maxWait (and a second for the last answer); cancel is never
// nil.
func (s *Source) beginWait(ctx context.Context, region string, maxWait time.Duration, vet func(Region) error) (context.Context, context.CancelFunc, *regionClients, error) {
	if maxWait <= 0 {
		return ctx, func() {}, nil, &Error{Op: "wait", Region: region, Message: "a wait needs a positive maximum"}
	}
	ctx, cancel := context.WithTimeout(ctx, maxWait+time.Second)
	r, err := s.region(region)
	if err != nil {
		return ctx, cancel, nil, &Error{Op: "aws", Message: err.Error()}
	}
	if vet != nil {
		if err := vet(r); err != nil {
			return ctx, cancel, nil, err
		}
	}
	cfg, _, err := s.ready(ctx)
	if err != nil {
		return ctx, cancel, nil, err
	}
	return ctx, cancel, s.clientsFor(cfg, region), nil
}

// availability follows the status an RDS waiter sees. Right after a
// reboot or promotion RDS may still say "available" for a few seconds, so
// "available" only counts once another status was seen or settle has
// passed.
type availability struct {
	start   time.Time
	settle  time.Duration
	changed bool
	last    string // the status seen last, for the error
}

func newAvailability(settle time.Duration) *availability {
	return &availability{start: time.Now(), settle: settle}
}

// tooEarly records status and reports whether an "available" must not be
// believed yet (the waiter should poll again).
func (a *availability) tooEarly(status string) bool {
	a.last = status
	if status != "available" {
		a.changed = true
		return false
	}
	return !a.changed && time.Since(a.start) < a.settle
}

// WaitDBInstanceAvailable blocks until the instance is available again (the
// SDK's DBInstanceAvailable waiter), or maxWait passes; see availability
// for what settle is.
func (s *Source) WaitDBInstanceAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error {
	ctx, cancel, c, err := s.beginWait(ctx, region, maxWait, nil)
	defer cancel()
	if err != nil {
		return err
	}
	seen := newAvailability(settle)
	w := rds.NewDBInstanceAvailableWaiter(c.rds, func(o *rds.DBInstanceAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = s.poll, max(s.poll, 30*time.Second)
		def := o.Retryable
		o.Retryable = func(ctx context.Context, in *rds.DescribeDBInstancesInput, out *rds.DescribeDBInstancesOutput, err error) (bool, error) {
			if err == nil && len(out.DBInstances) > 0 && seen.tooEarly(aws.ToString(out.DBInstances[0].DBInstanceStatus)) {
				return true, nil
			}
			return def(ctx, in, out, err)
		}
	})
	err = w.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, maxWait)
	return s.waitError(ctx, "wait for "+id+" available", region, err, maxWait, seen.last)
}

// WaitDBClusterAvailable is WaitDBInstanceAvailable for an Aurora cluster
// (after a failover).
func (s *Source) WaitDBClusterAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error {
	ctx, cancel, c, err := s.beginWait(ctx, region, maxWait, nil)
	defer cancel()
	if err != nil {
		return err
	}
	seen := newAvailability(settle)
	w := rds.NewDBClusterAvailableWaiter(c.rds, func(o *rds.DBClusterAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = s.poll, max(s.poll, 30*time.Second)
		def := o.Retryable
		o.Retryable = func(ctx context.Context, in *rds.DescribeDBClustersInput, out *rds.DescribeDBClustersOutput, err error) (bool, error) {
			if err == nil && len(out.DBClusters) > 0 && seen.tooEarly(aws.ToString(out.DBClusters[0].Status)) {
				return true, nil
			}
			return def(ctx, in, out, err)
		}
	})
	err = w.Wait(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)}, maxWait)
	return s.waitError(ctx, "wait for cluster "+id+" available", region, err, maxWait, seen.last)
}

func (s *Source) waitError(ctx context.Context, op, region string, err error, maxWait time.Duration, last string) error {
	if err == nil {
		return nil
	}
	e := s.classify(ctx, op, region, err).(*Error)
	if e.Code == "" {
		e.Message = "not available within " + maxWait.String()
		if strings.Contains(err.Error(), "transitioned to Failure") {
			e.Message = "reached a failure status"
		}
		if last != "" {
			e.Message += " (last status " + san(last) + ")"
		}
	}
	return e
}
