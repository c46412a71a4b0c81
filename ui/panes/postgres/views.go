package postgres

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"flightdeck/internal/bytesize"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// The pane's other views (the view key cycles them): statements,
// replication, tables, indexes, databases, progress. Activity is the
// pane's table (columns.go); these are drawn here from the optional views
// a payload carries. A view is read by the source only while some pane
// shows it (sources.ViewWants), so each shown view is re-wanted with every
// snapshot and lapses wantFor after the last.
const wantFor = 15 * time.Second

// viewRows is the derived state of the shown source's optional views: the
// index of each view's rows in display order, made when data, sort or
// filter change, so Draw formats only the rows on screen.
type viewRows struct {
	from *sources.PGViews // the readings these rows were made from
	stmt []int            // into Statements, sorted
	repl []replItem
	tabs []int
	idxs []int
	dbs  []int
	prog []int
}

// replItem is one row of the replication view: which list and where.
type replItem struct {
	kind byte // 's' sender, 'r' receiver, 'u' subscription, 'l' slot
	i    int
}

// Statement orders.
var stmtSorts = []string{"mean", "total", "calls", "rate"}

// mode is the view shown.
func (p *Pane) mode() sources.PGView { return sources.PGViewOrder[p.viewIdx] }

// want tells the shown source's poller that the shown view is on screen.
func (p *Pane) want() {
	if p.viewIdx == 0 {
		return
	}
	if n := p.Feeds.Name(); n != "" {
		sources.ViewWants.Want(n, p.mode(), time.Now().Add(wantFor))
	}
}

// switchView shows view i, keeping each view's cursor.
func (p *Pane) switchView(i int) {
	p.cursors[p.viewIdx] = p.Cursor
	p.viewIdx = i
	p.Cursor = p.cursors[i]
	p.Detail = false
	p.want()
	if v := p.view(); v != nil {
		p.rebuildViews(v)
	}
}

// views returns the shown source's optional views, nil before any reading.
func (v *feedView) views() *sources.PGViews {
	if v == nil || v.act == nil {
		return nil
	}
	return v.act.Views
}

// rebuildViews derives every view's row order for the shown source.
func (p *Pane) rebuildViews(v *feedView) {
	vs := v.views()
	r := &v.rows
	r.from = vs
	r.stmt, r.repl, r.tabs, r.idxs, r.dbs, r.prog = r.stmt[:0], r.repl[:0], r.tabs[:0], r.idxs[:0], r.dbs[:0], r.prog[:0]
	if vs == nil {
		return
	}
	f := strings.ToLower(strings.TrimSpace(p.Filter))
	match := func(texts ...string) bool {
		if f == "" {
			return true
		}
		for _, t := range texts {
			if kit.ContainsFold(t, f) {
				return true
			}
		}
		return false
	}
	if st := vs.Statements; st != nil {
		for i := range st.Statements {
			s := &st.Statements[i]
			if match(s.Query, s.User, s.Database, strconv.FormatInt(s.QueryID, 10)) {
				r.stmt = append(r.stmt, i)
			}
		}
		less := map[string]func(a, b *sources.Statement) bool{
			"mean":  func(a, b *sources.Statement) bool { return a.MeanMs > b.MeanMs },
			"total": func(a, b *sources.Statement) bool { return a.TotalMs > b.TotalMs },
			"calls": func(a, b *sources.Statement) bool { return a.Calls > b.Calls },
			"rate":  func(a, b *sources.Statement) bool { return a.MsPerSec > b.MsPerSec },
		}[stmtSorts[p.stmtSort]]
		sort.SliceStable(r.stmt, func(i, j int) bool { return less(&st.Statements[r.stmt[i]], &st.Statements[r.stmt[j]]) })
	}
	if rp := vs.Replication; rp != nil {
		for i := range rp.Senders {
			if match(rp.Senders[i].Application, rp.Senders[i].ClientAddr) {
				r.repl = append(r.repl, replItem{'s', i})
			}
		}
		if rp.Receiver != nil && match(rp.Receiver.SenderHost, "receiver") {
			r.repl = append(r.repl, replItem{'r', 0})
		}
		for i := range rp.Subscriptions {
			if match(rp.Subscriptions[i].Name) {
				r.repl = append(r.repl, replItem{'u', i})
			}
		}
		for i := range rp.Slots {
			if match(rp.Slots[i].Name, rp.Slots[i].Database) {
				r.repl = append(r.repl, replItem{'l', i})
			}
		}
	}
	if t := vs.Tables; t != nil {
		for i := range t.Tables {
			if match(t.Tables[i].QualifiedName()) {
				r.tabs = append(r.tabs, i)
			}
		}
	}
	if x := vs.Indexes; x != nil {
		for i := range x.Indexes {
			if match(x.Indexes[i].Name, x.Indexes[i].Table) {
				r.idxs = append(r.idxs, i)
			}
		}
	}
	if d := vs.Databases; d != nil {
		for i := range d.Databases {
			if match(d.Databases[i].Name) {
				r.dbs = append(r.dbs, i)
			}
		}
	}
	if pr := vs.Progress; pr != nil {
		for i := range pr.Ops {
			if match(pr.Ops[i].Relation, pr.Ops[i].Command, pr.Ops[i].Database) {
				r.prog = append(r.prog, i)
			}
		}
	}
	p.Cursor.Clamp(p.viewLen(v), p.Visible())
}

// viewLen is the number of rows of the shown view.
func (p *Pane) viewLen(v *feedView) int {
	r := &v.rows
	switch p.mode() {
	case sources.PGViewStatements:
		return len(r.stmt)
	case sources.PGViewReplication:
		return len(r.repl)
	case sources.PGViewTables:
		return len(r.tabs)
	case sources.PGViewIndexes:
		return len(r.idxs)
	case sources.PGViewDatabases:
		return len(r.dbs)
	case sources.PGViewProgress:
		return len(r.prog)
	}
	return 0
}

// meta is the shown view's reading time and error; ok is false before the
// first reading.
func (p *Pane) meta(vs *sources.PGViews) (m sources.PGViewMeta, ok bool) {
	if vs == nil {
		return m, false
	}
	switch p.mode() {
	case sources.PGViewStatements:
		if vs.Statements != nil {
			return vs.Statements.PGViewMeta, true
		}
	case sources.PGViewReplication:
		if vs.Replication != nil {
			return vs.Replication.PGViewMeta, true
		}
	case sources.PGViewTables:
		if vs.Tables != nil {
			return vs.Tables.PGViewMeta, true
		}
	case sources.PGViewIndexes:
		if vs.Indexes != nil {
			return vs.Indexes.PGViewMeta, true
		}
	case sources.PGViewDatabases:
		if vs.Databases != nil {
			return vs.Databases.PGViewMeta, true
		}
	case sources.PGViewProgress:
		if vs.Progress != nil {
			return vs.Progress.PGViewMeta, true
		}
	}
	return m, false
}

// viewTabs is the line naming the views, the shown one marked.
func (p *Pane) viewTabs(w int) string {
	th := &p.Env.Theme
	parts := make([]string, len(sources.PGViewOrder))
	for i, v := range sources.PGViewOrder {
		if i == p.viewIdx {
			parts[i] = th.Paints.Accent.Render("[" + string(v) + "]")
		} else {
			parts[i] = th.Paints.Muted.Render(string(v))
		}
	}
	return kit.Fit(strings.Join(parts, " ")+th.Paints.Muted.Render("  "+kit.KeyName(p.Env.Keys.Postgres.View)+": next"), w, th.Ellipsis)
}

// viewInfo is the prompt being typed, or the view's order, age and filter.
func (p *Pane) viewInfo(v *feedView, m sources.PGViewMeta, ok bool) string {
	th := &p.Env.Theme
	if p.Prompt.Editing() {
		return th.Paints.Accent.Render(p.Prompt.View())
	}
	var parts []string
	if p.mode() == sources.PGViewStatements {
		parts = append(parts, "sort:"+stmtSorts[p.stmtSort])
		if st := v.views().Statements; st != nil && st.Interval > 0 {
			parts = append(parts, "rates over "+kit.Dur(st.Interval))
		}
		parts = append(parts, fmt.Sprintf("mean > %.0fms marked", sources.SlowMeanMs))
	}
	if ok && !m.At.IsZero() {
		parts = append(parts, "read "+kit.Age(p.refNow(v).Sub(m.At))+" ago")
	}
	if p.Filter != "" {
		parts = append(parts, fmt.Sprintf("filter:%q", p.Filter))
	}
	return th.Paints.Muted.Render(strings.Join(parts, "  "))
}

// viewHeaderLines is how many lines sit above a view's rows.
func (p *Pane) viewHeaderLines() int {
	n := 3 // tabs, info, column titles
	if v := p.view(); v != nil {
		if m, ok := p.meta(v.views()); ok && m.Err != "" {
			n += 2
		}
	}
	notice, _, _ := p.Notice()
	return n + len(notice)
}

// drawView draws an optional view in the pane's frame.
func (p *Pane) drawView(focused bool, v *feedView) []string {
	th := &p.Env.Theme
	inner := p.W - 2
	vs := v.views()
	m, ok := p.meta(vs)
	sh := kit.Sheet{Title: p.title(), Ready: true, OwnFilter: true, Visible: p.Visible()}
	if st := p.selStatement(); st != nil {
		sh.Detail = func(w int) []string { return p.statementDetail(st, w) }
	}
	sh.Above = []string{p.viewTabs(inner), p.viewInfo(v, m, ok)}
	if m.Err != "" {
		for i, l := range kit.Wrap(m.Err, inner) {
			if i < 2 {
				sh.Above = append(sh.Above, th.Paints.Warn.Render(l))
			}
		}
	}
	t := p.viewTable()
	t.Fit(inner, th.Ellipsis)
	sh.Head = []string{t.Header(th.Paints.Muted)}
	sh.N = p.viewLen(v)
	switch {
	case !ok:
		sh.Empty = th.Paints.Muted.Render("reading " + string(p.mode()) + "…")
	case m.Err != "":
		sh.Empty = ""
	default:
		sh.Empty = th.Paints.Muted.Render("none")
	}
	now := p.refNow(v)
	sh.Rows = func(body []string, from, to int, dim bool) []string {
		for i := from; i < to; i++ {
			sel := focused && i == p.Cursor.Pos
			var whole *themes.Paint
			switch {
			case sel:
				whole = &th.Paints.Selected
			case dim:
				whole = &th.Paints.Dim
			}
			body = append(body, p.viewRow(v, vs, i, now, whole))
		}
		return body
	}
	return p.DrawSheet(focused, sh)
}

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

// selStatement is the statement under the cursor in the statements view.
func (p *Pane) selStatement() *sources.Statement {
	v := p.view()
	vs := v.views()
	if p.mode() != sources.PGViewStatements || vs == nil || vs.Statements == nil {
		return nil
	}
	if i := p.Selected(); i >= 0 && i < len(v.rows.stmt) {
		return &vs.Statements.Statements[v.rows.stmt[i]]
	}
	return nil
}

// running is every client backend of the shown source running the
// statement whose queryid is id, as the latest activity saw them.
func (p *Pane) running(id int64) []sources.Backend {
	v := p.view()
	if id == 0 || v == nil || v.act == nil {
		return nil
	}
	var out []sources.Backend
	for _, b := range v.act.Backends {
		if b.QueryID == id && b.IsClient() && !b.Self && b.State == "active" {
			out = append(out, b)
		}
	}
	return out
}

// jump goes from a backend to its statement's figures, and from a
// statement to the backends running it (the activity view filtered to its
// queryid).
func (p *Pane) jump() {
	v := p.view()
	if v == nil || v.act == nil {
		return
	}
	if p.viewIdx == 0 {
		b := p.selected()
		if b == nil || b.QueryID == 0 {
			return
		}
		p.SetFilter("") // the statements view would filter by the backends' filter text
		p.switchView(1)
		for i, j := range v.rows.stmt {
			if v.views().Statements.Statements[j].QueryID == b.QueryID {
				p.Cursor.Pos = i
				p.Cursor.Clamp(len(v.rows.stmt), p.Visible())
				break
			}
		}
		return
	}
	if s := p.selStatement(); s != nil && s.QueryID != 0 {
		p.switchView(0)
		p.SetFilter("qid:" + strconv.FormatInt(s.QueryID, 10))
	}
}

// viewActions are what a view's selection offers: the statements view
// cancels or terminates every backend running the selected statement, in
// one bulk plan that policy caps like any other; a slot row drops the
// slot, a table row runs ANALYZE or VACUUM (ANALYZE), an autovacuum row of
// the progress view cancels the worker.
func (p *Pane) viewActions() []kit.Action {
	v := p.view()
	vs := v.views()
	i := p.Selected()
	if vs == nil || i < 0 {
		return nil
	}
	src := p.Feeds.Name()
	subject := func(kind ops.Kind, label string, subj any) kit.Action {
		return kit.Action{Kind: kind, Label: label,
			Request: func() ops.Request { return ops.Request{Action: kind, Source: src, Subject: subj} }}
	}
	switch p.mode() {
	case sources.PGViewStatements:
		return p.statementActions()
	case sources.PGViewReplication:
		if i < len(v.rows.repl) && v.rows.repl[i].kind == 'l' {
			s := vs.Replication.Slots[v.rows.repl[i].i]
			a := subject(ops.DropSlot, "Drop replication slot "+s.Name, s)
			if s.Active {
				a.Denied = fmt.Sprintf("slot %s is active (pid %d)", s.Name, s.ActivePID)
			}
			return []kit.Action{a}
		}
	case sources.PGViewTables:
		if i < len(v.rows.tabs) {
			t := vs.Tables.Tables[v.rows.tabs[i]]
			return []kit.Action{subject(ops.AnalyzeTable, "ANALYZE "+t.QualifiedName(), t),
				subject(ops.VacuumTable, "VACUUM (ANALYZE) "+t.QualifiedName(), t)}
		}
	case sources.PGViewProgress:
		if i < len(v.rows.prog) {
			if b := p.autovacuum(vs.Progress.Ops[v.rows.prog[i]].PID); b != nil {
				a := subject(ops.CancelAutovacuum, fmt.Sprintf("Cancel autovacuum worker %d", b.PID), *b)
				a.Denied = p.autovacuumIdle(b)
				return []kit.Action{a}
			}
		}
	}
	return nil
}

// autovacuumIdle says why cancelling worker b would help nobody: no
// backend waits on its lock ("" when some DDL does).
func (p *Pane) autovacuumIdle(b *sources.Backend) string {
	if v := p.view(); v != nil && v.blocking[b.PID] {
		return ""
	}
	return fmt.Sprintf("autovacuum pid %d blocks nobody: let it finish its work", b.PID)
}

// autovacuum is the autovacuum worker pid as the latest activity saw it.
func (p *Pane) autovacuum(pid int32) *sources.Backend {
	v := p.view()
	if v == nil || v.act == nil {
		return nil
	}
	for i := range v.act.Backends {
		if b := &v.act.Backends[i]; b.PID == pid && b.BackendType == "autovacuum worker" {
			return b
		}
	}
	return nil
}

// statementActions cancel or terminate the backends running the selected
// statement.
func (p *Pane) statementActions() []kit.Action {
	s := p.selStatement()
	if s == nil {
		return nil
	}
	k := p.Env.Keys.Postgres
	src := p.Feeds.Name()
	bs := p.running(s.QueryID)
	var denied sources.Denied
	if v := p.view(); v != nil && v.act != nil {
		denied = v.act.Denied
	}
	var out []kit.Action
	for _, kind := range []ops.Kind{ops.Cancel, ops.Terminate} {
		bind := k.Cancel
		if kind == ops.Terminate {
			bind = k.Terminate
		}
		why := denied[string(kind)]
		switch {
		case s.QueryID == 0:
			why = "the statement has no queryid"
		case len(bs) == 0:
			why = "no backend runs this statement now"
		}
		out = append(out, kit.Action{Kind: kind, Key: bind, Denied: why,
			Label: fmt.Sprintf("%s the %d backend(s) running this statement", kind.Title(), len(bs)),
			Request: func() ops.Request {
				return ops.Request{Action: kind, Source: src, Backends: p.running(s.QueryID)}
			}})
	}
	return out
}

// statementDetail is the enter view of a statement: its figures, its whole
// text and the backends running it now.
func (p *Pane) statementDetail(s *sources.Statement, w int) []string {
	th := &p.Env.Theme
	field := func(k, val string) string { return th.Paints.Muted.Render(fmt.Sprintf("%-14s", k)) + val }
	mean := ms(s.MeanMs)
	if s.Slow() {
		mean = th.Paints.Crit.Render(mean + fmt.Sprintf(" (over %.0f ms)", sources.SlowMeanMs))
	}
	out := []string{
		th.Paints.Bold.Render(fmt.Sprintf("queryid %d  %s@%s", s.QueryID, s.User, s.Database)),
		field("calls", fmt.Sprintf("%d (%s/s)", s.Calls, rate(s.CallsPerSec))),
		field("mean", mean),
		field("max", ms(s.MaxMs)),
		field("total", ms(s.TotalMs)),
		field("rows", strconv.FormatInt(s.Rows, 10)),
		field("shared blks", fmt.Sprintf("hit %d read %d", s.SharedHit, s.SharedRead)),
		field("temp blks", fmt.Sprintf("read %d written %d", s.TempRead, s.TempWritten)),
		"", th.Paints.Muted.Render("query:"),
	}
	out = append(out, kit.Wrap(s.Query, max(10, w-2))...)
	bs := p.running(s.QueryID)
	out = append(out, "", th.Paints.Muted.Render(fmt.Sprintf("running now: %d backend(s)  (%s: activity filtered to them)",
		len(bs), kit.KeyName(p.Env.Keys.Postgres.Statement))))
	now := p.refNow(p.view())
	for _, b := range bs {
		out = append(out, kit.Fit(fmt.Sprintf("  pid %-7d %-12s %-16s %-8s %s", b.PID, b.User, b.Application,
			kit.Dur(now.Sub(b.Since())), strings.Trim(b.WaitType+":"+b.WaitEvent, ":")), w, th.Ellipsis))
	}
	return out
}
