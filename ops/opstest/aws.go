package opstest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"flightdeck/sources"
)

// FakeAWS is an in-memory ops.ECSController and ops.RDSController over a
// set of ECS services, RDS instances and Aurora clusters. Writes change the
// fake's state as AWS would accept them — desired count set, a new primary
// deployment, the task definition swapped, an instance rebooting or
// modifying, a replica promoted, a cluster's writer moved — and are
// recorded as strings ("desired us-west-2/nudgecampaign-dr/api 4"); a wait
// brings the thing waited for back to steady. It refuses what AWS refuses
// with its own words (a reboot with failover of a Single-AZ instance).
type FakeAWS struct {
	mu        sync.Mutex
	services  map[string]sources.ECSService
	instances map[string]sources.RDSInstance
	clusters  map[string]sources.RDSCluster
	previews  map[string][]string
	calls     []string
	waits     []string
	writeErr  error
	readErr   error
	waitErr   error
	seq       int
}

// NewFakeAWS returns a fake holding set's services, instances and clusters.
func NewFakeAWS(set *sources.AWSSet) *FakeAWS {
	f := &FakeAWS{services: map[string]sources.ECSService{}, instances: map[string]sources.RDSInstance{},
		clusters: map[string]sources.RDSCluster{}, previews: map[string][]string{}}
	for _, s := range set.ECS {
		f.services[s.Key()] = s
	}
	for _, i := range set.RDS {
		f.instances[i.Key()] = i
	}
	for _, c := range set.Clusters {
		f.clusters[c.Key()] = c
	}
	return f
}

// Service is the service region/cluster/name as the fake has it now.
func (f *FakeAWS) Service(key string) (sources.ECSService, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[key]
	return s, ok
}

// Instance is the instance region/id as the fake has it now.
func (f *FakeAWS) Instance(key string) (sources.RDSInstance, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.instances[key]
	return i, ok
}

// Cluster is the cluster region/id as the fake has it now.
func (f *FakeAWS) Cluster(key string) (sources.RDSCluster, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.clusters[key]
	return c, ok
}

// PutService adds or replaces s (someone else acted).
func (f *FakeAWS) PutService(s sources.ECSService) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services[s.Key()] = s
}

// PutInstance adds or replaces i.
func (f *FakeAWS) PutInstance(i sources.RDSInstance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances[i.Key()] = i
}

// SetPreview sets what PreviewRollback says for a rollback of the service
// key to toTaskDef.
func (f *FakeAWS) SetPreview(key, toTaskDef string, lines ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.previews[key+" "+toTaskDef] = lines
}

// FailWrites makes every write return err (an AccessDenied); nil restores.
func (f *FakeAWS) FailWrites(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writeErr = err
}

// FailReads makes every Describe and PreviewRollback return err; nil
// restores.
func (f *FakeAWS) FailReads(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readErr = err
}

// FailWaits makes every wait return err (not stable in time); nil restores.
func (f *FakeAWS) FailWaits(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waitErr = err
}

// Calls are the writes attempted, in order, refused ones included.
func (f *FakeAWS) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Waits are the waits started, in order ("stable us-east-1/c [api] 10m0s").
func (f *FakeAWS) Waits() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.waits)
}

// ---------------------------------------------------------------- ECS

// DescribeService reads a service.
func (f *FakeAWS) DescribeService(_ context.Context, region, cluster, name string) (sources.ECSService, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = f.serviceName(region, cluster, name)
	if f.readErr != nil {
		return sources.ECSService{}, f.readErr
	}
	s, ok := f.services[region+"/"+cluster+"/"+name]
	if !ok {
		return s, fmt.Errorf("ecs:DescribeServices in %s: service %s not found in cluster %s", region, name, cluster)
	}
	return s, nil
}

// serviceName is the name of the service that ECS would find as svc in
// region's cluster: svc itself, or the name of the service whose raw ARN it
// is (the handler names services by ARN). f.mu is held.
func (f *FakeAWS) serviceName(region, cluster, svc string) string {
	if !strings.HasPrefix(svc, "arn:") {
		return svc
	}
	for _, s := range f.services {
		if s.Region == region && s.Cluster == cluster && s.RawARN == svc {
			return s.Name
		}
	}
	return svc
}

// service records call and returns the write error, or the service to
// change.
func (f *FakeAWS) service(call, region, cluster, name string) (sources.ECSService, error) {
	f.calls = append(f.calls, call)
	if f.writeErr != nil {
		return sources.ECSService{}, f.writeErr
	}
	s, ok := f.services[region+"/"+cluster+"/"+name]
	if !ok {
		return s, fmt.Errorf("ecs:UpdateService in %s: ServiceNotFoundException: Service not found", region)
	}
	return s, nil
}

// deploy puts a new PRIMARY deployment of td in front, as UpdateService does.
func (f *FakeAWS) deploy(s *sources.ECSService, td sources.TaskDef) {
	f.seq++
	d := sources.ECSDeployment{ID: fmt.Sprintf("ecs-svc/%d", f.seq), Status: "PRIMARY", TaskDefinition: td,
		Desired: s.Desired, RolloutState: sources.ECSRolloutInProgress}
	old := slices.Clone(s.Deployments)
	for i := range old {
		old[i].Status = "ACTIVE"
	}
	s.Deployments = append([]sources.ECSDeployment{d}, old...)
	s.Rollout, s.TaskDefinition = d, td
}

// SetDesiredCount sets the desired count.
func (f *FakeAWS) SetDesiredCount(_ context.Context, region, cluster, name string, n int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = f.serviceName(region, cluster, name)
	s, err := f.service(fmt.Sprintf("desired %s/%s/%s %d", region, cluster, name, n), region, cluster, name)
	if err != nil {
		return err
	}
	s.Desired = n
	f.services[s.Key()] = s
	return nil
}

// ForceNewDeployment starts a deployment of the same task definition.
func (f *FakeAWS) ForceNewDeployment(_ context.Context, region, cluster, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = f.serviceName(region, cluster, name)
	s, err := f.service("force-deployment "+region+"/"+cluster+"/"+name, region, cluster, name)
	if err != nil {
		return err
	}
	f.deploy(&s, s.TaskDefinition)
	f.services[s.Key()] = s
	return nil
}

// PreviewRollback returns what SetPreview set, or one image line.
func (f *FakeAWS) PreviewRollback(_ context.Context, region, cluster, name, to string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = f.serviceName(region, cluster, name)
	if f.readErr != nil {
		return nil, f.readErr
	}
	key := region + "/" + cluster + "/" + name
	if lines, ok := f.previews[key+" "+to]; ok {
		return slices.Clone(lines), nil
	}
	return []string{"container " + name + ": task definition " + f.services[key].TaskDefinition.String() + " → " + to}, nil
}

// RollbackTaskDefinition points the service at to and starts a deployment.
func (f *FakeAWS) RollbackTaskDefinition(_ context.Context, region, cluster, name, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = f.serviceName(region, cluster, name)
	s, err := f.service("rollback "+region+"/"+cluster+"/"+name+" "+to, region, cluster, name)
	if err != nil {
		return err
	}
	td := sources.ParseTaskDef(to)
	if td.Family != s.TaskDefinition.Family || td.Revision >= s.TaskDefinition.Revision {
		return fmt.Errorf("ecs:UpdateService in %s: %s is not an older revision of %s", region, to, s.TaskDefinition)
	}
	f.deploy(&s, td)
	s.PreviousTaskDefinition = sources.TaskDef{}
	f.services[s.Key()] = s
	return nil
}

// WaitServicesStable brings the services to steady: one deployment, every
// desired task running.
func (f *FakeAWS) WaitServicesStable(_ context.Context, region, cluster string, names []string, maxWait time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	names = slices.Clone(names)
	for i, n := range names {
		names[i] = f.serviceName(region, cluster, n)
	}
	f.waits = append(f.waits, fmt.Sprintf("stable %s/%s %v %s", region, cluster, names, maxWait))
	if f.waitErr != nil {
		return f.waitErr
	}
	for _, n := range names {
		s := f.services[region+"/"+cluster+"/"+n]
		s.Running, s.Pending = s.Desired, 0
		if len(s.Deployments) > 0 {
			s.Deployments = s.Deployments[:1]
			s.Deployments[0].RolloutState = sources.ECSRolloutCompleted
			s.Rollout = s.Deployments[0]
		}
		f.services[s.Key()] = s
	}
	return nil
}

// ---------------------------------------------------------------- RDS

// DescribeDBInstance reads an instance.
func (f *FakeAWS) DescribeDBInstance(_ context.Context, region, id string) (sources.RDSInstance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return sources.RDSInstance{}, f.readErr
	}
	i, ok := f.instances[region+"/"+id]
	if !ok {
		return i, fmt.Errorf("rds:DescribeDBInstances in %s: DBInstanceNotFound: DBInstance %s not found.", region, id)
	}
	return i, nil
}

// DescribeDBCluster reads a cluster.
func (f *FakeAWS) DescribeDBCluster(_ context.Context, region, id string) (sources.RDSCluster, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return sources.RDSCluster{}, f.readErr
	}
	c, ok := f.clusters[region+"/"+id]
	if !ok {
		return c, fmt.Errorf("rds:DescribeDBClusters in %s: DBClusterNotFoundFault: DBCluster %s not found.", region, id)
	}
	return c, nil
}

func (f *FakeAWS) instance(call, region, id string) (sources.RDSInstance, error) {
	f.calls = append(f.calls, call)
	if f.writeErr != nil {
		return sources.RDSInstance{}, f.writeErr
	}
	i, ok := f.instances[region+"/"+id]
	if !ok {
		return i, fmt.Errorf("DBInstanceNotFound: DBInstance %s not found.", id)
	}
	if i.Status != "available" {
		return i, fmt.Errorf("InvalidDBInstanceState: Instance %s is not in available state.", id)
	}
	return i, nil
}

// RebootDBInstance puts the instance in "rebooting"; with failover the
// zones swap, as they will once it is back.
func (f *FakeAWS) RebootDBInstance(_ context.Context, region, id string, failover bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.instance(fmt.Sprintf("reboot %s/%s failover=%t", region, id, failover), region, id)
	if err != nil {
		return err
	}
	if failover && !i.MultiAZ {
		return fmt.Errorf("InvalidParameterCombination: Reboot with failover is only supported for Multi-AZ instances.")
	}
	i.Status = "rebooting"
	if failover {
		i.AZ, i.SecondaryAZ = i.SecondaryAZ, i.AZ
	}
	f.instances[i.Key()] = i
	return nil
}

// PromoteReadReplica makes the replica standalone ("modifying").
func (f *FakeAWS) PromoteReadReplica(_ context.Context, region, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.instance("promote "+region+"/"+id, region, id)
	if err != nil {
		return err
	}
	if i.ReplicaOf.IsZero() {
		return fmt.Errorf("InvalidDBInstanceState: DB Instance %s is not a read replica.", id)
	}
	if src, ok := f.instances[i.ReplicaOf.Region+"/"+i.ReplicaOf.ID]; ok {
		src.Replicas = slices.DeleteFunc(slices.Clone(src.Replicas), func(r sources.RDSRef) bool { return r == i.Ref() })
		f.instances[src.Key()] = src
	}
	i.ReplicaOf, i.Status = sources.RDSRef{}, "modifying"
	f.instances[i.Key()] = i
	return nil
}

// FailoverDBCluster makes target (or the first reader) the writer.
func (f *FakeAWS) FailoverDBCluster(_ context.Context, region, id, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "failover "+region+"/"+id+" "+target)
	if f.writeErr != nil {
		return f.writeErr
	}
	c, ok := f.clusters[region+"/"+id]
	if !ok {
		return fmt.Errorf("DBClusterNotFoundFault: DBCluster %s not found.", id)
	}
	if r := c.FailoverRefusal(target); r != "" {
		return fmt.Errorf("InvalidDBClusterStateFault: %s", r)
	}
	if target == "" {
		target = c.Readers()[0]
	}
	members := slices.Clone(c.Members)
	for i := range members {
		members[i].Writer = members[i].ID == target
	}
	c.Members, c.Status = members, "failing-over"
	f.clusters[c.Key()] = c
	for k, in := range f.instances {
		if in.Region == region && in.ClusterID == id {
			in.ClusterWriter = in.ID == target
			f.instances[k] = in
		}
	}
	return nil
}

// WaitDBInstanceAvailable makes the instance available.
func (f *FakeAWS) WaitDBInstanceAvailable(_ context.Context, region, id string, settle, maxWait time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, fmt.Sprintf("available %s/%s %s %s", region, id, settle, maxWait))
	if f.waitErr != nil {
		return f.waitErr
	}
	i := f.instances[region+"/"+id]
	i.Status = "available"
	f.instances[region+"/"+id] = i
	return nil
}

// WaitDBClusterAvailable makes the cluster available.
func (f *FakeAWS) WaitDBClusterAvailable(_ context.Context, region, id string, settle, maxWait time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, fmt.Sprintf("cluster available %s/%s %s %s", region, id, settle, maxWait))
	if f.waitErr != nil {
		return f.waitErr
	}
	c := f.clusters[region+"/"+id]
	c.Status = "available"
	f.clusters[region+"/"+id] = c
	return nil
}
