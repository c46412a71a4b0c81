package main

import (
	"testing"
	"time"

	"flightdeck/config"
	"flightdeck/sources"
)

func TestAWSOptionsFromExampleConfig(t *testing.T) {
	cfg, err := config.Load("testdata/config/example.yaml")
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
