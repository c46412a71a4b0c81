package postgres

import (
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// Columns of the backends table: the blocking mark and the tag, then the
// backend's fields; the query takes what is left.
const (
	colMark = iota
	colTag
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

// The column widths: a pid has at most 7 digits, an IPv4 address 15
// cells, "Lock:transactionid" 18; a duration kit.Dur prints at most 6.
// With minQuery cells of query they sum to 119, so a pane of 120 columns
// or more shows every column.
var columns = []kit.Col{
	colMark:   {W: 1},
	colTag:    {W: 1},
	colPID:    {Title: "PID", W: 7, Gap: 1, Right: true},
	colUser:   {Title: "USER", W: 11, Gap: 1},
	colApp:    {Title: "APP", W: 13, Gap: 1},
	colClient: {Title: "CLIENT", W: 15, Gap: 1},
	colState:  {Title: "STATE", W: 8, Gap: 1},
	colWait:   {Title: "WAIT", W: 18, Gap: 1},
	colDur:    {Title: "DUR", W: 6, Gap: 1, Right: true},
	colBlk:    {Title: "BLOCKED BY", W: 10, Gap: 1},
	colQuery:  {Title: "QUERY", W: minQuery, Gap: 1},
}

// Names wider than these are cut even in a wide pane: the query matters more.
const (
	maxUserW = 20
	maxAppW  = 28
	// minQuery is the query text a narrow pane keeps before dropping
	// columns; roomyQuery the query width a pane keeps before it gives the
	// rest to user and application names.
	minQuery   = 20
	roomyQuery = 40
)

// nameWidths measures the longest user and application names (up to their
// caps), once per snapshot, so View never scans the rows.
func nameWidths(bs []sources.Backend) (user, app int) {
	for i := range bs {
		if user < maxUserW {
			user = max(user, kit.Width(bs[i].User))
		}
		if app < maxAppW {
			app = max(app, kit.Width(bs[i].Application))
		}
	}
	return min(user, maxUserW), min(app, maxAppW)
}

// The steps rank the columns. A narrow pane drops the least useful first,
// keeping at least minQuery cells of query text: the client address
// matters least at 3 a.m., then the wait event (the blocked-by column and
// the ▶/▷ marks already tell a lock pile-up), then the application, the
// user, and last who blocks whom. A pane that keeps roomyQuery cells of
// query widens the application and user columns towards their names,
// application first: it is what the runbook filters by. "nudgecampaig…"
// hides whether it is the -api or the -worker, so a whole application
// name is worth more than the client address: when the names need room,
// the client column shows only after the application has it.
var (
	stepsShortApps = []kit.Step{
		{Kind: kit.Show, Col: colBlk}, {Kind: kit.Show, Col: colUser}, {Kind: kit.Show, Col: colApp}, {Kind: kit.Show, Col: colWait},
		{Kind: kit.Show, Col: colClient},
		{Kind: kit.Pad, Col: colQuery, To: roomyQuery},
		{Kind: kit.Grow, Col: colUser, To: maxUserW},
	}
	stepsLongApps = []kit.Step{
		{Kind: kit.Show, Col: colBlk}, {Kind: kit.Show, Col: colUser}, {Kind: kit.Show, Col: colApp}, {Kind: kit.Show, Col: colWait},
		{Kind: kit.Pad, Col: colQuery, To: roomyQuery},
		{Kind: kit.Grow, Col: colApp, To: maxAppW},
		{Kind: kit.Show, Col: colClient},
		{Kind: kit.Grow, Col: colUser, To: maxUserW},
	}
)

func newTable() kit.Table {
	return kit.Table{Cols: columns, Fill: colQuery, InOrder: true, Want: make([]int, len(columns))}
}

// fit lays the table out in w cells for names as wide as user and app.
func fit(t *kit.Table, w, user, app int, ell string) {
	t.Want[colUser], t.Want[colApp] = user, app
	t.Steps = stepsShortApps
	if app > columns[colApp].W {
		t.Steps = stepsLongApps
	}
	t.Fit(w, ell)
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

// A transaction open (or a query running) longer than slowRunning is drawn
// as a warning, longer than longRunning as critical; idle in transaction is
// a warning at any age.
const (
	slowRunning = time.Minute
	longRunning = 5 * time.Minute
)

func (p *Pane) row(v *feedView, b *sources.Backend, now time.Time, selected, dim bool) string {
	th := &p.Env.Theme
	ell := th.Ellipsis
	age := now.Sub(b.Since())
	if b.Since().IsZero() {
		age = 0
	}
	mark := " "
	markSt := &th.Paints.Base
	switch {
	case v.roots[b.PID]:
		mark, markSt = "▶", &th.Paints.Crit
	case v.blocking[b.PID]:
		mark, markSt = "▷", &th.Paints.Warn
	case len(b.BlockedBy) > 0:
		mark, markSt = "·", &th.Paints.Warn
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
	var st *themes.Paint
	whole := false // one paint over the whole row (selection, stale data)
	idleTx := strings.HasPrefix(b.State, "idle in transaction")
	switch {
	case selected:
		st, whole = &th.Paints.Selected, true
	case dim:
		st, whole = &th.Paints.Dim, true
	case (idleTx || b.State == "active") && age > longRunning:
		st = &th.Paints.Crit
	case idleTx || b.State == "active" && age > slowRunning:
		st = &th.Paints.Warn
	case v.tags[keyOf(b)]:
		st = &th.Paints.Tagged
	default:
		st = &th.Paints.Base
	}
	t := &p.table
	c := t.Cells()
	c[colMark] = kit.Cell{Text: mark, Paint: markSt}
	c[colTag] = kit.Cell{Text: tag, Paint: &th.Paints.Tagged}
	c[colPID].Text = strconv.Itoa(int(b.PID))
	c[colUser].Text = b.User
	c[colApp].Text = b.Application
	c[colClient].Text = b.ClientAddr
	c[colState].Text = shortState(b.State)
	if !b.IsClient() {
		c[colState].Text = b.BackendType
	}
	if b.WaitType != "" {
		c[colWait].Text = b.WaitType + ":" + b.WaitEvent
	}
	if age > 0 {
		c[colDur].Text = kit.Dur(age)
	}
	c[colBlk].Text = joinPIDs(b.BlockedBy)
	c[colQuery].Text = queryText(b, ell)
	if whole {
		return t.Row(c, st, nil)
	}
	return t.Row(c, nil, st)
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
