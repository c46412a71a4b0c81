package testsrv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
)

// What the AWS tests share against moto: admin clients that build the
// world and check actions' effects independently of the code under test,
// the ops manual's estate, IAM users with a given policy, and a recorder
// that sees every request.

// MotoAccount is moto's default account.
const MotoAccount = "123456789012"

// MotoAdminCreds are moto's always-accepted keys.
var MotoAdminCreds = credentials.NewStaticCredentialsProvider("testing", "testing", "")

// AdminRDS is an RDS client of moto at url in region, as admin.
func AdminRDS(url, region string) *rds.Client {
	return rds.New(rds.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: MotoAdminCreds})
}

// AdminECS is an ECS client of moto at url in region, as admin.
func AdminECS(url, region string) *ecs.Client {
	return ecs.New(ecs.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: MotoAdminCreds})
}

// AdminCW is a CloudWatch client of moto at url in region, as admin, on
// the awsQuery protocol moto serves.
func AdminCW(url, region string) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: MotoAdminCreds},
		func(o *cloudwatch.Options) { o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801) })
}

// BuildAWSEstate creates the manual's AWS estate in moto at url through
// the SDK: the production primary in us-east-1 (Multi-AZ db.r6g.xlarge
// PostgreSQL 14.9), its DR read replica in us-west-2, an Aurora cluster
// (analytics-1 writer, analytics-2 reader), an unconfigured scratch-db, and
// the ECS clusters nudgecampaign-production (api desired 4 on
// nudgecampaign-api:3, worker 3 on nudgecampaign-worker:2) and
// nudgecampaign-dr (api 0 on nudgecampaign-api:2), with task definitions
// of several revisions and a same-prefix family; CloudWatch has the
// primary at 93.5 % CPU and the replica 42 s behind.
func BuildAWSEstate(t testing.TB, url string) {
	t.Helper()
	ctx := context.Background()
	east, west := AdminRDS(url, "us-east-1"), AdminRDS(url, "us-west-2")
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(east.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("nudgecampaign-prod"), DBInstanceClass: aws.String("db.r6g.xlarge"),
		Engine: aws.String("postgres"), EngineVersion: aws.String("14.9"), MultiAZ: aws.Bool(true),
		AllocatedStorage: aws.Int32(100), MasterUsername: aws.String("nudge"), MasterUserPassword: aws.String("not-a-secret-1"),
	}))
	must(west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("nudgecampaign-dr-db"),
		SourceDBInstanceIdentifier: aws.String("arn:aws:rds:us-east-1:" + MotoAccount + ":db:nudgecampaign-prod"),
		DBInstanceClass:            aws.String("db.r6g.xlarge"),
	}))
	must(east.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("nudgecampaign-analytics"), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("nudge"), MasterUserPassword: aws.String("not-a-secret-1"),
	}))
	for _, id := range []string{"analytics-1", "analytics-2"} {
		must(east.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String("db.r6g.large"),
			Engine: aws.String("aurora-postgresql"), DBClusterIdentifier: aws.String("nudgecampaign-analytics"),
		}))
	}
	// A standalone instance nobody configured: it must not show up.
	must(east.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("scratch-db"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("x"), MasterUserPassword: aws.String("not-a-secret-1"),
	}))

	for region, cluster := range map[string]string{"us-east-1": "nudgecampaign-production", "us-west-2": "nudgecampaign-dr"} {
		e := AdminECS(url, region)
		must(e.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))
		register := func(family, image string, memory int32, env ...string) {
			t.Helper()
			c := ecstypes.ContainerDefinition{Name: aws.String(strings.TrimPrefix(family, "nudgecampaign-")), Image: aws.String(image), Memory: aws.Int32(memory)}
			for _, n := range env {
				c.Environment = append(c.Environment, ecstypes.KeyValuePair{Name: aws.String(n), Value: aws.String("x")})
			}
			must(e.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: []ecstypes.ContainerDefinition{c}}))
		}
		register("nudgecampaign-api", "nudgecampaign/api:v4.9.2", 2048, "NODE_ENV")
		register("nudgecampaign-api", "nudgecampaign/api:v5.0.0", 2048, "NODE_ENV")
		register("nudgecampaign-api", "nudgecampaign/api:v5.1.0", 3072, "NODE_ENV", "FEATURE_BULK_IMPORT")
		// Another family sharing the prefix: never a rollback target.
		register("nudgecampaign-api-canary", "nudgecampaign/api:v5.2.0-rc1", 2048)
		register("nudgecampaign-worker", "nudgecampaign/worker:v3.4.0", 1024)
		register("nudgecampaign-worker", "nudgecampaign/worker:v3.4.1", 1024)
		if region == "us-east-1" {
			must(e.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("api"),
				TaskDefinition: aws.String("nudgecampaign-api:3"), DesiredCount: aws.Int32(4)}))
			must(e.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("worker"),
				TaskDefinition: aws.String("nudgecampaign-worker:2"), DesiredCount: aws.Int32(3)}))
		} else {
			must(e.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("api"),
				TaskDefinition: aws.String("nudgecampaign-api:2"), DesiredCount: aws.Int32(0)}))
		}
	}
	// CloudWatch: the production primary is burning, the replica lags.
	now := time.Now()
	put := func(region, id, metric string, v float64) {
		t.Helper()
		must(AdminCW(url, region).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
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

// AWSCall is one request an AWSRecorder saw.
type AWSCall struct {
	Action string // Query "Action" or the JSON X-Amz-Target operation
	Body   string
}

// AWSRecorder is a reverse proxy in front of moto that remembers every
// request: to count calls and attempts (AccessDenied is sent once) and to
// see parameters moto keeps no state for (ForceFailover).
type AWSRecorder struct {
	URL   string
	mu    sync.Mutex
	calls []AWSCall
}

// NewAWSRecorder starts a recorder in front of target, closed when the
// test ends.
func NewAWSRecorder(t testing.TB, target string) *AWSRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &AWSRecorder{}
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
		r.calls = append(r.calls, AWSCall{Action: action, Body: string(body)})
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Take returns the calls seen since the last Take and forgets them.
func (r *AWSRecorder) Take() []AWSCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// CountCalls counts the calls of one action.
func CountCalls(calls []AWSCall, action string) int {
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
func iamCall(t testing.TB, m *Moto, action string, params url.Values) []byte {
	t.Helper()
	ctx := context.Background()
	params.Set("Action", action)
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds, _ := MotoAdminCreds.Retrieve(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
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

// IAMUser creates a user with the given inline policy document and returns
// its access keys. Moto checks them only after EnforceIAM.
func (m *Moto) IAMUser(t testing.TB, name, policy string) aws.CredentialsProvider {
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

// MotoIAMPolicy adapts a documented IAM policy to moto 5.2.1, which checks
// CloudWatch calls as monitoring:* (the endpoint prefix) where AWS uses
// cloudwatch:*: both are granted.
func MotoIAMPolicy(doc string) string {
	return strings.Replace(doc, `"cloudwatch:GetMetricData"`, `"cloudwatch:GetMetricData", "monitoring:GetMetricData"`, 1)
}

// MergePolicies joins the statements of IAM policy documents.
func MergePolicies(t testing.TB, docs ...[]byte) string {
	t.Helper()
	var out struct {
		Version   string
		Statement []json.RawMessage
	}
	for _, d := range docs {
		var p struct {
			Version   string
			Statement []json.RawMessage
		}
		if err := json.Unmarshal(d, &p); err != nil {
			t.Fatal(err)
		}
		out.Version = p.Version
		out.Statement = append(out.Statement, p.Statement...)
	}
	b, _ := json.Marshal(out)
	return string(b)
}
