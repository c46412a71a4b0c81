package world

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/config"
	"flightdeck/internal/testsrv"
	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
	awssrc "flightdeck/sources/aws"
	"flightdeck/themes"
	"flightdeck/ui"
)

// awsConfig is the manual's aws: section (the example config's, plus the
// Aurora cluster) pointed at endpoint, read every second.
func awsConfig(t *testing.T, endpoint string) *config.Config {
	t.Helper()
	yaml := `environment: production
audit: {path: ` + filepath.Join(t.TempDir(), "audit.jsonl") + `}
aws:
  region: us-east-1
  endpoint_url: ` + endpoint + `
  interval: 1s
  timeout: 10s
  rds:
    instances: [nudgecampaign-prod]
    clusters: [nudgecampaign-analytics]
  ecs:
    cluster: nudgecampaign-production
    protected: true
    services:
      - {name: api, min: 2, max: 10}
      - {name: worker, min: 1, max: 6}
  regions:
    - region: us-west-2
      rds: {instances: [nudgecampaign-dr-db]}
      ecs:
        cluster: nudgecampaign-dr
        services: [{name: api, min: 0, max: 10}]
`
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// cockpit is one session's ui.Model over a real AWS source polled by a
// real hub, with a real Executor and journal unless read-only. Keys and
// messages are fed to Update as Bubble Tea would; the clock is the test's,
// so the dialogs' key guard passes without sleeping.
type cockpit struct {
	t       *testing.T
	m       ui.Model
	sub     *sources.Subscription
	clock   *opstest.Clock
	src     *awssrc.Source
	journal string
	ctx     context.Context
}

func newCockpit(t *testing.T, cfg *config.Config, creds aws.CredentialsProvider, readOnly bool) *cockpit {
	t.Helper()
	o := awsOptions(cfg.AWS, nil)
	o.Credentials, o.WaitPoll = creds, 200*time.Millisecond
	src, err := awssrc.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hub := sources.NewHub(nil)
	hub.Add(src, sources.PollOptions{Interval: cfg.AWS.Interval.D(), Timeout: cfg.AWS.Timeout.D() + 2*time.Second})
	c := &cockpit{t: t, sub: hub.Subscribe(), clock: opstest.NewClock(time.Now()), src: src, ctx: ctx}
	start := time.Now()
	hub.Start(ctx)
	t.Cleanup(func() { cancel(); hub.Wait() })
	opts := ui.Options{Context: ctx, Now: c.clock.Now,
		Identity: ui.Identity{Environment: cfg.Environment, Production: cfg.IsProduction(), ReadOnly: readOnly, Operator: "oncall@bastion"},
		Actions:  ui.Actions{Policy: policyFrom(cfg)}, Data: ui.Data{Refresh: hub.Refresh},
		Look: ui.Look{KeyMap: keymap.DefaultKeyMap(), Theme: themes.MustGet("dark").WithNoColor()}}
	if !readOnly {
		var j *ops.Journal
		j, c.journal = opstest.Journal(t)
		opts.Actions.Executor = ops.NewExecutor(ops.Config{Environment: cfg.Environment, Production: cfg.IsProduction(), Policy: policyFrom(cfg),
			Caps: ops.Capabilities{src.Name(): src}, Journal: j, Operator: "oncall@bastion", Now: c.clock.Now,
			Waits: ops.Waits{ServicesStable: 2 * time.Second, DBAvailable: 30 * time.Second, DBSettle: 300 * time.Millisecond}})
	}
	c.m = ui.New(opts)
	c.update(tea.WindowSizeMsg{Width: 200, Height: 60})
	c.awaitAWS("the first read", func(*sources.AWSSet) bool { return true })
	// Issue 12 asks for "within a second"; the bound leaves room for a
	// loaded machine, the log says what it was.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("first AWS snapshot %s after start", took)
	}
	t.Logf("first AWS snapshot in the pane %s after start", time.Since(start).Round(time.Millisecond))
	c.keys("5")
	return c
}

func (c *cockpit) update(msg tea.Msg) tea.Cmd {
	mm, cmd := c.m.Update(msg)
	c.m = mm.(ui.Model)
	return cmd
}

// awaitAWS feeds the hub's snapshots to the cockpit until the AWS one
// satisfies ok.
func (c *cockpit) awaitAWS(what string, ok func(*sources.AWSSet) bool) *sources.AWSSet {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	for {
		snaps, err := c.sub.Next(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v\n%s", what, err, c.screen())
		}
		c.update(ui.SnapshotsMsg{Snapshots: snaps})
		for _, s := range snaps {
			if set, is := s.Data.(*sources.AWSSet); is && s.Err == nil && ok(set) {
				return set
			}
		}
	}
}

func (c *cockpit) screen() string { return ansi.Strip(c.m.Render()) }

func keyPress(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(s)
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// keys presses each key and returns the last Cmd.
func (c *cockpit) keys(ks ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range ks {
		cmd = c.update(keyPress(k))
	}
	return cmd
}

func (c *cockpit) typeText(s string) {
	for _, r := range s {
		c.update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// run carries a Cmd chain through (request → plan → confirm dialog;
// confirmed → execute → result) and returns the Cmd the result left: the
// wait for the action's effect, not run.
func (c *cockpit) run(cmd tea.Cmd) tea.Cmd {
	c.t.Helper()
	for cmd != nil {
		msg := cmd()
		if msg == nil {
			return nil
		}
		next := c.update(msg)
		if _, ok := msg.(ui.ResultMsg); ok {
			return next
		}
		cmd = next
	}
	return nil
}

// show filters the pane down to the rows matching f, the one to act on
// first.
func (c *cockpit) show(f string) {
	c.keys("esc")
	c.keys("/")
	c.typeText(f)
	c.keys("enter")
}

// confirm types the phrase into the open confirm dialog (after its key
// guard) and executes; it returns the wait for the effect.
func (c *cockpit) confirm(phrase string) tea.Cmd {
	c.t.Helper()
	if !strings.Contains(c.screen(), "to confirm") {
		c.t.Fatalf("no confirm dialog:\n%s", c.screen())
	}
	c.clock.Advance(time.Second)
	c.typeText(phrase)
	return c.run(c.keys("enter"))
}

// act starts an action with keys (opening a form or the confirm dialog).
func (c *cockpit) act(ks ...string) {
	c.t.Helper()
	c.clock.Advance(time.Second)
	c.run(c.keys(ks...))
}

func (c *cockpit) status(t *testing.T, want string) {
	t.Helper()
	if scr := c.screen(); !strings.Contains(scr, want) {
		t.Fatalf("status line lacks %q:\n%s", want, scr)
	}
}

// TestAWSCockpitAgainstMoto is issue 12's "done means" through the cockpit:
// moto holds the manual's estate; the AWS pane lists it; promote, reboot
// with failover, desired count, force deployment, task definition rollback
// and the Aurora failover — each confirmed by typing the name, in a
// production environment — change moto's state as the AWS CLI's calls
// would and land in the journal; a read-only session refuses every AWS
// action; a role without the action permissions sees the action fail with
// AWS's reason, sent once.
func TestAWSCockpitAgainstMoto(t *testing.T) {
	m := testsrv.StartMoto(t)
	testsrv.BuildAWSEstate(t, m.URL)
	rec := testsrv.NewAWSRecorder(t, m.URL)
	testsrv.IsolateAWS(t, "testing", "testing")
	cfg := awsConfig(t, rec.URL)
	ecsEast, ecsWest := testsrv.AdminECS(m.URL, "us-east-1"), testsrv.AdminECS(m.URL, "us-west-2")
	rdsEast, rdsWest := testsrv.AdminRDS(m.URL, "us-east-1"), testsrv.AdminRDS(m.URL, "us-west-2")
	bg := context.Background()
	service := func(c *ecs.Client, cluster string) (desired int32, td, primary string) {
		t.Helper()
		out, err := c.DescribeServices(bg, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"api"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("moto DescribeServices: %v", err)
		}
		s := out.Services[0]
		for _, d := range s.Deployments {
			if aws.ToString(d.Status) == "PRIMARY" {
				primary = aws.ToString(d.Id)
			}
		}
		return s.DesiredCount, sources.ParseTaskDef(aws.ToString(s.TaskDefinition)).String(), primary
	}

	c := newCockpit(t, cfg, nil, false)
	scr := c.screen()
	for _, want := range []string{"5 AWS · aws", "us-east-1, us-west-2 · endpoint " + rec.URL, "nudgecampaign-prod", "nudgecampaign-dr-db",
		"replica of nudgecampaign-prod (us-east-1)", "94%", "analytics-2", "nudgecampaign-production/api", "nudgecampaign-dr/api", "nudgecampaign-api:3"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("the AWS pane lacks %q:\n%s", want, scr)
		}
	}

	t.Run("read-only session refuses every AWS action", func(t *testing.T) {
		ro := newCockpit(t, cfg, nil, true)
		ro.show("dr/api")
		for _, k := range []string{"S", "R", "u"} {
			if cmd := ro.keys(k); cmd != nil {
				t.Errorf("%s started something", k)
			}
			ro.status(t, "read-only mode: actions are disabled")
		}
		ro.show("dr-db")
		ro.keys("a")
		scr := ro.screen()
		for _, want := range []string{"Actions (read-only)", "Reboot DB instance — read-only mode", "Promote read replica — read-only mode"} {
			if !strings.Contains(scr, want) {
				t.Errorf("menu lacks %q:\n%s", want, scr)
			}
		}
	})

	t.Run("desired count: DR api 0 → 4 (failover.sh step 3)", func(t *testing.T) {
		c.show("dr/api")
		c.act("S")
		c.clock.Advance(time.Second) // the form's key guard holds typing too
		c.keys("backspace")
		c.typeText("4")
		c.run(c.keys("enter"))
		c.status(t, "Set desired count of api (nudgecampaign-dr, us-west-2) 0 → 4")
		wait := c.confirm("api")
		c.status(t, "waiting for services stable: api in nudgecampaign-dr…")
		if n, _, _ := service(ecsWest, "nudgecampaign-dr"); n != 4 {
			t.Errorf("moto desired count %d", n)
		}
		// moto 5.2.1 starts no tasks without container instances: the
		// wait gives up within its bound and says what it saw.
		c.run(wait)
		scr := c.screen()
		t.Logf("after the wait: %s", strings.TrimSpace(strings.Split(scr, "\n")[59]))
		if !strings.Contains(scr, "0 → 4: services stable") && !strings.Contains(scr, "0 → 4: done, but wait for services stable in us-west-2: not stable within 2s: api: ") {
			t.Errorf("the wait's end is not on the status line:\n%s", scr)
		}
	})

	t.Run("force a new deployment of the production api", func(t *testing.T) {
		_, _, before := service(ecsEast, "nudgecampaign-production")
		c.show("production/api")
		c.act("R")
		c.confirm("api")
		if _, _, after := service(ecsEast, "nudgecampaign-production"); after == before {
			t.Errorf("primary deployment still %s", after)
		}
		if calls := rec.Take(); !slices.ContainsFunc(calls, func(x testsrv.AWSCall) bool {
			return x.Action == "UpdateService" && strings.Contains(x.Body, `"forceNewDeployment":true`)
		}) {
			t.Errorf("no UpdateService with forceNewDeployment")
		}
	})

	t.Run("roll the production api back to the previous task definition", func(t *testing.T) {
		c.show("production/api")
		c.act("u")
		scr := c.screen()
		for _, want := range []string{"Roll back api (nudgecampaign-production, us-east-1) to nudgecampaign-api:2",
			"container api: image nudgecampaign/api:v5.1.0 → nudgecampaign/api:v5.0.0", "container api: env -FEATURE_BULK_IMPORT"} {
			if !strings.Contains(scr, want) {
				t.Errorf("confirm dialog lacks %q:\n%s", want, scr)
			}
		}
		c.confirm("api")
		if _, td, _ := service(ecsEast, "nudgecampaign-production"); td != "nudgecampaign-api:2" {
			t.Errorf("moto runs %s", td)
		}
	})

	t.Run("reboot the primary with failover, and see it available again", func(t *testing.T) {
		rec.Take()
		c.show("primary")
		c.keys("a")
		c.clock.Advance(time.Second)
		c.act("j", "enter") // Reboot with failover
		c.status(t, "Reboot nudgecampaign-prod (us-east-1) with failover")
		wait := c.confirm("nudgecampaign-prod")
		calls := rec.Take()
		if testsrv.CountCalls(calls, "RebootDBInstance") != 1 || !slices.ContainsFunc(calls, func(x testsrv.AWSCall) bool {
			return x.Action == "RebootDBInstance" && strings.Contains(x.Body, "ForceFailover=true") && strings.Contains(x.Body, "DBInstanceIdentifier=nudgecampaign-prod")
		}) {
			t.Errorf("requests %+v", calls)
		}
		c.status(t, "waiting for nudgecampaign-prod available…")
		c.run(wait)
		c.status(t, "with failover: nudgecampaign-prod available after")
		if n := testsrv.CountCalls(rec.Take(), "DescribeDBInstances"); n < 2 {
			t.Errorf("the waiter polled %d times", n)
		}
	})

	t.Run("fail the Aurora cluster over to analytics-2", func(t *testing.T) {
		c.show("analytics-2")
		c.keys("a")
		c.clock.Advance(time.Second)
		c.act("j", "j", "j", "enter")
		c.confirm("nudgecampaign-analytics")
		out, err := rdsEast.DescribeDBClusters(bg, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("nudgecampaign-analytics")})
		if err != nil {
			t.Fatal(err)
		}
		for _, mem := range out.DBClusters[0].DBClusterMembers {
			if writer := aws.ToBool(mem.IsClusterWriter); writer != (aws.ToString(mem.DBInstanceIdentifier) == "analytics-2") {
				t.Errorf("moto: %s writer=%v", aws.ToString(mem.DBInstanceIdentifier), writer)
			}
		}
	})

	t.Run("promote the DR replica (failover.sh step 1), typed", func(t *testing.T) {
		// moto refuses to stop a read replica: whether it stops is where
		// its state shows the promotion (it keeps the old source field).
		stop := func() error {
			_, err := rdsWest.StopDBInstance(bg, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("nudgecampaign-dr-db")})
			return err
		}
		if stop() == nil {
			t.Fatal("moto stopped a read replica: the probe proves nothing")
		}
		c.show("dr-db")
		c.keys("a")
		c.clock.Advance(time.Second)
		c.act("j", "j", "enter")
		c.status(t, "Promote read replica nudgecampaign-dr-db (us-west-2)")
		// A phrase short of the identifier confirms nothing.
		c.clock.Advance(time.Second)
		c.typeText("nudgecampaign-dr")
		if cmd := c.keys("enter"); cmd != nil {
			t.Fatal("a wrong phrase went on to execute")
		}
		c.status(t, `"nudgecampaign-dr" does not match; type nudgecampaign-dr-db exactly`)
		if stop() == nil {
			t.Fatal("promoted on a wrong phrase")
		}
		c.typeText("-db")
		c.run(c.keys("enter"))
		c.status(t, "waiting for nudgecampaign-dr-db available…")
		if err := stop(); err != nil {
			t.Errorf("moto still treats nudgecampaign-dr-db as a replica: %v", err)
		}
	})

	t.Run("journal", func(t *testing.T) {
		var got []string
		for _, r := range opstest.Records(t, c.journal) {
			got = append(got, string(r.Action)+":"+r.Phase+":"+r.Outcome)
		}
		want := []string{
			"set_desired_count:intent:", "set_desired_count:outcome:ok",
			"force_deployment:intent:", "force_deployment:outcome:ok",
			"rollback_task_definition:intent:", "rollback_task_definition:outcome:ok",
			"reboot_db_failover:intent:", "reboot_db_failover:outcome:ok",
			"failover_db_cluster:intent:", "failover_db_cluster:outcome:ok",
			"promote_read_replica:intent:", "promote_read_replica:outcome:ok",
		}
		if !slices.Equal(got, want) {
			t.Errorf("journal\n got %v\nwant %v", got, want)
		}
	})

	t.Run("a role without the action permissions: AWS's reason, sent once", func(t *testing.T) {
		read, err := os.ReadFile("../sources/aws/testdata/iam-read.json")
		if err != nil {
			t.Fatal(err)
		}
		reader := m.IAMUser(t, "flightdeck-read", testsrv.MotoIAMPolicy(string(read)))
		m.EnforceIAM(t, 0)
		t.Cleanup(func() { m.EnforceIAM(t, -1) })
		r := newCockpit(t, cfg, reader, false)
		rec.Take()
		r.show("primary")
		r.keys("a")
		r.clock.Advance(time.Second)
		r.act("enter") // Reboot DB instance
		r.confirm("nudgecampaign-prod")
		denied := "access denied: User: arn:aws:iam::" + testsrv.MotoAccount + ":user/flightdeck-read is not authorized to perform: "
		r.status(t, "Reboot nudgecampaign-prod (us-east-1): failed: rds:RebootDBInstance in us-east-1: "+denied[:60])
		recs := opstest.Records(t, r.journal)
		if last := recs[len(recs)-1]; last.Outcome != "failed" || !strings.Contains(last.Error, denied+"rds:RebootDBInstance") {
			t.Errorf("journal %+v", last)
		}
		r.show("dr/api")
		r.act("R")
		r.confirm("api")
		r.status(t, "Force a new deployment of api (nudgecampaign-dr, us-west-2): failed: ecs:UpdateService in us-west-2: "+denied[:40])
		calls := rec.Take()
		if n, u := testsrv.CountCalls(calls, "RebootDBInstance"), testsrv.CountCalls(calls, "UpdateService"); n != 1 || u != 1 {
			t.Errorf("RebootDBInstance sent %d times, UpdateService %d: AccessDenied is never retried", n, u)
		}
		recs = opstest.Records(t, r.journal)
		if last := recs[len(recs)-1]; last.Outcome != "failed" || !strings.Contains(last.Error, denied+"ecs:UpdateService") {
			t.Errorf("journal %+v", last)
		}
	})
}

// Missing credentials show in the AWS pane, naming the chain that was
// tried, and the cockpit goes on.
func TestAWSMissingCredentialsInThePane(t *testing.T) {
	testsrv.IsolateAWS(t, "", "")
	cfg := awsConfig(t, "http://127.0.0.1:1")
	o := awsOptions(cfg.AWS, nil)
	src, err := awssrc.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := sources.NewHub(nil)
	hub.Add(src, sources.PollOptions{Interval: time.Minute, Timeout: 12 * time.Second})
	sub := hub.Subscribe()
	hub.Start(ctx)
	defer hub.Wait()
	defer cancel()
	m := ui.New(ui.Options{Context: ctx, Identity: ui.Identity{Environment: "production", ReadOnly: true},
		Look: ui.Look{Theme: themes.MustGet("dark").WithNoColor()}})
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	mm, _ = mm.Update(keyPress("5"))
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	for {
		snaps, err := sub.Next(wctx)
		if err != nil {
			t.Fatalf("no snapshot: %v", err)
		}
		mm, _ = mm.Update(ui.SnapshotsMsg{Snapshots: snaps})
		if len(snaps) > 0 && snaps[0].Err != nil {
			break
		}
	}
	scr := ansi.Strip(mm.(ui.Model).Render())
	for _, want := range []string{"5 AWS · aws ERR", "aws: ", "credential", "aws ERR"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	t.Logf("the pane says:\n%s", scr)
}
