package rollouts

import (
	"testing"

	"flightdeck/sources"
)

func TestRolloutLabelKeepsTheName(t *testing.T) {
	d := &sources.Deployment{Namespace: "production", Name: "nudgecampaign-api"}
	p := &Pane{}
	cases := []struct {
		w    int
		want string
	}{
		{40, "production/nudgecampaign-api"},
		{24, "produ…/nudgecampaign-api"},
		{19, "nudgecampaign-api"}, // no room for any of the namespace
	}
	for _, tc := range cases {
		if got := p.label(d, tc.w); got != tc.want {
			t.Errorf("label(w=%d) = %q, want %q", tc.w, got, tc.want)
		}
	}
	p.oneNS = "production"
	if got := p.label(d, 10); got != "nudgecampaign-api" {
		t.Errorf("single namespace: %q", got)
	}
}
