package rollouts

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
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
		{12, "nudge…gn-api"},      // nor for the whole name: its end is kept
	}
	for _, tc := range cases {
		if got := p.label(d, tc.w, "", "…"); got != tc.want {
			t.Errorf("label(w=%d) = %q, want %q", tc.w, got, tc.want)
		}
	}
	p.oneNS = "production"
	if got := p.label(d, 10, "", "…"); got != "nudg…n-api" {
		t.Errorf("single namespace, 10 cells: %q", got)
	}
	if got := p.label(d, 10, "nudgecampaign-", "…"); got != "…api" {
		t.Errorf("prefix dropped: %q", got)
	}
}

func rows(t *testing.T, p *Pane) []string {
	t.Helper()
	var out []string
	for _, l := range p.View(false) {
		out = append(out, strings.TrimRight(ansi.Strip(l), " │"))
	}
	return out
}

// TestNamesStayDistinctWhenNarrow: at 160×48 the Rollouts pane is 56
// columns wide, too narrow for "nudgecampaign-worker". The prefix every
// deployment shares is said once, in the column title, and each row keeps
// what tells it apart (they all read "nudgecampaign…" before).
func TestNamesStayDistinctWhenNarrow(t *testing.T) {
	p := New(kit.Slot{Env: uitest.Env(), Key: "4"})
	p.SetSize(56, 20)
	p.SetSnapshot(uitest.Snap("kube", sources.KindRollouts, uitest.DemoRollouts(), time.Second))
	out := rows(t, p)
	if !strings.HasPrefix(out[1], "│nudgecampaign-…") {
		t.Errorf("column title does not name the shared prefix: %q", out[1])
	}
	for i, want := range []string{"…api ", "…worker ", "…web "} {
		if !strings.HasPrefix(out[2+i], "│"+want) {
			t.Errorf("row %d = %q, want it to start with %q", i, out[2+i], want)
		}
	}
	// Wide enough for every name: they are shown whole, the namespace in
	// the column title as before.
	p.SetSize(104, 20)
	out = rows(t, p)
	if !strings.HasPrefix(out[1], "│DEPLOYMENT (production)") || !strings.HasPrefix(out[2], "│nudgecampaign-api ") {
		t.Errorf("wide pane shortened names:\n%s", strings.Join(out[:5], "\n"))
	}
	// A filter leaving one row keeps the set's prefix: rows do not change
	// shape as the operator types.
	p.SetSize(56, 20)
	p.SetFilter("work")
	if out = rows(t, p); !strings.HasPrefix(out[3], "│…worker ") {
		t.Errorf("filtered row %q", out[3])
	}
}

// Two long names that differ only in their middle read alike once a narrow
// pane cuts them: each row then shows a tag of its deployment's UID.
func TestCutNamesThatCollideAreToldApart(t *testing.T) {
	set := uitest.Rollouts()
	set.Deployments[0].Name = "checkout-eu-west-1-payments-api"
	set.Deployments[1].Name = "checkout-us-east-2-payments-api"
	p := New(kit.Slot{Env: uitest.Env(), Key: "4"})
	p.SetSize(40, 10)
	p.SetSnapshot(uitest.Snap("kube", sources.KindRollouts, set, 0))
	out := ansi.Strip(strings.Join(p.View(false), "\n"))
	for _, d := range set.Deployments[:2] {
		if !strings.Contains(out, kit.Tell(d.UID)) {
			t.Errorf("no tag %s for %s:\n%s", kit.Tell(d.UID), d.Name, out)
		}
	}
	if strings.Contains(out, kit.Tell(set.Deployments[2].UID)) {
		t.Errorf("nudge-web collides with nothing but is tagged:\n%s", out)
	}
	// Wide enough for the whole names: no tags.
	p.SetSize(120, 10)
	if out := ansi.Strip(strings.Join(p.View(false), "\n")); strings.Contains(out, "#") {
		t.Errorf("whole names are tagged:\n%s", out)
	}
}
