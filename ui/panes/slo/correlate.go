package slo

import (
	"flightdeck/internal/duration"
	"flightdeck/sources"
)

// Read keeps the rollouts for the detail's correlation (Meta.Reads:
// the root hands it every rollouts snapshot).
func (p *Pane) Read(s sources.Snapshot) {
	if p.rollouts.Set(s) {
		p.Touch()
	}
}

// burnNote says when the selected SLO's burn started and which rollout
// came shortly before: "burn started 03:12, 4 min after nudgecampaign-api
// revision 42". ok is false for an SLO that does not burn. When the burn
// started is the flight recorder's to say (Env.Burns, record.StartsBurn),
// not this session's: a session that joined after the burn began shows
// the start the timeline shows.
func (p *Pane) burnNote(x *sources.SLOStatus) (note string, ok bool) {
	if x.Level != sources.SLOPage && x.Level != sources.SLOTicket {
		return "", false
	}
	if p.Env.Burns == nil {
		return "burn start unknown: the flight recorder is off", true
	}
	since, known := p.Env.Burns.BurnStart(p.Feeds.Name(), x.Name)
	if !known {
		return "burn start unknown: already burning when the flight recorder started", true
	}
	if c, found := p.rollouts.Correlate(since.UTC()); found {
		return c.Text("burn"), true
	}
	return "burn started " + since.UTC().Format("15:04") + "; no rollout in the " +
		duration.Format(sources.DefaultCorrelationWindow) + " before it", true
}
