package record

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"flightdeck/sources"
)

// Detect compares two States and returns the changes between them, sources
// in name order, each source's events in a fixed order (source status,
// alerts, SLOs, rollouts, Postgres). It is pure.
//
// What a source shows the first time it delivers data is not a change: a
// condition already present then (an alert firing, an SLO paging, a blocker)
// is reported once with AtStart set, and calm facts (an ok SLO, a complete
// rollout) are not reported at all.
//
// A scripted world (the demo) that starts its incident over is a change
// too: a ScriptRestarted event comes first, once for all its sources, and
// every change a source shows in its first data of the new run carries
// Actor "demo", so nobody mistakes a revision going back to 41 or a
// blocker vanishing for something a person did.
func Detect(prev, cur State) []Event {
	out := detectRestart(prev, cur)
	for _, name := range sortedKeys(cur.Sources) {
		c := cur.Sources[name]
		p := prev.Sources[name]
		out = append(out, detectSource(name, p, c)...)
		if !c.HasData() || c.DataAt.Equal(p.DataAt) {
			continue
		}
		start := !p.HasData()
		n := len(out)
		out = append(out, detectAlerts(name, p.Alerts, c.Alerts, c.DataAt, start)...)
		out = append(out, detectSLOs(name, p.SLOs, c.SLOs, c.DataAt, start)...)
		out = append(out, detectRollouts(name, p.Deployments, c.Deployments, c.DataAt, start)...)
		out = append(out, detectPG(name, p.PG, c.PG, c.DataAt, c.FirstData, start)...)
		if restarted(p, c) {
			for i := range out[n:] {
				out[n+i].Actor = ActorScript
			}
		}
	}
	return out
}

// restarted reports whether a source's data moved to a later run of its
// scripted world.
func restarted(p, c SourceState) bool {
	return p.HasData() && p.Loop > 0 && c.Loop > p.Loop
}

// detectRestart is the one ScriptRestarted event for a scripted world
// whose sources moved to a later run: at the first of them to show it,
// naming the run and what the restart undid. A recorder that starts
// during a later run records no restart: it saw none.
func detectRestart(prev, cur State) []Event {
	var was, now uint64
	for _, s := range prev.Sources {
		if s.HasData() {
			was = max(was, s.Loop)
		}
	}
	var e *Event
	for _, name := range sortedKeys(cur.Sources) {
		c := cur.Sources[name]
		if !restarted(prev.Sources[name], c) || c.Loop <= was || c.Loop < now {
			continue
		}
		if c.Loop > now || c.DataAt.Before(e.Time) {
			now = c.Loop
			e = &Event{Time: c.DataAt, Kind: ScriptRestarted, Source: ActorScript, Subject: "demo incident",
				Actor: ActorScript, Since: c.LoopSince, Count: int(min(c.Loop, 1<<31)),
				Summary: bound(fmt.Sprintf("demo incident restarted (loop %d): %s", c.Loop, orDash(c.LoopReset)), maxSummary)}
		}
	}
	if e == nil {
		return nil
	}
	return []Event{*e}
}

func detectSource(name string, p, c SourceState) []Event {
	switch {
	case c.Down && !p.Down:
		e := Event{Time: c.DownAt, Kind: SourceDown, Source: name, Subject: name, Error: c.Err,
			AtStart: !p.Seen, Summary: bound(name+" down: "+c.Err, maxSummary)}
		if !p.Seen {
			e.Summary = bound(name+" down when first polled: "+c.Err, maxSummary)
		}
		return []Event{e}
	case !c.Down && p.Down:
		return []Event{{Time: c.DataAt, Kind: SourceUp, Source: name, Subject: name, Since: p.DownAt,
			Summary: fmt.Sprintf("%s back after %s down", name, roundDuration(c.DataAt.Sub(p.DownAt)))}}
	}
	return nil
}

func detectAlerts(src string, prev, cur map[string]AlertFact, at time.Time, start bool) []Event {
	var out []Event
	for _, fp := range sortedKeys(cur) {
		c := cur[fp]
		p, had := prev[fp]
		var kind EventKind
		verb := ""
		switch {
		case start && c.State == sources.AlertFiring:
			kind, verb = AlertFiring, "already firing when first seen"
		case start && c.State == sources.AlertSilenced:
			kind, verb = AlertSilenced, "already silenced when first seen"
		case start:
			continue // pending: not yet anything to record
		case c.State == sources.AlertFiring && (!had || p.State == sources.AlertPending):
			kind, verb = AlertFiring, "firing"
		case c.State == sources.AlertSilenced && (!had || p.State != sources.AlertSilenced):
			kind, verb = AlertSilenced, "silenced"
		case had && p.State == sources.AlertSilenced && c.State != sources.AlertSilenced:
			kind, verb = AlertUnsilenced, "no longer silenced, "+string(c.State)
		default:
			continue
		}
		out = append(out, alertEvent(src, fp, c, kind, verb, at, start))
	}
	for _, fp := range sortedKeys(prev) {
		p := prev[fp]
		if _, still := cur[fp]; still || p.State == sources.AlertPending {
			continue
		}
		e := alertEvent(src, fp, p, AlertResolved, "resolved", at, false)
		e.From, e.To = string(p.State), "resolved"
		if !p.StartsAt.IsZero() && at.After(p.StartsAt) {
			e.Summary = bound(fmt.Sprintf("%s resolved after %s", p.Name, roundDuration(at.Sub(p.StartsAt))), maxSummary)
		}
		out = append(out, e)
	}
	if len(out) > maxAlertBatch {
		// An alert storm is one line per alert up to a point, then a count:
		// the journal stays readable and bounded.
		rest := out[maxAlertBatch:]
		counts := map[EventKind]int{}
		for _, e := range rest {
			counts[e.Kind]++
		}
		out = out[:maxAlertBatch]
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			out = append(out, Event{Time: at, Kind: k, Source: src, Subject: "(more alerts)", Count: counts[k],
				Summary: fmt.Sprintf("and %d more alerts %s", counts[k], strings.TrimPrefix(string(k), "alert_"))})
		}
	}
	return out
}

func alertEvent(src, fp string, a AlertFact, kind EventKind, verb string, at time.Time, start bool) Event {
	s := a.Name + " " + verb
	if a.Severity != "" && kind == AlertFiring {
		s += " (" + a.Severity + ")"
	}
	if a.Summary != "" && kind != AlertResolved {
		s += ": " + a.Summary
	}
	return Event{
		Time: at, Kind: kind, Source: src, Subject: a.Name, ID: fp, AtStart: start,
		Since: a.StartsAt, Severity: a.Severity, Labels: a.Labels, To: string(a.State),
		Summary: bound(s, maxSummary),
	}
}

func detectSLOs(src string, prev, cur map[string]SLOFact, at time.Time, start bool) []Event {
	var out []Event
	for _, name := range sortedKeys(cur) {
		c := cur[name]
		p := prev[name] // absent: SLOUnknown
		if c.Level == sources.SLOUnknown || c.Level == p.Level {
			continue
		}
		if p.Level == sources.SLOUnknown && c.Level == sources.SLOOK {
			continue // the first verdict is calm: nothing happened
		}
		e := Event{Time: at, Kind: SLOLevelChanged, Source: src, Subject: name, AtStart: start,
			From: p.Level.String(), To: c.Level.String(), Burn: c.Burn}
		switch {
		case start:
			e.Summary = fmt.Sprintf("SLO %s already at %s when first seen: %s", name, c.Level, c.Reason)
		case p.Level == sources.SLOUnknown:
			e.Summary = fmt.Sprintf("SLO %s at %s (first verdict): %s", name, c.Level, c.Reason)
		case c.Level == sources.SLOOK:
			e.Summary = fmt.Sprintf("SLO %s %s → ok (burn %s)", name, p.Level, burnSummary(c.Burn))
		default:
			e.Summary = fmt.Sprintf("SLO %s %s → %s: %s", name, p.Level, c.Level, c.Reason)
		}
		e.Summary = bound(e.Summary, maxSummary)
		out = append(out, e)
	}
	return out
}

// burnSummary renders the fast-burn pair, the one a recovery shows first.
func burnSummary(burn map[string]float64) string {
	var parts []string
	for _, w := range []string{"5m", "1h"} {
		if v, ok := burn[w]; ok {
			parts = append(parts, w+" "+sources.FormatBurn(v))
		}
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}

func detectRollouts(src string, prev, cur map[string]DeployFact, at time.Time, start bool) []Event {
	var out []Event
	for _, key := range sortedKeys(cur) {
		c := cur[key]
		p, had := prev[key]
		if start {
			if c.State != sources.RolloutComplete && c.State != "" {
				out = append(out, Event{Time: at, Kind: RolloutState, Source: src, Subject: key, AtStart: true,
					To: string(c.State), Revision: c.Revision, Since: c.RolledOutAt, Images: c.Images,
					Summary: bound(fmt.Sprintf("%s revision %d already %s when first seen%s", key, c.Revision, c.State, detail(c.Message)), maxSummary)})
			}
			continue
		}
		if !had || c.Revision != p.Revision {
			e := Event{Time: at, Kind: RolloutRevision, Source: src, Subject: key, Revision: c.Revision,
				PrevRevision: p.Revision, Since: c.RolledOutAt, Images: c.Images, To: string(c.State)}
			what := fmt.Sprintf("%s revision %d", key, c.Revision)
			switch {
			case !had:
				what += " (new deployment)"
			case c.Revision < p.Revision:
				what += fmt.Sprintf(" (back from %d)", p.Revision)
			default:
				what += fmt.Sprintf(" (was %d)", p.Revision)
			}
			if len(c.Images) > 0 {
				what += ": " + strings.Join(c.Images, ", ")
			}
			if c.ChangeCause != "" {
				what += " — " + c.ChangeCause
			}
			e.Summary = bound(what, maxSummary)
			out = append(out, e)
		}
		if had && c.State != p.State && (c.State == sources.RolloutComplete || c.State == sources.RolloutStalled || c.State == sources.RolloutPaused) {
			e := Event{Time: at, Kind: RolloutState, Source: src, Subject: key, From: string(p.State), To: string(c.State),
				Revision: c.Revision, Since: c.RolledOutAt}
			e.Summary = fmt.Sprintf("%s revision %d rollout %s", key, c.Revision, c.State)
			if c.State == sources.RolloutComplete && !c.RolledOutAt.IsZero() && at.After(c.RolledOutAt) {
				e.Summary += " after " + roundDuration(at.Sub(c.RolledOutAt))
			}
			e.Summary = bound(e.Summary+detail(c.Message), maxSummary)
			out = append(out, e)
		}
	}
	return out
}

func detail(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func detectPG(src string, p, c *PGFact, at, firstData time.Time, start bool) []Event {
	if c == nil {
		return nil
	}
	var out []Event
	wasHigh := p != nil && p.High
	pct := func(f *PGFact) string {
		return fmt.Sprintf("%d/%d (%.0f%%)", f.Used, f.Usable, 100*float64(f.Used)/float64(f.Usable))
	}
	switch {
	case c.High && !wasHigh:
		s := "connections " + pct(c) + " of usable on " + src
		if start {
			s += ", already high when first seen"
		}
		out = append(out, Event{Time: at, Kind: ConnectionsHigh, Source: src, Subject: src, AtStart: start,
			Used: c.Used, Usable: c.Usable, Summary: s})
	case !c.High && wasHigh && c.Usable > 0:
		out = append(out, Event{Time: at, Kind: ConnectionsNormal, Source: src, Subject: src,
			Used: c.Used, Usable: c.Usable, Summary: "connections back to " + pct(c) + " of usable on " + src})
	}
	for _, key := range sortedKeys(c.Blockers) {
		b := c.Blockers[key]
		if !b.Confirmed {
			continue
		}
		if p != nil && p.Blockers[key].Confirmed {
			continue
		}
		e := Event{Time: at, Kind: BlockerAppeared, Source: src, Subject: fmt.Sprintf("pid %d", b.PID), ID: key,
			PID: b.PID, Waiters: b.Waiters, Since: b.FirstSeen, AtStart: b.FirstSeen.Equal(firstData)}
		who := strings.TrimSpace(strings.Join(nonEmpty(b.User, b.App), " "))
		s := fmt.Sprintf("root blocker pid %d", b.PID)
		if who != "" {
			s += " (" + who + ")"
		}
		s += fmt.Sprintf(" blocks %d", b.Waiters)
		if e.AtStart {
			s += ", already when first seen"
		}
		if b.State != "" {
			s += "; " + b.State
		}
		if b.Query != "" {
			s += ": " + b.Query
		}
		e.Summary = bound(s, maxSummary)
		out = append(out, e)
	}
	if p != nil {
		for _, key := range sortedKeys(p.Blockers) {
			b := p.Blockers[key]
			if !b.Confirmed {
				continue
			}
			if _, still := c.Blockers[key]; still {
				continue
			}
			out = append(out, Event{Time: at, Kind: BlockerCleared, Source: src, Subject: fmt.Sprintf("pid %d", b.PID), ID: key,
				PID: b.PID, Since: b.FirstSeen,
				Summary: fmt.Sprintf("root blocker pid %d gone after %s", b.PID, roundDuration(at.Sub(b.FirstSeen)))})
		}
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// roundDuration renders a duration for people: 45s, 4m10s, 2h05m — the
// cockpit's format (ui/kit.Dur), seconds and minutes padded, so a
// timeline's offsets and the durations on screen read alike.
func roundDuration(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		m, s := d/time.Minute, d%time.Minute/time.Second
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	d = d.Round(time.Minute)
	h, m := d/time.Hour, d%time.Hour/time.Minute
	if m == 0 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
