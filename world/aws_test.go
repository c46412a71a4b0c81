package world

import (
	"strings"
	"testing"
	"time"

	"flightdeck/config"
	"flightdeck/ops"
	"flightdeck/sources"
)

func TestAWSOptionsFromExampleConfig(t *testing.T) {
	cfg, err := config.Load("../testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := awsOptions(cfg.AWS, nil)
	if o.Profile != "nudgecampaign-prod" || o.Timeout != 10*time.Second || len(o.Regions) != 2 {
		t.Fatalf("options %+v", o)
	}
	east, west := o.Regions[0], o.Regions[1]
	if east.Name != "us-east-1" || east.ECSCluster != "nudgecampaign-production" || !east.Protected || east.Instances[0] != "nudgecampaign-prod" {
		t.Errorf("primary %+v", east)
	}
	if b := east.Services[0].Bounds; east.Services[0].Name != "api" || b != (sources.DesiredBounds{Min: 2, Max: 10, HasMin: true, HasMax: true}) {
		t.Errorf("api %+v", east.Services[0])
	}
	if west.Name != "us-west-2" || west.ECSCluster != "nudgecampaign-dr" || west.Protected ||
		west.Services[0].Bounds != (sources.DesiredBounds{Min: 0, Max: 10, HasMin: true, HasMax: true}) {
		t.Errorf("DR %+v", west)
	}
}

// The live aws: section is an ops capability under its source name: the
// ECS and RDS handlers act through it.
func TestAWSSourceIsACapability(t *testing.T) {
	cfg, err := config.Load("../testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := &World{hub: sources.NewHub(nil), caps: ops.Capabilities{}}
	src, err := addAWS(cfg, w, nil)
	if err != nil || src == nil {
		t.Fatal(err)
	}
	if _, ok := w.caps["aws"].(ops.ECSController); !ok {
		t.Errorf("caps[aws] = %T, not an ECSController", w.caps["aws"])
	}
	if _, ok := w.caps["aws"].(ops.RDSController); !ok {
		t.Errorf("caps[aws] = %T, not an RDSController", w.caps["aws"])
	}
}

// The demo world's AWS actions run through a session's Executor: the
// manual's failover (promote the DR replica, the DR api to 4) changes the
// demo estate and lands in the demo journal.
func TestDemoWorldFailoverThroughASession(t *testing.T) {
	w, journal := demoWorld(t, false, nil)
	s, err := w.NewSession(SessionInfo{Context: t.Context(), User: "oncall"})
	if err != nil {
		t.Fatal(err)
	}
	src := w.caps["aws"].(sources.Source)
	data, err := src.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	set := data.(*sources.AWSSet)
	dr, ok := set.Instance("us-west-2", "nudgecampaign-dr-db")
	api, ok2 := set.Service("us-west-2", "nudgecampaign-dr", "api")
	if !ok || !ok2 {
		t.Fatalf("demo estate lacks the DR side: %v %v", ok, ok2)
	}
	for _, c := range []struct {
		req    ops.Request
		phrase string
	}{
		{ops.Request{Action: ops.PromoteReplica, Source: "aws", RDSInstance: &dr}, "nudgecampaign-dr-db"},
		{ops.Request{Action: ops.SetDesiredCount, Source: "aws", ECSService: &api, Params: ops.Params{Desired: 4}}, "api"},
	} {
		p, err := s.Actions.Executor.Plan(t.Context(), c.req)
		if err != nil {
			t.Fatal(err)
		}
		if res := s.Actions.Executor.Execute(t.Context(), p, c.phrase); !res.OK {
			t.Fatalf("%s: %v", p.Title, res.Err)
		}
	}
	ctl := w.caps["aws"].(ops.RDSController)
	if got, err := ctl.DescribeDBInstance(t.Context(), "us-west-2", "nudgecampaign-dr-db"); err != nil || got.Role() != sources.RolePrimary {
		t.Errorf("after promote: %v, %v", got.RoleText(), err)
	}
	if got, err := w.caps["aws"].(ops.ECSController).DescribeService(t.Context(), "us-west-2", "nudgecampaign-dr", "api"); err != nil || got.Desired != 4 {
		t.Errorf("DR api desired %d, %v", got.Desired, err)
	}
	recs, err := ops.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Action)+":"+r.Phase+":"+r.Outcome)
	}
	if strings.Join(got, " ") != "promote_read_replica:intent: promote_read_replica:outcome:ok set_desired_count:intent: set_desired_count:outcome:ok" {
		t.Errorf("journal %v", got)
	}
}
