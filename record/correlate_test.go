package record

import (
	"testing"
	"time"
)

// The recorder's RolloutRevision events become rollouts at the
// deployment's own time when it gave one.
func TestRolloutsFromEvents(t *testing.T) {
	t42 := time.Date(2026, 3, 14, 3, 7, 30, 0, time.UTC)
	t43 := t42.Add(270 * time.Second)
	evs := []Event{
		{Time: t42.Add(2 * time.Second), Kind: RolloutRevision, Subject: "production/nudgecampaign-api", Revision: 42, Since: t42},
		{Time: t43, Kind: RolloutRevision, Subject: "production/nudgecampaign-api", Revision: 43},
		{Time: t43, Kind: AlertFiring, Subject: "x"},
	}
	rs := RolloutsFromEvents(evs)
	if len(rs) != 2 || !rs[0].At.Equal(t42) || !rs[1].At.Equal(t43) || rs[0].Name != "nudgecampaign-api" {
		t.Errorf("from events %+v", rs)
	}
}
