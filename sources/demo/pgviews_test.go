package demo

import (
	"context"
	"strings"
	"testing"

	"flightdeck/sources"
)

// The views tell the incident: in the pile-up its statements lead by mean
// time and are marked slow, the replica lags by hundreds of megabytes, one
// inactive slot retains gigabytes, and backends carry the queryid of the
// statement they run.
func TestViewsTellTheIncident(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, pileUpAt+60)
	a := pgAt(t, w)
	v := a.Views
	if v == nil || v.Statements == nil || v.Replication == nil || v.Tables == nil || v.Indexes == nil ||
		v.Databases == nil || v.Progress == nil {
		t.Fatalf("views missing: %+v", v)
	}
	var top *sources.Statement
	for i := range v.Statements.Statements {
		if s := &v.Statements.Statements[i]; top == nil || s.MeanMs > top.MeanMs {
			top = s
		}
	}
	if !top.Slow() || !isPileUp(top.Query) {
		t.Errorf("slowest statement by mean: %+v", top)
	}
	ids := map[int64]bool{}
	for _, s := range v.Statements.Statements {
		ids[s.QueryID] = true
	}
	linked := 0
	for _, b := range a.Backends {
		if b.WaitType == "Lock" {
			if !ids[b.QueryID] {
				t.Errorf("pid %d waits running a statement the view lacks: %q", b.PID, b.Query)
			}
			linked++
		}
	}
	if linked == 0 {
		t.Fatal("no backend waits on a lock in the pile-up")
	}
	if lag := v.Replication.Senders[0].ReplayLagBytes; lag < sources.ReplicationLagWarnBytes {
		t.Errorf("replica lag %d bytes", lag)
	}
	stale := 0
	for _, s := range v.Replication.Slots {
		if !s.Active {
			stale++
			if s.RetainedBytes < sources.SlotRetainedCritBytes {
				t.Errorf("stale slot retains %d", s.RetainedBytes)
			}
		}
	}
	if stale != 1 {
		t.Errorf("%d inactive slots, want one", stale)
	}
	for _, d := range v.Databases.Databases {
		if d.Name == database && d.Backends != a.ByDatabase[database] {
			t.Errorf("databases view %d backends, activity %d", d.Backends, a.ByDatabase[database])
		}
	}
}

// The operator drops the stale slot and vacuums the bloated table; the
// next snapshot shows it.
func TestMaintenanceShows(t *testing.T) {
	w, c := newTestWorld(t)
	at(c, pileUpAt+10)
	ctx := context.Background()
	src := w.Postgres()
	v := pgAt(t, w).Views
	var stale sources.ReplicationSlot
	for _, s := range v.Replication.Slots {
		if !s.Active {
			stale = s
		}
	}
	if ok, err := src.DropInactiveSlot(ctx, "analytics_sub", ""); ok || err != nil {
		t.Fatalf("active slot dropped: %v %v", ok, err)
	}
	if ok, err := src.DropInactiveSlot(ctx, stale.Name, stale.RestartLSN); !ok || err != nil {
		t.Fatalf("drop: %v %v", ok, err)
	}
	tab := v.Tables.Tables[0]
	if d, err := src.MaintainTable(ctx, tab.RelID, tab.Schema, tab.Name, sources.TableVacuum); err != nil || !strings.Contains(d, "VACUUM") {
		t.Fatalf("vacuum: %q %v", d, err)
	}
	at(c, pileUpAt+12)
	v = pgAt(t, w).Views
	for _, s := range v.Replication.Slots {
		if s.Name == stale.Name {
			t.Error("dropped slot still shown")
		}
	}
	for _, x := range v.Tables.Tables {
		if x.RelID == tab.RelID && (x.Dead != 0 || x.LastVacuum.IsZero()) {
			t.Errorf("vacuumed table: %+v", x)
		}
	}
}
