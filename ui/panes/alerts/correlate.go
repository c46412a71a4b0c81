package alerts

import (
	"flightdeck/sources"
)

// SelectedAlert is the alert under the cursor (a group header's first
// alert), nil in the silences list: the runbook key opens its runbook.
func (p *Pane) SelectedAlert() *sources.Alert {
	a, _ := p.selectedAlert()
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// Read keeps the rollouts for the alert detail's correlation (Meta.Reads:
// the root hands it every rollouts snapshot).
func (p *Pane) Read(s sources.Snapshot) {
	if p.rollouts.Set(s) {
		p.Touch()
	}
}

// correlation says which rollout came shortly before a firing alert
// started: "HighErrorRate started 03:12, 4 min after nudgecampaign-api
// revision 42", the manual's "review recent deployments" done. Which
// alerts are tied to a rollout is the recorder's rule
// (sources.CorrelatesAlert), so the detail and the timeline agree.
func (p *Pane) correlation(a *sources.Alert) string {
	if !sources.CorrelatesAlert(a.State, a.Severity) {
		return ""
	}
	c, ok := p.rollouts.Correlate(a.StartsAt.UTC())
	if !ok {
		return ""
	}
	return c.Text(a.Name)
}
