package ui

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
	"flightdeck/themes"
)

// bkey is a backend's identity: pids are reused, pid+backend_start is not.
type bkey struct {
	pid   int32
	start int64
}

func keyOf(b *sources.Backend) bkey { return bkey{b.PID, b.BackendStart.UnixNano()} }

var pgSortKeys = []string{"duration", "state", "user", "app", "wait"}

// pgView is the derived state of one Postgres source: the filtered, sorted
// index is computed in Update when data, sort or filter change, so View only
// formats the rows that fit on screen.
type pgView struct {
	snap     sources.Snapshot
	act      *sources.PGActivity
	index    []int
	blocking map[int32]bool
	roots    map[int32]bool
	tags     map[bkey]bool
	list     list
	sel      bkey
	hasSel   bool
	// want is how wide the user and app columns would like to be for this
	// snapshot's names (capped), so a wide pane shows them whole.
	want map[pgCol]int
	// holders says who holds the connections (top applications, users and
	// databases), made once per snapshot: the runbook's first question.
	holders string
}

type pgPane struct {
	cache     paneCache
	c         *shared
	feeds     feeds
	views     map[string]*pgView
	showSys   bool
	sortKey   int
	filterStr string
	filter    sources.BackendFilter
	prompt    filterPrompt
	detail    bool
	detailOff int
	w, h      int
}

func newPGPane(c *shared) *pgPane { return &pgPane{c: c, views: map[string]*pgView{}} }

// SetSize is the frame size, border included.
func (p *pgPane) SetSize(w, h int) {
	p.w, p.h = w, h
	if v := p.view(); v != nil {
		v.list.clamp(len(v.index), p.listHeight())
	}
}

// ShortHelp follows the pane: these keys are what the on-call needs here.
func (p *pgPane) ShortHelp() []key.Binding {
	k := p.c.km
	return []key.Binding{k.List.Filter, k.Postgres.Sort, k.Postgres.Tag, k.Global.Actions, k.Postgres.Cancel, k.Postgres.Terminate}
}

// FullHelp is the Postgres section of the help overlay.
func (p *pgPane) FullHelp() [][]key.Binding {
	return append(p.c.km.List.FullHelp(), p.c.km.Postgres.FullHelp()...)
}

func (p *pgPane) view() *pgView {
	n := p.feeds.name()
	if n == "" {
		return nil
	}
	return p.views[n]
}

// setSnapshot takes a new snapshot of any Postgres source, shown or not.
func (p *pgPane) setSnapshot(s sources.Snapshot) {
	p.cache.touch()
	p.feeds.set(s)
	v := p.views[s.Source]
	if v == nil {
		v = &pgView{tags: map[bkey]bool{}}
		p.views[s.Source] = v
	}
	v.snap = s
	act, _ := s.Data.(*sources.PGActivity)
	if act == nil || act == v.act {
		return
	}
	v.act = act
	v.want = nameWidths(act.Backends)
	v.holders = holdersLine(act)
	v.blocking = map[int32]bool{}
	v.roots = map[int32]bool{}
	for i := range act.Backends {
		for _, by := range act.Backends[i].BlockedBy {
			v.blocking[by] = true
		}
	}
	if len(v.blocking) > 0 {
		for _, n := range sources.BlockingTree(act.Backends) {
			if n.Root {
				v.roots[n.PID] = true
			}
		}
	}
	if len(v.tags) > 0 {
		live := make(map[bkey]bool, len(v.tags))
		for i := range act.Backends {
			if k := keyOf(&act.Backends[i]); v.tags[k] {
				live[k] = true
			}
		}
		v.tags = live // tags of backends that are gone are dropped
	}
	p.rebuild(v)
}

// refNow is the server's clock at our now: durations come from the
// server's own timestamps, so a skewed bastion clock cannot distort them.
func (p *pgPane) refNow(v *pgView) time.Time {
	if v.act != nil && !v.act.Now.IsZero() && !v.snap.FetchedAt.IsZero() {
		return v.act.Now.Add(p.c.now.Sub(v.snap.FetchedAt))
	}
	return p.c.now
}

func (p *pgPane) rebuild(v *pgView) {
	if v.act == nil {
		return
	}
	now := p.refNow(v)
	bs := v.act.Backends
	idx := v.index[:0]
	if cap(idx) < len(bs) {
		idx = make([]int, 0, len(bs))
	}
	f := p.filter
	for i := range bs {
		b := &bs[i]
		if !p.showSys && !b.IsClient() {
			continue
		}
		if !f.Empty() && !f.Match(b, now.Sub(b.Since()), v.blocking[b.PID], len(b.BlockedBy) > 0) {
			continue
		}
		idx = append(idx, i)
	}
	less := func(a, b *sources.Backend) int { return 0 }
	switch pgSortKeys[p.sortKey] {
	case "duration":
		less = func(a, b *sources.Backend) int { return cmpTime(a.Since(), b.Since()) }
	case "state":
		less = func(a, b *sources.Backend) int { return strings.Compare(a.State, b.State) }
	case "user":
		less = func(a, b *sources.Backend) int { return strings.Compare(a.User, b.User) }
	case "app":
		less = func(a, b *sources.Backend) int { return strings.Compare(a.Application, b.Application) }
	case "wait":
		less = func(a, b *sources.Backend) int {
			return strings.Compare(a.WaitType+":"+a.WaitEvent, b.WaitType+":"+b.WaitEvent)
		}
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := &bs[idx[i]], &bs[idx[j]]
		if c := less(a, b); c != 0 {
			return c < 0
		}
		return a.PID < b.PID
	})
	v.index = idx
	if v.hasSel {
		for i, j := range idx {
			if keyOf(&bs[j]) == v.sel {
				v.list.cursor = i
				break
			}
		}
	}
	v.list.clamp(len(idx), p.listHeight())
	p.remember(v)
}

// cmpTime orders oldest first, unknown (zero) last.
func cmpTime(a, b time.Time) int {
	switch {
	case a.Equal(b):
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	case a.Before(b):
		return -1
	}
	return 1
}

func (p *pgPane) remember(v *pgView) {
	if b := p.selected(); b != nil {
		v.sel, v.hasSel = keyOf(b), true
	}
}

func (p *pgPane) rebuildAll() {
	for _, v := range p.views {
		p.rebuild(v)
	}
}

func (p *pgPane) selected() *sources.Backend {
	v := p.view()
	if v == nil || v.act == nil || len(v.index) == 0 {
		return nil
	}
	return &v.act.Backends[v.index[min(v.list.cursor, len(v.index)-1)]]
}

// tagged returns the tagged backends of the current source, in table order.
func (p *pgPane) tagged() []sources.Backend {
	v := p.view()
	if v == nil || v.act == nil || len(v.tags) == 0 {
		return nil
	}
	var out []sources.Backend
	for i := range v.act.Backends {
		if v.tags[keyOf(&v.act.Backends[i])] {
			out = append(out, v.act.Backends[i])
		}
	}
	return out
}

// matching returns every backend the filter shows (for "terminate all N
// matching"); nil without a filter, so a bulk action is always deliberate.
func (p *pgPane) matching() []sources.Backend {
	v := p.view()
	if v == nil || p.filter.Empty() {
		return nil
	}
	out := make([]sources.Backend, len(v.index))
	for i, j := range v.index {
		out[i] = v.act.Backends[j]
	}
	return out
}

// headerLines is how many lines sit above the rows.
// showHolders is whether the pane is tall enough for the who-holds line and
// still a useful number of rows.
func (p *pgPane) showHolders() bool { return p.h >= 14 }

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

func (p *pgPane) headerLines() int {
	n := 3 // gauge, info, column titles
	if p.showHolders() {
		n++
	}
	if v := p.view(); v != nil && v.act != nil && !v.act.CanSeeAll {
		n++
	}
	if v := p.view(); v != nil && (v.snap.Err != nil || v.snap.Stale) {
		n++
	}
	return n
}

func (p *pgPane) listHeight() int { return max(1, p.h-2-p.headerLines()) }

// Update handles keys while the pane has focus.
func (p *pgPane) Update(msg tea.Msg) (*pgPane, tea.Cmd) {
	p.cache.touch()
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	k := p.c.km
	if p.prompt.editing {
		if v := p.prompt.key(km, k); v != p.filterStr {
			p.setFilter(v)
		}
		return p, nil
	}
	v := p.view()
	if p.detail {
		switch {
		case key.Matches(km, k.List.Back), key.Matches(km, k.List.Details):
			p.detail = false
		case key.Matches(km, k.List.Down):
			p.detailOff++
		case key.Matches(km, k.List.Up):
			p.detailOff = max0(p.detailOff - 1)
		case key.Matches(km, k.List.Top):
			p.detailOff = 0
		}
		return p, nil
	}
	switch {
	case key.Matches(km, k.List.Filter):
		p.prompt.open(p.filterStr)
	case key.Matches(km, k.List.Back):
		if p.filterStr != "" {
			p.setFilter("")
		}
	case key.Matches(km, k.Postgres.Sort):
		p.sortKey = (p.sortKey + 1) % len(pgSortKeys)
		p.rebuildAll()
	case key.Matches(km, k.Postgres.System):
		p.showSys = !p.showSys
		p.rebuildAll()
	case key.Matches(km, k.Postgres.NextDB):
		p.feeds.step(1)
	case key.Matches(km, k.Postgres.PrevDB):
		p.feeds.step(-1)
	case v == nil || v.act == nil:
	case key.Matches(km, k.List.Details):
		if p.selected() != nil {
			p.detail, p.detailOff = true, 0
		}
	case key.Matches(km, k.Postgres.Tag):
		if b := p.selected(); b != nil {
			kk := keyOf(b)
			if v.tags[kk] {
				delete(v.tags, kk)
			} else {
				v.tags[kk] = true
			}
			v.list.cursor++
			v.list.clamp(len(v.index), p.listHeight())
			p.remember(v)
		}
	case key.Matches(km, k.Postgres.ClearTags):
		clear(v.tags)
	default:
		if v.list.move(km, k.List, len(v.index), p.listHeight()) {
			p.remember(v)
		}
	}
	return p, nil
}

func (p *pgPane) setFilter(s string) {
	p.filterStr = s
	p.filter = sources.ParseBackendFilter(s)
	for _, v := range p.views {
		v.list.cursor, v.list.offset = 0, 0
		v.hasSel = false
	}
	p.rebuildAll()
}

// capturesKeys is true while the filter line owns the keyboard.
func (p *pgPane) capturesKeys() bool { return p.prompt.editing }

func (p *pgPane) title() string {
	s, ok := p.feeds.current()
	t := "3 Postgres · " + feedTitle(p.c, s, ok)
	if len(p.feeds.order) > 1 {
		t += fmt.Sprintf(" [%d/%d ] to switch]", p.feeds.cur+1, len(p.feeds.order))
	}
	return t
}

// Summary is the one-line view when another pane has the space.
func (p *pgPane) Summary() string {
	s, ok := p.feeds.current()
	v := p.view()
	if !ok || v == nil || v.act == nil {
		n, _, _ := dataNotice(p.c, s, ok, "postgres")
		return "3 Postgres  " + strings.Join(n, " ")
	}
	a := v.act
	out := fmt.Sprintf("3 Postgres  %s  conns %d/%d  active %d  idle-tx %d", feedTitle(p.c, s, ok), a.Connections, a.Usable(),
		a.ByState["active"], a.ByState["idle in transaction"]+a.ByState["idle in transaction (aborted)"])
	if len(v.roots) > 0 {
		out += fmt.Sprintf("  %d root blocker(s)", len(v.roots))
	}
	return out
}

// View is the pane's block at its size, redrawn only when something it
// shows has changed.
func (p *pgPane) View(focused bool) []string {
	return p.cache.view(p.c, focused, p.w, p.h, p.draw)
}

// draw renders the block; only visible rows are formatted.
func (p *pgPane) draw(focused bool) []string {
	th := p.c.th
	inner := p.w - 2
	s, ok := p.feeds.current()
	v := p.view()
	notice, dim, has := dataNotice(p.c, s, ok, "postgres")
	var body []string
	footer := ""
	if !has || v == nil || v.act == nil {
		body = notice
	} else if p.detail {
		body = append(notice, p.detailLines(v, inner)...)
		if p.detailOff > 0 {
			body = body[min(p.detailOff, len(body)-1):]
		}
		footer = "esc back"
	} else {
		body = append(body, notice...)
		body = append(body, p.gauge(v, inner))
		if p.showHolders() {
			body = append(body, th.Paints.Muted.Render(fit(v.holders, inner, th.Ellipsis)))
		}
		body = append(body, p.infoLine(v))
		if !v.act.CanSeeAll {
			body = append(body, th.Paints.Warn.Render("role lacks pg_monitor: other roles' queries show <insufficient privilege>"))
		}
		cols := pgLayout(inner, v.want)
		body = append(body, th.Paints.Muted.Render(pgHeader(cols, th.Ellipsis)))
		h := p.listHeight()
		v.list.clamp(len(v.index), h)
		now := p.refNow(v)
		end := min(len(v.index), v.list.offset+h)
		for i := v.list.offset; i < end; i++ {
			body = append(body, p.row(v, &v.act.Backends[v.index[i]], cols, now, focused && i == v.list.cursor, dim))
		}
		if len(v.index) == 0 {
			body = append(body, th.Paints.Muted.Render("no backends match"))
		}
		footer = fmt.Sprintf("%d/%d", min(v.list.cursor+1, len(v.index)), len(v.index))
	}
	return frame(th, p.title(), footer, focused, p.w, p.h, body)
}

func (p *pgPane) gauge(v *pgView, w int) string {
	th := p.c.th
	a := v.act
	u := a.Usable()
	ratio := 0.0
	if u > 0 {
		ratio = float64(a.Connections) / float64(u)
	}
	st := th.Paints.OK
	switch {
	case ratio >= 0.95:
		st = th.Paints.Crit
	case ratio >= 0.80:
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
		out += fmt.Sprintf("  oldest xact %s (pid %d)", fmtDur(p.refNow(v).Sub(a.OldestXact.XactStart)), a.OldestXact.PID)
	}
	if x := a.LongestIdleX; x != nil && (a.OldestXact == nil || x.PID != a.OldestXact.PID) {
		out += fmt.Sprintf("  longest idle-tx %s (pid %d)", fmtDur(p.refNow(v).Sub(x.StateChange)), x.PID)
	}
	return fit(out, w, th.Ellipsis)
}

func (p *pgPane) infoLine(v *pgView) string {
	th := p.c.th
	if p.prompt.editing {
		return th.Paints.Accent.Render("/ " + p.prompt.edit.view())
	}
	parts := []string{"sort:" + pgSortKeys[p.sortKey]}
	if p.filterStr != "" {
		parts = append(parts, fmt.Sprintf("filter:%q %d match", p.filterStr, len(v.index)))
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
		parts = append(parts, "client backends (b: all)")
	}
	return th.Paints.Muted.Render(strings.Join(parts, "  "))
}

type pgCol int

const (
	colMark pgCol = iota
	colPID
	colUser
	colApp
	colClient
	colState
	colWait
	colDur
	colBlk
	colQuery
)

// pgColW are the fixed column widths: a pid has at most 7 digits, an IPv4
// address 15 cells, "Lock:transactionid" 18; a duration fmtDur prints at
// most 6. With 20 cells of query they sum to 119, so a pane of 120 columns
// or more shows every column.
var pgColW = map[pgCol]int{colMark: 2, colPID: 7, colUser: 11, colApp: 13, colClient: 15, colState: 8, colWait: 18, colDur: 6, colBlk: 10}
var pgColTitle = map[pgCol]string{colMark: "", colPID: "PID", colUser: "USER", colApp: "APP", colClient: "CLIENT",
	colState: "STATE", colWait: "WAIT", colDur: "DUR", colBlk: "BLOCKED BY", colQuery: "QUERY"}

// Names wider than these are cut even in a wide pane: the query matters more.
const (
	pgMaxUserW = 20
	pgMaxAppW  = 28
	// pgRoomyQuery is the query width a pane keeps before it gives the rest
	// to user and application names.
	pgRoomyQuery = 40
)

// nameWidths measures the longest user and application names (up to their
// caps), once per snapshot, so View never scans the rows.
func nameWidths(bs []sources.Backend) map[pgCol]int {
	user, app := 0, 0
	for i := range bs {
		if user < pgMaxUserW {
			user = max(user, ansiWidth(bs[i].User))
		}
		if app < pgMaxAppW {
			app = max(app, ansiWidth(bs[i].Application))
		}
	}
	return map[pgCol]int{colUser: min(user, pgMaxUserW), colApp: min(app, pgMaxAppW)}
}

type pgColumn struct {
	id pgCol
	w  int
}

// pgMinQuery is the query text a narrow pane keeps before dropping columns.
const pgMinQuery = 20

// pgLayout drops the least useful columns first when the pane is narrow,
// keeping at least pgMinQuery cells of query text; the query always gets
// what is left. The client address matters least at 3 a.m., then the wait
// event (the blocked-by column and the ▶/▷ marks already tell a lock pile-up),
// then the application, the user, and last who blocks whom. A pane that can
// keep pgRoomyQuery cells of query widens the application and user columns
// towards want (the names' widths), application first: it is what the
// runbook filters by; for it the client column goes first.
func pgLayout(w int, want map[pgCol]int) []pgColumn {
	ids := []pgCol{colMark, colPID, colUser, colApp, colClient, colState, colWait, colDur, colBlk}
	dropOrder := []pgCol{colClient, colWait, colApp, colUser, colBlk}
	width := func(ids []pgCol) int {
		n := 0
		for _, id := range ids {
			n += pgColW[id] + 1
		}
		return n
	}
	for _, d := range dropOrder {
		if w-width(ids) >= pgMinQuery {
			break
		}
		for i, id := range ids {
			if id == d {
				ids = append(ids[:i:i], ids[i+1:]...)
				break
			}
		}
	}
	spare := w - width(ids) - pgRoomyQuery
	// "nudgecampaig…" hides whether it is the -api or the -worker: a whole
	// application name is worth more than the client address.
	if need := want[colApp] - pgColW[colApp]; need > 0 && need > spare && slices.Contains(ids, colClient) && slices.Contains(ids, colApp) {
		ids = slices.DeleteFunc(ids, func(id pgCol) bool { return id == colClient })
		spare = w - width(ids) - pgRoomyQuery
	}
	grow := map[pgCol]int{}
	for _, id := range []pgCol{colApp, colUser} {
		if spare > 0 && slices.Contains(ids, id) {
			grow[id] = min(max(0, want[id]-pgColW[id]), spare)
			spare -= grow[id]
		}
	}
	cols := make([]pgColumn, 0, len(ids)+1)
	used := 0
	for _, id := range ids {
		cw := pgColW[id] + grow[id]
		cols = append(cols, pgColumn{id, cw})
		used += cw + 1
	}
	return append(cols, pgColumn{colQuery, max(1, w-used)})
}

func pgHeader(cols []pgColumn, ell string) string {
	var sb strings.Builder
	for _, c := range cols {
		if c.id == colPID || c.id == colDur {
			sb.WriteString(fitRight(pgColTitle[c.id], c.w, ell))
		} else {
			sb.WriteString(fit(pgColTitle[c.id], c.w, ell))
		}
		if c.id != colQuery {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

func shortState(s string) string {
	switch s {
	case "idle in transaction":
		return "idle-tx"
	case "idle in transaction (aborted)":
		return "idle-tx!"
	case "fastpath function call":
		return "fastpath"
	case "":
		return "-"
	}
	return s
}

func queryText(b *sources.Backend, ell string) string {
	if b.Hidden {
		return "<insufficient privilege>"
	}
	q := b.Query
	if b.QueryTruncated {
		q += ell
	}
	return q
}

func (p *pgPane) row(v *pgView, b *sources.Backend, cols []pgColumn, now time.Time, selected, dim bool) string {
	th := p.c.th
	ell := th.Ellipsis
	age := now.Sub(b.Since())
	if b.Since().IsZero() {
		age = 0
	}
	mark := " "
	markSt := th.Paints.Base
	switch {
	case v.roots[b.PID]:
		mark, markSt = "▶", th.Paints.Crit
	case v.blocking[b.PID]:
		mark, markSt = "▷", th.Paints.Warn
	case len(b.BlockedBy) > 0:
		mark, markSt = "·", th.Paints.Warn
	}
	if th.ASCII {
		mark = map[string]string{"▶": ">", "▷": "}", "·": "-", " ": " "}[mark]
	}
	tag := " "
	if v.tags[keyOf(b)] {
		tag = "●"
		if th.ASCII {
			tag = "*"
		}
	}
	var st themes.Paint
	whole := false // one style over the whole row (selection, stale data)
	idleTx := strings.HasPrefix(b.State, "idle in transaction")
	switch {
	case selected:
		st, whole = th.Paints.Selected, true
	case dim:
		st, whole = th.Paints.Dim, true
	case (idleTx || b.State == "active") && age > 5*time.Minute:
		st = th.Paints.Crit
	case idleTx || b.State == "active" && age > time.Minute:
		st = th.Paints.Warn
	case v.tags[keyOf(b)]:
		st = th.Paints.Tagged
	default:
		st = th.Paints.Base
	}
	// One buffer per row, styles as prefix/suffix: this runs for every
	// visible row of every redraw.
	var sb strings.Builder
	sb.Grow(p.w + 64)
	if whole {
		sb.WriteString(st.Prefix)
		sb.WriteString(mark)
		sb.WriteString(tag)
	} else {
		sb.WriteString(markSt.Render(mark))
		sb.WriteString(th.Paints.Tagged.Render(tag))
		sb.WriteString(st.Prefix)
	}
	sb.WriteByte(' ')
	var num [12]byte
	for _, c := range cols {
		switch c.id {
		case colMark:
			continue
		case colPID:
			writeFitRight(&sb, string(strconv.AppendInt(num[:0], int64(b.PID), 10)), c.w, ell)
		case colUser:
			writeFit(&sb, b.User, c.w, ell)
		case colApp:
			writeFit(&sb, b.Application, c.w, ell)
		case colClient:
			writeFit(&sb, b.ClientAddr, c.w, ell)
		case colState:
			stt := shortState(b.State)
			if !b.IsClient() {
				stt = b.BackendType
			}
			writeFit(&sb, stt, c.w, ell)
		case colWait:
			w := ""
			if b.WaitType != "" {
				w = b.WaitType + ":" + b.WaitEvent
			}
			writeFit(&sb, w, c.w, ell)
		case colDur:
			d := ""
			if age > 0 {
				d = fmtDur(age)
			}
			writeFitRight(&sb, d, c.w, ell)
		case colBlk:
			writeFit(&sb, joinPIDs(b.BlockedBy), c.w, ell)
		case colQuery:
			writeFit(&sb, queryText(b, ell), c.w, ell)
		}
		if c.id != colQuery {
			sb.WriteByte(' ')
		}
	}
	sb.WriteString(st.Suffix)
	return sb.String()
}

func joinPIDs(ps []int32) string {
	if len(ps) == 0 {
		return ""
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

// detailLines is the enter view: every field, the whole query and the
// blocking tree the backend belongs to.
func (p *pgPane) detailLines(v *pgView, w int) []string {
	th := p.c.th
	b := p.selected()
	if b == nil {
		return nil
	}
	now := p.refNow(v)
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("15:04:05") + " (" + fmtDur(now.Sub(t)) + " ago)"
	}
	field := func(k, val string) string { return th.Paints.Muted.Render(fmt.Sprintf("%-14s", k)) + val }
	out := []string{
		th.Paints.Bold.Render(fmt.Sprintf("pid %d  %s@%s  %s", b.PID, b.User, b.Database, shortState(b.State))),
		field("application", b.Application),
		field("client", b.ClientAddr),
		field("backend type", b.BackendType),
		field("backend start", ago(b.BackendStart)),
		field("xact start", ago(b.XactStart)),
		field("query start", ago(b.QueryStart)),
		field("state change", ago(b.StateChange)),
		field("wait", strings.Trim(b.WaitType+":"+b.WaitEvent, ":")),
		field("blocked by", joinPIDs(b.BlockedBy)),
	}
	if b.LeaderPID != 0 {
		out = append(out, field("leader pid", strconv.Itoa(int(b.LeaderPID))))
	}
	if b.Self {
		out = append(out, th.Paints.Warn.Render("flightdeck's own connection: never a target"))
	}
	out = append(out, "", th.Paints.Muted.Render("query:"))
	out = append(out, wrapText(queryText(b, th.Ellipsis), max(10, w-2))...)
	if b.QueryTruncated {
		out = append(out, th.Paints.Warn.Render(fmt.Sprintf("query text truncated at track_activity_query_size = %d bytes", v.act.TrackActivityQuerySize)))
	}
	if b.Hidden {
		out = append(out, th.Paints.Warn.Render("query hidden: the monitoring role lacks pg_monitor"))
	}
	if len(v.blocking) > 0 {
		out = append(out, "", th.Paints.Muted.Render("blocking tree (▶ root blocker; indented = waits on the line above):"))
		out = append(out, p.treeLines(v, b.PID, now)...)
	}
	return out
}

func (p *pgPane) treeLines(v *pgView, pid int32, now time.Time) []string {
	th := p.c.th
	byPID := make(map[int32]*sources.Backend, len(v.act.Backends))
	for i := range v.act.Backends {
		byPID[v.act.Backends[i].PID] = &v.act.Backends[i]
	}
	nodes := sources.BlockingTree(v.act.Backends)
	var out []string
	var seg []sources.BlockNode
	flush := func() {
		in := false
		for _, n := range seg {
			in = in || n.PID == pid
		}
		if !in {
			return
		}
		for _, n := range seg {
			line := strings.Repeat("  ", n.Depth)
			if n.Depth > 0 {
				line += "└ "
			}
			if n.Root {
				line += "▶ ROOT "
			}
			line += strconv.Itoa(int(n.PID))
			if b := byPID[n.PID]; b != nil {
				line += fmt.Sprintf(" %s %s %s %s", b.User, shortState(b.State), fmtDur(now.Sub(b.Since())), queryText(b, th.Ellipsis))
			}
			if n.Waiters > 0 {
				line += fmt.Sprintf("  (blocks %d)", n.Waiters)
			}
			if n.PID == pid {
				line = th.Paints.Bold.Render(line)
			} else if n.Root {
				line = th.Paints.Crit.Render(line)
			}
			out = append(out, line)
		}
	}
	for _, n := range nodes {
		if n.Depth == 0 && len(seg) > 0 {
			flush()
			seg = seg[:0]
		}
		seg = append(seg, n)
	}
	flush()
	if len(out) == 0 {
		out = append(out, th.Paints.Muted.Render("pid "+strconv.Itoa(int(pid))+" neither blocks nor waits"))
	}
	return out
}
