package postgres

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// showHolders is whether the pane is tall enough for the who-holds line and
// still a useful number of rows.
func (p *Pane) showHolders() bool { return p.H >= 14 }

// headerLines is how many lines sit above the rows.
func (p *Pane) headerLines() int {
	n := 3 // gauge, info, column titles
	if p.showHolders() {
		n++
	}
	if v := p.view(); v != nil && v.act != nil && !v.act.CanSeeAll {
		n++
	}
	notice, _, _ := p.Notice() // the error or stale line over the rows
	return n + len(notice)
}

// holdersLine lists the top three applications, users and databases by
// connections held.
func holdersLine(a *sources.PGActivity) string {
	top := func(label string, m map[string]int) string {
		if len(m) == 0 {
			return ""
		}
		type kv struct {
			k string
			n int
		}
		kvs := make([]kv, 0, len(m))
		for k, n := range m {
			kvs = append(kvs, kv{k, n})
		}
		sort.Slice(kvs, func(i, j int) bool {
			if kvs[i].n != kvs[j].n {
				return kvs[i].n > kvs[j].n
			}
			return kvs[i].k < kvs[j].k
		})
		parts := make([]string, 0, 3)
		for i := 0; i < len(kvs) && i < 3; i++ {
			parts = append(parts, kvs[i].k+" "+strconv.Itoa(kvs[i].n))
		}
		if len(kvs) > 3 {
			parts = append(parts, "…")
		}
		return label + " " + strings.Join(parts, " · ")
	}
	var parts []string
	for _, t := range []string{top("by app", a.ByApp), top("by user", a.ByUser), top("by db", a.ByDatabase)} {
		if t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "   ")
}

// title is the frame title; several sources add which one is shown.
func (p *Pane) title() string {
	t := p.FrameTitle()
	if cur, n := p.Feeds.Position(); n > 1 {
		t += fmt.Sprintf(" [%d/%d %s to switch]", cur, n, kit.KeyName(p.Env.Keys.Postgres.NextDB))
	}
	return t
}

// Summary is the one-line view when another pane has the space.
func (p *Pane) Summary() string {
	head, ok := p.SummaryHead()
	v := p.view()
	if !ok || v == nil || v.act == nil {
		return head
	}
	a := v.act
	out := head + fmt.Sprintf("  conns %d/%d  active %d  idle-tx %d", a.Connections, a.Usable(),
		a.ByState["active"], a.ByState["idle in transaction"]+a.ByState["idle in transaction (aborted)"])
	if len(v.roots) > 0 {
		out += fmt.Sprintf("  %d root blocker(s)", len(v.roots))
	}
	return out
}

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := &p.Env.Theme
	inner := p.W - 2
	v := p.view()
	sh := kit.Sheet{Title: p.title(), Ready: v != nil && v.act != nil, OwnFilter: true, Visible: p.Visible()}
	if !sh.Ready {
		return p.DrawSheet(focused, sh)
	}
	if p.viewIdx != 0 {
		return p.drawView(focused, v)
	}
	if p.selected() != nil {
		sh.Detail = func(w int) []string { return p.detailLines(v, w) }
	}
	sh.Above = append(sh.Above, p.gauge(v, inner))
	if p.showHolders() {
		sh.Above = append(sh.Above, th.Paints.Muted.Render(kit.Fit(v.holders, inner, th.Ellipsis)))
	}
	sh.Above = append(sh.Above, p.infoLine(v))
	if !v.act.CanSeeAll {
		sh.Above = append(sh.Above, th.Paints.Warn.Render("role lacks pg_monitor: other roles' queries show <insufficient privilege>"))
	}
	fit(&p.table, inner, v.userW, v.appW, th.Ellipsis)
	sh.Head = []string{p.table.Header(th.Paints.Muted)}
	sh.N, sh.Empty = len(v.index), th.Paints.Muted.Render("no backends match")
	now := p.refNow(v)
	sh.Rows = func(body []string, from, to int, dim bool) []string {
		for i := from; i < to; i++ {
			body = append(body, p.row(v, &v.act.Backends[v.index[i]], now, focused && i == p.Cursor.Pos, dim))
		}
		return body
	}
	return p.DrawSheet(focused, sh)
}

// gauge is the connections used against usable, the states, and the
// oldest transaction and longest idle-in-transaction.
func (p *Pane) gauge(v *feedView, w int) string {
	th := &p.Env.Theme
	a := v.act
	u := a.Usable()
	ratio := 0.0
	if u > 0 {
		ratio = float64(a.Connections) / float64(u)
	}
	st := th.Paints.OK
	switch {
	case ratio >= sources.DBConnectionsCriticalRatio:
		st = th.Paints.Crit
	case ratio >= sources.DBConnectionsWarnRatio:
		st = th.Paints.Warn
	}
	const barW = 10
	fill := min(barW, int(ratio*barW+0.5))
	full, empty := "█", "░"
	if th.ASCII {
		full, empty = "#", "."
	}
	bar := "[" + strings.Repeat(full, fill) + strings.Repeat(empty, barW-fill) + "]"
	out := st.Render(fmt.Sprintf("conns %d/%d %s %3.0f%%", a.Connections, u, bar, ratio*100))
	var parts []string
	for _, s := range []string{"active", "idle", "idle in transaction", "idle in transaction (aborted)"} {
		if n := a.ByState[s]; n > 0 || s == "active" {
			parts = append(parts, shortState(s)+" "+strconv.Itoa(n))
		}
	}
	out += "  " + strings.Join(parts, " · ")
	if a.OldestXact != nil {
		out += fmt.Sprintf("  oldest xact %s (pid %d)", kit.Dur(p.refNow(v).Sub(a.OldestXact.XactStart)), a.OldestXact.PID)
	}
	if x := a.LongestIdleX; x != nil && (a.OldestXact == nil || x.PID != a.OldestXact.PID) {
		out += fmt.Sprintf("  longest idle-tx %s (pid %d)", kit.Dur(p.refNow(v).Sub(x.StateChange)), x.PID)
	}
	return kit.Fit(out, w, th.Ellipsis)
}

// infoLine is the prompt being typed, or the sort, filter, tags, blockers
// and which backends are shown.
func (p *Pane) infoLine(v *feedView) string {
	th := &p.Env.Theme
	if p.Prompt.Editing() {
		return th.Paints.Accent.Render(p.Prompt.View())
	}
	parts := []string{"sort:" + SortKeys[p.sortKey]}
	if s := p.filter.Sort; s != "" && !slices.Contains(SortKeys, s) {
		parts = append(parts, th.Paints.Warn.Render(fmt.Sprintf("no sort %q (%s)", s, strings.Join(SortKeys, ", "))))
	}
	if p.Filter != "" {
		parts = append(parts, fmt.Sprintf("filter:%q %d match", p.Filter, len(v.index)))
	}
	if n := len(v.tags); n > 0 {
		parts = append(parts, th.Paints.Tagged.Render(fmt.Sprintf("%d tagged", n)))
	}
	if len(v.roots) > 0 {
		parts = append(parts, th.Paints.Crit.Render(fmt.Sprintf("%d root blocker(s)", len(v.roots))))
	}
	if p.showSys {
		parts = append(parts, "all backend types")
	} else {
		parts = append(parts, "client backends ("+kit.KeyName(p.Env.Keys.Postgres.System)+": all)")
	}
	return th.Paints.Muted.Render(strings.Join(parts, "  "))
}
