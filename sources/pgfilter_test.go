package sources

import (
	"testing"
	"time"
)

func TestBackendFilter(t *testing.T) {
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	act := &PGActivity{Now: now, Backends: []Backend{
		{PID: 1, User: "app", Application: "nudgecampaign-api", State: "active", QueryStart: now.Add(-15 * time.Minute)},
		{PID: 2, User: "app", Application: "nudgecampaign-api", State: "active", QueryStart: now.Add(-2 * time.Minute)},
		{PID: 3, User: "app", Application: "nudgecampaign-api", State: "idle", StateChange: now.Add(-30 * time.Minute)},
		{PID: 4, User: "worker", Application: "nudgecampaign-worker", State: "idle in transaction", XactStart: now.Add(-11 * time.Minute)},
		{PID: 5, User: "app", State: "active", QueryStart: now.Add(-time.Minute), BlockedBy: []int32{4}},
		{PID: 6, BackendType: "autovacuum worker", State: "active", QueryStart: now.Add(-time.Hour)},
	}}
	pids := func(f string) []int32 {
		var out []int32
		for _, b := range act.Select(ParseBackendFilter(f)) {
			out = append(out, b.PID)
		}
		return out
	}
	for _, tc := range []struct {
		filter string
		want   []int32
	}{
		{"", []int32{1, 2, 3, 4, 5}},
		{"state:!idle >10m", []int32{1, 4}}, // the manual's "long-running queries", idle-in-tx included
		{"state:!idle sort:duration", []int32{1, 2, 4, 5}},
		{"state:idle", []int32{3}},
		{"state:idle-in-tx", []int32{4}},
		{"user:!app", []int32{4}},
		{"blocking", []int32{4}},
		{"blocked", []int32{5}},
		{"app:worker", []int32{4}},
		{"dur>1h", nil},
	} {
		got := pids(tc.filter)
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.filter, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: got %v, want %v", tc.filter, got, tc.want)
				break
			}
		}
	}
	if f := ParseBackendFilter("state:!idle sort:duration"); f.Sort != "duration" {
		t.Errorf("sort token: %q", f.Sort)
	}
}
