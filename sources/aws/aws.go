// Package aws is the AWS source: RDS instances and Aurora clusters with
// their CloudWatch figures (CPU, connections, replica lag), and ECS
// services, read with aws-sdk-go-v2 across several regions, plus the
// actions the ops Executor may take on them (ECS desired count, forced
// deployment, task definition rollback; RDS reboot with failover, read
// replica promotion, Aurora cluster failover) and the waiters that watch
// their effect.
//
// One Source spans every configured region rather than one Source per
// region: the pane needs the primary in us-east-1 and its DR replica in
// us-west-2 in one snapshot to say "replica of nudgecampaign-prod
// (us-east-1)", the regions are read concurrently under the one fetch
// timeout (a hung region costs that timeout, not one per region), and a
// region that fails leaves its error in the snapshot next to the other
// regions' data.
//
// The package satisfies the ops capability interfaces structurally; it
// never imports ops (arrows only go downward, see DESIGN.md).
package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"flightdeck/internal/httpopt"
	"flightdeck/sources"
)

// Defaults for Options left zero.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultWaitPoll = 5 * time.Second
	// maxResponseBytes bounds one response body: a describe of 100
	// instances is a few hundred KiB.
	maxResponseBytes = 8 << 20
	// prevTTL is how long the previous task definition of a revision is
	// remembered before ListTaskDefinitions is asked again.
	prevTTL = 5 * time.Minute
)

// Region is what to read in one region.
type Region struct {
	// Name is the region (us-east-1).
	Name string
	// Instances and Clusters name the RDS resources to show. Both empty
	// shows every instance and cluster of the region (up to the bounds);
	// otherwise exactly the listed ones plus the members of listed
	// clusters.
	Instances []string
	Clusters  []string
	// ECSCluster is the ECS cluster of this region; "" reads no ECS.
	ECSCluster string
	// Services to show; empty shows every service of the cluster.
	Services []Service
	// Protected clusters are never scaled to zero (ECSService.Protected).
	Protected bool
}

// Service is one configured ECS service with its desired-count bounds.
type Service struct {
	Name   string
	Bounds sources.DesiredBounds
}

// Options configure a Source.
type Options struct {
	// Name is the source name; default "aws".
	Name string
	// Regions to read; the first is the primary. At least one.
	Regions []Region
	// Profile is a shared-config profile; empty uses $AWS_PROFILE or the
	// default chain.
	Profile string
	// EndpointURL sends every call to one endpoint (an emulator such as
	// moto). CloudWatch then speaks the awsQuery protocol, which emulators
	// serve, instead of the SDK's default rpc-v2-CBOR.
	EndpointURL string
	// Timeout bounds one Fetch (every region, retries included) and one
	// action call; default 10s.
	Timeout time.Duration
	// WaitPoll is the shortest pause between two polls of a waiter;
	// default 5s.
	WaitPoll time.Duration
	// Credentials replaces the SDK's default credential chain (tests,
	// embedding); nil uses the chain.
	Credentials aws.CredentialsProvider
	// Log receives diagnostics; nil discards.
	Log *slog.Logger
	// Now is the clock for CloudWatch windows; nil means time.Now.
	Now func() time.Time
}

// Source reads RDS, CloudWatch and ECS in every configured region and acts
// on them. It is safe for concurrent use: Fetch (the Hub), the action
// methods and waiters (the Executor) share the clients.
type Source struct {
	opts    Options
	name    string
	timeout time.Duration
	poll    time.Duration
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	cfg     *aws.Config // nil until loaded
	clients map[string]*regionClients
	// prev caches PreviousTaskDefinition by region and current task
	// definition.
	prev map[string]prevEntry
	// logCfg caches each task definition's awslogs configuration by
	// region and family:revision (a revision never changes).
	logCfg map[string]sources.ECSLogs
}

type prevEntry struct {
	td sources.TaskDef
	at time.Time
}

// regionClients are the SDK clients of one region.
type regionClients struct {
	rds *rds.Client
	ecs *ecs.Client
	cw  *cloudwatch.Client
	// logs reads CloudWatch Logs (evidence.go).
	logs *cloudwatchlogs.Client
}

// New checks the options and returns a Source. Nothing is loaded or
// contacted here: a missing profile or credentials show up in the pane on
// the first Fetch, not as a startup failure.
func New(o Options) (*Source, error) {
	if len(o.Regions) == 0 {
		return nil, errors.New("aws: at least one region is required")
	}
	seen := map[string]bool{}
	for _, r := range o.Regions {
		if r.Name == "" {
			return nil, errors.New("aws: a region has no name")
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("aws: region %s is configured twice", r.Name)
		}
		seen[r.Name] = true
	}
	s := &Source{opts: o, name: o.Name, timeout: o.Timeout, poll: o.WaitPoll, log: o.Log, now: o.Now,
		clients: map[string]*regionClients{}, prev: map[string]prevEntry{}, logCfg: map[string]sources.ECSLogs{}}
	if s.name == "" {
		s.name = "aws"
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.poll <= 0 {
		s.poll = DefaultWaitPoll
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Name is "aws" unless Options.Name says otherwise.
func (s *Source) Name() string { return s.name }

// Kind is sources.KindAWS.
func (s *Source) Kind() sources.Kind { return sources.KindAWS }

// Regions are the configured region names, the primary first.
func (s *Source) Regions() []string {
	out := make([]string, len(s.opts.Regions))
	for i, r := range s.opts.Regions {
		out[i] = r.Name
	}
	return out
}

// region returns the configuration of a region, or an error naming the
// configured ones: actions only go to regions flightdeck watches.
func (s *Source) region(name string) (Region, error) {
	for _, r := range s.opts.Regions {
		if r.Name == name {
			return r, nil
		}
	}
	return Region{}, fmt.Errorf("region %q is not configured (configured: %s)", name, strings.Join(s.Regions(), ", "))
}

// ready loads the SDK configuration (once it succeeds) and retrieves
// credentials (cached by the SDK until they expire). Failures say which
// credential chain was tried.
func (s *Source) ready(ctx context.Context) (aws.Config, aws.Credentials, error) {
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	if cfg == nil {
		loaded, err := s.load(ctx)
		if err != nil {
			return aws.Config{}, aws.Credentials{}, s.credentialsError(err)
		}
		s.mu.Lock()
		if s.cfg == nil {
			s.cfg = &loaded
		}
		cfg = s.cfg
		s.mu.Unlock()
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return aws.Config{}, aws.Credentials{}, &Error{Op: "retrieve credentials", Kind: context.DeadlineExceeded,
				Message: "timed out after " + s.timeout.String() + " looking for credentials (" + s.chain() + ")", err: err}
		}
		return aws.Config{}, aws.Credentials{}, s.credentialsError(err)
	}
	return *cfg, creds, nil
}

func (s *Source) load(ctx context.Context) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(s.opts.Regions[0].Name),
		awsconfig.WithAppID("flightdeck"),
		// The SDK logs to stderr by default, which would scribble over
		// the terminal the UI owns.
		awsconfig.WithLogger(sdkLogger{s.log}),
	}
	if s.opts.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(s.opts.Profile))
	}
	if s.opts.Credentials != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(s.opts.Credentials))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}

// clientsFor returns the region's clients, creating them on first use.
func (s *Source) clientsFor(cfg aws.Config, region string) *regionClients {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[region]; ok {
		return c
	}
	ep := s.opts.EndpointURL
	c := &regionClients{
		rds: rds.NewFromConfig(cfg, func(o *rds.Options) {
			o.Region = region
			o.HTTPClient = bound(o.HTTPClient)
			if ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		}),
		ecs: ecs.NewFromConfig(cfg, func(o *ecs.Options) {
			o.Region = region
			o.HTTPClient = bound(o.HTTPClient)
			if ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		}),
		logs: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
			o.Region = region
			o.HTTPClient = bound(o.HTTPClient)
			if ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		}),
		cw: cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
			o.Region = region
			o.HTTPClient = bound(o.HTTPClient)
			if ep != "" {
				o.BaseEndpoint = aws.String(ep)
				// Emulators (moto 5.2.1) do not serve CloudWatch's
				// rpc-v2-CBOR; the service still speaks awsQuery, as the
				// RDS client does by default.
				o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
			}
		}),
	}
	s.clients[region] = c
	return c
}

// bound wraps the client the SDK configured (a custom CA bundle from
// AWS_CA_BUNDLE needs the SDK's own buildable client underneath).
func bound(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	return boundedClient{inner: c, max: maxResponseBytes}
}

// boundedClient caps every response body: a broken or hostile endpoint
// costs at most max bytes of memory per response.
type boundedClient struct {
	inner aws.HTTPClient
	max   int64
}

func (c boundedClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	httpopt.CapBody(resp, c.max)
	return resp, nil
}

// sdkLogger sends the SDK's log lines (retries, body discards) to the
// source's logger.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "aws-sdk")
}
