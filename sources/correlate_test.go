package sources

import (
	"testing"
	"time"
)

func TestCorrelate(t *testing.T) {
	start := time.Date(2026, 3, 14, 3, 12, 0, 0, time.UTC)
	r := func(name string, rev int64, before time.Duration) Rollout {
		return Rollout{At: start.Add(-before), Deployment: "production/" + name, Name: name, Revision: rev}
	}
	tests := []struct {
		name     string
		start    time.Time
		rollouts []Rollout
		window   time.Duration
		want     string // "" for no correlation
	}{
		{"the rollout just before", start, []Rollout{r("nudgecampaign-api", 42, 4*time.Minute)}, 0,
			"burn started 03:12, 4 min after nudgecampaign-api revision 42"},
		{"seconds apart", start, []Rollout{r("nudgecampaign-api", 42, 34*time.Second)}, 0,
			"burn started 03:12, 34 s after nudgecampaign-api revision 42"},
		{"the latest of several, the others counted", start,
			[]Rollout{r("worker", 7, 20*time.Minute), r("nudgecampaign-api", 42, 4*time.Minute), r("web", 3, 10*time.Minute)}, 0,
			"burn started 03:12, 4 min after nudgecampaign-api revision 42 (and 2 other rollouts in the window before)"},
		{"too long before the default 30 min", start, []Rollout{r("nudgecampaign-api", 42, 31*time.Minute)}, 0, ""},
		{"a wider window", start, []Rollout{r("nudgecampaign-api", 42, 90*time.Minute)}, 2 * time.Hour,
			"burn started 03:12, 1h30m after nudgecampaign-api revision 42"},
		{"after the start is no explanation", start, []Rollout{r("nudgecampaign-api", 43, -time.Minute)}, 0, ""},
		{"at the same instant counts", start, []Rollout{r("nudgecampaign-api", 42, 0)}, 0,
			"burn started 03:12, 0 s after nudgecampaign-api revision 42"},
		{"unknown start: say nothing", time.Time{}, []Rollout{r("nudgecampaign-api", 42, time.Minute)}, 0, ""},
		{"no rollouts", start, nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := Correlate(tc.start, tc.rollouts, tc.window)
			got := ""
			if ok {
				got = c.Text("burn")
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRolloutsOf(t *testing.T) {
	t42 := time.Date(2026, 3, 14, 3, 7, 30, 0, time.UTC)
	t43 := t42.Add(270 * time.Second)
	set := &RolloutSet{Deployments: []Deployment{{
		Namespace: "production", Name: "nudgecampaign-api", Revision: 43, RolledOutAt: t43,
		History: []Revision{
			{Number: 43, CreatedAt: t43},
			{Number: 42, CreatedAt: t42, Images: []string{"nudgecampaign/api:v5.1.0"}},
			{Number: 41}, // no creation time: left out
		},
	}}}
	rs := RolloutsOf(set)
	if len(rs) != 2 || rs[0].Revision != 43 || rs[1].Revision != 42 || !rs[1].At.Equal(t42) || rs[1].Deployment != "production/nudgecampaign-api" {
		t.Fatalf("rollouts %+v", rs)
	}
	// An alert that started between 42 and the rollback is tied to 42.
	c, ok := Correlate(t42.Add(4*time.Minute), rs, 0)
	if !ok || c.Rollout.Revision != 42 || c.Text("HighErrorRate") != "HighErrorRate started 03:11, 4 min after nudgecampaign-api revision 42" {
		t.Errorf("correlation %+v %v", c, ok)
	}
	if RolloutsOf(nil) != nil {
		t.Error("nil set")
	}
}
