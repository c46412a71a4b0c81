package kit

import (
	"slices"
	"strings"
	"time"

	"flightdeck/sources"
)

// Rollouts keeps the rollouts every rollouts source last reported, for a
// pane that is not theirs but names them: the SLO and alert details say
// which rollout came shortly before a burn or an alert (sources.Correlate).
type Rollouts struct {
	bySource map[string][]sources.Rollout
	// seqs are the snapshot each source's rollouts came from (DrawKey).
	seqs map[string]uint64
}

// Set takes a rollouts snapshot; one without data (an error) keeps what
// its source last reported. It reports whether anything changed.
func (r *Rollouts) Set(s sources.Snapshot) bool {
	set, ok := s.Data.(*sources.RolloutSet)
	if !ok || set == nil {
		return false
	}
	if r.bySource == nil {
		r.bySource, r.seqs = map[string][]sources.Rollout{}, map[string]uint64{}
	}
	r.bySource[s.Source] = sources.RolloutsOf(set)
	r.seqs[s.Source] = s.Seq
	return true
}

// DrawKey writes which snapshot of each source the rollouts came from.
func (r *Rollouts) DrawKey(b *strings.Builder) { WriteNumbered(b, r.seqs) }

// Correlate ties start to the latest rollout shortly before it, across
// every source, in a stable order (sources by name).
func (r *Rollouts) Correlate(start time.Time) (sources.Correlation, bool) {
	names := make([]string, 0, len(r.bySource))
	for n := range r.bySource {
		names = append(names, n)
	}
	slices.Sort(names)
	var all []sources.Rollout
	for _, n := range names {
		all = append(all, r.bySource[n]...)
	}
	return sources.Correlate(start, all, 0)
}
