package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

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
// slot, a table row runs ANALYZE, VACUUM (ANALYZE) or REINDEX TABLE
// CONCURRENTLY, an autovacuum row of
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
				subject(ops.VacuumTable, "VACUUM (ANALYZE) "+t.QualifiedName(), t),
				subject(ops.ReindexTable, "REINDEX TABLE CONCURRENTLY "+t.QualifiedName()+" (rebuild its indexes)", t)}
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
