package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/duration"
)

func TestExampleConfigAWS(t *testing.T) {
	c, err := Load(filepath.Join("..", "testdata", "config", "example.yaml"))
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	a := c.AWS
	if a == nil {
		t.Fatal("example has no aws: section")
	}
	if a.Region != "us-east-1" || a.Interval.D() != 15*time.Second || a.Timeout.D() != 10*time.Second {
		t.Errorf("aws = %+v", a)
	}
	all := a.AllRegions()
	if len(all) != 2 || all[0].Region != "us-east-1" || all[1].Region != "us-west-2" {
		t.Fatalf("regions = %+v", all)
	}
	api := all[0].ECS.Services[0]
	if api.Name != "api" || *api.Min != 2 || *api.Max != 10 || !all[0].ECS.Protected {
		t.Errorf("production api = %+v (protected %v)", api, all[0].ECS.Protected)
	}
	if w := all[0].ECS.Services[1]; w.Name != "worker" || *w.Min != 1 || *w.Max != 6 {
		t.Errorf("worker = %+v", w)
	}
	if dr := all[1]; dr.ECS.Cluster != "nudgecampaign-dr" || dr.RDS.Instances[0] != "nudgecampaign-dr-db" || *dr.ECS.Services[0].Min != 0 {
		t.Errorf("dr = %+v", dr)
	}
	if c.Line("aws.regions[0].ecs.cluster") == 0 {
		t.Error("no line recorded inside aws.regions")
	}
}

func TestAWSDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte("aws: {region: eu-central-1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.AWS.Interval.D() != DefaultAWSInterval || c.AWS.Timeout.D() != DefaultAWSTimeout {
		t.Errorf("defaults: %+v", c.AWS)
	}
	out, err := c.EffectiveYAML()
	if err != nil || !strings.Contains(string(out), "timeout: 10s") {
		t.Errorf("effective yaml shows the default timeout wrongly: %v\n%s", err, out)
	}
}

func TestAWSErrorsNameFieldAndLine(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"unknown key", "aws:\n  region: us-east-1\n  rds:\n    instance: [db]\n",
			`c.yaml:4: aws.rds.instance: unknown key (did you mean "instances"?)`},
		{"unknown key in regions", "aws:\n  region: us-east-1\n  regions:\n    - region: us-west-2\n      ecs: {clustr: dr}\n",
			`c.yaml:5: aws.regions[0].ecs.clustr: unknown key (did you mean "cluster"?)`},
		{"no region", "aws:\n  profile: p\n", "c.yaml:1: aws: region is required"},
		{"bad region", "aws:\n  region: useast1\n", `c.yaml:2: aws.region: "useast1" is not an AWS region name`},
		{"duplicate region", "aws:\n  region: us-east-1\n  regions:\n    - region: us-east-1\n", "c.yaml:4: aws.regions[0].region: us-east-1 is already configured at aws"},
		{"region missing in list", "aws:\n  region: us-east-1\n  regions:\n    - rds: {instances: [a]}\n", "c.yaml:4: aws.regions[0]: region is required"},
		{"endpoint", "aws:\n  region: us-east-1\n  endpoint_url: localhost:5000\n", "c.yaml:3: aws.endpoint_url: must start with http://"},
		{"interval", "aws:\n  region: us-east-1\n  interval: 100ms\n", "c.yaml:3: aws.interval: must be at least 1s"},
		{"rds id", "aws:\n  region: us-east-1\n  rds:\n    instances: [ok-db, 1bad]\n", `c.yaml:4: aws.rds.instances[1]: "1bad" is not an RDS instance identifier`},
		{"rds double hyphen", "aws:\n  region: us-east-1\n  rds:\n    clusters: [a--b]\n", `aws.rds.clusters[0]: "a--b" is not an RDS cluster identifier`},
		{"rds duplicate", "aws:\n  region: us-east-1\n  rds:\n    instances:\n      - a\n      - a\n", "c.yaml:6: aws.rds.instances[1]: a is listed twice"},
		{"services without cluster", "aws:\n  region: us-east-1\n  ecs:\n    services: [{name: api}]\n", "c.yaml:3: aws.ecs: services need a cluster"},
		{"min above max", "aws:\n  region: us-east-1\n  ecs:\n    cluster: c\n    services:\n      - {name: api, min: 5, max: 2}\n", "c.yaml:6: aws.ecs.services[0].min: min 5 is above max 2"},
		{"protected min zero", "aws:\n  region: us-east-1\n  ecs:\n    cluster: prod\n    protected: true\n    services:\n      - name: api\n        min: 0\n", "c.yaml:8: aws.ecs.services[0].min: cluster prod is protected"},
		{"max zero", "aws:\n  region: us-east-1\n  ecs:\n    cluster: c\n    services:\n      - name: api\n        max: 0\n", "c.yaml:7: aws.ecs.services[0].max: must be between 1 and 5000"},
		{"duplicate service", "aws:\n  region: us-east-1\n  ecs:\n    cluster: c\n    services:\n      - name: api\n      - name: api\n", "c.yaml:7: aws.ecs.services[1].name: api is listed twice"},
		{"service as a string", "aws:\n  region: us-east-1\n  ecs:\n    cluster: c\n    services: [api]\n", `c.yaml:5: aws.ecs.services[0]: expected a mapping, got "api"`},
		{"min not a number", "aws:\n  region: us-east-1\n  ecs:\n    cluster: c\n    services:\n      - name: api\n        min: two\n", "c.yaml:7: aws.ecs.services[0].min: cannot unmarshal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.src)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %q\nwant %q", err.Error(), tc.want)
			}
		})
	}
}

// FormatDuration used to trim every trailing "0s", printing 10s as "1";
// the aws: section's default timeout is 10s.
func TestFormatDurationKeepsTens(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "10s", 20 * time.Second: "20s", time.Minute: "1m", 90 * time.Second: "1m30s",
		time.Hour: "1h", 90 * time.Minute: "1h30m", 0: "0s", 500 * time.Millisecond: "500ms", 48 * time.Hour: "2d",
	} {
		if got := duration.Format(d); got != want {
			t.Errorf("duration.Format(%s) = %q, want %q", d, got, want)
		}
	}
}
