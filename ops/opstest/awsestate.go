package opstest

import (
	"fmt"
	"math"
	"time"

	"flightdeck/sources"
)

// AWSEstate is the ops manual's AWS estate as the AWS source reads it at
// now, in the middle of the incident (like the demo's): the Multi-AZ
// primary nudgecampaign-prod in us-east-1 past the manual's 90 % CPU, its
// DR read replica nudgecampaign-dr-db in us-west-2 lagging 72 s, the
// Aurora analytics cluster, and the ECS services — api (desired 4, one
// task failing its health check, bounds 2–10) and worker (3, bounds 1–6)
// in the protected nudgecampaign-production, and the DR api (0, bounds
// 0–10) in nudgecampaign-dr.
func AWSEstate(now time.Time) *sources.AWSSet {
	ago := func(d time.Duration) time.Time { return now.Add(-d).Truncate(time.Second) }
	arn := func(region, kind, id string) string {
		return "arn:aws:rds:" + region + ":111122223333:" + kind + ":" + id
	}
	inst := func(region, id, class, engine string) sources.RDSInstance {
		return sources.RDSInstance{Region: region, ID: id, RawID: id, ARN: arn(region, "db", id), Engine: engine, EngineVersion: "14.9",
			Class: class, Status: "available", Endpoint: id + ".c9akciq32." + region + ".rds.amazonaws.com:5432",
			CPUPercent: 22, Connections: 14, ReplicaLag: math.NaN(), MetricsAt: now.Truncate(time.Minute), MaxConnections: 1802,
			CreatedAt: ago(200 * 24 * time.Hour)}
	}
	prod := inst("us-east-1", "nudgecampaign-prod", "db.r6g.xlarge", "postgres")
	prod.MultiAZ, prod.AZ, prod.SecondaryAZ = true, "us-east-1a", "us-east-1b"
	prod.Replicas = []sources.RDSRef{{Region: "us-west-2", ID: "nudgecampaign-dr-db"}}
	prod.CPUPercent, prod.Connections, prod.MaxConnections = 93.6, 91, 100
	prod.CreatedAt = ago(410 * 24 * time.Hour)
	dr := inst("us-west-2", "nudgecampaign-dr-db", "db.r6g.xlarge", "postgres")
	dr.AZ, dr.ReplicaOf = "us-west-2a", sources.RDSRef{Region: "us-east-1", ID: "nudgecampaign-prod"}
	dr.CPUPercent, dr.Connections, dr.ReplicaLag, dr.MaxConnections = 14.2, 2, 72.4, 100
	dr.CreatedAt = ago(380 * 24 * time.Hour)
	a1 := inst("us-east-1", "analytics-1", "db.r6g.large", "aurora-postgresql")
	a1.AZ, a1.ClusterID, a1.ClusterWriter = "us-east-1a", "nudgecampaign-analytics", true
	a2 := inst("us-east-1", "analytics-2", "db.r6g.large", "aurora-postgresql")
	a2.AZ, a2.ClusterID, a2.CPUPercent, a2.Connections = "us-east-1c", "nudgecampaign-analytics", 9.5, 3

	td := func(region, family string, rev int32) sources.TaskDef {
		return sources.TaskDef{ARN: fmt.Sprintf("arn:aws:ecs:%s:111122223333:task-definition/%s:%d", region, family, rev), Family: family, Revision: rev}
	}
	bounds := func(lo, hi int32) sources.DesiredBounds {
		return sources.DesiredBounds{Min: lo, Max: hi, HasMin: true, HasMax: true}
	}
	svc := func(region, cluster, name, family string, rev, desired, running int32, b sources.DesiredBounds, protected bool, deployed time.Duration) sources.ECSService {
		d := sources.ECSDeployment{ID: "ecs-svc/73014481260" + fmt.Sprint(rev) + name[:1], Status: "PRIMARY", TaskDefinition: td(region, family, rev),
			Desired: desired, Running: running, Pending: desired - running, RolloutState: sources.ECSRolloutCompleted,
			RolloutReason: "ECS deployment completed.", CreatedAt: ago(deployed), UpdatedAt: ago(deployed - 4*time.Minute)}
		if running < desired {
			d.RolloutState, d.RolloutReason = sources.ECSRolloutInProgress, "ECS deployment in progress."
		}
		return sources.ECSService{Region: region, Cluster: cluster, Name: name,
			ARN:    "arn:aws:ecs:" + region + ":111122223333:service/" + cluster + "/" + name,
			RawARN: "arn:aws:ecs:" + region + ":111122223333:service/" + cluster + "/" + name,
			Status: "ACTIVE", LaunchType: "FARGATE", Desired: desired, Running: running, Pending: desired - running,
			TaskDefinition: td(region, family, rev), Rollout: d, Deployments: []sources.ECSDeployment{d},
			PreviousTaskDefinition: td(region, family, rev-1), Bounds: b, Protected: protected, CreatedAt: ago(300 * 24 * time.Hour),
			Events: []sources.ECSEvent{
				{ID: "e3", At: ago(20 * time.Minute), Message: "(service " + name + ") has reached a steady state."},
				{ID: "e2", At: ago(6 * time.Hour), Message: "(service " + name + ") has reached a steady state."},
			}}
	}
	api := svc("us-east-1", "nudgecampaign-production", "api", "nudgecampaign-api", 57, 4, 3, bounds(2, 10), true, 51*time.Hour)
	api.Events = append([]sources.ECSEvent{
		{ID: "e5", At: ago(40 * time.Second), Message: "(service api) has started 1 tasks: (task 5b2c0e4f9a7d4c1e8f3a6b9d2e5c8f1a)."},
		{ID: "e4", At: ago(2 * time.Minute), Message: "(service api) (task 9e3779b97f4a7c15f39cc0605cedc834) failed container health checks."},
	}, api.Events...)
	worker := svc("us-east-1", "nudgecampaign-production", "worker", "nudgecampaign-worker", 23, 3, 3, bounds(1, 6), true, 19*time.Hour)
	drAPI := svc("us-west-2", "nudgecampaign-dr", "api", "nudgecampaign-api", 57, 0, 0, bounds(0, 10), false, 51*time.Hour)

	return &sources.AWSSet{
		Regions: []sources.AWSRegion{{Name: "us-east-1"}, {Name: "us-west-2"}},
		RDS:     []sources.RDSInstance{a1, a2, prod, dr},
		Clusters: []sources.RDSCluster{{Region: "us-east-1", ID: "nudgecampaign-analytics", RawID: "nudgecampaign-analytics", ARN: arn("us-east-1", "cluster", "nudgecampaign-analytics"),
			Engine: "aurora-postgresql", EngineVersion: "14.9", Status: "available", MultiAZ: true,
			Endpoint:       "nudgecampaign-analytics.cluster-c9akciq32.us-east-1.rds.amazonaws.com",
			ReaderEndpoint: "nudgecampaign-analytics.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com",
			Members:        []sources.RDSClusterMember{{ID: "analytics-1", Writer: true, PromotionTier: 1}, {ID: "analytics-2", PromotionTier: 1}}}},
		ECS:              []sources.ECSService{api, worker, drAPI},
		CredentialSource: "SharedConfigCredentials: /home/oncall/.aws/credentials",
	}
}
