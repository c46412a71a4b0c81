package postgres

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// detailLines is the enter view: every field, the whole query and the
// blocking tree the backend belongs to.
func (p *Pane) detailLines(v *feedView, w int) []string {
	th := &p.Env.Theme
	b := p.selected()
	if b == nil {
		return nil
	}
	now := p.refNow(v)
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("15:04:05") + " (" + kit.Dur(now.Sub(t)) + " ago)"
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
	if b.QueryID != 0 {
		out = append(out, field("queryid", fmt.Sprintf("%d  (%s: its statement's figures)", b.QueryID, kit.KeyName(p.Env.Keys.Postgres.Statement))))
	}
	if b.LeaderPID != 0 {
		out = append(out, field("leader pid", strconv.Itoa(int(b.LeaderPID))))
	}
	if b.Self {
		out = append(out, th.Paints.Warn.Render("flightdeck's own connection: never a target"))
	}
	out = append(out, "", th.Paints.Muted.Render("query:"))
	out = append(out, kit.Wrap(queryText(b, th.Ellipsis), max(10, w-2))...)
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

func (p *Pane) treeLines(v *feedView, pid int32, now time.Time) []string {
	th := &p.Env.Theme
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
				line += fmt.Sprintf(" %s %s %s %s", b.User, shortState(b.State), kit.Dur(now.Sub(b.Since())), queryText(b, th.Ellipsis))
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
