package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// A source; the ops capability interfaces (ops.ECSController, ops.RDSController) are asserted in world/backends.go: this package never imports ops, not even in tests.
var _ sources.Source = (*Source)(nil)

var bg = context.Background()

// The shared moto helpers (internal/testsrv), under the names these tests
// use.
const motoAccount = testsrv.MotoAccount

var adminCreds = testsrv.MotoAdminCreds

func adminRDS(url, region string) *rds.Client       { return testsrv.AdminRDS(url, region) }
func adminECS(url, region string) *ecs.Client       { return testsrv.AdminECS(url, region) }
func adminCW(url, region string) *cloudwatch.Client { return testsrv.AdminCW(url, region) }

// buildWorld is the manual's AWS estate (testsrv.BuildAWSEstate).
func buildWorld(t *testing.T, url string) { testsrv.BuildAWSEstate(t, url) }

type call = testsrv.AWSCall

func newRecorder(t *testing.T, target string) *testsrv.AWSRecorder {
	return testsrv.NewAWSRecorder(t, target)
}

func count(calls []call, action string) int { return testsrv.CountCalls(calls, action) }

func iamUser(t *testing.T, m *testsrv.Moto, name, policy string) aws.CredentialsProvider {
	return m.IAMUser(t, name, policy)
}

func mergePolicies(t *testing.T, docs ...[]byte) string { return testsrv.MergePolicies(t, docs...) }

// manualRegions is the example config's aws: section as Options.Regions.
func manualRegions() []Region {
	b := func(lo, hi int32) sources.DesiredBounds {
		return sources.DesiredBounds{Min: lo, Max: hi, HasMin: true, HasMax: true}
	}
	return []Region{
		{Name: "us-east-1", Instances: []string{"nudgecampaign-prod"}, Clusters: []string{"nudgecampaign-analytics"},
			ECSCluster: "nudgecampaign-production", Protected: true,
			Services: []Service{{Name: "api", Bounds: b(2, 10)}, {Name: "worker", Bounds: b(1, 6)}}},
		{Name: "us-west-2", Instances: []string{"nudgecampaign-dr-db"}, ECSCluster: "nudgecampaign-dr",
			Services: []Service{{Name: "api", Bounds: b(0, 10)}}},
	}
}
