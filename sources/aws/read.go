package aws

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// regionResult is what one region contributed to a snapshot.
type regionResult struct {
	region    sources.AWSRegion
	instances []sources.RDSInstance
	clusters  []sources.RDSCluster
	services  []sources.ECSService
	warnings  []string
	ok        bool    // at least one read succeeded
	errs      []error // every failed read
}

// Fetch reads every region concurrently under one timeout (Options.Timeout,
// or the caller's deadline if sooner). A region or an area (RDS, ECS,
// CloudWatch) that fails leaves its error in AWSSet.Regions; Fetch fails
// only when nothing at all could be read, or without credentials.
func (s *Source) Fetch(ctx context.Context) (sources.Payload, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cfg, creds, err := s.ready(ctx)
	if err != nil {
		return nil, err
	}
	results := make([]regionResult, len(s.opts.Regions))
	var wg sync.WaitGroup
	for i, r := range s.opts.Regions {
		wg.Go(func() { results[i] = s.readRegion(ctx, cfg, r) })
	}
	wg.Wait()
	set := &sources.AWSSet{CredentialSource: sanitize.Text(creds.Source), Endpoint: sanitize.Text(redact.URL(s.opts.EndpointURL))}
	var errs []error
	ok := false
	for _, res := range results {
		set.Regions = append(set.Regions, res.region)
		set.RDS = append(set.RDS, res.instances...)
		set.Clusters = append(set.Clusters, res.clusters...)
		set.ECS = append(set.ECS, res.services...)
		set.Warnings = append(set.Warnings, res.warnings...)
		ok = ok || res.ok
		errs = append(errs, res.errs...)
	}
	if !ok && len(errs) > 0 {
		if len(errs) == 1 {
			return nil, errs[0]
		}
		// One line for the status bar; errors.Is still sees the first.
		return nil, fmt.Errorf("%w (and %d more failed reads)", errs[0], len(errs)-1)
	}
	return set, nil
}

// readRegion reads RDS (then its CloudWatch figures) and ECS of one region
// concurrently.
func (s *Source) readRegion(ctx context.Context, cfg aws.Config, r Region) regionResult {
	c := s.clientsFor(cfg, r.Name)
	res := regionResult{region: sources.AWSRegion{Name: r.Name}}
	var mu sync.Mutex
	fail := func(slot *string, err error) {
		mu.Lock()
		defer mu.Unlock()
		*slot = err.Error()
		res.errs = append(res.errs, err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		insts, clusters, warns, err := s.readRDS(ctx, c, r)
		mu.Lock()
		res.warnings = append(res.warnings, warns...)
		mu.Unlock()
		if err != nil {
			fail(&res.region.RDSErr, err)
			return
		}
		if len(insts) > 0 {
			if err := s.readMetrics(ctx, c, r.Name, insts); err != nil {
				fail(&res.region.MetricsErr, err)
			}
		}
		evWarns := s.addRDSEvents(ctx, c, r.Name, insts, clusters)
		mu.Lock()
		res.warnings = append(res.warnings, evWarns...)
		res.instances, res.clusters, res.ok = insts, clusters, true
		mu.Unlock()
	})
	if r.ECSCluster != "" {
		wg.Go(func() {
			svcs, warns, err := s.readECS(ctx, c, r)
			mu.Lock()
			res.warnings = append(res.warnings, warns...)
			mu.Unlock()
			if err != nil {
				fail(&res.region.ECSErr, err)
				return
			}
			mu.Lock()
			res.services, res.ok = svcs, true
			mu.Unlock()
		})
	}
	wg.Wait()
	return res
}

// ---------------------------------------------------------------- RDS

// readRDS lists the region's instances and clusters: everything when
// nothing is configured, else the listed ones plus the members of listed
// clusters, plus the clusters of listed Aurora instances (to know which
// member writes).
func (s *Source) readRDS(ctx context.Context, c *regionClients, r Region) ([]sources.RDSInstance, []sources.RDSCluster, []string, error) {
	all := len(r.Instances) == 0 && len(r.Clusters) == 0
	var warns []string
	var clusters []rdstypes.DBCluster
	if all || len(r.Clusters) > 0 {
		var f []rdstypes.Filter
		if !all {
			f = []rdstypes.Filter{{Name: aws.String("db-cluster-id"), Values: r.Clusters}}
		}
		got, more, err := s.describeClusters(ctx, c, r.Name, f)
		if err != nil {
			return nil, nil, nil, err
		}
		if more {
			warns = append(warns, fmt.Sprintf("%s: showing the first %d RDS clusters", r.Name, sources.MaxRDSClusters))
		}
		clusters = got
	}
	var insts []rdstypes.DBInstance
	addInstances := func(f []rdstypes.Filter) error {
		got, more, err := s.describeInstances(ctx, c, r.Name, f, sources.MaxRDSInstances-len(insts))
		if err != nil {
			return err
		}
		if more {
			warns = append(warns, fmt.Sprintf("%s: showing the first %d RDS instances", r.Name, sources.MaxRDSInstances))
		}
		for _, in := range got {
			if !slices.ContainsFunc(insts, func(x rdstypes.DBInstance) bool { return sameID(x.DBInstanceIdentifier, in.DBInstanceIdentifier) }) {
				insts = append(insts, in)
			}
		}
		return nil
	}
	switch {
	case all:
		if err := addInstances(nil); err != nil {
			return nil, nil, nil, err
		}
	default:
		if len(r.Instances) > 0 {
			if err := addInstances([]rdstypes.Filter{{Name: aws.String("db-instance-id"), Values: r.Instances}}); err != nil {
				return nil, nil, nil, err
			}
		}
		if ids := clusterIDs(clusters); len(ids) > 0 {
			if err := addInstances([]rdstypes.Filter{{Name: aws.String("db-cluster-id"), Values: ids}}); err != nil {
				return nil, nil, nil, err
			}
		}
		// Clusters of listed Aurora instances, so the role says writer or
		// reader.
		var missing []string
		for _, in := range insts {
			id := aws.ToString(in.DBClusterIdentifier)
			if id != "" && !slices.Contains(clusterIDs(clusters), id) && !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			got, _, err := s.describeClusters(ctx, c, r.Name, []rdstypes.Filter{{Name: aws.String("db-cluster-id"), Values: missing}})
			if err != nil {
				return nil, nil, nil, err
			}
			clusters = append(clusters, got...)
		}
		warns = append(warns, notFound(r.Name, "RDS instance", r.Instances, insts, func(x rdstypes.DBInstance) *string { return x.DBInstanceIdentifier })...)
		warns = append(warns, notFound(r.Name, "RDS cluster", r.Clusters, clusters, func(x rdstypes.DBCluster) *string { return x.DBClusterIdentifier })...)
	}
	outClusters := make([]sources.RDSCluster, 0, len(clusters))
	for _, cl := range clusters {
		outClusters = append(outClusters, convertCluster(r.Name, cl))
	}
	sort.Slice(outClusters, func(i, j int) bool { return outClusters[i].ID < outClusters[j].ID })
	outInsts := make([]sources.RDSInstance, 0, len(insts))
	for _, in := range insts {
		outInsts = append(outInsts, convertInstance(r.Name, in, outClusters))
	}
	sort.Slice(outInsts, func(i, j int) bool { return outInsts[i].ID < outInsts[j].ID })
	return outInsts, outClusters, warns, nil
}

// sameID compares RDS identifiers, which RDS treats case-insensitively.
func sameID(a, b *string) bool { return strings.EqualFold(aws.ToString(a), aws.ToString(b)) }

func clusterIDs(cs []rdstypes.DBCluster) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, aws.ToString(c.DBClusterIdentifier))
	}
	return out
}

// notFound warns about configured identifiers RDS did not return.
func notFound[T any](region, what string, want []string, got []T, id func(T) *string) []string {
	var out []string
	for _, w := range want {
		if !slices.ContainsFunc(got, func(x T) bool { return strings.EqualFold(aws.ToString(id(x)), w) }) {
			out = append(out, fmt.Sprintf("%s: %s %s not found", region, what, w))
		}
	}
	return out
}

// describeInstances pages through DescribeDBInstances up to limit
// instances; more reports that there were more.
func (s *Source) describeInstances(ctx context.Context, c *regionClients, region string, f []rdstypes.Filter, limit int) (out []rdstypes.DBInstance, more bool, err error) {
	p := rds.NewDescribeDBInstancesPaginator(c.rds, &rds.DescribeDBInstancesInput{Filters: f, MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, false, s.classify(ctx, "rds:DescribeDBInstances", region, err)
		}
		for _, in := range page.DBInstances {
			if len(out) >= limit {
				return out, true, nil
			}
			out = append(out, in)
		}
	}
	return out, false, nil
}

func (s *Source) describeClusters(ctx context.Context, c *regionClients, region string, f []rdstypes.Filter) (out []rdstypes.DBCluster, more bool, err error) {
	p := rds.NewDescribeDBClustersPaginator(c.rds, &rds.DescribeDBClustersInput{Filters: f, MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, false, s.classify(ctx, "rds:DescribeDBClusters", region, err)
		}
		for _, cl := range page.DBClusters {
			if len(out) >= sources.MaxRDSClusters {
				return out, true, nil
			}
			out = append(out, cl)
		}
	}
	return out, false, nil
}

var san = sanitize.Text

func convertInstance(region string, in rdstypes.DBInstance, clusters []sources.RDSCluster) sources.RDSInstance {
	out := sources.RDSInstance{
		Region:        region,
		ID:            san(aws.ToString(in.DBInstanceIdentifier)),
		RawID:         aws.ToString(in.DBInstanceIdentifier),
		ARN:           san(aws.ToString(in.DBInstanceArn)),
		Engine:        san(aws.ToString(in.Engine)),
		EngineVersion: san(aws.ToString(in.EngineVersion)),
		Class:         san(aws.ToString(in.DBInstanceClass)),
		Status:        san(aws.ToString(in.DBInstanceStatus)),
		MultiAZ:       aws.ToBool(in.MultiAZ),
		AZ:            san(aws.ToString(in.AvailabilityZone)),
		SecondaryAZ:   san(aws.ToString(in.SecondaryAvailabilityZone)),
		ClusterID:     san(aws.ToString(in.DBClusterIdentifier)),
		CPUPercent:    math.NaN(),
		Connections:   math.NaN(),
		ReplicaLag:    math.NaN(),
		CreatedAt:     aws.ToTime(in.InstanceCreateTime),
	}
	if ep := in.Endpoint; ep != nil && ep.Address != nil {
		out.Endpoint = san(aws.ToString(ep.Address))
		if ep.Port != nil {
			out.Endpoint += fmt.Sprintf(":%d", *ep.Port)
		}
	}
	if src := aws.ToString(in.ReadReplicaSourceDBInstanceIdentifier); src != "" {
		out.ReplicaOf = rdsRef(src, region)
	}
	for i, r := range in.ReadReplicaDBInstanceIdentifiers {
		if i == sources.MaxRDSInstances {
			break
		}
		out.Replicas = append(out.Replicas, rdsRef(r, region))
	}
	for _, c := range clusters {
		if c.ID == out.ClusterID {
			out.ClusterWriter = c.Writer() == out.ID
		}
	}
	out.MaxConnections = defaultMaxConnections(out.Engine, out.Class)
	return out
}

// rdsRef reads an instance identifier or ARN that AWS gave about another
// instance (a replica's source, a primary's replicas), sanitized.
func rdsRef(s, home string) sources.RDSRef {
	ref := sources.ParseRDSRef(s, home)
	return sources.RDSRef{Region: san(ref.Region), ID: san(ref.ID)}
}

func convertCluster(region string, c rdstypes.DBCluster) sources.RDSCluster {
	out := sources.RDSCluster{
		Region:         region,
		ID:             san(aws.ToString(c.DBClusterIdentifier)),
		RawID:          aws.ToString(c.DBClusterIdentifier),
		ARN:            san(aws.ToString(c.DBClusterArn)),
		Engine:         san(aws.ToString(c.Engine)),
		EngineVersion:  san(aws.ToString(c.EngineVersion)),
		Status:         san(aws.ToString(c.Status)),
		MultiAZ:        aws.ToBool(c.MultiAZ),
		Endpoint:       san(aws.ToString(c.Endpoint)),
		ReaderEndpoint: san(aws.ToString(c.ReaderEndpoint)),
	}
	for i, m := range c.DBClusterMembers {
		if i == sources.MaxRDSInstances {
			break
		}
		out.Members = append(out.Members, sources.RDSClusterMember{
			ID: san(aws.ToString(m.DBInstanceIdentifier)), Writer: aws.ToBool(m.IsClusterWriter), PromotionTier: aws.ToInt32(m.PromotionTier),
		})
	}
	sort.SliceStable(out.Members, func(i, j int) bool { return out.Members[i].Writer && !out.Members[j].Writer })
	return out
}

// ---------------------------------------------------------------- CloudWatch

// metricWindow is how far back GetMetricData looks: RDS publishes
// one-minute points, sometimes a few minutes late.
const metricWindow = 10 * time.Minute

// rdsMetrics are the figures read for every instance; lag only exists on
// read replicas, so it is only asked for them.
var rdsMetrics = []struct {
	id, name    string
	replicaOnly bool
	set         func(*sources.RDSInstance, float64)
}{
	{"cpu", "CPUUtilization", false, func(i *sources.RDSInstance, v float64) { i.CPUPercent = v }},
	{"conn", "DatabaseConnections", false, func(i *sources.RDSInstance, v float64) { i.Connections = v }},
	{"lag", "ReplicaLag", true, func(i *sources.RDSInstance, v float64) { i.ReplicaLag = v }},
}

// readMetrics fills the CloudWatch figures of insts with one GetMetricData
// call for the whole region (300 queries for 100 instances, under the
// API's 500), newest point first.
func (s *Source) readMetrics(ctx context.Context, c *regionClients, region string, insts []sources.RDSInstance) error {
	type target struct {
		inst int
		set  func(*sources.RDSInstance, float64)
	}
	byID := map[string]target{}
	var queries []cwtypes.MetricDataQuery
	for i, in := range insts {
		for _, m := range rdsMetrics {
			if m.replicaOnly && in.ReplicaOf.IsZero() {
				continue
			}
			id := fmt.Sprintf("%s%d", m.id, i)
			byID[id] = target{i, m.set}
			queries = append(queries, cwtypes.MetricDataQuery{
				Id: aws.String(id),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/RDS"), MetricName: aws.String(m.name),
						Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(in.ID)}}},
					Period: aws.Int32(60),
					Stat:   aws.String("Average"),
				},
				ReturnData: aws.Bool(true),
			})
		}
	}
	now := s.now()
	points := int32(metricWindow/time.Minute) + 1
	in := &cloudwatch.GetMetricDataInput{
		StartTime:         aws.Time(now.Add(-metricWindow)),
		EndTime:           aws.Time(now),
		MetricDataQueries: queries,
		ScanBy:            cwtypes.ScanByTimestampDescending,
		MaxDatapoints:     aws.Int32(points * int32(len(queries))),
	}
	seen := map[string]bool{}
	p := cloudwatch.NewGetMetricDataPaginator(c.cw, in)
	for pages := 0; p.HasMorePages() && pages < 3; pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.classify(ctx, "cloudwatch:GetMetricData", region, err)
		}
		for _, r := range page.MetricDataResults {
			id := aws.ToString(r.Id)
			t, ok := byID[id]
			if !ok || seen[id] || len(r.Values) == 0 || len(r.Timestamps) == 0 {
				continue
			}
			// ScanBy TimestampDescending puts the newest point first.
			seen[id] = true
			t.set(&insts[t.inst], r.Values[0])
			if ts := r.Timestamps[0]; ts.After(insts[t.inst].MetricsAt) {
				insts[t.inst].MetricsAt = ts
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------- ECS

// readECS describes the region's configured services (or every service of
// the cluster), ten per DescribeServices call as the API allows.
func (s *Source) readECS(ctx context.Context, c *regionClients, r Region) ([]sources.ECSService, []string, error) {
	var warns []string
	names := make([]string, 0, len(r.Services))
	for _, sv := range r.Services {
		names = append(names, sv.Name)
	}
	if len(names) == 0 {
		p := ecs.NewListServicesPaginator(c.ecs, &ecs.ListServicesInput{Cluster: aws.String(r.ECSCluster), MaxResults: aws.Int32(100)})
		for p.HasMorePages() && len(names) < sources.MaxECSServices {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, s.classify(ctx, "ecs:ListServices", r.Name, err)
			}
			for _, arn := range page.ServiceArns {
				if len(names) == sources.MaxECSServices {
					warns = append(warns, fmt.Sprintf("%s: showing the first %d services of %s", r.Name, sources.MaxECSServices, r.ECSCluster))
					break
				}
				names = append(names, arn[strings.LastIndexByte(arn, '/')+1:])
			}
		}
	}
	var out []sources.ECSService
	for batch := range slices.Chunk(names, 10) {
		svcs, failures, err := s.describeServices(ctx, c, r, batch)
		if err != nil {
			return nil, nil, err
		}
		warns = append(warns, failures...)
		out = append(out, svcs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, warns, nil
}

// describeServices describes up to ten services and looks up each one's
// previous task definition revision.
func (s *Source) describeServices(ctx context.Context, c *regionClients, r Region, names []string) ([]sources.ECSService, []string, error) {
	resp, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(r.ECSCluster), Services: names})
	if err != nil {
		return nil, nil, s.classify(ctx, "ecs:DescribeServices", r.Name, err)
	}
	var warns []string
	for _, f := range resp.Failures {
		warns = append(warns, fmt.Sprintf("%s: ECS service %s in %s: %s", r.Name,
			san(arnName(aws.ToString(f.Arn))), san(r.ECSCluster), oneLine(strings.ToLower(aws.ToString(f.Reason)))))
	}
	out := make([]sources.ECSService, 0, len(resp.Services))
	for _, sv := range resp.Services {
		e := convertService(r, sv)
		prev, err := s.previousTaskDef(ctx, c, r.Name, e.TaskDefinition)
		if err != nil {
			// The service still shows; only the rollback target is unknown.
			warns = append(warns, err.Error())
		}
		e.PreviousTaskDefinition = prev
		warns = append(warns, s.addTasks(ctx, c, r, &e)...)
		out = append(out, e)
	}
	return out, warns, nil
}

func arnName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func convertService(r Region, sv ecstypes.Service) sources.ECSService {
	e := sources.ECSService{
		Region:         r.Name,
		Cluster:        san(r.ECSCluster),
		Name:           san(aws.ToString(sv.ServiceName)),
		ARN:            san(aws.ToString(sv.ServiceArn)),
		RawARN:         aws.ToString(sv.ServiceArn),
		Status:         san(aws.ToString(sv.Status)),
		LaunchType:     san(string(sv.LaunchType)),
		Desired:        sv.DesiredCount,
		Running:        sv.RunningCount,
		Pending:        sv.PendingCount,
		TaskDefinition: parseTaskDef(aws.ToString(sv.TaskDefinition)),
		Protected:      r.Protected,
		CreatedAt:      aws.ToTime(sv.CreatedAt),
	}
	// Configured bounds belong to the service of that exact name, not to
	// one whose name only sanitizes to it.
	for _, c := range r.Services {
		if c.Name == aws.ToString(sv.ServiceName) {
			e.Bounds = c.Bounds
		}
	}
	deps := slices.Clone(sv.Deployments)
	sort.SliceStable(deps, func(i, j int) bool {
		pi, pj := aws.ToString(deps[i].Status) == "PRIMARY", aws.ToString(deps[j].Status) == "PRIMARY"
		if pi != pj {
			return pi
		}
		return aws.ToTime(deps[i].CreatedAt).After(aws.ToTime(deps[j].CreatedAt))
	})
	for i, d := range deps {
		if i == sources.MaxECSDeployments {
			break
		}
		cd := sources.ECSDeployment{
			ID:             san(aws.ToString(d.Id)),
			Status:         san(aws.ToString(d.Status)),
			TaskDefinition: parseTaskDef(aws.ToString(d.TaskDefinition)),
			Desired:        d.DesiredCount,
			Running:        d.RunningCount,
			Pending:        d.PendingCount,
			Failed:         d.FailedTasks,
			RolloutState:   sources.ECSRolloutState(san(string(d.RolloutState))),
			RolloutReason:  oneLine(aws.ToString(d.RolloutStateReason)),
			CreatedAt:      aws.ToTime(d.CreatedAt),
			UpdatedAt:      aws.ToTime(d.UpdatedAt),
		}
		e.Deployments = append(e.Deployments, cd)
		if cd.Status == "PRIMARY" {
			e.Rollout = cd
		}
	}
	// ECS lists events newest first.
	for i, ev := range sv.Events {
		if i == sources.MaxECSEvents {
			break
		}
		e.Events = append(e.Events, sources.ECSEvent{ID: san(aws.ToString(ev.Id)), At: aws.ToTime(ev.CreatedAt), Message: oneLine(aws.ToString(ev.Message))})
	}
	return e
}

func parseTaskDef(s string) sources.TaskDef { return sources.ParseTaskDef(san(s)) }

// previousTaskDef finds the newest ACTIVE revision of td's family older
// than td: where a rollback goes. Answers are cached per revision for a few
// minutes so a steady service costs no ListTaskDefinitions call per tick.
func (s *Source) previousTaskDef(ctx context.Context, c *regionClients, region string, td sources.TaskDef) (sources.TaskDef, error) {
	if td.IsZero() || td.Revision == 0 {
		return sources.TaskDef{}, nil
	}
	key := region + "|" + td.String()
	s.mu.Lock()
	e, ok := s.prev[key]
	s.mu.Unlock()
	if ok && s.now().Sub(e.at) < prevTTL {
		return e.td, nil
	}
	var found sources.TaskDef
	p := ecs.NewListTaskDefinitionsPaginator(c.ecs, &ecs.ListTaskDefinitionsInput{
		FamilyPrefix: aws.String(td.Family), Status: ecstypes.TaskDefinitionStatusActive,
		Sort: ecstypes.SortOrderDesc, MaxResults: aws.Int32(100),
	})
	// Newest first, so the page that holds a candidate holds the best one;
	// the best of a page is still taken, not the first, since moto ignores
	// the sort order. Three pages reach 300 revisions back.
	for pages := 0; p.HasMorePages() && pages < 3 && found.IsZero(); pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return sources.TaskDef{}, s.classify(ctx, "ecs:ListTaskDefinitions", region, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			// familyPrefix is a prefix: nudgecampaign-api also lists
			// nudgecampaign-api-canary.
			if t := parseTaskDef(arn); t.Family == td.Family && t.Revision < td.Revision && t.Revision > found.Revision {
				found = t
			}
		}
	}
	s.mu.Lock()
	if len(s.prev) >= 4*sources.MaxECSServices {
		clear(s.prev) // a bound, not an eviction policy: it is only a cache
	}
	s.prev[key] = prevEntry{td: found, at: s.now()}
	s.mu.Unlock()
	return found, nil
}
