package aws

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"flightdeck/sources"
)

// fakeAWS is an httptest endpoint that answers by operation and region, so
// a unit test can feed the SDK the exact responses AWS sends in cases moto
// cannot produce (AWS's own AccessDenied bodies, throttling, a hang).
type fakeAWS struct {
	*httptest.Server
	mu       sync.Mutex
	attempts map[string]int // "region/Operation" → requests seen
	handle   func(w http.ResponseWriter, r *http.Request, region, op string, attempt int)
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, region, op string, attempt int)) *fakeAWS {
	t.Helper()
	f := &fakeAWS{attempts: map[string]int{}, handle: handle}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		op := r.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(op, '.'); i >= 0 {
			op = op[i+1:]
		}
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			op = v.Get("Action")
		}
		// Credential=AKID/20261129/us-west-2/rds/aws4_request
		region := ""
		if _, after, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
			if parts := strings.Split(after, "/"); len(parts) > 2 {
				region = parts[2]
			}
		}
		f.mu.Lock()
		f.attempts[region+"/"+op]++
		n := f.attempts[region+"/"+op]
		f.mu.Unlock()
		f.handle(w, r, region, op, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAWS) count(region, op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[region+"/"+op]
}

func fakeSource(t *testing.T, url string, timeout time.Duration, regions ...Region) *Source {
	t.Helper()
	if len(regions) == 0 {
		regions = []Region{{Name: "us-east-1", Instances: []string{"nudgecampaign-prod"}, ECSCluster: "nudgecampaign-production"}}
	}
	s, err := New(Options{Regions: regions, EndpointURL: url, Timeout: timeout,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFLIGHTDECK", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// Bodies as AWS sends them (RDS: awsQuery XML; ECS: awsJson 1.1).
const (
	rdsAccessDenied = `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:sts::111122223333:assumed-role/oncall-readonly/jane is not authorized to perform: rds:RebootDBInstance on resource: arn:aws:rds:us-east-1:111122223333:db:nudgecampaign-prod because no identity-based policy allows the rds:RebootDBInstance action</Message>
  </Error>
  <RequestId>5e1b2f3a-8c4d-4e6f-9a0b-1c2d3e4f5a6b</RequestId>
</ErrorResponse>`
	ecsAccessDenied = `{"__type":"AccessDeniedException","message":"User: arn:aws:sts::111122223333:assumed-role/oncall-readonly/jane is not authorized to perform: ecs:UpdateService on resource: arn:aws:ecs:us-east-1:111122223333:service/nudgecampaign-production/api because no identity-based policy allows the ecs:UpdateService action"}`
	rdsThrottled    = `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>7a7a7a7a-0000-4000-8000-000000000001</RequestId>
</ErrorResponse>`
	rdsInternal = `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>We encountered an internal error. Please try again.</Message></Error><RequestId>1</RequestId></ErrorResponse>`
	rdsExpired  = `<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>2</RequestId></ErrorResponse>`
	noInstances = `<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances/></DescribeDBInstancesResult><ResponseMetadata><RequestId>3</RequestId></ResponseMetadata></DescribeDBInstancesResponse>`
	noClusters  = `<DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBClustersResult><DBClusters/></DescribeDBClustersResult><ResponseMetadata><RequestId>4</RequestId></ResponseMetadata></DescribeDBClustersResponse>`
	noServices  = `{"services":[],"failures":[]}`
)

func TestAccessDeniedFromAWSIsTypedAndNeverRetried(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, region, op string, attempt int) {
		switch op {
		case "RebootDBInstance":
			writeXML(w, http.StatusForbidden, rdsAccessDenied)
		case "UpdateService":
			// ECS answers a refused call with 400 and the exception type.
			writeJSON(w, http.StatusBadRequest, ecsAccessDenied)
		default:
			t.Errorf("unexpected %s", op)
			w.WriteHeader(http.StatusNotImplemented)
		}
	})
	s := fakeSource(t, f.URL, 5*time.Second)

	err := s.RebootDBInstance(bg, "us-east-1", "nudgecampaign-prod", true)
	var e *Error
	if !errors.Is(err, sources.ErrAccessDenied) || !errors.As(err, &e) || e.Code != "AccessDenied" {
		t.Fatalf("reboot: %#v", err)
	}
	want := "rds:RebootDBInstance in us-east-1: access denied: User: arn:aws:sts::111122223333:assumed-role/oncall-readonly/jane is not authorized to perform: rds:RebootDBInstance on resource: arn:aws:rds:us-east-1:111122223333:db:nudgecampaign-prod because no identity-based policy allows the rds:RebootDBInstance action"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if n := f.count("us-east-1", "RebootDBInstance"); n != 1 {
		t.Errorf("RebootDBInstance sent %d times, want 1", n)
	}

	err = s.SetDesiredCount(bg, "us-east-1", "nudgecampaign-production", "api", 6)
	if !errors.Is(err, sources.ErrAccessDenied) || !strings.Contains(err.Error(), "access denied: User: arn:aws:sts::111122223333:assumed-role/oncall-readonly/jane is not authorized to perform: ecs:UpdateService") {
		t.Errorf("update service: %v", err)
	}
	if n := f.count("us-east-1", "UpdateService"); n != 1 {
		t.Errorf("UpdateService sent %d times, want 1", n)
	}
}

func TestThrottlingBacksOffThenSucceedsOrSaysSo(t *testing.T) {
	var throttleFirst atomic.Int64
	throttleFirst.Store(2)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, region, op string, attempt int) {
		switch {
		case op == "DescribeDBInstances" && int64(attempt) <= throttleFirst.Load():
			writeXML(w, http.StatusBadRequest, rdsThrottled)
		case op == "DescribeDBInstances":
			writeXML(w, http.StatusOK, noInstances)
		case op == "RebootDBInstance":
			writeXML(w, http.StatusBadRequest, rdsThrottled)
		case op == "FailoverDBCluster":
			writeXML(w, http.StatusInternalServerError, rdsInternal)
		default:
			writeJSON(w, http.StatusOK, noServices)
		}
	})
	s := fakeSource(t, f.URL, 30*time.Second)
	start := time.Now()
	if _, err := s.Fetch(bg); err != nil {
		t.Fatalf("throttled twice, then fine: %v", err)
	}
	if n := f.count("us-east-1", "DescribeDBInstances"); n != 3 {
		t.Errorf("DescribeDBInstances attempts = %d, want 3 (two throttled, one served)", n)
	}
	t.Logf("two throttled attempts cost %s of backoff", time.Since(start).Round(time.Millisecond))

	throttleFirst.Store(1000)
	// ECS still answers: the snapshot comes with the RDS error in it.
	p, err := s.Fetch(bg)
	if err != nil {
		t.Fatal(err)
	}
	if e := p.(*sources.AWSSet).Regions[0].RDSErr; e != "rds:DescribeDBInstances in us-east-1: throttled by AWS after the SDK's retries with backoff (Throttling)" {
		t.Errorf("always throttled: %q", e)
	}
	if n := f.count("us-east-1", "DescribeDBInstances"); n != 6 {
		t.Errorf("DescribeDBInstances attempts = %d, want 3 more (the standard retryer's 3)", n)
	}

	// A throttled write was not executed: retried like a read.
	if err := s.RebootDBInstance(bg, "us-east-1", "nudgecampaign-prod", false); !errors.Is(err, sources.ErrThrottled) {
		t.Errorf("throttled reboot: %v", err)
	}
	if n := f.count("us-east-1", "RebootDBInstance"); n != 3 {
		t.Errorf("throttled reboot sent %d times, want 3", n)
	}
	// A write that failed on the server may have happened: not retried.
	err = s.FailoverDBCluster(bg, "us-east-1", "nudgecampaign-analytics", "")
	if err == nil || !strings.Contains(err.Error(), "InternalFailure: We encountered an internal error") {
		t.Errorf("failover with a 500: %v", err)
	}
	if n := f.count("us-east-1", "FailoverDBCluster"); n != 1 {
		t.Errorf("failover after a 500 sent %d times, want 1", n)
	}
}

func TestHungRegionCostsTheTimeoutOnly(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, region, op string, attempt int) {
		if region == "us-west-2" {
			select { // accept the connection, never answer
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		switch op {
		case "DescribeDBInstances":
			writeXML(w, http.StatusOK, noInstances)
		default:
			writeJSON(w, http.StatusOK, noServices)
		}
	})
	defer close(release)
	const timeout = 400 * time.Millisecond
	s := fakeSource(t, f.URL, timeout,
		Region{Name: "us-east-1", Instances: []string{"nudgecampaign-prod"}, ECSCluster: "nudgecampaign-production"},
		Region{Name: "us-west-2", Instances: []string{"nudgecampaign-dr-db"}, ECSCluster: "nudgecampaign-dr"})
	start := time.Now()
	p, err := s.Fetch(bg)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("one hung region failed the whole fetch: %v", err)
	}
	set := p.(*sources.AWSSet)
	if set.Regions[0].Err() != "" {
		t.Errorf("us-east-1: %s", set.Regions[0].Err())
	}
	west := set.Regions[1]
	if !strings.Contains(west.RDSErr, "timed out after 400ms") || !strings.Contains(west.ECSErr, "timed out after 400ms") {
		t.Errorf("us-west-2 errors %q / %q", west.RDSErr, west.ECSErr)
	}
	// A deadline for a busy machine, not a measurement.
	if took > timeout+3*time.Second {
		t.Errorf("fetch took %s with a %s timeout", took, timeout)
	}

	// An action against the hung region costs its timeout too.
	start = time.Now()
	err = s.PromoteReadReplica(bg, "us-west-2", "nudgecampaign-dr-db")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > timeout+3*time.Second {
		t.Errorf("promote on a hung endpoint after %s: %v", time.Since(start), err)
	}
}

func TestResponsesAreBounded(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, region, op string, attempt int) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>`)
		chunk := strings.Repeat("x", 1<<20)
		for range 9 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	s := fakeSource(t, f.URL, 20*time.Second, Region{Name: "us-east-1"})
	_, err := s.Fetch(bg)
	if err == nil || !strings.Contains(err.Error(), "response larger than 8 MiB") {
		t.Errorf("9 MiB response: %v", err)
	}
}

func TestTextFromAWSIsSanitized(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, region, op string, attempt int) {
		switch op {
		case "DescribeServices":
			writeJSON(w, http.StatusOK, `{"services":[{"serviceName":"api","status":"ACTIVE","desiredCount":4,"runningCount":3,
				"taskDefinition":"arn:aws:ecs:us-east-1:1:task-definition/nudgecampaign-api:7",
				"deployments":[{"id":"ecs-svc/1","status":"PRIMARY","taskDefinition":"arn:aws:ecs:us-east-1:1:task-definition/nudgecampaign-api:7",
				  "rolloutState":"IN_PROGRESS","rolloutStateReason":"ECS deployment in progress.\u001b]0;pwned\u0007\nsecond line"}],
				"events":[{"id":"e1","createdAt":1.7e9,"message":"(service api) has started 1 tasks: \u001b[2J\u202etask\u202c abc"}]}],"failures":[]}`)
		case "ListTaskDefinitions":
			writeJSON(w, http.StatusOK, `{"taskDefinitionArns":["arn:aws:ecs:us-east-1:1:task-definition/nudgecampaign-api:6"]}`)
		default:
			writeXML(w, http.StatusOK, noInstances)
		}
	})
	s := fakeSource(t, f.URL, 5*time.Second, Region{Name: "us-east-1", Instances: []string{"x"}, ECSCluster: "c", Services: []Service{{Name: "api"}}})
	p, err := s.Fetch(bg)
	if err != nil {
		t.Fatal(err)
	}
	api := p.(*sources.AWSSet).ECS[0]
	if got := api.Events[0].Message; got != "(service api) has started 1 tasks: task abc" {
		t.Errorf("event %q", got)
	}
	if got := api.Rollout.RolloutReason; got != "ECS deployment in progress. second line" {
		t.Errorf("rollout reason %q", got)
	}
	if api.PreviousTaskDefinition.String() != "nudgecampaign-api:6" {
		t.Errorf("previous %q", api.PreviousTaskDefinition)
	}
	if h, why := api.Health(); h != sources.HealthWarning || why != "3 of 4 tasks running" {
		t.Errorf("health %v %q", h, why)
	}
}

// TestExpiredCredentials: the server rejects the keys; the message says so
// and names the chain.
func TestExpiredCredentials(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, region, op string, attempt int) {
		writeXML(w, http.StatusForbidden, rdsExpired)
	})
	s := fakeSource(t, f.URL, 5*time.Second, Region{Name: "us-east-1"})
	_, err := s.Fetch(bg)
	if !errors.Is(err, sources.ErrCredentials) || !strings.Contains(err.Error(), "AWS rejected the credentials (ExpiredToken: The security token included in the request is expired)") {
		t.Errorf("expired: %v", err)
	}
	// The SDK may retry once after refreshing credentials (clock skew
	// handling); it must stay bounded.
	if n := f.count("us-east-1", "DescribeDBInstances"); n > 3 {
		t.Errorf("an expired token was sent %d times", n)
	}
}

// isolateChain points every link of the SDK's default credential chain at
// nothing: no environment keys, empty home, no IMDS.
func isolateChain(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", home)
	// The SDK computes its default file names once, at init, from the real
	// home: name them explicitly.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return home
}

func TestMissingCredentialsNameTheChain(t *testing.T) {
	home := isolateChain(t)
	s, err := New(Options{Regions: []Region{{Name: "us-east-1"}}, EndpointURL: "http://127.0.0.1:9", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Fetch(bg)
	if !errors.Is(err, sources.ErrCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
	want := fmt.Sprintf(`credential chain tried: environment (AWS_ACCESS_KEY_ID not set) → web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set) → profile "default" (%s missing, %s missing) → container credentials (not configured) → EC2 instance role (IMDS disabled by AWS_EC2_METADATA_DISABLED)`,
		filepath.Join(home, ".aws", "config"), filepath.Join(home, ".aws", "credentials"))
	if !strings.HasPrefix(err.Error(), "credentials: no usable AWS credentials: ") || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("got  %s\nwant …%s", err, want)
	}
	t.Logf("%v", err)

	// An action says the same instead of calling anything.
	if err := s.SetDesiredCount(bg, "us-east-1", "c", "api", 1); !errors.Is(err, sources.ErrCredentials) {
		t.Errorf("action without credentials: %v", err)
	}

	// A profile named in config that does not exist.
	s, _ = New(Options{Regions: []Region{{Name: "us-east-1"}}, Profile: "nudgecampaign-prod", EndpointURL: "http://127.0.0.1:9", Timeout: 5 * time.Second})
	_, err = s.Fetch(bg)
	if !errors.Is(err, sources.ErrCredentials) || !strings.Contains(err.Error(), "nudgecampaign-prod") ||
		!strings.Contains(err.Error(), `credential chain tried: profile "nudgecampaign-prod"`) {
		t.Errorf("missing profile: %v", err)
	}
}

func TestExpiredSSOSessionSaysLogIn(t *testing.T) {
	home := isolateChain(t)
	os.MkdirAll(filepath.Join(home, ".aws", "sso", "cache"), 0o700)
	os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(`[profile oncall]
sso_start_url = https://nudgecampaign.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = OnCall
region = us-east-1
`), 0o600)
	// The cached token of that start URL, expired an hour ago (file name:
	// sha1 of the start URL, as the AWS CLI writes it).
	sum := sha1.Sum([]byte("https://nudgecampaign.awsapps.com/start"))
	os.WriteFile(filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"),
		[]byte(`{"accessToken":"x","expiresAt":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`","region":"us-east-1","startUrl":"https://nudgecampaign.awsapps.com/start"}`), 0o600)
	s, _ := New(Options{Regions: []Region{{Name: "us-east-1"}}, Profile: "oncall", EndpointURL: "http://127.0.0.1:9", Timeout: 5 * time.Second})
	_, err := s.Fetch(bg)
	if !errors.Is(err, sources.ErrCredentials) || !strings.Contains(err.Error(), "run `aws sso login --profile oncall`") {
		t.Errorf("expired SSO: %v", err)
	}
	t.Logf("%v", err)
}

func TestDefaultMaxConnections(t *testing.T) {
	for _, tc := range []struct {
		engine, class string
		want          int
	}{
		{"postgres", "db.r6g.xlarge", 3604},   // 32 GiB
		{"postgres", "db.r6g.16xlarge", 5000}, // capped
		{"aurora-postgresql", "db.r6g.large", 1802},
		{"postgres", "db.t3.micro", 112},
		{"mysql", "db.m5.large", 682},
		{"postgres", "db.serverless", 0},
		{"sqlserver-se", "db.r5.xlarge", 0},
	} {
		if got := defaultMaxConnections(tc.engine, tc.class); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.engine, tc.class, got, tc.want)
		}
	}
}

func TestNewRefusesBadRegions(t *testing.T) {
	for _, rs := range [][]Region{nil, {{Name: ""}}, {{Name: "us-east-1"}, {Name: "us-east-1"}}} {
		if _, err := New(Options{Regions: rs}); err == nil {
			t.Errorf("%v accepted", rs)
		}
	}
	s, _ := New(Options{Regions: []Region{{Name: "us-east-1"}}})
	if err := s.PromoteReadReplica(bg, "eu-west-1", "db"); err == nil || !strings.Contains(err.Error(), `region "eu-west-1" is not configured (configured: us-east-1)`) {
		t.Errorf("unconfigured region: %v", err)
	}
}

// TestEndpointShownMasked is issue 16.8: an endpoint_url holding an access
// key pair and a session token reaches the AWS pane's title (AWSSet.Endpoint,
// shown to every session) with every secret masked, and the calls still go
// to that endpoint.
func TestEndpointShownMasked(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, region, op string, attempt int) {
		switch op {
		case "DescribeServices":
			writeJSON(w, http.StatusOK, noServices)
		case "DescribeDBClusters":
			writeXML(w, http.StatusOK, noClusters)
		default:
			writeXML(w, http.StatusOK, noInstances)
		}
	})
	host := strings.TrimPrefix(f.URL, "http://")
	ep := "http://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI%2FK7MDENG@" + host + "/?X-Amz-Security-Token=FwoGZXIvYXdzEBY#s3cretfrag"
	s := fakeSource(t, ep, 5*time.Second)
	p, err := s.Fetch(bg)
	if err != nil {
		t.Fatal(err)
	}
	got := p.(*sources.AWSSet).Endpoint
	for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "FwoGZXIvYXdzEBY", "s3cretfrag"} {
		if strings.Contains(got, secret) {
			t.Errorf("endpoint shown as %q: %s in clear", got, secret)
		}
	}
	if !strings.Contains(got, host) || f.count("us-east-1", "DescribeDBInstances") == 0 {
		t.Errorf("endpoint shown as %q; %d calls reached it", got, f.count("us-east-1", "DescribeDBInstances"))
	}
}
