package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
)

// The RDS actions.
const (
	// RebootDB is `aws rds reboot-db-instance`.
	RebootDB Kind = "reboot_db"
	// RebootDBFailover is `aws rds reboot-db-instance --force-failover`: a
	// Multi-AZ instance's standby takes over.
	RebootDBFailover Kind = "reboot_db_failover"
	// PromoteReplica is `aws rds promote-read-replica`: the first step of
	// the manual's failover.sh.
	PromoteReplica Kind = "promote_read_replica"
	// FailoverCluster is `aws rds failover-db-cluster` (Aurora).
	FailoverCluster Kind = "failover_db_cluster"
)

// RDSController is what the RDS actions need from an AWS source. id and
// clusterID are always raw identifiers (RDSInstance.RawID, RDSCluster.RawID),
// never the sanitized ones shown.
type RDSController interface {
	// DescribeDBInstance reads the instance as it is now (for the re-check).
	DescribeDBInstance(ctx context.Context, region, id string) (sources.RDSInstance, error)
	// DescribeDBCluster reads the Aurora cluster as it is now.
	DescribeDBCluster(ctx context.Context, region, id string) (sources.RDSCluster, error)
	// RebootDBInstance reboots, failing over to the standby when asked.
	RebootDBInstance(ctx context.Context, region, id string, forceFailover bool) error
	// PromoteReadReplica makes a read replica a standalone instance.
	PromoteReadReplica(ctx context.Context, region, id string) error
	// FailoverDBCluster makes target ("" = RDS chooses) the writer.
	FailoverDBCluster(ctx context.Context, region, clusterID, target string) error
	// WaitDBInstanceAvailable blocks until the instance is available again
	// (an "available" within settle of the start not believed), or maxWait
	// passes.
	WaitDBInstanceAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error
	// WaitDBClusterAvailable is WaitDBInstanceAvailable for a cluster.
	WaitDBClusterAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error
}

// rdsHandler acts on one RDS instance, or one Aurora cluster. An instance
// is pinned by status, role (and what it replicates from), Multi-AZ and
// creation time; a cluster by status and which member is the writer.
type rdsHandler struct{}

func (rdsHandler) Area() sources.Kind { return sources.KindAWS }

func (rdsHandler) Kinds() []KindSpec {
	return []KindSpec{{RebootDB, "Reboot DB instance"}, {RebootDBFailover, "Reboot with failover"},
		{PromoteReplica, "Promote read replica"}, {FailoverCluster, "Fail over Aurora cluster"}}
}

func (rdsHandler) Check(_ Policy, req Request, _ CheckScope) error {
	in := req.RDSInstance
	if req.Action == FailoverCluster {
		c := req.RDSCluster
		switch {
		case c == nil && in != nil && in.ClusterID == "":
			return refuse(ErrInvalid, in.ID+" is not in an Aurora cluster")
		case c == nil:
			return refuse(ErrInvalid, "no Aurora cluster selected")
		}
		if r := c.FailoverRefusal(req.Params.FailoverTarget); r != "" {
			return refuse(ErrInvalid, r)
		}
		return nil
	}
	if in == nil {
		return refuse(ErrInvalid, "no RDS instance selected")
	}
	var r string
	switch req.Action {
	case RebootDB:
		r = in.RebootRefusal(false)
	case RebootDBFailover:
		r = in.RebootRefusal(true)
	case PromoteReplica:
		r = in.PromoteRefusal()
	}
	if r != "" {
		return refuse(ErrInvalid, r)
	}
	return nil
}

func (h rdsHandler) Plan(_ context.Context, env Env, req Request, p *Plan) error {
	if _, err := Capability[RDSController](env, "act on RDS"); err != nil {
		return err
	}
	// A source that gives no raw identifier cannot be acted on: ID is
	// display text.
	if req.Action == FailoverCluster {
		if req.RDSCluster.RawID == "" {
			return refuse(ErrInvalid, "cluster "+req.RDSCluster.ID+" has no identifier to act on")
		}
		return h.planCluster(*req.RDSCluster, req.Params.FailoverTarget, p)
	}
	in := *req.RDSInstance
	if in.RawID == "" {
		return refuse(ErrInvalid, in.ID+" has no identifier to act on")
	}
	where := in.ID + " (" + in.Region + ")"
	t := Target{ID: in.Key(), Identity: instanceIdentity(in), Subject: in,
		Detail: fmt.Sprintf("%s  %s %s  %s  %s  Multi-AZ %s", in.Key(), in.Engine, in.EngineVersion, in.Class, in.Status, yesNo(in.MultiAZ))}
	p.Phrase = in.ID
	var sn seen
	sn.head(in.Key())
	if in.RawID != in.ID {
		sn.add("raw_id", rawText(in.RawID))
	}
	sn.add("status", in.Status)
	sn.add("role", in.RoleText())
	sn.add("engine", in.Engine+" "+in.EngineVersion)
	sn.add("class", in.Class)
	sn.add("multi_az", strconv.FormatBool(in.MultiAZ))
	sn.add("az", in.AZ)
	sn.add("secondary_az", in.SecondaryAZ)
	if lag, ok := in.Lag(); ok {
		sn.add("replica_lag", lag.Round(time.Second).String())
	}
	sn.time("created_at", in.CreatedAt)
	cli := "aws rds %s --region " + in.Region + " --db-instance-identifier " + rawText(in.RawID)
	switch req.Action {
	case RebootDB:
		p.Title = "Reboot " + where
		p.Preview = []string{in.ID + " restarts: every connection drops until it is available again",
			"like: " + fmt.Sprintf(cli, "reboot-db-instance")}
	case RebootDBFailover:
		p.Title = "Reboot " + where + " with failover"
		standby := "the standby"
		if in.SecondaryAZ != "" {
			standby += " in " + in.SecondaryAZ
		}
		p.Preview = []string{standby + " becomes primary; the endpoint moves to it (DNS) and every connection drops",
			"like: " + fmt.Sprintf(cli, "reboot-db-instance") + " --force-failover"}
	case PromoteReplica:
		p.Title = "Promote read replica " + where
		p.Preview = []string{
			fmt.Sprintf("%s stops replicating from %s for good and becomes a standalone, writable instance", in.ID, in.ReplicaOf),
			"the old primary keeps running: move the application to the promoted instance and stop writes there (failover.sh: secret, DNS)",
		}
		if lag, ok := in.Lag(); ok {
			p.Preview = append(p.Preview, "replica lag when planned: "+lag.Round(time.Second).String()+" of writes may be missing")
		}
		p.Preview = append(p.Preview, "like: "+fmt.Sprintf(cli, "promote-read-replica"))
	}
	t.Seen = sn.String()
	p.Targets = []Target{t}
	return nil
}

func (rdsHandler) planCluster(c sources.RDSCluster, target string, p *Plan) error {
	where := c.ID + " (" + c.Region + ")"
	t := Target{ID: c.Key(), Identity: clusterIdentity(c), Subject: c,
		Detail: fmt.Sprintf("%s  %s %s  %s  writer %s  readers %s", c.Key(), c.Engine, c.EngineVersion, c.Status, c.Writer(), strings.Join(c.Readers(), ","))}
	p.Phrase = c.ID
	p.Title = "Fail over Aurora cluster " + where
	to := target
	if to == "" {
		to = "a reader RDS chooses (" + strings.Join(c.Readers(), ", ") + ")"
	}
	cli := "aws rds failover-db-cluster --region " + c.Region + " --db-cluster-identifier " + rawText(c.RawID)
	if target != "" {
		cli += " --target-db-instance-identifier " + target
	}
	p.Preview = []string{"writer " + c.Writer() + " → " + to + "; the cluster endpoint follows the new writer and writes pause",
		"like: " + cli}
	var sn seen
	sn.head(c.Key())
	if c.RawID != c.ID {
		sn.add("raw_id", rawText(c.RawID))
	}
	sn.add("status", c.Status)
	sn.add("writer", c.Writer())
	sn.add("readers", strings.Join(c.Readers(), ","))
	sn.add("target", target)
	t.Seen = sn.String()
	p.Targets = []Target{t}
	return nil
}

// bind is what a plan acts with and on: the source's controller and the
// instance or cluster as the plan saw it.
func (rdsHandler) bind(env Env, p Plan) (RDSController, any, error) {
	if p.Action == FailoverCluster {
		ctl, c, err := bindOne[RDSController, sources.RDSCluster](env, p, "act on RDS", "Aurora cluster")
		return ctl, c, err
	}
	ctl, in, err := bindOne[RDSController, sources.RDSInstance](env, p, "act on RDS", "RDS instance")
	return ctl, in, err
}

func (h rdsHandler) Recheck(ctx context.Context, env Env, p Plan) error {
	ctl, subj, err := h.bind(env, p)
	if err != nil {
		return err
	}
	switch s := subj.(type) {
	case sources.RDSInstance:
		check := func() error {
			return h.Check(env.Policy, Request{Action: p.Action, Source: p.Source, RDSInstance: &s, Params: p.Params}, WholeRequest)
		}
		return recheckOne(p, s.Key(), check, func() (sources.RDSInstance, error) {
			return ctl.DescribeDBInstance(ctx, s.Region, s.RawID)
		}, instanceIdentity)
	case sources.RDSCluster:
		check := func() error {
			return h.Check(env.Policy, Request{Action: p.Action, Source: p.Source, RDSCluster: &s, Params: p.Params}, WholeRequest)
		}
		return recheckOne(p, s.Key(), check, func() (sources.RDSCluster, error) {
			return ctl.DescribeDBCluster(ctx, s.Region, s.RawID)
		}, clusterIdentity)
	}
	return nil
}

func (h rdsHandler) Act(ctx context.Context, env Env, p Plan) ([]string, error) {
	ctl, subj, err := h.bind(env, p)
	if err != nil {
		return nil, err
	}
	var detail string
	switch s := subj.(type) {
	case sources.RDSCluster:
		err = ctl.FailoverDBCluster(ctx, s.Region, s.RawID, p.Params.FailoverTarget)
		detail = s.Key() + " failing over from writer " + s.Writer()
		if p.Params.FailoverTarget != "" {
			detail += " to " + p.Params.FailoverTarget
		}
	case sources.RDSInstance:
		switch p.Action {
		case RebootDB:
			err = ctl.RebootDBInstance(ctx, s.Region, s.RawID, false)
			detail = s.Key() + " rebooting"
		case RebootDBFailover:
			err = ctl.RebootDBInstance(ctx, s.Region, s.RawID, true)
			detail = s.Key() + " rebooting with failover"
		case PromoteReplica:
			err = ctl.PromoteReadReplica(ctx, s.Region, s.RawID)
			detail = s.Key() + " promoted: no longer a replica of " + s.ReplicaOf.String()
		default:
			return nil, refuse(ErrInvalid, fmt.Sprintf("RDS cannot %s", p.Action))
		}
	}
	if err != nil {
		return nil, err
	}
	return []string{detail}, nil
}

// EffectWait waits for the instance (or cluster) to be available again.
func (h rdsHandler) EffectWait(env Env, p Plan) (EffectWait, bool) {
	ctl, subj, err := h.bind(env, p)
	if err != nil {
		return EffectWait{}, false
	}
	settle, limit := max(0, env.Waits.DBSettle), env.Waits.DBAvailable
	switch s := subj.(type) {
	case sources.RDSCluster:
		return EffectWait{What: "cluster " + s.ID + " available", Limit: limit, Wait: func(ctx context.Context) error {
			return ctl.WaitDBClusterAvailable(ctx, s.Region, s.RawID, settle, limit)
		}}, true
	case sources.RDSInstance:
		return EffectWait{What: s.ID + " available", Limit: limit, Wait: func(ctx context.Context) error {
			return ctl.WaitDBInstanceAvailable(ctx, s.Region, s.RawID, settle, limit)
		}}, true
	}
	return EffectWait{}, false
}

// instanceIdentity pins an instance: same instance (creation time), same
// status, same place in replication, same Multi-AZ.
func instanceIdentity(in sources.RDSInstance) string {
	id := fmt.Sprintf("status=%s role=%s multi_az=%t", in.Status, in.Role(), in.MultiAZ)
	if !in.ReplicaOf.IsZero() {
		id += " replica_of=" + in.ReplicaOf.String()
	}
	if in.ClusterID != "" {
		id += " cluster=" + in.ClusterID
	}
	if !in.CreatedAt.IsZero() {
		id += " created=" + in.CreatedAt.UTC().Format(time.RFC3339)
	}
	return id
}

// clusterIdentity pins a cluster: same status, same writer and readers.
func clusterIdentity(c sources.RDSCluster) string {
	return fmt.Sprintf("status=%s writer=%s readers=%s", c.Status, c.Writer(), strings.Join(c.Readers(), ","))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
