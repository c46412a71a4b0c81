package postgres

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// col is a column of the backends table.
type col int

const (
	colMark col = iota
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

// colW are the fixed column widths: a pid has at most 7 digits, an IPv4
// address 15 cells, "Lock:transactionid" 18; a duration kit.Dur prints at
// most 6. With 20 cells of query they sum to 119, so a pane of 120 columns
// or more shows every column.
var colW = map[col]int{colMark: 2, colPID: 7, colUser: 11, colApp: 13, colClient: 15, colState: 8, colWait: 18, colDur: 6, colBlk: 10}
var colTitle = map[col]string{colMark: "", colPID: "PID", colUser: "USER", colApp: "APP", colClient: "CLIENT",
	colState: "STATE", colWait: "WAIT", colDur: "DUR", colBlk: "BLOCKED BY", colQuery: "QUERY"}

// Names wider than these are cut even in a wide pane: the query matters more.
const (
	maxUserW = 20
	maxAppW  = 28
	// roomyQuery is the query width a pane keeps before it gives the rest
	// to user and application names.
	roomyQuery = 40
)

// nameWidths measures the longest user and application names (up to their
// caps), once per snapshot, so View never scans the rows.
func nameWidths(bs []sources.Backend) map[col]int {
	user, app := 0, 0
	for i := range bs {
		if user < maxUserW {
			user = max(user, kit.Width(bs[i].User))
		}
		if app < maxAppW {
			app = max(app, kit.Width(bs[i].Application))
		}
	}
	return map[col]int{colUser: min(user, maxUserW), colApp: min(app, maxAppW)}
}

type column struct {
	id col
	w  int
}

// minQuery is the query text a narrow pane keeps before dropping columns.
const minQuery = 20

// layout drops the least useful columns first when the pane is narrow,
// keeping at least minQuery cells of query text; the query always gets
// what is left. The client address matters least at 3 a.m., then the wait
// event (the blocked-by column and the ▶/▷ marks already tell a lock pile-up),
// then the application, the user, and last who blocks whom. A pane that can
// keep roomyQuery cells of query widens the application and user columns
// towards want (the names' widths), application first: it is what the
// runbook filters by; for it the client column goes first.
func layout(w int, want map[col]int) []column {
	ids := []col{colMark, colPID, colUser, colApp, colClient, colState, colWait, colDur, colBlk}
	dropOrder := []col{colClient, colWait, colApp, colUser, colBlk}
	width := func(ids []col) int {
		n := 0
		for _, id := range ids {
			n += colW[id] + 1
		}
		return n
	}
	for _, d := range dropOrder {
		if w-width(ids) >= minQuery {
			break
		}
		for i, id := range ids {
			if id == d {
				ids = append(ids[:i:i], ids[i+1:]...)
				break
			}
		}
	}
	spare := w - width(ids) - roomyQuery
	// "nudgecampaig…" hides whether it is the -api or the -worker: a whole
	// application name is worth more than the client address.
	if need := want[colApp] - colW[colApp]; need > 0 && need > spare && slices.Contains(ids, colClient) && slices.Contains(ids, colApp) {
		ids = slices.DeleteFunc(ids, func(id col) bool { return id == colClient })
		spare = w - width(ids) - roomyQuery
	}
	grow := map[col]int{}
	for _, id := range []col{colApp, colUser} {
		if spare > 0 && slices.Contains(ids, id) {
			grow[id] = min(max(0, want[id]-colW[id]), spare)
			spare -= grow[id]
		}
	}
	cols := make([]column, 0, len(ids)+1)
	used := 0
	for _, id := range ids {
		cw := colW[id] + grow[id]
		cols = append(cols, column{id, cw})
		used += cw + 1
	}
	return append(cols, column{colQuery, max(1, w-used)})
}

func header(cols []column, ell string) string {
	var sb strings.Builder
	for _, c := range cols {
		if c.id == colPID || c.id == colDur {
			sb.WriteString(kit.FitRight(colTitle[c.id], c.w, ell))
		} else {
			sb.WriteString(kit.Fit(colTitle[c.id], c.w, ell))
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

// A transaction open (or a query running) longer than slowRunning is drawn
// as a warning, longer than longRunning as critical; idle in transaction is
// a warning at any age.
const (
	slowRunning = time.Minute
	longRunning = 5 * time.Minute
)

func (p *Pane) row(v *feedView, b *sources.Backend, cols []column, now time.Time, selected, dim bool) string {
	th := p.Env.Theme
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
	case (idleTx || b.State == "active") && age > longRunning:
		st = th.Paints.Crit
	case idleTx || b.State == "active" && age > slowRunning:
		st = th.Paints.Warn
	case v.tags[keyOf(b)]:
		st = th.Paints.Tagged
	default:
		st = th.Paints.Base
	}
	// One buffer per row, styles as prefix/suffix: this runs for every
	// visible row of every redraw.
	var sb strings.Builder
	sb.Grow(p.W + 64)
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
			kit.WriteFitRight(&sb, string(strconv.AppendInt(num[:0], int64(b.PID), 10)), c.w, ell)
		case colUser:
			kit.WriteFit(&sb, b.User, c.w, ell)
		case colApp:
			kit.WriteFit(&sb, b.Application, c.w, ell)
		case colClient:
			kit.WriteFit(&sb, b.ClientAddr, c.w, ell)
		case colState:
			stt := shortState(b.State)
			if !b.IsClient() {
				stt = b.BackendType
			}
			kit.WriteFit(&sb, stt, c.w, ell)
		case colWait:
			w := ""
			if b.WaitType != "" {
				w = b.WaitType + ":" + b.WaitEvent
			}
			kit.WriteFit(&sb, w, c.w, ell)
		case colDur:
			d := ""
			if age > 0 {
				d = kit.Dur(age)
			}
			kit.WriteFitRight(&sb, d, c.w, ell)
		case colBlk:
			kit.WriteFit(&sb, joinPIDs(b.BlockedBy), c.w, ell)
		case colQuery:
			kit.WriteFit(&sb, queryText(b, ell), c.w, ell)
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
