package kit

import (
	"time"

	"flightdeck/internal/duration"
	"flightdeck/sources"
)

// Feeds keeps the latest snapshot of each source feeding one pane; several
// sources of one kind (Postgres databases, clusters) are switched with
// [ and ].
type Feeds struct {
	snaps map[string]sources.Snapshot
	order []string
	cur   int
}

// Set keeps s as its source's latest snapshot.
func (f *Feeds) Set(s sources.Snapshot) {
	if f.snaps == nil {
		f.snaps = map[string]sources.Snapshot{}
	}
	if _, ok := f.snaps[s.Source]; !ok {
		f.order = append(f.order, s.Source)
	}
	f.snaps[s.Source] = s
}

// Current is the snapshot of the source shown; ok is false before any.
func (f *Feeds) Current() (sources.Snapshot, bool) {
	if len(f.order) == 0 {
		return sources.Snapshot{}, false
	}
	return f.snaps[f.order[f.cur]], true
}

// Name is the source shown, "" before any.
func (f *Feeds) Name() string {
	if len(f.order) == 0 {
		return ""
	}
	return f.order[f.cur]
}

// Step shows the next (d=1) or previous (d=-1) source; it reports whether
// there was another one to show.
func (f *Feeds) Step(d int) bool {
	if len(f.order) < 2 {
		return false
	}
	f.cur = (f.cur + d + len(f.order)) % len(f.order)
	return true
}

// Position is the shown source's place, from 1, and how many there are.
func (f *Feeds) Position() (cur, n int) { return f.cur + 1, len(f.order) }

// Notice describes a feed's health for a pane's body: waiting, an error
// without data, or an error with stale data (then dim: the rows are drawn
// dimmed). hasData says whether there is anything to draw.
func Notice(env *Env, s sources.Snapshot, ok bool, what string) (notice []string, dim, hasData bool) {
	p := env.Theme.Paints
	if !ok {
		return []string{p.Muted.Render("waiting for " + what + "…")}, false, false
	}
	if s.Data == nil {
		if s.Err != nil {
			return []string{p.Error.Render(s.Source + ": " + s.Err.Error())}, false, false
		}
		return []string{p.Muted.Render(waiting(env, s))}, false, false
	}
	if s.Err != nil || s.Stale {
		msg := "stale"
		if s.Err != nil {
			msg = s.Err.Error()
		}
		return []string{p.Error.Render("ERR " + msg + " — showing data from " + Age(s.Age(env.now)) + " ago")}, true, true
	}
	return nil, false, true
}

// waiting is the notice of a source that has not answered yet: for how
// long, counted from when the Hub began polling it (the same for every
// session, however late it joined), and the fetch's timeout when there is
// one: "waiting for prom… 23s (timeout 1m)".
func waiting(env *Env, s sources.Snapshot) string {
	msg := "waiting for " + s.Source + "…"
	if s.PollingSince.IsZero() {
		return msg
	}
	msg += " " + Dur(env.now.Sub(s.PollingSince))
	if s.Timeout > 0 {
		msg += " (timeout " + duration.Format(s.Timeout) + ")"
	}
	return msg
}

// FeedTitle is the data-age part of a pane title: "pg main 3s", "prom ERR
// 31s", or only "pg main" while its polls are on time (the age would change
// every second between polls and say nothing).
func FeedTitle(env *Env, s sources.Snapshot, ok bool) string {
	if !ok {
		return "…"
	}
	if s.OnTime(env.now) {
		return s.Source
	}
	if s.Err != nil {
		return s.Source + " ERR " + DataAge(env.now, s)
	}
	return s.Source + " " + DataAge(env.now, s)
}

// DataAge is how old s's data is at now, "-" before there is any: the age
// every title and the status bar show.
func DataAge(now time.Time, s sources.Snapshot) string {
	if s.FetchedAt.IsZero() {
		return "-"
	}
	return Age(s.Age(now))
}
