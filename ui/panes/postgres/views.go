package postgres

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

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

// ShowView shows the view called name (a runbook's view step), keeping
// each view's cursor; it reports whether there is one.
func (p *Pane) ShowView(name string) bool {
	for i, v := range sources.PGViewOrder {
		if string(v) == name {
			if i != p.viewIdx {
				p.Touch()
				p.switchView(i)
			}
			return true
		}
	}
	return false
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
		// No reading yet (the view was just asked for): no Views at all.
		if vs := v.views(); vs != nil && vs.Statements != nil && vs.Statements.Interval > 0 {
			parts = append(parts, "rates over "+kit.Dur(vs.Statements.Interval))
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
