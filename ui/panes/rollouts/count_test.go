package rollouts

import (
	"testing"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// The scale form reads the count through ops.ParseCount, like the AWS
// desired-count form: 4294967300 was truncated to int32 (4) and accepted.
func TestScaleFormRejectsCountsPastInt32(t *testing.T) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "4"})
	d := sources.Deployment{Namespace: "production", Name: "api", Replicas: 3}
	f := p.scaleForm(ops.Request{Action: ops.Scale, Source: "kube", Deployment: &d})
	for _, in := range []string{"4294967300", "2147483648", "-1", "four"} {
		if req, err := f.Submit([]string{in, "no"}); err == nil {
			t.Errorf("%q accepted as %d replicas", in, req.Params.Replicas)
		}
	}
	req, err := f.Submit([]string{" 5 ", "yes"})
	if err != nil || req.Params.Replicas != 5 || !req.Params.Override {
		t.Errorf("5, override: %+v %v", req.Params, err)
	}
}
