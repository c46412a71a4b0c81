package aws

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// pane is the AWS pane at w×h with the fixture estate fetched age ago.
func pane(t *testing.T, w, h int) *Pane {
	t.Helper()
	p := New(kit.Slot{Env: uitest.Env(), Key: "5"})
	p.SetSize(w, h)
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, uitest.AWS(), 4*time.Second))
	return p
}

func screen(p *Pane) string { return ansi.Strip(strings.Join(p.View(true), "\n")) }

// row moves the cursor to the row whose screen line contains text.
func row(t *testing.T, p *Pane, text string) {
	t.Helper()
	p.Cursor.Pos = 0
	for i := 0; i < p.Len(); i++ {
		p.Cursor.Pos = i
		if in := p.selectedInstance(); in != nil && in.ID == text {
			return
		}
		if s := p.selectedService(); s != nil && s.Cluster+"/"+s.Name == text {
			return
		}
	}
	t.Fatalf("no row %q", text)
}

func TestRowsAndGrades(t *testing.T) {
	p := pane(t, 200, 14)
	out := screen(p)
	for _, want := range []string{
		"5 AWS · aws 4s · us-east-1, us-west-2",
		"✗   nudgecampaign-prod   us-east-1   postgres 14.9           db.r6g.xlarge   available   yes       primary (1 replica)",
		"94%     91/100",
		"!   nudgecampaign-dr-db  us-west-2", "replica of nudgecampaign-prod (us-east-1)    1m12s    14%      2/100",
		"writer of nudgecampaign-analytics",
		"!   nudgecampaign-production/api     us-east-1      4     3      1  IN_PROGRESS  nudgecampaign-api:57",
		"nudgecampaign-dr/api             us-west-2      0     0      0  COMPLETED    nudgecampaign-api:57",
		"40s ago: service has started 1 tasks", // the api's newest event, its subject kept (issue 17.10)
		"20m ago: service has reached a steady state.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "failed container health checks") {
		t.Error("a row shows an older event than its newest")
	}
	if got := p.Summary(); !strings.Contains(ansi.Strip(got), "4 DB instances  3 services  nudgecampaign-prod CPU 94% > 90%  nudgecampaign-dr-db replica lag 1m12s  api (nudgecampaign-production) 3 of 4 tasks running") {
		t.Errorf("summary %q", ansi.Strip(got))
	}
}

// A narrow pane drops the least needed columns and cuts names at the
// front, so the service and the revision stay readable.
func TestNarrowPaneKeepsWhatMatters(t *testing.T) {
	p := pane(t, 80, 14)
	out := screen(p)
	for _, want := range []string{"nudgecampaign-dr-db", "1m12s", "94%", "91/100", "nudgecampaign-production/api", "nudgecampaign-dr/api", ":57", "IN_PROGRESS"} {
		if !strings.Contains(out, want) {
			t.Errorf("80 columns: no %q in\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if w := kit.Width(l); w != 80 {
			t.Errorf("line of %d cells: %q", w, l)
		}
	}
}

// A region whose read fails keeps its last rows, dimmed, under a line with
// the error and its age; the other region stays live; recovery clears it.
func TestFailingRegionKeepsItsLastRows(t *testing.T) {
	env := uitest.Env()
	p := New(kit.Slot{Env: env, Key: "5"})
	p.SetSize(200, 16)
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, uitest.AWS(), 90*time.Second))

	broken := uitest.AWS()
	broken.Regions[1].ECSErr = "ecs:DescribeServices in us-west-2: operation error: context deadline exceeded"
	broken.ECS = broken.ECS[:2] // the DR api could not be read
	broken.RDS[0].CPUPercent = 55
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, broken, 30*time.Second))
	out := screen(p)
	if !strings.Contains(out, "us-west-2 ECS ERR 30s: ecs:DescribeServices in us-west-2: operation error: context deadline exceeded — rows from 1m ago, dimmed") {
		t.Errorf("no region error line:\n%s", out)
	}
	if !strings.Contains(out, "nudgecampaign-dr/api") || !strings.Contains(out, "55%") {
		t.Errorf("the DR api's last row is gone, or us-east-1 is not live:\n%s", out)
	}
	if s := p.ecs[2]; s.Name != "api" || s.Region != "us-west-2" || !s.stale || p.ecs[0].stale {
		t.Errorf("rows %+v", p.ecs)
	}
	if !strings.Contains(ansi.Strip(p.Summary()), "us-west-2 ECS ERR") {
		t.Errorf("summary %q", ansi.Strip(p.Summary()))
	}
	// The ages move with the display clock, not with the snapshots: ten
	// seconds on, with nothing new, the line says so.
	env.SetClock(uitest.T0.Add(10 * time.Second))
	if out := screen(p); !strings.Contains(out, "us-west-2 ECS ERR 40s: ") || !strings.Contains(out, "rows from 1m ago") {
		t.Errorf("ages ten seconds later, no new snapshot:\n%s", out)
	}
	// Still failing a minute later: the error's age grows from its first
	// failure, not from the latest attempt.
	env.SetClock(uitest.T0.Add(time.Minute))
	again := *broken
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, &again, 0))
	if out := screen(p); !strings.Contains(out, "us-west-2 ECS ERR 1m: ") || !strings.Contains(out, "rows from 2m ago") {
		t.Errorf("ages after a minute:\n%s", out)
	}
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, uitest.AWS(), 0))
	if out := screen(p); strings.Contains(out, "ERR") || p.ecs[2].stale {
		t.Errorf("recovered region still marked:\n%s", out)
	}
	// A region that never answered says so, and shows no rows of its own.
	q := New(kit.Slot{Env: uitest.Env(), Key: "5"})
	q.SetSize(200, 16)
	never := uitest.AWS()
	never.Regions[1].RDSErr = "rds:DescribeDBInstances in us-west-2: access denied: User: arn:aws:iam::111122223333:user/oncall is not authorized to perform: rds:DescribeDBInstances"
	never.RDS = never.RDS[:3]
	q.SetSnapshot(uitest.Snap("aws", sources.KindAWS, never, 0))
	if out := screen(q); !strings.Contains(out, "us-west-2 RDS ERR 0s: rds:DescribeDBInstances in us-west-2: access denied") ||
		!strings.Contains(out, "nothing read yet") || strings.Contains(out, "nudgecampaign-dr-db ") {
		t.Errorf("never read:\n%s", out)
	}
}

// Missing credentials: no data at all, and the whole reason — the chain
// that was tried — in the pane, wrapped.
func TestMissingCredentialsInThePane(t *testing.T) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "5"})
	p.SetSize(80, 12)
	err := fmt.Errorf("credentials: %w: no usable AWS credentials: failed to refresh cached credentials, no EC2 IMDS role found; credential chain tried: environment (AWS_ACCESS_KEY_ID unset) → shared files (~/.aws/credentials missing) → container credentials (not configured) → EC2 instance role (IMDS)", sources.ErrCredentials)
	p.SetSnapshot(sources.Snapshot{Source: "aws", Kind: sources.KindAWS, Err: err, ErrAt: uitest.T0})
	out := screen(p)
	for _, want := range []string{"aws: credentials: credentials missing or rejected: no usable AWS", "instance role (IMDS)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if p.Actions() != nil || p.Len() != 0 {
		t.Error("actions or rows without data")
	}
	if !strings.Contains(ansi.Strip(p.Summary()), "aws: credentials") {
		t.Errorf("summary %q", ansi.Strip(p.Summary()))
	}
}

// The actions follow the selected row; a service's use the Rollouts keys
// (remapped with them), an instance's are menu-only.
func TestActionsFollowTheRow(t *testing.T) {
	env := uitest.Env()
	km := keymap.DefaultKeyMap()
	if err := keymap.ApplyOverrides(&km, map[string][]string{"scale": {"D"}}); err != nil {
		t.Fatal(err)
	}
	env.Keys = km
	p := New(kit.Slot{Env: env, Key: "5"})
	p.SetSize(200, 16)
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, uitest.AWS(), 0))

	row(t, p, "nudgecampaign-dr/api")
	as := p.Actions()
	if len(as) != 3 {
		t.Fatalf("service actions %d", len(as))
	}
	for i, want := range []struct {
		kind ops.Kind
		key  string
	}{{ops.SetDesiredCount, "D"}, {ops.ForceDeployment, "R"}, {ops.RollbackTaskDef, "u"}} {
		if as[i].Kind != want.kind || kit.KeyName(as[i].Key) != want.key {
			t.Errorf("action %d: %s on %q", i, as[i].Kind, kit.KeyName(as[i].Key))
		}
	}
	req := as[2].Request()
	if req.Source != "aws" || req.ECSService == nil || req.ECSService.Key() != "us-west-2/nudgecampaign-dr/api" || as[2].Label != "Roll back api (nudgecampaign-dr) to nudgecampaign-api:56" {
		t.Errorf("rollback %q %+v", as[2].Label, req)
	}
	if h := p.ShortHelp(); kit.KeyName(h[1]) != "D" || h[1].Help().Desc != "desired count" {
		t.Errorf("help %q %q", kit.KeyName(h[1]), h[1].Help().Desc)
	}

	row(t, p, "analytics-2")
	as = p.Actions()
	if len(as) != 4 {
		t.Fatalf("instance actions %d", len(as))
	}
	for _, a := range as {
		if len(a.Key.Keys()) != 0 {
			t.Errorf("%s has a key: RDS actions are in the menu only", a.Kind)
		}
	}
	fo := as[3].Request()
	if fo.RDSCluster == nil || fo.RDSCluster.ID != "nudgecampaign-analytics" || fo.Params.FailoverTarget != "analytics-2" ||
		as[3].Label != "Fail over Aurora cluster nudgecampaign-analytics (analytics-2 becomes writer)" {
		t.Errorf("failover from a reader: %q %+v", as[3].Label, fo.Params)
	}
	row(t, p, "analytics-1")
	if fo := p.Actions()[3].Request(); fo.Params.FailoverTarget != "" {
		t.Errorf("failover from the writer names %q: RDS should choose", fo.Params.FailoverTarget)
	}
	// The policy's reasons are what the menu shows for each entry.
	row(t, p, "nudgecampaign-dr-db")
	pol := env.Policy
	for _, a := range p.Actions() {
		err := pol.CheckTarget(a.Request())
		switch a.Kind {
		case ops.RebootDB, ops.PromoteReplica:
			if err != nil {
				t.Errorf("%s: %v", a.Kind, err)
			}
		case ops.RebootDBFailover:
			if err == nil || !strings.Contains(err.Error(), "not Multi-AZ") {
				t.Errorf("%s: %v", a.Kind, err)
			}
		case ops.FailoverCluster:
			if err == nil || !strings.Contains(err.Error(), "not in an Aurora cluster") {
				t.Errorf("%s: %v", a.Kind, err)
			}
		}
	}
}

func TestDesiredForm(t *testing.T) {
	p := pane(t, 200, 16)
	row(t, p, "nudgecampaign-production/api")
	a := p.Actions()[0]
	f := a.Form(a.Request())
	intro := ansi.Strip(strings.Join(f.Intro, "\n"))
	for _, want := range []string{"api in nudgecampaign-production: desired 4, running 3, pending 1",
		"without override 2–10 (min 2 from config, max 10 from config)", "protected: never 0"} {
		if !strings.Contains(intro, want) {
			t.Errorf("intro lacks %q:\n%s", want, intro)
		}
	}
	if f.Fields[0].Value != "4" {
		t.Errorf("prefilled %q", f.Fields[0].Value)
	}
	req, err := f.Submit([]string{" 6 ", "yes"})
	if err != nil || req.Params.Desired != 6 || !req.Params.Override || req.Action != ops.SetDesiredCount {
		t.Errorf("submit: %+v %v", req.Params, err)
	}
	if _, err := f.Submit([]string{"six", "no"}); err == nil {
		t.Error("a count that is no number accepted")
	}
	// Without configured bounds the form shows scale_max_change's range.
	row(t, p, "nudgecampaign-production/worker")
	w := p.Actions()[0]
	req = w.Request()
	req.ECSService.Bounds = sources.DesiredBounds{}
	if intro := ansi.Strip(strings.Join(w.Form(req).Intro, "\n")); !strings.Contains(intro, "without override 2–4 (scale_max_change ±50%)") {
		t.Errorf("intro %s", intro)
	}
}

func TestFilterAndDetails(t *testing.T) {
	p := pane(t, 120, 30)
	p.SetFilter("us-west-2")
	if p.Len() != 2 {
		t.Fatalf("filter us-west-2: %d rows", p.Len())
	}
	p.SetFilter("in_progress")
	if p.Len() != 1 || p.selectedService() == nil || p.selectedService().Name != "api" {
		t.Fatalf("filter in_progress: %d rows", p.Len())
	}
	p.SetFilter("")
	row(t, p, "nudgecampaign-production/api")
	p.HandleKey(uitest.Key("enter"))
	out := screen(p)
	for _, want := range []string{"DEPLOYMENTS", "PRIMARY  nudgecampaign-api:57  IN_PROGRESS  3/4 running, 1 pending", "EVENTS (newest first)",
		"2m ago  (service api) (task 9e3779b97f4a7c15f39cc0605cedc834) failed container health checks.",
		"u rolls back to nudgecampaign-api:56", "warning: 3 of 4 tasks running"} {
		if !strings.Contains(out, want) {
			t.Errorf("service detail lacks %q:\n%s", want, out)
		}
	}
	p.HandleKey(uitest.Key("esc"))
	row(t, p, "nudgecampaign-prod")
	p.HandleKey(uitest.Key("enter"))
	out = screen(p)
	for _, want := range []string{"role: primary (1 replica) — nudgecampaign-dr-db (us-west-2)", "Multi-AZ: yes  zone us-east-1a, standby in us-east-1b",
		"CPU 94% (warning ≥ 70%, critical > 90%)", "critical: CPU 94% > 90%"} {
		if !strings.Contains(out, want) {
			t.Errorf("instance detail lacks %q:\n%s", want, out)
		}
	}
	if p.WantHeight() < 100 {
		t.Error("an open detail view does not ask for room")
	}
}

// Render only what is visible: a pane over a large estate draws its
// height's worth of rows, and the drawn block is reused while nothing
// changed.
func TestDrawsOnlyTheVisibleRows(t *testing.T) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "5"})
	p.SetSize(160, 12)
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, manyAWS(500), 0))
	block := p.View(true)
	if len(block) != 12 || p.Len() != 1000 {
		t.Fatalf("%d lines, %d rows", len(block), p.Len())
	}
	if again := p.View(true); &again[0] != &block[0] {
		t.Error("an unchanged pane drew again")
	}
	p.HandleKey(uitest.Key("G"))
	if out := screen(p); !strings.Contains(out, "cluster-9/svc-499") || strings.Contains(out, "db-0000 ") {
		t.Errorf("bottom of a long list:\n%s", out)
	}
}

// manyAWS is n instances and n services.
func manyAWS(n int) *sources.AWSSet {
	set := &sources.AWSSet{Regions: []sources.AWSRegion{{Name: "us-east-1"}}}
	for i := range n {
		in := uitest.AWS().RDS[2]
		in.ID = fmt.Sprintf("db-%04d", i)
		set.RDS = append(set.RDS, in)
		s := uitest.AWS().ECS[1]
		s.Cluster, s.Name = fmt.Sprintf("cluster-%d", i%10), fmt.Sprintf("svc-%d", i)
		set.ECS = append(set.ECS, s)
	}
	return set
}

func BenchmarkViewLargeEstate(b *testing.B) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "5"})
	p.SetSize(200, 20)
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, manyAWS(500), 0))
	b.ReportAllocs()
	for b.Loop() {
		p.Touch()
		p.View(true)
	}
}

// Issue 16 item 10: a service named "svc" plus escape and bidi characters
// displays as the plain "svc" next to it once sanitized. The two rows must
// not read alike: each shows a tag of its own ARN, and the tags differ.
func TestCollidingNamesAreToldApart(t *testing.T) {
	set := uitest.AWS()
	evil := set.ECS[0]
	// The raw identity keeps what sanitizing took from the name; the
	// display (ARN, Name) reads exactly like the plain service's.
	evil.RawARN = evil.ARN + "\u202e\x1b[31m"
	set.ECS = append(set.ECS[:1], append([]sources.ECSService{evil}, set.ECS[1:]...)...)
	for _, w := range []int{200, 80} {
		p := New(kit.Slot{Env: uitest.Env(), Key: "5"})
		p.SetSize(w, 16)
		p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, set, 0))
		var rows []string
		for _, l := range strings.Split(screen(p), "\n") {
			if strings.Contains(l, "production/api") {
				rows = append(rows, l)
			}
		}
		if len(rows) != 2 {
			t.Fatalf("%d columns: want the two api rows, got %q", w, rows)
		}
		a, b := kit.Tell(set.ECS[0].ARN), kit.Tell(evil.RawARN)
		if a == b || !strings.Contains(rows[0], a) || !strings.Contains(rows[1], b) {
			t.Errorf("%d columns: the rows are not told apart by %s and %s:\n%s\n%s", w, a, b, rows[0], rows[1])
		}
		// The worker, which collides with nothing, shows no tag.
		if out := screen(p); strings.Contains(out, kit.Tell(set.ECS[2].ARN)) {
			t.Errorf("%d columns: a row without a twin is tagged:\n%s", w, out)
		}
	}
	// Identities that read alike too (an ARN sanitized like the name):
	// the rows are numbered in screen order.
	set.ECS[0].RawARN, set.ECS[1].RawARN = set.ECS[0].ARN, set.ECS[0].ARN
	p := New(kit.Slot{Env: uitest.Env(), Key: "5"})
	p.SetSize(200, 16)
	p.SetSnapshot(uitest.Snap("aws", sources.KindAWS, set, 0))
	out := screen(p)
	tag := kit.Tell(set.ECS[0].ARN)
	if !strings.Contains(out, "production/api "+tag+" 1") || !strings.Contains(out, "production/api "+tag+" 2") {
		t.Errorf("twins not numbered:\n%s", out)
	}
}
