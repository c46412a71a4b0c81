package sources

import (
	"strconv"
	"strings"
	"time"

	"flightdeck/internal/duration"
)

// BackendFilter is the parsed Postgres filter language, shared by the
// Postgres pane's `/` prompt and runbook steps, so "the backends matching
// state:!idle >10m" means the same rows in both. Every token must hold
// (AND): free text matches pid/user/app/state/query/client as a
// case-insensitive substring; user:, app:, db:, state:, wait: narrow one
// field and a leading ! negates (state:!idle); >10m or dur>10m keeps
// backends older than that (see Backend.Since); blocking and blocked keep the
// two sides of a lock pile-up; qid:N keeps the backends running the
// statement whose pg_stat_statements queryid is N; sort:KEY asks the view for an order and does
// not narrow.
type BackendFilter struct {
	text                []string
	user, app, db, wait []fieldMatch
	state               []fieldMatch
	// OlderThan keeps backends whose Since is more than this long ago.
	OlderThan         time.Duration
	blocking, blocked bool
	// QueryID keeps backends whose QueryID it is (qid:N); 0 for any.
	QueryID int64
	// Sort is the sort:KEY token's key ("" when absent); the filter itself
	// does not order rows.
	Sort string
}

// fieldMatch is one field token: a substring (or exact state), maybe negated.
type fieldMatch struct {
	val string
	neg bool
}

// Empty reports whether the filter keeps every backend.
func (f BackendFilter) Empty() bool {
	return len(f.text)+len(f.user)+len(f.app)+len(f.db)+len(f.wait)+len(f.state) == 0 &&
		f.OlderThan == 0 && !f.blocking && !f.blocked && f.QueryID == 0
}

// stateAliases lets people type what they say out loud at 3 a.m.
var stateAliases = map[string]string{
	"idle-in-tx": "idle in transaction", "idle-tx": "idle in transaction", "iit": "idle in transaction",
	"idle-in-transaction": "idle in transaction", "aborted": "idle in transaction (aborted)",
}

// ParseBackendFilter parses the filter language; it never fails: a token it
// does not understand is free text.
func ParseBackendFilter(s string) BackendFilter {
	var f BackendFilter
	for _, tok := range strings.Fields(strings.ToLower(s)) {
		name, val, hasColon := strings.Cut(tok, ":")
		switch {
		case tok == "blocking":
			f.blocking = true
			continue
		case tok == "blocked":
			f.blocked = true
			continue
		case strings.HasPrefix(tok, ">") || strings.HasPrefix(tok, "dur>"):
			if d, err := duration.Parse(strings.TrimPrefix(strings.TrimPrefix(tok, "dur"), ">")); err == nil {
				f.OlderThan = d
				continue
			}
		case hasColon && val != "" && val != "!":
			neg := strings.HasPrefix(val, "!")
			fm := fieldMatch{val: strings.TrimPrefix(val, "!"), neg: neg}
			switch name {
			case "user":
				f.user = append(f.user, fm)
				continue
			case "app":
				f.app = append(f.app, fm)
				continue
			case "db":
				f.db = append(f.db, fm)
				continue
			case "wait":
				f.wait = append(f.wait, fm)
				continue
			case "state":
				if a, ok := stateAliases[fm.val]; ok {
					fm.val = a
				} else {
					fm.val = strings.ReplaceAll(fm.val, "-", " ")
				}
				f.state = append(f.state, fm)
				continue
			case "sort":
				f.Sort = fm.val
				continue
			case "qid":
				if id, err := strconv.ParseInt(val, 10, 64); err == nil && id != 0 {
					f.QueryID = id
					continue
				}
			}
		}
		f.text = append(f.text, tok)
	}
	return f
}

func containsFold(hay, needle string) bool {
	return strings.Contains(strings.ToLower(hay), needle)
}

func (m fieldMatch) holds(hay string) bool { return containsFold(hay, m.val) != m.neg }

// stateHolds compares states exactly, except that a prefix such as "idle in
// transaction" also covers "(aborted)"; plain "idle" never covers
// "idle in transaction".
func (m fieldMatch) stateHolds(state string) bool {
	st := strings.ToLower(state)
	eq := st == m.val || (m.val != "idle" && strings.HasPrefix(st, m.val))
	return eq != m.neg
}

// Match reports whether b passes. age is how long ago b.Since() was on the
// server's clock; blocking and blocked say whether b blocks another backend
// or waits on one.
func (f BackendFilter) Match(b *Backend, age time.Duration, blocking, blocked bool) bool {
	if f.blocking && !blocking || f.blocked && !blocked {
		return false
	}
	if f.OlderThan > 0 && age <= f.OlderThan {
		return false
	}
	if f.QueryID != 0 && b.QueryID != f.QueryID {
		return false
	}
	for _, m := range f.user {
		if !m.holds(b.User) {
			return false
		}
	}
	for _, m := range f.app {
		if !m.holds(b.Application) {
			return false
		}
	}
	for _, m := range f.db {
		if !m.holds(b.Database) {
			return false
		}
	}
	for _, m := range f.wait {
		if !m.holds(b.WaitType + ":" + b.WaitEvent) {
			return false
		}
	}
	for _, m := range f.state {
		if !m.stateHolds(b.State) {
			return false
		}
	}
	for _, t := range f.text {
		if !(strings.Contains(strconv.Itoa(int(b.PID)), t) || containsFold(b.User, t) || containsFold(b.Application, t) ||
			containsFold(b.State, t) || containsFold(b.Query, t) || containsFold(b.ClientAddr, t)) {
			return false
		}
	}
	return true
}

// Since is when the duration that matters for b started: the transaction
// for idle in transaction (that is what holds locks and bloats), the query
// when active, else the last state change.
func (b *Backend) Since() time.Time {
	switch {
	case strings.HasPrefix(b.State, "idle in transaction"):
		if !b.XactStart.IsZero() {
			return b.XactStart
		}
	case b.State == "active":
		return b.QueryStart
	}
	if !b.StateChange.IsZero() {
		return b.StateChange
	}
	return b.QueryStart
}

// Blockers returns the pids that block at least one other backend.
func (p *PGActivity) Blockers() map[int32]bool {
	out := map[int32]bool{}
	for i := range p.Backends {
		for _, by := range p.Backends[i].BlockedBy {
			out[by] = true
		}
	}
	return out
}

// Select returns the client backends that pass f, in snapshot order, with
// ages measured on the server's clock at the snapshot (p.Now), so a skewed
// bastion clock cannot change which backends a runbook step targets.
func (p *PGActivity) Select(f BackendFilter) []Backend {
	now := p.Now
	blocking := p.Blockers()
	var out []Backend
	for i := range p.Backends {
		b := &p.Backends[i]
		if !b.IsClient() {
			continue
		}
		if !f.Empty() && !f.Match(b, now.Sub(b.Since()), blocking[b.PID], len(b.BlockedBy) > 0) {
			continue
		}
		out = append(out, *b)
	}
	return out
}
