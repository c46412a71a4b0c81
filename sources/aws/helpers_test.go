package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// Local mirrors of the capability interfaces the ops AWS handlers will
// declare (ops is not imported, even in tests: arrows only go downward).
// The demo's AWS source is held to the same ones in sources/demo.
type ecsController interface {
	DescribeService(ctx context.Context, region, cluster, service string) (sources.ECSService, error)
	SetDesiredCount(ctx context.Context, region, cluster, service string, n int32) error
	ForceNewDeployment(ctx context.Context, region, cluster, service string) error
	PreviewRollback(ctx context.Context, region, cluster, service, toTaskDef string) ([]string, error)
	RollbackTaskDefinition(ctx context.Context, region, cluster, service, toTaskDef string) error
	WaitServicesStable(ctx context.Context, region, cluster string, services []string, maxWait time.Duration) error
}

type rdsController interface {
	DescribeDBInstance(ctx context.Context, region, id string) (sources.RDSInstance, error)
	DescribeDBCluster(ctx context.Context, region, id string) (sources.RDSCluster, error)
	RebootDBInstance(ctx context.Context, region, id string, forceFailover bool) error
	PromoteReadReplica(ctx context.Context, region, id string) error
	FailoverDBCluster(ctx context.Context, region, clusterID, target string) error
	WaitDBInstanceAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error
	WaitDBClusterAvailable(ctx context.Context, region, id string, settle, maxWait time.Duration) error
}

var (
	_ sources.Source = (*Source)(nil)
	_ ecsController  = (*Source)(nil)
	_ rdsController  = (*Source)(nil)
)

var bg = context.Background()

// motoAccount is moto's default account.
const motoAccount = "123456789012"

// adminCreds are moto's always-accepted keys: the admin clients build the
// world the Source then reads and check its actions' effects independently
// of the Source.
var adminCreds = credentials.NewStaticCredentialsProvider("testing", "testing", "")

func adminRDS(url, region string) *rds.Client {
	return rds.New(rds.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: adminCreds})
}

func adminECS(url, region string) *ecs.Client {
	return ecs.New(ecs.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: adminCreds})
}

func adminCW(url, region string) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: adminCreds},
		func(o *cloudwatch.Options) { o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801) })
}

// world is the manual's AWS estate, created in moto through the SDK: the
// production primary in us-east-1 (Multi-AZ db.r6g.xlarge PostgreSQL 14.9),
// its DR read replica in us-west-2, an Aurora cluster, and the ECS
// services (api desired 4 and worker 3 in production, api 0 on the DR
// side) with task definitions of several revisions.
func buildWorld(t *testing.T, url string) {
	t.Helper()
	east, west := adminRDS(url, "us-east-1"), adminRDS(url, "us-west-2")
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(east.CreateDBInstance(bg, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("nudgecampaign-prod"), DBInstanceClass: aws.String("db.r6g.xlarge"),
		Engine: aws.String("postgres"), EngineVersion: aws.String("14.9"), MultiAZ: aws.Bool(true),
		AllocatedStorage: aws.Int32(100), MasterUsername: aws.String("nudge"), MasterUserPassword: aws.String("not-a-secret-1"),
	}))
	must(west.CreateDBInstanceReadReplica(bg, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("nudgecampaign-dr-db"),
		SourceDBInstanceIdentifier: aws.String("arn:aws:rds:us-east-1:" + motoAccount + ":db:nudgecampaign-prod"),
		DBInstanceClass:            aws.String("db.r6g.xlarge"),
	}))
	must(east.CreateDBCluster(bg, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("nudgecampaign-analytics"), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("nudge"), MasterUserPassword: aws.String("not-a-secret-1"),
	}))
	for _, id := range []string{"analytics-1", "analytics-2"} {
		must(east.CreateDBInstance(bg, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String("db.r6g.large"),
			Engine: aws.String("aurora-postgresql"), DBClusterIdentifier: aws.String("nudgecampaign-analytics"),
		}))
	}
	// A standalone instance nobody configured: it must not show up.
	must(east.CreateDBInstance(bg, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("scratch-db"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("x"), MasterUserPassword: aws.String("not-a-secret-1"),
	}))

	for region, cluster := range map[string]string{"us-east-1": "nudgecampaign-production", "us-west-2": "nudgecampaign-dr"} {
		e := adminECS(url, region)
		must(e.CreateCluster(bg, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))
		register := func(family, image string, memory int32, env ...string) {
			t.Helper()
			c := ecstypes.ContainerDefinition{Name: aws.String(strings.TrimPrefix(family, "nudgecampaign-")), Image: aws.String(image), Memory: aws.Int32(memory)}
			for _, n := range env {
				c.Environment = append(c.Environment, ecstypes.KeyValuePair{Name: aws.String(n), Value: aws.String("x")})
			}
			must(e.RegisterTaskDefinition(bg, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: []ecstypes.ContainerDefinition{c}}))
		}
		register("nudgecampaign-api", "nudgecampaign/api:v4.9.2", 2048, "NODE_ENV")
		register("nudgecampaign-api", "nudgecampaign/api:v5.0.0", 2048, "NODE_ENV")
		register("nudgecampaign-api", "nudgecampaign/api:v5.1.0", 3072, "NODE_ENV", "FEATURE_BULK_IMPORT")
		// Another family sharing the prefix: never a rollback target.
		register("nudgecampaign-api-canary", "nudgecampaign/api:v5.2.0-rc1", 2048)
		register("nudgecampaign-worker", "nudgecampaign/worker:v3.4.0", 1024)
		register("nudgecampaign-worker", "nudgecampaign/worker:v3.4.1", 1024)
		if region == "us-east-1" {
			must(e.CreateService(bg, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("api"),
				TaskDefinition: aws.String("nudgecampaign-api:3"), DesiredCount: aws.Int32(4)}))
			must(e.CreateService(bg, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("worker"),
				TaskDefinition: aws.String("nudgecampaign-worker:2"), DesiredCount: aws.Int32(3)}))
		} else {
			must(e.CreateService(bg, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("api"),
				TaskDefinition: aws.String("nudgecampaign-api:2"), DesiredCount: aws.Int32(0)}))
		}
	}
	// CloudWatch: the production primary is burning, the replica lags.
	now := time.Now()
	put := func(region, id, metric string, v float64) {
		t.Helper()
		must(adminCW(url, region).PutMetricData(bg, &cloudwatch.PutMetricDataInput{
			Namespace: aws.String("AWS/RDS"),
			MetricData: []cwtypes.MetricDatum{{
				MetricName: aws.String(metric), Value: aws.Float64(v), Timestamp: aws.Time(now.Add(-time.Minute)),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(id)}},
			}},
		}))
	}
	put("us-east-1", "nudgecampaign-prod", "CPUUtilization", 93.5)
	put("us-east-1", "nudgecampaign-prod", "DatabaseConnections", 412)
	put("us-west-2", "nudgecampaign-dr-db", "CPUUtilization", 12)
	put("us-west-2", "nudgecampaign-dr-db", "DatabaseConnections", 3)
	put("us-west-2", "nudgecampaign-dr-db", "ReplicaLag", 42)
}

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

// call is one request seen by a recorder.
type call struct {
	Action string // Query "Action" or the JSON X-Amz-Target operation
	Body   string
}

// recorder is a reverse proxy in front of moto that remembers every
// request, to count calls and attempts and to see parameters moto keeps no
// state for (ForceFailover).
type recorder struct {
	URL   string
	mu    sync.Mutex
	calls []call
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		action := req.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(action, '.'); i >= 0 {
			action = action[i+1:]
		}
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			action = v.Get("Action")
		}
		r.mu.Lock()
		r.calls = append(r.calls, call{Action: action, Body: string(body)})
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// take returns the calls seen since the last take and forgets them.
func (r *recorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

func count(calls []call, action string) int {
	n := 0
	for _, c := range calls {
		if c.Action == action {
			n++
		}
	}
	return n
}

// iamCall sends one signed IAM Query request to moto (the SDK's IAM client
// is not a dependency of flightdeck; a signed form post is all IAM needs).
func iamCall(t *testing.T, m *testsrv.Moto, action string, params url.Values) []byte {
	t.Helper()
	params.Set("Action", action)
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	req, _ := http.NewRequestWithContext(bg, http.MethodPost, m.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds, _ := adminCreds.Retrieve(bg)
	if err := v4.NewSigner().SignHTTP(bg, creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("iam %s: %s: %s", action, resp.Status, out)
	}
	return out
}

// iamUser creates a user with the given inline policy document and returns
// its access keys.
func iamUser(t *testing.T, m *testsrv.Moto, name, policy string) aws.CredentialsProvider {
	t.Helper()
	iamCall(t, m, "CreateUser", url.Values{"UserName": {name}})
	iamCall(t, m, "PutUserPolicy", url.Values{"UserName": {name}, "PolicyName": {name}, "PolicyDocument": {policy}})
	out := iamCall(t, m, "CreateAccessKey", url.Values{"UserName": {name}})
	var r struct {
		Key struct {
			ID     string `xml:"AccessKeyId"`
			Secret string `xml:"SecretAccessKey"`
		} `xml:"CreateAccessKeyResult>AccessKey"`
	}
	if err := xml.Unmarshal(out, &r); err != nil || r.Key.ID == "" {
		t.Fatalf("CreateAccessKey: %v: %s", err, out)
	}
	return credentials.NewStaticCredentialsProvider(r.Key.ID, r.Key.Secret, "")
}
