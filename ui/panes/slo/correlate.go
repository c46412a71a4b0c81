package slo

import (
	"time"

	"flightdeck/internal/duration"
	"flightdeck/sources"
)

// burn is what the pane knows of an SLO's current burn: its last known
// level and, when the pane saw it leave ok, when.
type burn struct {
	level sources.SLOLevel
	since time.Time
}

// SetSnapshot keeps the snapshot (kit.List) and notes when each SLO
// started to burn, for the detail's correlation.
func (p *Pane) SetSnapshot(s sources.Snapshot) {
	p.List.SetSnapshot(s)
	set, ok := s.Data.(*sources.SLOSet)
	if !ok || set == nil {
		return
	}
	if p.burns == nil {
		p.burns = map[string]burn{}
	}
	for _, x := range set.SLOs {
		k := s.Source + "\x00" + x.Name
		prev, seen := p.burns[k]
		switch {
		case x.Level == sources.SLOUnknown:
			// No verdict (no traffic, a failed query) is no change.
		case x.Level == sources.SLOOK, !seen:
			// Burning when first seen: when it started is not known.
			p.burns[k] = burn{level: x.Level}
		case prev.level == sources.SLOOK:
			p.burns[k] = burn{level: x.Level, since: s.FetchedAt}
		default:
			prev.level = x.Level
			p.burns[k] = prev
		}
	}
}

// Read keeps the rollouts for the detail's correlation (Meta.Reads:
// the root hands it every rollouts snapshot).
func (p *Pane) Read(s sources.Snapshot) {
	if p.rollouts.Set(s) {
		p.Touch()
	}
}

// burnNote says when the selected SLO's burn started and which rollout
// came shortly before: "burn started 03:12, 4 min after nudgecampaign-api
// revision 42". ok is false for an SLO that does not burn.
func (p *Pane) burnNote(x *sources.SLOStatus) (note string, ok bool) {
	if x.Level != sources.SLOPage && x.Level != sources.SLOTicket {
		return "", false
	}
	b := p.burns[p.Feeds.Name()+"\x00"+x.Name]
	if b.since.IsZero() {
		return "burn start unknown: already burning when this session first saw it", true
	}
	if c, found := p.rollouts.Correlate(b.since.UTC()); found {
		return c.Text("burn"), true
	}
	return "burn started " + b.since.UTC().Format("15:04") + "; no rollout in the " +
		duration.Format(sources.DefaultCorrelationWindow) + " before it", true
}
