package postgres

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"flightdeck/internal/bytesize"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// viewTable is the shown view's table layout.
func (p *Pane) viewTable() *kit.Table {
	if p.vtables == nil {
		p.vtables = map[sources.PGView]*kit.Table{}
	}
	t := p.vtables[p.mode()]
	if t == nil {
		t = newViewTable(p.mode())
		p.vtables[p.mode()] = t
	}
	return t
}

// Columns of the views. Each table's last column takes what is left; the
// Show steps drop the least needed first in a narrow pane.
var (
	stmtCols = []kit.Col{
		{Title: "CALLS", W: 8, Right: true}, {Title: "CALLS/S", W: 7, Gap: 1, Right: true},
		{Title: "MEAN", W: 8, Gap: 1, Right: true}, {Title: "MAX", W: 8, Gap: 1, Right: true},
		{Title: "TOTAL", W: 8, Gap: 1, Right: true}, {Title: "MS/S", W: 7, Gap: 1, Right: true},
		{Title: "ROWS", W: 8, Gap: 1, Right: true}, {Title: "HIT%", W: 5, Gap: 1, Right: true},
		{Title: "READ", W: 7, Gap: 1, Right: true}, {Title: "TEMP", W: 7, Gap: 1, Right: true},
		{Title: "USER", W: 10, Gap: 1}, {Title: "QUERY", W: 20, Gap: 1},
	}
	stmtSteps = []kit.Step{{Kind: kit.Show, Col: 4}, {Kind: kit.Show, Col: 1}, {Kind: kit.Show, Col: 5},
		{Kind: kit.Show, Col: 3}, {Kind: kit.Show, Col: 6}, {Kind: kit.Show, Col: 7}, {Kind: kit.Show, Col: 8},
		{Kind: kit.Show, Col: 9}, {Kind: kit.Show, Col: 10}}
	replCols = []kit.Col{
		{Title: "KIND", W: 8}, {Title: "NAME", W: 22, Gap: 1, Cut: kit.KeepEnds}, {Title: "STATE", W: 18, Gap: 1},
		{Title: "LAG BYTES", W: 10, Gap: 1, Right: true}, {Title: "LAG TIME", W: 8, Gap: 1, Right: true},
		{Title: "DETAIL", W: 10, Gap: 1},
	}
	tabCols = []kit.Col{
		{Title: "TABLE", W: 24, Gap: 0, Cut: kit.KeepEnds}, {Title: "LIVE", W: 9, Gap: 1, Right: true},
		{Title: "DEAD", W: 9, Gap: 1, Right: true}, {Title: "DEAD%", W: 6, Gap: 1, Right: true},
		{Title: "~SIZE", W: 7, Gap: 1, Right: true}, {Title: "VACUUMED", W: 11, Gap: 1},
		{Title: "ANALYZED", W: 11, Gap: 1}, {Title: "SEQ", W: 8, Gap: 1, Right: true}, {Title: "IDX", W: 8, Gap: 1, Right: true},
	}
	tabSteps = []kit.Step{{Kind: kit.Show, Col: 5}, {Kind: kit.Show, Col: 6}, {Kind: kit.Show, Col: 4},
		{Kind: kit.Show, Col: 7}, {Kind: kit.Show, Col: 8}}
	idxCols = []kit.Col{
		{Title: "INDEX", W: 24, Cut: kit.KeepEnds}, {Title: "TABLE", W: 18, Gap: 1, Cut: kit.KeepEnds},
		{Title: "SCANS", W: 9, Gap: 1, Right: true}, {Title: "TUP READ", W: 9, Gap: 1, Right: true},
		{Title: "~SIZE", W: 7, Gap: 1, Right: true}, {Title: "NOTE", W: 8, Gap: 1},
	}
	idxSteps = []kit.Step{{Kind: kit.Show, Col: 1}, {Kind: kit.Show, Col: 3}}
	dbCols   = []kit.Col{
		{Title: "DATABASE", W: 18, Cut: kit.KeepEnds}, {Title: "BACKENDS", W: 8, Gap: 1, Right: true},
		{Title: "OF MAX", W: 6, Gap: 1, Right: true}, {Title: "LIMIT", W: 5, Gap: 1, Right: true},
		{Title: "COMMITS", W: 10, Gap: 1, Right: true}, {Title: "ROLLBACKS", W: 9, Gap: 1, Right: true},
		{Title: "HIT%", W: 6, Gap: 1, Right: true}, {Title: "DEADLOCKS", W: 9, Gap: 1, Right: true},
		{Title: "TEMP", W: 7, Gap: 1, Right: true},
	}
	dbSteps = []kit.Step{{Kind: kit.Show, Col: 6}, {Kind: kit.Show, Col: 7}, {Kind: kit.Show, Col: 8},
		{Kind: kit.Show, Col: 5}, {Kind: kit.Show, Col: 4}, {Kind: kit.Show, Col: 3}}
	progCols = []kit.Col{
		{Title: "COMMAND", W: 14}, {Title: "PID", W: 7, Gap: 1, Right: true}, {Title: "DATABASE", W: 12, Gap: 1},
		{Title: "RELATION", W: 20, Gap: 1, Cut: kit.KeepEnds}, {Title: "DONE", W: 6, Gap: 1, Right: true},
		{Title: "PHASE", W: 10, Gap: 1},
	}
	progSteps = []kit.Step{{Kind: kit.Show, Col: 2}}
)

func newViewTable(v sources.PGView) *kit.Table {
	var cols []kit.Col
	var steps []kit.Step
	switch v {
	case sources.PGViewStatements:
		cols, steps = stmtCols, stmtSteps
	case sources.PGViewReplication:
		cols = replCols
	case sources.PGViewTables:
		cols, steps = tabCols, tabSteps
	case sources.PGViewIndexes:
		cols, steps = idxCols, idxSteps
	case sources.PGViewDatabases:
		cols, steps = dbCols, dbSteps
	default:
		cols, steps = progCols, progSteps
	}
	fill := len(cols) - 1
	if v == sources.PGViewTables || v == sources.PGViewDatabases {
		fill = -1 // all figures: the row ends where they do
	}
	return &kit.Table{Cols: cols, Steps: steps, Fill: fill}
}

// viewRow draws row i of the shown view.
func (p *Pane) viewRow(v *feedView, vs *sources.PGViews, i int, now time.Time, whole *themes.Paint) string {
	th := &p.Env.Theme
	t := p.viewTable()
	c := t.Cells()
	base := &th.Paints.Base
	r := &v.rows
	switch p.mode() {
	case sources.PGViewStatements:
		s := &vs.Statements.Statements[r.stmt[i]]
		c[0].Text = count(s.Calls)
		if s.HasRates {
			c[1].Text = rate(s.CallsPerSec)
			c[5].Text = strconv.FormatFloat(s.MsPerSec, 'f', 0, 64)
		}
		c[2].Text, c[3].Text, c[4].Text = ms(s.MeanMs), ms(s.MaxMs), ms(s.TotalMs)
		c[6].Text = count(s.Rows)
		if s.SharedHit+s.SharedRead > 0 {
			c[7].Text = strconv.FormatFloat(100*float64(s.SharedHit)/float64(s.SharedHit+s.SharedRead), 'f', 1, 64)
		}
		c[8].Text, c[9].Text = count(s.SharedRead), count(s.TempRead+s.TempWritten)
		c[10].Text, c[11].Text = s.User, s.Query
		if s.Slow() {
			base = &th.Paints.Warn
			c[2].Paint = &th.Paints.Crit
		}
	case sources.PGViewReplication:
		p.replRow(c, vs.Replication, r.repl[i], &base)
	case sources.PGViewTables:
		x := &vs.Tables.Tables[r.tabs[i]]
		c[0].Text, c[0].ID = x.QualifiedName(), strconv.FormatUint(uint64(x.RelID), 10)
		c[1].Text, c[2].Text = count(x.Live), count(x.Dead)
		ratio := x.DeadRatio()
		c[3].Text = strconv.FormatFloat(100*ratio, 'f', 1, 64)
		switch {
		case ratio >= sources.DeadRatioCrit && x.Dead > sources.DeadTuplesMin:
			c[3].Paint = &th.Paints.Crit
		case ratio >= sources.DeadRatioWarn && x.Dead > sources.DeadTuplesMin:
			c[3].Paint = &th.Paints.Warn
		}
		c[4].Text = bytesize.Compact(x.SizeBytes)
		c[5].Text = lastOf(now, x.LastVacuum, x.LastAutovacuum)
		c[6].Text = lastOf(now, x.LastAnalyze, x.LastAutoanalyze)
		c[7].Text, c[8].Text = count(x.SeqScan), count(x.IdxScan)
	case sources.PGViewIndexes:
		x := &vs.Indexes.Indexes[r.idxs[i]]
		c[0].Text, c[1].Text = x.Name, x.Schema+"."+x.Table
		c[2].Text, c[3].Text, c[4].Text = count(x.Scans), count(x.TupRead), bytesize.Compact(x.SizeBytes)
		switch {
		case x.Unused():
			c[5].Text, c[5].Paint = "unused", &th.Paints.Warn
		case x.Unique:
			c[5].Text = "unique"
		}
	case sources.PGViewDatabases:
		d := &vs.Databases.Databases[r.dbs[i]]
		c[0].Text, c[1].Text = d.Name, strconv.Itoa(d.Backends)
		if m := vs.Databases.MaxConnections; m > 0 {
			ratio := float64(d.Backends) / float64(m)
			c[2].Text = kit.Pct(ratio, 1)
			switch {
			case ratio >= sources.DBConnectionsCriticalRatio:
				c[2].Paint = &th.Paints.Crit
			case ratio >= sources.DBConnectionsWarnRatio:
				c[2].Paint = &th.Paints.Warn
			}
		}
		if d.ConnLimit >= 0 {
			c[3].Text = strconv.Itoa(d.ConnLimit)
		}
		c[4].Text, c[5].Text = count(d.Commits), count(d.Rollbacks)
		if d.BlksHit+d.BlksRead > 0 {
			c[6].Text = strconv.FormatFloat(100*float64(d.BlksHit)/float64(d.BlksHit+d.BlksRead), 'f', 1, 64)
		}
		c[7].Text, c[8].Text = count(d.Deadlocks), bytesize.Compact(d.TempBytes)
	case sources.PGViewProgress:
		o := &vs.Progress.Ops[r.prog[i]]
		c[0].Text, c[1].Text, c[2].Text, c[3].Text = o.Command, strconv.Itoa(int(o.PID)), o.Database, o.Relation
		if o.Total > 0 {
			c[4].Text = kit.Pct(float64(o.Done)/float64(o.Total), 0)
		}
		c[5].Text = o.Phase
	}
	if whole != nil {
		return t.Row(c, whole, nil)
	}
	return t.Row(c, nil, base)
}

// replRow fills the cells of one replication item.
func (p *Pane) replRow(c []kit.Cell, rp *sources.PGReplication, it replItem, base **themes.Paint) {
	th := &p.Env.Theme
	switch it.kind {
	case 's':
		w := &rp.Senders[it.i]
		c[0].Text = "standby"
		if slotOf(rp, w.PID).Type == "logical" {
			c[0].Text = "logical"
		}
		c[1].Text, c[2].Text = w.Application, w.State+" "+w.SyncState
		c[3].Text, c[4].Text = bytesize.Compact(w.ReplayLagBytes), lag(w.ReplayLag)
		c[5].Text = fmt.Sprintf("write %s/%s flush %s/%s sent %s replay %s %s", bytesize.Compact(w.WriteLagBytes), lag(w.WriteLag),
			bytesize.Compact(w.FlushLagBytes), lag(w.FlushLag), w.SentLSN, w.ReplayLSN, w.ClientAddr)
		if w.ReplayLagBytes >= sources.ReplicationLagWarnBytes {
			*base = &th.Paints.Warn
		}
	case 'r':
		x := rp.Receiver
		c[0].Text, c[1].Text = "receiver", x.SenderHost+":"+strconv.Itoa(x.SenderPort)
		c[2].Text = x.Status
		if x.ReplayPaused {
			c[2].Text += " paused"
			*base = &th.Paints.Warn
		}
		c[3].Text, c[4].Text = bytesize.Compact(x.ReplayLagBytes), lag(x.ReplayDelay)
		c[5].Text = "received " + x.ReceivedLSN + " replayed " + x.ReplayLSN
	case 'u':
		s := &rp.Subscriptions[it.i]
		c[0].Text, c[1].Text = "sub", s.Name
		c[2].Text = "running"
		if s.PID == 0 {
			c[2].Text, *base = "stopped", &th.Paints.Crit
		}
		c[4].Text = lag(s.Delay)
		c[5].Text = "received " + s.ReceivedLSN + " confirmed " + s.LatestEnd
	case 'l':
		s := &rp.Slots[it.i]
		c[0].Text, c[1].Text = "slot", s.Name
		c[2].Text = "active"
		if !s.Active {
			c[2].Text = "inactive"
			*base = &th.Paints.Warn
			if s.RetainedBytes >= sources.SlotRetainedCritBytes {
				*base = &th.Paints.Crit
			}
		}
		if s.WALStatus != "" {
			c[2].Text += " " + s.WALStatus
		}
		c[3].Text = bytesize.Compact(s.RetainedBytes)
		c[5].Text = strings.TrimSpace(s.Type + " " + s.Plugin + " " + s.Database + " restart " + s.RestartLSN)
	}
}

// slotOf is the slot whose walsender is pid (zero value when none).
func slotOf(rp *sources.PGReplication, pid int32) sources.ReplicationSlot {
	for _, s := range rp.Slots {
		if s.Active && s.ActivePID == pid {
			return s
		}
	}
	return sources.ReplicationSlot{}
}

// lastOf is the age of the later of a manual and an automatic run, the
// automatic one marked "(a)"; "never" when neither ran.
func lastOf(now, manual, auto time.Time) string {
	switch {
	case manual.IsZero() && auto.IsZero():
		return "never"
	case auto.After(manual):
		return kit.Dur(now.Sub(auto)) + " (a)"
	}
	return kit.Dur(now.Sub(manual))
}

// ms prints milliseconds as the unit that keeps it short.
func ms(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	case v < 60000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "s"
	}
	return kit.Dur(time.Duration(v * float64(time.Millisecond)))
}

func lag(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return kit.Dur(d)
}

func rate(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// count prints a counter with a k/M/G suffix past 5 digits.
func count(n int64) string {
	switch {
	case n < 100000:
		return strconv.FormatInt(n, 10)
	case n < 100000000:
		return strconv.FormatInt(n/1000, 10) + "k"
	case n < 100000000000:
		return strconv.FormatInt(n/1000000, 10) + "M"
	}
	return strconv.FormatInt(n/1000000000, 10) + "G"
}
