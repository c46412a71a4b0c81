package record

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"flightdeck/internal/duration"
)

// Flapping: an alert that fires and resolves every second writes two lines
// a second, 100 of them 117 MiB an hour, and buries the incident under
// them. Past a few changes in a window, a subject's changes are counted
// instead of written: one Flapping line when it starts ("flapping: 6
// changes in 10m"), one a window while it goes on ("flapped 412 times"),
// and one when it settles, saying the state it settled in. The journal's
// size then follows the number of flapping subjects, not their speed.

// Flapping is written for a subject whose changes are being counted
// rather than written: when it starts, every FlapWindow while it goes on
// (Count changes since the last one), and when it settles (To the state it
// settled in).
const Flapping EventKind = "flapping"

// Flap defaults: the window changes are counted over, and the changes in
// it (firing and resolved are two) after which a subject is flapping.
const (
	DefaultFlapWindow = 10 * time.Minute
	DefaultFlapAfter  = 6
)

// maxFlapKeys bounds the subjects the flap detector tracks; past it, new
// subjects are written as they come (a storm of distinct alerts is capped
// per snapshot by maxAlertBatch already).
const maxFlapKeys = 10000

// flapper coalesces the changes of flapping subjects. Not safe for
// concurrent use: the recorder calls it from its one goroutine.
type flapper struct {
	window time.Duration
	after  int
	keys   map[string]*flapState
}

// flapState is one subject's recent changes.
type flapState struct {
	changes  []time.Time // within the window, at most after of them
	flapping bool
	// While flapping: the changes counted since the last Flapping line,
	// the latest change (the state now), and when the last Flapping line
	// was written.
	count    int
	last     Event
	reported time.Time
	// total and began are the whole episode: every change since the
	// first of the ones that made it flapping, written or counted.
	total int
	began time.Time
}

func newFlapper(window time.Duration, after int) *flapper {
	if window <= 0 {
		window = DefaultFlapWindow
	}
	if after <= 1 {
		after = DefaultFlapAfter
	}
	return &flapper{window: window, after: after, keys: map[string]*flapState{}}
}

// flapKey names the subject an event changes, and whether it is a kind of
// change that can flap (a state that comes and goes). Up and down of one
// thing share a key: firing and resolved are one alert's flapping.
func flapKey(e Event) (string, bool) {
	family := ""
	switch e.Kind {
	case AlertFiring, AlertResolved, AlertSilenced, AlertUnsilenced:
		family = "alert"
	case SourceDown, SourceUp:
		family = "source"
	case ConnectionsHigh, ConnectionsNormal:
		family = "connections"
	case SLOLevelChanged:
		family = "slo"
	default:
		return "", false
	}
	if e.AtStart {
		return "", false // what was there at start: not a change
	}
	id := e.ID
	if id == "" {
		id = e.Subject
	}
	return family + "\x00" + e.Source + "\x00" + id, true
}

// stateOf is the state an event leaves its subject in, for people.
func stateOf(e Event) string {
	switch e.Kind {
	case AlertFiring:
		return "firing"
	case AlertResolved:
		return "resolved"
	case AlertSilenced:
		return "silenced"
	case SourceDown:
		return "down"
	case SourceUp:
		return "up"
	case ConnectionsHigh:
		return "high"
	case ConnectionsNormal:
		return "normal"
	}
	if e.To != "" {
		return e.To
	}
	return string(e.Kind)
}

// filter passes events through, holding back the changes of flapping
// subjects, and adds the Flapping lines due by now (settled or a window
// gone by).
func (f *flapper) filter(events []Event, now time.Time) []Event {
	var out []Event
	for _, e := range events {
		key, ok := flapKey(e)
		if !ok {
			out = append(out, e)
			continue
		}
		s := f.keys[key]
		if s == nil {
			if len(f.keys) >= maxFlapKeys {
				out = append(out, e)
				continue
			}
			s = &flapState{}
			f.keys[key] = s
		}
		s.changes = append(s.changes, e.Time)
		cut := 0
		for cut < len(s.changes) && e.Time.Sub(s.changes[cut]) > f.window {
			cut++
		}
		s.changes = s.changes[cut:]
		if len(s.changes) > f.after {
			s.changes = s.changes[len(s.changes)-f.after:]
		}
		switch {
		case s.flapping:
			s.count++
			s.total++
			s.last = e
		case len(s.changes) >= f.after:
			// This change is the one that makes it flapping: written, and
			// the ones after it counted.
			s.flapping, s.reported, s.last = true, e.Time, e
			s.total, s.began = len(s.changes), s.changes[0]
			out = append(out, e, f.started(e))
		default:
			out = append(out, e)
		}
	}
	return append(out, f.due(now, false)...)
}

// flush is every Flapping line still owed, as the recorder stops.
func (f *flapper) flush(now time.Time) []Event { return f.due(now, true) }

// due writes, for each flapping subject, a settled line once it has been
// quiet for the window (or at stop), and a "flapped N times" line once a
// window has gone by since its last line; subjects quiet for the window
// are forgotten.
func (f *flapper) due(now time.Time, stopping bool) []Event {
	var out []Event
	for _, key := range slices.Sorted(maps.Keys(f.keys)) {
		s := f.keys[key]
		lastChange := time.Time{}
		if n := len(s.changes); n > 0 {
			lastChange = s.changes[n-1]
		}
		quiet := now.Sub(lastChange) >= f.window
		switch {
		case !s.flapping:
			if quiet {
				delete(f.keys, key)
			}
		case quiet || stopping:
			out = append(out, f.summary(s, now, true))
			delete(f.keys, key)
		case now.Sub(s.reported) >= f.window && s.count > 0:
			out = append(out, f.summary(s, now, false))
			s.count, s.reported = 0, now
		}
	}
	return out
}

func (f *flapper) started(e Event) Event {
	return Event{Time: e.Time, Kind: Flapping, Source: e.Source, Subject: e.Subject, ID: e.ID, To: stateOf(e),
		Count: f.after, Since: e.Time,
		Summary: bound(fmt.Sprintf("%s flapping: %d changes in %s, now %s; further changes are counted, not written one by one",
			e.Subject, f.after, duration.Format(f.window), stateOf(e)), maxSummary)}
}

// summary is a "flapped N times" line; settled says the flapping ended.
func (f *flapper) summary(s *flapState, now time.Time, settled bool) Event {
	e := s.last
	state := stateOf(e)
	var what string
	if settled {
		what = fmt.Sprintf("%s flapped %d times from %s to %s UTC, then settled %s",
			e.Subject, s.total, s.began.UTC().Format("15:04:05"), e.Time.UTC().Format("15:04:05"), state)
	} else {
		what = fmt.Sprintf("%s still flapping: %d changes since %s UTC (%d since %s), now %s",
			e.Subject, s.count, s.reported.UTC().Format("15:04:05"), s.total, s.began.UTC().Format("15:04:05"), state)
	}
	return Event{Time: now, Kind: Flapping, Source: e.Source, Subject: e.Subject, ID: e.ID, From: "flapping", To: state,
		Count: s.count, Since: s.began, Severity: e.Severity, Summary: bound(what, maxSummary)}
}
