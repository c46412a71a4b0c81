package sources

import "testing"

// Issue 16.10: a name from a runbook or config finds the service (or
// instance) of exactly that name, not one that only sanitizes to it.
func TestLookupsMatchRawNames(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:1:service/evilcl/"
	set := &AWSSet{
		ECS: []ECSService{
			{Region: "us-east-1", Cluster: "evilcl", Name: "svc", RawARN: arn + "svc\x1b[2K\u202e", Desired: 9},
			{Region: "us-east-1", Cluster: "evilcl", Name: "svc", RawARN: arn + "svc", Desired: 1},
			{Region: "us-east-1", Cluster: "evilcl", Name: "old"}, // a source without raw ARNs
		},
		RDS: []RDSInstance{
			{Region: "us-east-1", ID: "db", RawID: "db\u202e", Status: "evil"},
			{Region: "us-east-1", ID: "db", RawID: "db", Status: "plain"},
		},
	}
	if s, ok := set.Service("us-east-1", "evilcl", "svc"); !ok || s.Desired != 1 || s.RawName() != "svc" {
		t.Errorf("Service(svc) = %+v %v, want the plain one", s, ok)
	}
	if s, ok := set.Service("us-east-1", "evilcl", "old"); !ok || s.RawName() != "old" {
		t.Errorf("Service(old) = %+v %v", s, ok)
	}
	if in, ok := set.Instance("us-east-1", "db"); !ok || in.Status != "plain" {
		t.Errorf("Instance(db) = %+v %v, want the plain one", in, ok)
	}
}
