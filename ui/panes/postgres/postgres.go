// Package postgres is the Postgres pane: pg_stat_activity live, with the
// connection gauge, who holds the connections, the filter language of
// sources.BackendFilter, who blocks whom, tagging, and the cancel and
// terminate actions. Its files follow its seams: this one is the pane's
// state and keys, columns.go the table, header.go the figures above it,
// detail.go the enter view with the blocking tree.
package postgres

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// bkey is a backend's identity: pids are reused, pid+backend_start is not.
type bkey struct {
	pid   int32
	start int64
}

func keyOf(b *sources.Backend) bkey { return bkey{b.PID, b.BackendStart.UnixNano()} }

// SortKeys are the orders the sort key cycles through, and the values of a
// filter's sort: token.
var SortKeys = []string{"duration", "state", "user", "app", "wait"}

// feedView is the derived state of one Postgres source: the filtered,
// sorted index is computed in Update when data, sort or filter change, so
// View only formats the rows that fit on screen.
type feedView struct {
	snap     sources.Snapshot
	act      *sources.PGActivity
	index    []int
	blocking map[int32]bool
	roots    map[int32]bool
	tags     map[bkey]bool
	// sel is the selected backend, so the cursor follows it through
	// refreshes, re-sorts and source switches.
	sel    bkey
	hasSel bool
	// userW and appW are how wide the user and app columns would like to
	// be for this snapshot's names (capped), so a wide pane shows them whole.
	userW, appW int
	// holders says who holds the connections (top applications, users and
	// databases), made once per snapshot: the runbook's first question.
	holders string
	// rows are the optional views' rows in display order (views.go).
	rows viewRows
}

// Pane shows the backends of one Postgres source at a time.
type Pane struct {
	kit.List
	views   map[string]*feedView
	showSys bool
	sortKey int
	// filter is the List's Filter parsed; parsed is the text it came from.
	filter sources.BackendFilter
	parsed string
	// table lays the backends out (columns.go).
	table kit.Table
	// viewIdx is the view shown (sources.PGViewOrder), cursors each
	// view's cursor while another is shown, stmtSort the statements'
	// order, vtables the views' layouts (views.go).
	viewIdx  int
	cursors  []kit.Cursor
	stmtSort int
	vtables  map[sources.PGView]*kit.Table
}

// New builds the pane in its slot.
func New(s kit.Slot) *Pane {
	p := &Pane{views: map[string]*feedView{}, table: newTable(), cursors: make([]kit.Cursor, len(sources.PGViewOrder))}
	p.Init(s, kit.Meta{Title: "Postgres", Kind: sources.KindPostgres, Noun: "postgres", Help: s.Env.Keys.Postgres.FullHelp()}, p)
	return p
}

// ShortHelp follows the pane: these keys are what the on-call needs here.
func (p *Pane) ShortHelp() []key.Binding {
	k := p.Env.Keys
	return []key.Binding{k.List.Filter, k.Postgres.Sort, k.Postgres.Tag, k.Global.Actions, k.Postgres.Cancel, k.Postgres.Terminate}
}

// HelpNotes is the filter language, under the help overlay's key lists.
func (p *Pane) HelpNotes() []string {
	return []string{"filter: text user:X app:X db:X state:idle-in-tx wait:Lock >10m blocking blocked sort:" + strings.Join(SortKeys, "|")}
}

func (p *Pane) view() *feedView {
	n := p.Feeds.Name()
	if n == "" {
		return nil
	}
	return p.views[n]
}

// SetSnapshot takes a new snapshot of any Postgres source, shown or not.
func (p *Pane) SetSnapshot(s sources.Snapshot) {
	if p.Hold(s) {
		return // paused: the rows stay as they are
	}
	p.Touch()
	p.Feeds.Set(s)
	v := p.views[s.Source]
	if v == nil {
		v = &feedView{tags: map[bkey]bool{}}
		p.views[s.Source] = v
	}
	v.snap = s
	if s.Source == p.Feeds.Name() {
		p.want()
	}
	act, _ := s.Data.(*sources.PGActivity)
	if act == nil || act == v.act {
		return
	}
	v.act = act
	if act.Views != v.rows.from && v == p.view() {
		defer p.rebuildViews(v)
	}
	v.userW, v.appW = nameWidths(act.Backends)
	v.holders = holdersLine(act)
	v.blocking = act.Blockers()
	v.roots = map[int32]bool{}
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
	p.parse()
	p.rebuild(v)
}

// refNow is the server's clock at our now: durations come from the
// server's own timestamps, so a skewed bastion clock cannot distort them.
func (p *Pane) refNow(v *feedView) time.Time {
	if v.act != nil && !v.act.Now.IsZero() && !v.snap.FetchedAt.IsZero() {
		return v.act.Now.Add(p.Env.Now().Sub(v.snap.FetchedAt))
	}
	return p.Env.Now()
}

// Len is the number of rows shown: backends, or the shown view's rows.
func (p *Pane) Len() int {
	if v := p.view(); v != nil {
		if p.viewIdx != 0 {
			return p.viewLen(v)
		}
		return len(v.index)
	}
	return 0
}

// Visible is how many rows fit under the figures and column titles.
func (p *Pane) Visible() int {
	if p.viewIdx != 0 {
		return max(1, p.H-2-p.viewHeaderLines())
	}
	return max(1, p.H-2-p.headerLines())
}

// Rebuild derives every source's rows again: the filter, the sort or the
// shown source changed.
func (p *Pane) Rebuild() {
	p.parse()
	for _, v := range p.views {
		p.rebuild(v)
	}
	if v := p.view(); v != nil && p.viewIdx != 0 {
		p.rebuildViews(v)
	}
}

// parse reads a changed filter: a new filter starts at the top, and its
// sort: token (sort:duration) picks the order.
func (p *Pane) parse() {
	if p.Filter == p.parsed {
		return
	}
	p.parsed = p.Filter
	p.filter = sources.ParseBackendFilter(p.Filter)
	if i := slices.Index(SortKeys, p.filter.Sort); i >= 0 {
		p.sortKey = i
	}
	p.Cursor = kit.Cursor{}
	for _, v := range p.views {
		v.hasSel = false
	}
}

func (p *Pane) rebuild(v *feedView) {
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
	cmp := orders[SortKeys[p.sortKey]]
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := &bs[idx[i]], &bs[idx[j]]
		if c := cmp(a, b); c != 0 {
			return c < 0
		}
		return a.PID < b.PID
	})
	v.index = idx
	if v != p.view() || p.viewIdx != 0 {
		return
	}
	if !v.hasSel || !p.Picked {
		// A source shown for the first time starts at the top, and until
		// a row is picked the selection stays on the top of the sort order
		// rather than following whichever backend was there.
		p.Cursor = kit.Cursor{}
	}
	for i, j := range idx {
		if v.hasSel && p.Picked && keyOf(&bs[j]) == v.sel {
			p.Cursor.Pos = i
			break
		}
	}
	p.Cursor.Clamp(len(idx), p.Visible())
	p.remember()
}

// orders are the sort keys' comparisons.
var orders = map[string]func(a, b *sources.Backend) int{
	"duration": func(a, b *sources.Backend) int { return cmpTime(a.Since(), b.Since()) },
	"state":    func(a, b *sources.Backend) int { return strings.Compare(a.State, b.State) },
	"user":     func(a, b *sources.Backend) int { return strings.Compare(a.User, b.User) },
	"app":      func(a, b *sources.Backend) int { return strings.Compare(a.Application, b.Application) },
	"wait": func(a, b *sources.Backend) int {
		return strings.Compare(a.WaitType+":"+a.WaitEvent, b.WaitType+":"+b.WaitEvent)
	},
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

// remember pins the selection of the shown source to its backend.
func (p *Pane) remember() {
	if p.viewIdx != 0 {
		return
	}
	if v, b := p.view(), p.selected(); b != nil {
		v.sel, v.hasSel = keyOf(b), true
	}
}

func (p *Pane) selected() *sources.Backend {
	v := p.view()
	if i := p.Selected(); p.viewIdx == 0 && v != nil && v.act != nil && i >= 0 && i < len(v.index) {
		return &v.act.Backends[v.index[i]]
	}
	return nil
}

// tagged returns the tagged backends of the current source, in table order.
func (p *Pane) tagged() []sources.Backend {
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
func (p *Pane) matching() []sources.Backend {
	v := p.view()
	if v == nil || v.act == nil || p.filter.Empty() {
		return nil
	}
	out := make([]sources.Backend, len(v.index))
	for i, j := range v.index {
		out[i] = v.act.Backends[j]
	}
	return out
}

// HandleKey handles a key while the pane has focus.
func (p *Pane) HandleKey(msg tea.KeyPressMsg) tea.Cmd {
	if !p.CapturesKeys() && !p.Detail && p.ownKey(msg) {
		return nil
	}
	if p.List.HandleKey(msg) && p.viewIdx == 0 {
		p.remember()
	}
	return nil
}

// ownKey handles the Postgres keys: sort, non-client backends, tags.
func (p *Pane) ownKey(msg tea.KeyPressMsg) bool {
	k := p.Env.Keys.Postgres
	v := p.view()
	switch {
	case key.Matches(msg, k.View):
		p.switchView((p.viewIdx + 1) % len(sources.PGViewOrder))
	case key.Matches(msg, k.Statement):
		p.jump()
	case p.viewIdx != 0:
		if key.Matches(msg, k.Sort) && p.mode() == sources.PGViewStatements {
			p.stmtSort = (p.stmtSort + 1) % len(stmtSorts)
			p.Rebuild()
			break
		}
		return false
	case key.Matches(msg, k.Sort):
		p.sortKey = (p.sortKey + 1) % len(SortKeys)
		p.Rebuild()
	case key.Matches(msg, k.System):
		p.showSys = !p.showSys
		p.Rebuild()
	case v == nil || v.act == nil:
		return false
	case key.Matches(msg, k.Tag):
		if b := p.selected(); b != nil {
			kk := keyOf(b)
			if v.tags[kk] {
				delete(v.tags, kk)
			} else {
				v.tags[kk] = true
			}
			p.Cursor.Pos++
			p.Cursor.Clamp(len(v.index), p.Visible())
			p.Picked = true
			p.remember()
		}
	case key.Matches(msg, k.ClearTags):
		clear(v.tags)
	default:
		return false
	}
	p.Touch()
	return true
}

// Actions are cancel and terminate of the tagged backends (else the
// selected one), and terminate of every backend the filter shows.
func (p *Pane) Actions() []kit.Action {
	if p.viewIdx != 0 {
		return p.viewActions()
	}
	k := p.Env.Keys.Postgres
	src := p.Feeds.Name()
	v := p.view()
	var denied sources.Denied
	what, tags := "", 0
	if v != nil && v.act != nil {
		denied = v.act.Denied
		tags = len(v.tags)
	}
	b := p.selected()
	switch {
	case tags > 0:
		what = fmt.Sprintf("%d tagged", tags)
	case b != nil:
		what = fmt.Sprintf("pid %d", b.PID)
	}
	sel := func() []sources.Backend {
		if t := p.tagged(); len(t) > 0 {
			return t
		}
		if b != nil {
			return []sources.Backend{*b}
		}
		return nil
	}
	var out []kit.Action
	for _, kind := range []ops.Kind{ops.Cancel, ops.Terminate} {
		bind := k.Cancel
		if kind == ops.Terminate {
			bind = k.Terminate
		}
		out = append(out, kit.Action{Kind: kind, Label: kind.Title() + " (" + what + ")", Key: bind, Denied: denied[string(kind)],
			Request: func() ops.Request { return ops.Request{Action: kind, Source: src, Backends: sel()} }})
	}
	if b != nil && b.BackendType == "autovacuum worker" {
		av := *b
		out = append(out, kit.Action{Kind: ops.CancelAutovacuum, Label: fmt.Sprintf("Cancel autovacuum worker %d", b.PID),
			Denied:  p.autovacuumIdle(b),
			Request: func() ops.Request { return ops.Request{Action: ops.CancelAutovacuum, Source: src, Subject: av} }})
	}
	if v != nil && !p.filter.Empty() && len(v.index) > 0 {
		out = append(out, kit.Action{Kind: ops.Terminate, Label: fmt.Sprintf("Terminate all %d matching filter", len(v.index)),
			Denied: denied[string(ops.Terminate)],
			Request: func() ops.Request {
				return ops.Request{Action: ops.Terminate, Source: src, Backends: p.matching()}
			}})
	}
	return out
}
