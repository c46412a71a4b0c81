package ops_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	. "flightdeck/ops"
)

// Issue 16.13: a runbook's scale with replicas 100000 and override ran
// ("scaled 3 → 100000"). Override lifts scale_max_change, never the
// scale_max_replicas ceiling; the refusal says why, and nothing is written.
func TestOverrideNeverLiftsTheReplicaCeiling(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, func(c *Config) { c.Policy.ScaleMaxReplicas = 0 }) // the default applies
	d := r.deployment(t)
	_, err := r.ex.Plan(ctx, Request{Action: Scale, Source: "kube", Deployment: &d, Params: Params{Replicas: 100000, Override: true}})
	if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "scale_max_replicas 100") {
		t.Fatalf("scale 4→100000 with override: %v, want a policy refusal naming scale_max_replicas", err)
	}
	// Up to the ceiling, override still lifts scale_max_change.
	p, err := r.ex.Plan(ctx, Request{Action: Scale, Source: "kube", Deployment: &d, Params: Params{Replicas: DefaultScaleMaxReplicas, Override: true}})
	if err != nil {
		t.Fatalf("scale 4→%d with override: %v", DefaultScaleMaxReplicas, err)
	}
	if res := r.ex.Execute(ctx, p, p.Phrase); !res.OK {
		t.Fatalf("execute: %+v", res)
	}
	if calls := r.kube.Calls(); len(calls) != 1 || calls[0] != "scale production/nudgecampaign-api 100" {
		t.Fatalf("calls %v", calls)
	}

	// The same for an ECS service's desired count.
	a := newAWSRig(t, nil)
	s := drAPI(a, t)
	s.Bounds.HasMax = false
	_, err = a.ex.Plan(ctx, Request{Action: SetDesiredCount, Source: "aws", ECSService: s, Params: Params{Desired: 100000, Override: true}})
	if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "scale_max_replicas") {
		t.Fatalf("desired 0→100000 with override: %v", err)
	}
	if calls := a.aws.Calls(); len(calls) != 0 {
		t.Fatalf("calls %v", calls)
	}
}

// A configured ceiling holds; a target already above it may come down.
func TestReplicaCeilingFromPolicy(t *testing.T) {
	pol := DefaultPolicy()
	pol.ScaleMaxReplicas = 8
	if lo, hi := pol.ScaleBounds(6); lo != 3 || hi != 8 {
		t.Errorf("ScaleBounds(6) = %d–%d, want 3–8 (±50%% capped at the ceiling)", lo, hi)
	}
	if err := pol.CheckScaleCeiling("api", 6, 9); !errors.Is(err, ErrPolicy) {
		t.Errorf("6→9 over a ceiling of 8: %v", err)
	}
	if err := pol.CheckScaleCeiling("api", 20, 12); err != nil {
		t.Errorf("20→12 (down, still above the ceiling): %v", err)
	}
	if lo, hi := pol.ScaleBounds(0); lo != 0 || hi != 8 {
		t.Errorf("ScaleBounds(0) = %d–%d, want 0–8", lo, hi)
	}
	if got := (Policy{}).WithDefaults().ScaleMaxReplicas; got != DefaultScaleMaxReplicas {
		t.Errorf("default ceiling %d", got)
	}
}

// One bounds check for a typed count, used by the scale and desired-count
// forms: never truncated, never negative.
func TestParseCount(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int32
		ok   bool
	}{
		{"4", 4, true}, {" 0 ", 0, true}, {"2147483647", math.MaxInt32, true},
		{"2147483648", 0, false}, {"4294967300", 0, false}, {"-1", 0, false}, {"four", 0, false}, {"", 0, false}, {"1.5", 0, false},
	} {
		n, err := ParseCount("replicas", c.in)
		if (err == nil) != c.ok || n != c.want {
			t.Errorf("ParseCount(%q) = %d, %v", c.in, n, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "replicas: ") {
			t.Errorf("ParseCount(%q) error %q does not name the field", c.in, err)
		}
	}
}
