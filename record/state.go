package record

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Thresholds tune what counts as a change worth recording.
type Thresholds struct {
	// ConnHigh is the share of usable connections at or above which
	// ConnectionsHigh is recorded (default 0.8, the manual's alert);
	// ConnLow the share below which ConnectionsNormal is (default 0.75).
	// The gap is the hysteresis: a pool hovering at 80% records one
	// crossing, not one per poll.
	ConnHigh, ConnLow float64
	// BlockerMin is how long a root blocker must have been seen blocking
	// before it is recorded (default 5s): row locks held for a moment are
	// everyday traffic, not an incident.
	BlockerMin time.Duration
}

func (t Thresholds) withDefaults() Thresholds {
	if t.ConnHigh <= 0 || t.ConnHigh > 1 {
		t.ConnHigh = 0.8
	}
	if t.ConnLow <= 0 || t.ConnLow > t.ConnHigh {
		t.ConnLow = min(0.75, t.ConnHigh)
	}
	if t.BlockerMin <= 0 {
		t.BlockerMin = 5 * time.Second
	}
	return t
}

// State is what the recorder knows of the world: per source, the facts the
// change rules compare. A State is a value: Advance returns a new one and
// never changes the one it was given (maps of sources without news are
// shared, not copied, and never written).
type State struct {
	Sources map[string]SourceState
}

// SourceState is one source as last seen.
type SourceState struct {
	Kind sources.Kind
	// Seen is true once the source has answered at all (data or error).
	Seen bool
	// FirstData is when the source's first data was fetched; zero until
	// then. Conditions present in that first data are "at start".
	FirstData time.Time
	// DataAt is the fetch time of the data the fields below describe.
	DataAt time.Time
	Down   bool
	Err    string
	DownAt time.Time

	// Loop is the run of a scripted world the data shows
	// (sources.Script.Loop), 0 for a real backend; LoopSince is when
	// that run began and LoopReset what its restart undid.
	Loop      uint64
	LoopSince time.Time
	LoopReset string

	Alerts      map[string]AlertFact  // by fingerprint
	SLOs        map[string]SLOFact    // by name
	Deployments map[string]DeployFact // by namespace/name
	PG          *PGFact
}

// HasData reports whether the source has delivered data.
func (s SourceState) HasData() bool { return !s.FirstData.IsZero() }

// AlertFact is one alert instance.
type AlertFact struct {
	Name, Severity, Summary string
	State                   sources.AlertState
	StartsAt                time.Time
	Labels                  map[string]string
}

// SLOFact is one SLO. Level keeps the last known verdict: an SLO going
// "unknown" (no traffic, a failed query) is not a change of level.
type SLOFact struct {
	Level  sources.SLOLevel
	Burn   map[string]float64
	Reason string
	// BurnSince is when the current burn began (StartsBurn), zero while
	// ok or when it was already burning when first seen.
	BurnSince time.Time
}

// DeployFact is one deployment.
type DeployFact struct {
	Revision    int64
	State       sources.RolloutState
	RolledOutAt time.Time
	Images      []string
	ChangeCause string
	Message     string
}

// PGFact is one Postgres server.
type PGFact struct {
	Used, Usable int
	// High is the hysteresis flag: set at Thresholds.ConnHigh, cleared
	// below ConnLow.
	High     bool
	Blockers map[string]BlockerFact // by pid@backend_start
}

// BlockerFact is a root blocker: a backend others wait on that waits on none.
type BlockerFact struct {
	PID       int32
	Waiters   int
	User, App string
	State     string
	Query     string
	FirstSeen time.Time
	// Confirmed is set once it has blocked for Thresholds.BlockerMin.
	Confirmed bool
}

// Advance folds a batch of Hub snapshots into prev and returns the new
// State. It is pure: same input, same output, prev untouched. Snapshots of
// sources that have not answered yet (no data, no error) are ignored.
func Advance(prev State, snaps []sources.Snapshot, th Thresholds) State {
	th = th.withDefaults()
	next := State{Sources: maps.Clone(prev.Sources)}
	if next.Sources == nil {
		next.Sources = map[string]SourceState{}
	}
	for _, snap := range snaps {
		if snap.Data == nil && snap.Err == nil {
			continue
		}
		old := next.Sources[snap.Source]
		cur := old
		cur.Kind, cur.Seen = snap.Kind, true
		if snap.Err != nil {
			if !old.Down {
				cur.DownAt = snap.ErrAt
			}
			cur.Down, cur.Err = true, bound(sanitize.Text(snap.Err.Error()), maxSummary)
		} else {
			cur.Down, cur.Err, cur.DownAt = false, "", time.Time{}
		}
		if snap.Data != nil && !snap.FetchedAt.Equal(old.DataAt) {
			if cur.FirstData.IsZero() {
				cur.FirstData = snap.FetchedAt
			}
			cur.DataAt = snap.FetchedAt
			foldData(&cur, old, snap.Data, th)
		}
		next.Sources[snap.Source] = cur
	}
	return next
}

func foldData(cur *SourceState, old SourceState, data sources.Payload, th Thresholds) {
	cur.Loop, cur.LoopSince, cur.LoopReset = 0, time.Time{}, ""
	if s := sources.ScriptOf(data); s != nil {
		cur.Loop, cur.LoopSince, cur.LoopReset = s.Loop, s.Since, bound(s.Reset, maxSummary)
	}
	switch d := data.(type) {
	case *sources.AlertSet:
		cur.Alerts = foldAlerts(d)
	case *sources.SLOSet:
		cur.SLOs = foldSLOs(d, old.SLOs, cur.DataAt)
	case *sources.RolloutSet:
		cur.Deployments = foldDeployments(d)
	case *sources.PGActivity:
		cur.PG = foldPG(d, old.PG, cur.DataAt, th)
	}
}

func foldAlerts(set *sources.AlertSet) map[string]AlertFact {
	out := make(map[string]AlertFact, len(set.Alerts))
	for _, a := range set.Alerts {
		key := a.Fingerprint
		if key == "" {
			key = a.Name + labelKey(a.Labels)
		}
		state := a.State
		if state == sources.AlertInhibited {
			// Inhibition mutes notifications; the alert is still firing.
			state = sources.AlertFiring
		}
		out[key] = AlertFact{
			Name: a.Name, Severity: a.Severity, Summary: a.Summary,
			State: state, StartsAt: a.StartsAt, Labels: boundLabels(a.Labels),
		}
	}
	return out
}

func labelKey(ls []sources.Label) string {
	s := "{"
	for i, l := range ls {
		if i > 0 {
			s += ","
		}
		s += l.Name + "=" + strconv.Quote(l.Value)
	}
	return s + "}"
}

func boundLabels(ls []sources.Label) map[string]string {
	if len(ls) == 0 {
		return nil
	}
	out := make(map[string]string, min(len(ls), maxLabels))
	for _, l := range ls {
		if len(out) == maxLabels {
			break
		}
		out[bound(l.Name, maxLabelText)] = bound(l.Value, maxLabelText)
	}
	return out
}

func foldSLOs(set *sources.SLOSet, old map[string]SLOFact, at time.Time) map[string]SLOFact {
	out := make(map[string]SLOFact, len(set.SLOs))
	for _, s := range set.SLOs {
		f := SLOFact{Level: s.Level, Burn: burnByName(s.Burn), Reason: bound(s.Reason, maxSummary)}
		o, had := old[s.Name]
		if s.Level == sources.SLOUnknown && had {
			f.Level = o.Level
		}
		switch {
		case !burning(f.Level):
		case had && StartsBurn(o.Level, f.Level):
			f.BurnSince = at
		case had:
			f.BurnSince = o.BurnSince // ticket ↔ page: the same burn
		}
		out[s.Name] = f
	}
	return out
}

// StartsBurn is the one rule of when an SLO's burn starts: when it leaves
// ok for ticket or page, as the recorder saw it. An SLO already burning
// when first seen has no known start. The timeline and every session's
// SLO pane (through Recorder.BurnStart) follow it.
func StartsBurn(from, to sources.SLOLevel) bool {
	return from == sources.SLOOK && burning(to)
}

func burning(l sources.SLOLevel) bool { return l == sources.SLOTicket || l == sources.SLOPage }

// burnByName keys known burn rates by their Prometheus window name.
func burnByName(burn map[time.Duration]float64) map[string]float64 {
	out := map[string]float64{}
	for w, v := range burn {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		out[windowName(w)] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// windowName renders a burn window the way the workbook writes it: 5m, 1h, 3d.
func windowName(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

func foldDeployments(set *sources.RolloutSet) map[string]DeployFact {
	out := make(map[string]DeployFact, len(set.Deployments))
	for _, d := range set.Deployments {
		f := DeployFact{
			Revision: d.Revision, State: d.State, RolledOutAt: d.RolledOutAt,
			Message: bound(d.Message, maxSummary),
		}
		for _, img := range d.Images[:min(len(d.Images), maxImages)] {
			f.Images = append(f.Images, bound(img, maxLabelText))
		}
		for _, r := range d.History {
			if r.Number == d.Revision {
				f.ChangeCause = bound(r.ChangeCause, maxLabelText)
				break
			}
		}
		out[d.Key()] = f
	}
	return out
}

func foldPG(p *sources.PGActivity, old *PGFact, at time.Time, th Thresholds) *PGFact {
	f := &PGFact{Used: p.Connections, Usable: p.Usable(), Blockers: map[string]BlockerFact{}}
	wasHigh := old != nil && old.High
	if f.Usable > 0 {
		share := float64(f.Used) / float64(f.Usable)
		if wasHigh {
			f.High = share >= th.ConnLow
		} else {
			f.High = share >= th.ConnHigh
		}
	}
	byPID := make(map[int32]*sources.Backend, len(p.Backends))
	for i := range p.Backends {
		byPID[p.Backends[i].PID] = &p.Backends[i]
	}
	for _, n := range sources.BlockingTree(p.Backends) {
		if !n.Root {
			continue
		}
		b := byPID[n.PID]
		bf := BlockerFact{PID: n.PID, Waiters: n.Waiters, FirstSeen: at}
		key := strconv.Itoa(int(n.PID))
		if b != nil {
			// pids are reused: the backend's start pins which one it is.
			key += "@" + b.BackendStart.UTC().Format(time.RFC3339Nano)
			bf.User, bf.App, bf.State = bound(b.User, maxLabelText), bound(b.Application, maxLabelText), b.State
			bf.Query = bound(b.Query, maxLabelText)
		}
		if old != nil {
			if o, ok := old.Blockers[key]; ok {
				bf.FirstSeen, bf.Confirmed = o.FirstSeen, o.Confirmed
			}
		}
		bf.Confirmed = bf.Confirmed || at.Sub(bf.FirstSeen) >= th.BlockerMin
		f.Blockers[key] = bf
	}
	return f
}

// sortedKeys returns m's keys in order, so events come out deterministically.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
