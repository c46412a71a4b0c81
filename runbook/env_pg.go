package runbook

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"flightdeck/sources"
)

// PGViews are the Postgres views a runbook can read: pg_stat_statements,
// replication and slots, table statistics. A view is read by its source
// only while something looks at it, so calling one of these wants it
// (sources.ViewWants) and, until its first reading arrives, makes the
// expression unknown rather than false.
type PGViews struct {
	// Statement is the statement whose text contains text (the one with
	// the most total time when several do), or whose queryid it is.
	Statement func(text string) Statement `expr:"statement"`
	// Statements lists every statement read, most total time first;
	// SlowStatements those with a mean over the manual's 100 ms, slowest
	// mean first.
	Statements     func() []Statement `expr:"statements"`
	SlowStatements func() []Statement `expr:"slow_statements"`
	// Replication is the standby or logical walsender whose
	// application_name (or client address) is name on a primary, the
	// subscription called name on a subscriber, or on a standby its own
	// receiver (name "" or "receiver").
	Replication func(name string) Replica `expr:"replication"`
	// Replicas lists the walsenders (a primary's standbys and logical
	// consumers).
	Replicas func() []Replica `expr:"replicas"`
	// Slot is the replication slot called name; Slots lists them.
	Slot  func(name string) Slot `expr:"slot"`
	Slots func() []Slot          `expr:"slots"`
	// Table is the table "schema.name" (or "name" when one schema has
	// it); Tables lists them, most dead tuples first.
	Table  func(name string) Table `expr:"table"`
	Tables func() []Table          `expr:"tables"`
}

// Statement is one pg_stat_statements row as expressions see it. Times
// are milliseconds.
type Statement struct {
	QueryID  int     `expr:"queryid"`
	Query    string  `expr:"query"`
	User     string  `expr:"user"`
	Calls    int     `expr:"calls"`
	MeanMs   float64 `expr:"mean_ms"`
	MaxMs    float64 `expr:"max_ms"`
	TotalMs  float64 `expr:"total_ms"`
	Rows     int     `expr:"rows"`
	Slow     bool    `expr:"slow"` // mean over 100 ms
	CallsSec float64 `expr:"calls_per_sec"`
	// RecentMeanMs is the mean of the calls between the last two readings
	// (what a fix changes first); NaN when none ran.
	RecentMeanMs float64 `expr:"recent_mean_ms"`
	// Running counts the backends running it now.
	Running int `expr:"running"`
}

// Replica is one replication link as expressions see it.
type Replica struct {
	Name  string `expr:"name"`
	Kind  string `expr:"kind"` // standby, receiver, subscription
	State string `expr:"state"`
	// LagBytes is WAL not yet replayed (NaN when the link does not say);
	// LagSeconds the replay lag in time (NaN when unknown).
	LagBytes   float64 `expr:"lag_bytes"`
	LagSeconds float64 `expr:"lag_seconds"`
	Paused     bool    `expr:"paused"` // a standby's replay is paused
}

// Slot is one replication slot as expressions see it.
type Slot struct {
	Name          string `expr:"name"`
	Type          string `expr:"type"`
	Active        bool   `expr:"active"`
	RetainedBytes int    `expr:"retained_bytes"`
	WALStatus     string `expr:"wal_status"`
}

// Table is one table's statistics as expressions see it.
type Table struct {
	Name      string  `expr:"name"` // schema.name
	Live      int     `expr:"live"`
	Dead      int     `expr:"dead"`
	DeadRatio float64 `expr:"dead_ratio"`
	// VacuumAgo and AnalyzeAgo are since the last manual or automatic
	// run; a day's worth of years when never.
	VacuumAgo  time.Duration `expr:"vacuum_ago"`
	AnalyzeAgo time.Duration `expr:"analyze_ago"`
}

// wantFor keeps a view wanted between evaluations of a runbook step.
const wantFor = 30 * time.Second

// never is the age of something that never happened.
const never = 100 * 365 * 24 * time.Hour

func pgViewsEnv(p *sources.PGActivity, source string, now time.Time) PGViews {
	vs := p.Views
	if vs == nil {
		vs = &sources.PGViews{}
	}
	// need wants view and makes the expression unknown until it is read.
	need := func(view sources.PGView, read bool, err string) {
		sources.ViewWants.Want(source, view, time.Now().Add(wantFor))
		if !read {
			panic(&missing{fmt.Sprintf("%s: the %s view has not been read yet", source, view)})
		}
		if err != "" {
			panic(&missing{fmt.Sprintf("%s: %s", source, err)})
		}
	}
	stmts := func() []Statement {
		st := vs.Statements
		need(sources.PGViewStatements, st != nil, errOf(st, func(s *sources.PGStatements) string { return s.Err }))
		running := map[int64]int{}
		for _, b := range p.Backends {
			if b.QueryID != 0 && b.State == "active" {
				running[b.QueryID]++
			}
		}
		out := make([]Statement, len(st.Statements))
		for i, s := range st.Statements {
			recent := math.NaN()
			if s.HasRates && s.CallsPerSec > 0 {
				recent = s.MsPerSec / s.CallsPerSec
			}
			out[i] = Statement{QueryID: int(s.QueryID), Query: s.Query, User: s.User, Calls: int(s.Calls), MeanMs: s.MeanMs,
				MaxMs: s.MaxMs, TotalMs: s.TotalMs, Rows: int(s.Rows), Slow: s.Slow(), CallsSec: s.CallsPerSec,
				RecentMeanMs: recent, Running: running[s.QueryID]}
		}
		return out
	}
	replicas := func() []Replica {
		r := vs.Replication
		need(sources.PGViewReplication, r != nil, errOf(r, func(r *sources.PGReplication) string { return r.Err }))
		var out []Replica
		for _, w := range r.Senders {
			out = append(out, Replica{Name: w.Application, Kind: "standby", State: w.State, LagBytes: float64(w.ReplayLagBytes),
				LagSeconds: w.ReplayLag.Seconds()})
		}
		return out
	}
	slots := func() []Slot {
		r := vs.Replication
		need(sources.PGViewReplication, r != nil, errOf(r, func(r *sources.PGReplication) string { return r.Err }))
		out := make([]Slot, len(r.Slots))
		for i, s := range r.Slots {
			out[i] = Slot{Name: s.Name, Type: s.Type, Active: s.Active, RetainedBytes: int(s.RetainedBytes), WALStatus: s.WALStatus}
		}
		return out
	}
	tables := func() []Table {
		t := vs.Tables
		need(sources.PGViewTables, t != nil, errOf(t, func(t *sources.PGTables) string { return t.Err }))
		at := now
		if !t.At.IsZero() {
			at = t.At
		}
		ago := func(a, b time.Time) time.Duration {
			if b.After(a) {
				a = b
			}
			if a.IsZero() {
				return never
			}
			return nonNeg(at.Sub(a))
		}
		out := make([]Table, len(t.Tables))
		for i, x := range t.Tables {
			out[i] = Table{Name: x.QualifiedName(), Live: int(x.Live), Dead: int(x.Dead), DeadRatio: x.DeadRatio(),
				VacuumAgo: ago(x.LastVacuum, x.LastAutovacuum), AnalyzeAgo: ago(x.LastAnalyze, x.LastAutoanalyze)}
		}
		return out
	}
	return PGViews{
		Statements: stmts,
		SlowStatements: func() []Statement {
			var out []Statement
			for _, s := range stmts() {
				if s.Slow {
					out = append(out, s)
				}
			}
			sort.SliceStable(out, func(i, j int) bool { return out[i].MeanMs > out[j].MeanMs })
			return out
		},
		Statement: func(text string) Statement {
			var best *Statement
			all := stmts()
			for i := range all {
				s := &all[i]
				if (strings.Contains(strings.ToLower(s.Query), strings.ToLower(text)) || fmt.Sprint(s.QueryID) == text) &&
					(best == nil || s.TotalMs > best.TotalMs) {
					best = s
				}
			}
			if best == nil {
				panic(&missing{fmt.Sprintf("no statement matching %q in pg_stat_statements", text)})
			}
			return *best
		},
		Replicas: replicas,
		Replication: func(name string) Replica {
			r := vs.Replication
			need(sources.PGViewReplication, r != nil, errOf(r, func(r *sources.PGReplication) string { return r.Err }))
			if x := r.Receiver; x != nil && (name == "" || name == "receiver" || name == x.SenderHost) {
				return Replica{Name: x.SenderHost, Kind: "receiver", State: x.Status, LagBytes: float64(x.ReplayLagBytes),
					LagSeconds: x.ReplayDelay.Seconds(), Paused: x.ReplayPaused}
			}
			for _, w := range r.Senders {
				if w.Application == name || w.ClientAddr == name {
					return Replica{Name: w.Application, Kind: "standby", State: w.State, LagBytes: float64(w.ReplayLagBytes),
						LagSeconds: w.ReplayLag.Seconds()}
				}
			}
			for _, s := range r.Subscriptions {
				if s.Name == name {
					state := "running"
					if s.PID == 0 {
						state = "stopped"
					}
					return Replica{Name: s.Name, Kind: "subscription", State: state, LagBytes: math.NaN(), LagSeconds: s.Delay.Seconds()}
				}
			}
			panic(&missing{fmt.Sprintf("%s has no replication link %q", source, name)})
		},
		Slots: slots,
		Slot: func(name string) Slot {
			for _, s := range slots() {
				if s.Name == name {
					return s
				}
			}
			panic(&missing{fmt.Sprintf("%s has no replication slot %q", source, name)})
		},
		Tables: tables,
		Table: func(name string) Table {
			var found []Table
			for _, t := range tables() {
				if t.Name == name || strings.HasSuffix(t.Name, "."+name) {
					found = append(found, t)
				}
			}
			switch len(found) {
			case 0:
				panic(&missing{fmt.Sprintf("%s: no table %q among those read", source, name)})
			case 1:
				return found[0]
			}
			panic(&missing{fmt.Sprintf("%s: table %q is in several schemas: say schema.%s", source, name, name)})
		},
	}
}

// errOf is a view's error, "" when it has none or was not read.
func errOf[T any](v *T, f func(*T) string) string {
	if v == nil {
		return ""
	}
	return f(v)
}
