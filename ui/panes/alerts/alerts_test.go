package alerts

import (
	"testing"
	"time"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// TestGroupsRankLikeSources: groups follow sources.SeverityRank, so a
// "page" alert leads as it does in every other list (it used to sort last
// here), and an alert without severity comes after one with an unknown one.
func TestGroupsRankLikeSources(t *testing.T) {
	set := uitest.Alerts()
	mk := func(name, sev string) sources.Alert {
		return sources.Alert{Fingerprint: name, Name: name, Severity: sev, State: sources.AlertFiring, StartsAt: uitest.T0.Add(-time.Minute)}
	}
	set.Alerts = append(set.Alerts, mk("Paged", "page"), mk("Odd", "sev5"), mk("Bare", ""))
	p := New(kit.Slot{Env: uitest.Env(), Key: "2"})
	p.SetSize(80, 18)
	p.SetSnapshot(uitest.Snap("am", sources.KindAlerts, set, 0))
	var order []string
	for _, g := range p.groups {
		order = append(order, g.name)
	}
	want := []string{"HighErrorRate", "Paged", "PostgresConnectionsHigh", "PostgresLongTransaction", "DiskSpaceLow", "Odd", "Bare"}
	if len(order) != len(want) {
		t.Fatalf("groups %v", order)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("groups %v, want %v", order, want)
		}
	}
}

// TestSilencesKeepTheirCursor: v switches between the alerts and the
// silences, each list with its own cursor, and expire needs a silence.
func TestSilencesKeepTheirCursor(t *testing.T) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "2"})
	p.SetSize(80, 18)
	p.SetSnapshot(uitest.AllSnaps()[1])
	p.HandleKey(uitest.Key("j"))
	if a, _ := p.selectedAlert(); a == nil || a.Fingerprint != "f2" {
		t.Fatalf("second row %+v", a)
	}
	if ex := p.Actions()[1]; ex.Disabled == "" {
		t.Error("expire offered without a silence")
	}
	p.HandleKey(uitest.Key("v"))
	if s := p.selectedSilence(); s == nil || s.ID != "6f1c2a9e" {
		t.Fatalf("silence %+v", s)
	}
	if ex := p.Actions()[1]; ex.Disabled != "" || ex.Request().SilenceID != "6f1c2a9e" {
		t.Errorf("expire %+v", ex)
	}
	p.HandleKey(uitest.Key("v"))
	if a, _ := p.selectedAlert(); a == nil || a.Fingerprint != "f2" {
		t.Errorf("back on alerts the cursor moved: %+v", a)
	}
}
