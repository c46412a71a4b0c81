package aws

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

// col is a table column: its title, its width (min, and max when it takes
// spare room) and its priority (lower is kept longer in a narrow pane).
type col struct {
	title  string
	w, max int
	prio   int
	right  bool
}

// RDS columns, in display order.
const (
	rMark = iota
	rID
	rRegion
	rEngine
	rClass
	rStatus
	rMultiAZ
	rRole
	rLag
	rCPU
	rConns
)

var rdsCols = []col{
	rMark:    {title: "", w: 2},
	rID:      {title: "DB INSTANCE", w: 18, max: 30},
	rRegion:  {title: "REGION", w: 10, prio: 6},
	rEngine:  {title: "ENGINE", w: 13, max: 24, prio: 5},
	rClass:   {title: "CLASS", w: 14, prio: 7},
	rStatus:  {title: "STATUS", w: 10, max: 14, prio: 1},
	rMultiAZ: {title: "MULTI-AZ", w: 8, prio: 8},
	rRole:    {title: "ROLE", w: 16, max: 44, prio: 2},
	rLag:     {title: "LAG", w: 7, prio: 3, right: true},
	rCPU:     {title: "CPU", w: 5, prio: 1, right: true},
	rConns:   {title: "CONNS", w: 9, prio: 4, right: true},
}

// ECS columns, in display order.
const (
	eMark = iota
	eService
	eRegion
	eDesired
	eRunning
	ePending
	eRollout
	eTaskDef
	eDeployed
	eEvent
)

var ecsCols = []col{
	eMark:     {title: "", w: 2},
	eService:  {title: "SERVICE", w: 24, max: 40},
	eRegion:   {title: "REGION", w: 10, prio: 7},
	eDesired:  {title: "DES", w: 4, right: true},
	eRunning:  {title: "RUN", w: 4, right: true},
	ePending:  {title: "PEND", w: 5, prio: 2, right: true},
	eRollout:  {title: "ROLLOUT", w: 11, prio: 1},
	eTaskDef:  {title: "TASK DEFINITION", w: 18, max: 30, prio: 1},
	eDeployed: {title: "DEPLOYED", w: 9, prio: 6},
	eEvent:    {title: "LAST EVENT", w: 12, max: 1 << 10, prio: 5},
}

// essential is the lowest priority whose columns are widened to their
// content before any column of a lower priority is shown at all: a whole
// role ("replica of nudgecampaign-prod (us-east-1)") is worth more than the
// engine or the class.
const essential = 4

// widths picks the columns that fit in w cells and sizes them: the
// essential ones (priority ≤ essential) first, each widened to the longest
// text it holds (want, capped by its max); then the others, by priority,
// with whatever is left. 0 drops a column.
func widths(cols []col, w, gap int, want []int) []int {
	out := make([]int, len(cols))
	used := -gap
	include := func(lo, hi int) {
		for prio := lo; prio <= hi; prio++ {
			for i, c := range cols {
				if c.prio == prio && used+gap+c.w <= w {
					out[i] = c.w
					used += gap + c.w
				}
			}
		}
	}
	widen := func(lo, hi int) {
		for prio := lo; prio <= hi; prio++ {
			for i, c := range cols {
				if c.prio != prio || out[i] == 0 || used >= w {
					continue
				}
				top := min(c.max, max(c.w, want[i]))
				if add := min(top-out[i], w-used); add > 0 {
					out[i] += add
					used += add
				}
			}
		}
	}
	include(0, essential)
	widen(0, essential)
	include(essential+1, 8)
	widen(essential+1, 8)
	return out
}

// fitEnd fits s in w cells by cutting its front: a task definition keeps
// its revision, a cluster/service label its service.
func fitEnd(s string, w int, ell string) string {
	sw := kit.Width(s)
	if sw <= w {
		return s
	}
	if w <= kit.Width(ell) {
		return kit.Fit(s, w, ell)
	}
	return ell + ansi.TruncateLeft(s, sw-(w-kit.Width(ell)), "")
}

// cell is one cell's text and paint; end cells are cut at the front.
type cell struct {
	text  string
	paint *themes.Paint
	end   bool
}

// line joins the cells at their widths: painted cell by cell, or the
// whole line in one paint when it is selected or dimmed.
func (p *Pane) line(cols []col, ws []int, cells []cell, gap int, whole *themes.Paint) string {
	ell := p.Env.Theme.Ellipsis
	var b strings.Builder
	first := true
	for i, c := range cols {
		if ws[i] == 0 {
			continue
		}
		if !first {
			b.WriteString(kit.Spaces(gap))
		}
		first = false
		var text string
		switch {
		case c.right:
			text = kit.FitRight(cells[i].text, ws[i], ell)
		case cells[i].end:
			text = kit.Fit(fitEnd(cells[i].text, ws[i], ell), ws[i], ell)
		default:
			text = kit.Fit(cells[i].text, ws[i], ell)
		}
		if whole == nil && cells[i].paint != nil {
			text = cells[i].paint.Render(text)
		}
		b.WriteString(text)
	}
	if whole != nil {
		return whole.Render(b.String())
	}
	return b.String()
}

func (p *Pane) header(cols []col, ws []int, gap int) string {
	cells := make([]cell, len(cols))
	for i, c := range cols {
		cells[i].text = c.title
	}
	muted := p.Env.Theme.Paints.Muted
	return p.line(cols, ws, cells, gap, &muted)
}

// gradePaint is how a grade looks; ok and unknown stay plain.
func (p *Pane) gradePaint(h sources.Health) *themes.Paint {
	ps := &p.Env.Theme.Paints
	switch h {
	case sources.HealthCritical:
		return &ps.Crit
	case sources.HealthWarning:
		return &ps.Warn
	}
	return nil
}

// mark is the grade as a glyph, so it reads without colour.
func (p *Pane) mark(h sources.Health) string {
	ascii := p.Env.Theme.ASCII
	switch h {
	case sources.HealthCritical:
		if ascii {
			return "X"
		}
		return "✗"
	case sources.HealthWarning:
		return "!"
	}
	return ""
}

// title is the frame title: focus key, name, feed age, the regions and an
// endpoint override (nobody should mistake an emulator for production).
func (p *Pane) title() string {
	t := p.FrameTitle()
	e := p.estate()
	if e == nil {
		return t
	}
	var names []string
	for _, r := range e.regions {
		names = append(names, r.name)
	}
	if len(names) > 0 {
		t += " · " + strings.Join(names, ", ")
	}
	if e.set != nil && e.set.Endpoint != "" {
		t += " · endpoint " + e.set.Endpoint
	}
	return t
}

// Draw renders the block; only visible rows are formatted.
func (p *Pane) Draw(focused bool) []string {
	th := p.Env.Theme
	k := p.Env.Keys
	inner := p.W - 2
	notice, dim, has := p.Notice()
	body := notice
	footer := ""
	if s, ok := p.Feeds.Current(); ok && s.Data == nil && s.Err != nil {
		// No data at all (no credentials, say): the whole reason, wrapped,
		// names the credential chain that was tried.
		body = nil
		for _, l := range kit.Wrap(s.Source+": "+s.Err.Error(), inner) {
			body = append(body, th.Paints.Error.Render(l))
		}
	}
	switch {
	case !has || p.estate() == nil:
	case p.Detail && len(p.index) > 0:
		body = append(body, p.Scrolled(p.detailLines(inner))...)
		footer = kit.KeyName(k.List.Down) + "/" + kit.KeyName(k.List.Up) + " scroll  " + kit.KeyName(k.List.Back) + " back  " +
			kit.KeyName(k.Global.Actions) + " actions"
	default:
		body = append(body, p.notes...)
		body = append(body, p.FilterLine()...)
		gap := 1
		if inner >= 120 {
			gap = 2
		}
		rw, ew := widths(rdsCols, inner, gap, p.rdsWant), widths(ecsCols, inner, gap, p.ecsWant)
		from, to := p.Window(len(p.index), p.Visible())
		now := p.Env.Now()
		var last section = -1
		for i := from; i < to; i++ {
			it := p.index[i]
			if it.sec != last {
				if it.sec == secRDS {
					body = append(body, p.header(rdsCols, rw, gap))
				} else {
					body = append(body, p.header(ecsCols, ew, gap))
				}
				last = it.sec
			}
			sel := focused && i == p.Cursor.Pos
			if it.sec == secRDS {
				in := &p.rds[it.i]
				body = append(body, p.rdsRow(in, rw, gap, sel, dim || in.stale))
			} else {
				s := &p.ecs[it.i]
				body = append(body, p.ecsRow(s, ew, gap, sel, dim || s.stale, now))
			}
		}
		if len(p.index) == 0 {
			msg := "no RDS instances or ECS services configured"
			if p.Filter != "" {
				msg = "nothing matches the filter"
			}
			body = append(body, th.Paints.Muted.Render(msg))
		}
		footer = p.Position(len(p.index))
	}
	return kit.Frame(th, p.title(), footer, focused, p.W, p.H, body)
}

func (p *Pane) rowPaint(selected, dim bool) *themes.Paint {
	ps := &p.Env.Theme.Paints
	switch {
	case selected:
		return &ps.Selected
	case dim:
		return &ps.Dim
	}
	return nil
}

func (p *Pane) rdsRow(in *instance, ws []int, gap int, selected, dim bool) string {
	h, _ := in.Health()
	cells := make([]cell, len(rdsCols))
	cells[rMark] = cell{text: p.mark(h), paint: p.gradePaint(h)}
	cells[rID] = cell{text: in.ID}
	cells[rRegion] = cell{text: in.Region}
	cells[rEngine] = cell{text: strings.TrimSpace(in.Engine + " " + in.EngineVersion)}
	cells[rClass] = cell{text: in.Class}
	cells[rStatus] = cell{text: in.Status, paint: p.gradePaint(in.StatusHealth())}
	cells[rMultiAZ] = cell{text: yesNo(in.MultiAZ)}
	cells[rRole] = cell{text: in.RoleText()}
	if d, ok := in.Lag(); ok {
		cells[rLag] = cell{text: lagText(d), paint: p.gradePaint(in.LagHealth())}
	} else {
		cells[rLag] = cell{text: "-"}
	}
	cells[rCPU] = cell{text: percent(in.CPUPercent), paint: p.gradePaint(in.CPUHealth())}
	cells[rConns] = cell{text: connsText(in.RDSInstance), paint: p.gradePaint(in.ConnectionsHealth())}
	return p.line(rdsCols, ws, cells, gap, p.rowPaint(selected, dim))
}

func (p *Pane) ecsRow(s *service, ws []int, gap int, selected, dim bool, now time.Time) string {
	h, _ := s.Health()
	paint := p.gradePaint(h)
	cells := make([]cell, len(ecsCols))
	cells[eMark] = cell{text: p.mark(h), paint: paint}
	cells[eService] = cell{text: s.Cluster + "/" + s.Name, end: true}
	cells[eRegion] = cell{text: s.Region}
	cells[eDesired] = cell{text: strconv.Itoa(int(s.Desired))}
	cells[eRunning] = cell{text: strconv.Itoa(int(s.Running)), paint: paint}
	cells[ePending] = cell{text: strconv.Itoa(int(s.Pending))}
	st := string(s.Rollout.RolloutState)
	if st == "" {
		st = "-"
	}
	var stPaint *themes.Paint
	switch s.Rollout.RolloutState {
	case sources.ECSRolloutFailed:
		stPaint = p.gradePaint(sources.HealthCritical)
	case sources.ECSRolloutInProgress:
		stPaint = p.gradePaint(sources.HealthWarning)
	}
	if len(s.Deployments) > 1 {
		st += fmt.Sprintf(" (%d)", len(s.Deployments))
	}
	cells[eRollout] = cell{text: st, paint: stPaint}
	cells[eTaskDef] = cell{text: s.TaskDefinition.String(), end: true}
	if !s.Rollout.CreatedAt.IsZero() {
		cells[eDeployed] = cell{text: kit.Age(now.Sub(s.Rollout.CreatedAt)) + " ago"}
	}
	if len(s.Events) > 0 {
		ev := s.Events[0]
		cells[eEvent] = cell{text: kit.Age(now.Sub(ev.At)) + " " + strings.TrimPrefix(ev.Message, "(service "+s.Name+") ")}
	}
	return p.line(ecsCols, ws, cells, gap, p.rowPaint(selected, dim))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func percent(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "%"
}

// lagText is a replica lag: 850ms, 42s, 1m12s, 2h05m.
func lagText(d time.Duration) string {
	if d < time.Second {
		return strconv.Itoa(int(d/time.Millisecond)) + "ms"
	}
	return kit.Dur(d)
}

// connsText is "91/100" against the estimated max_connections, or the bare
// count when the maximum is unknown.
func connsText(in sources.RDSInstance) string {
	if math.IsNaN(in.Connections) {
		return "-"
	}
	n := strconv.FormatFloat(in.Connections, 'f', 0, 64)
	if in.MaxConnections > 0 {
		return n + "/" + strconv.Itoa(in.MaxConnections)
	}
	return n
}

// detailLines describe the selected row: an instance's details, or a
// service's deployments and last events.
func (p *Pane) detailLines(w int) []string {
	if in := p.selectedInstance(); in != nil {
		return p.instanceDetail(in, w)
	}
	if s := p.selectedService(); s != nil {
		return p.serviceDetail(s, w)
	}
	return nil
}

func (p *Pane) instanceDetail(in *sources.RDSInstance, w int) []string {
	th := p.Env.Theme
	now := p.Env.Now()
	out := []string{th.Paints.Bold.Render(in.ID) + "  " + in.Region + "  " + strings.TrimSpace(in.Engine+" "+in.EngineVersion) + "  " + in.Class + "  " +
		p.paint(in.StatusHealth(), in.Status)}
	role := "role: " + in.RoleText()
	if len(in.Replicas) > 0 {
		var rs []string
		for _, r := range in.Replicas {
			rs = append(rs, r.String())
		}
		role += " — " + strings.Join(rs, ", ")
	}
	out = append(out, role)
	az := "Multi-AZ: " + yesNo(in.MultiAZ)
	if in.AZ != "" {
		az += "  zone " + in.AZ
	}
	if in.SecondaryAZ != "" {
		az += ", standby in " + in.SecondaryAZ
	}
	out = append(out, az)
	if in.ClusterID != "" {
		if c := p.estate().cluster(in.Region, in.ClusterID); c != nil {
			out = append(out, fmt.Sprintf("Aurora cluster %s: %s, writer %s, readers %s", c.ID, p.paint(c.StatusHealth(), c.Status),
				c.Writer(), strings.Join(c.Readers(), ", ")))
		} else {
			out = append(out, "Aurora cluster "+in.ClusterID+" (not read)")
		}
	}
	if in.Endpoint != "" {
		out = append(out, "endpoint: "+in.Endpoint)
	}
	// The figures with the threshold each one is graded against.
	cpu := "CPU " + percent(in.CPUPercent)
	if !math.IsNaN(in.CPUPercent) {
		cpu = p.paint(in.CPUHealth(), cpu) + fmt.Sprintf(" (warning ≥ %.0f%%, critical > %.0f%%)", sources.DBCPUWarnPercent, sources.DBCPUCriticalPercent)
	}
	conns := "connections " + connsText(*in)
	if in.MaxConnections > 0 && !math.IsNaN(in.Connections) {
		conns = p.paint(in.ConnectionsHealth(), conns) + fmt.Sprintf(" (warning > %.0f%% of max_connections, estimated from the class)", sources.DBConnectionsWarnRatio*100)
	}
	out = append(out, cpu, conns)
	if d, ok := in.Lag(); ok {
		out = append(out, p.paint(in.LagHealth(), "replica lag "+lagText(d))+" (warning ≥ 1m, critical ≥ the 1h RPO)")
	}
	if !in.MetricsAt.IsZero() {
		out = append(out, th.Paints.Muted.Render("CloudWatch figures at "+in.MetricsAt.UTC().Format("15:04")+" UTC ("+kit.Age(now.Sub(in.MetricsAt))+" ago)"))
	}
	if h, why := in.Health(); h >= sources.HealthWarning {
		out = append(out, p.paint(h, h.String()+": "+why))
	}
	if !in.CreatedAt.IsZero() {
		out = append(out, "created "+in.CreatedAt.UTC().Format("2006-01-02")+" ("+kit.Age(now.Sub(in.CreatedAt))+" ago)")
	}
	if in.ARN != "" {
		out = append(out, th.Paints.Muted.Render(in.ARN))
	}
	out = append(out, p.rdsEventLines(in.Events, "of "+in.ID)...)
	if c := p.estate().cluster(in.Region, in.ClusterID); in.ClusterID != "" && c != nil {
		out = append(out, p.rdsEventLines(c.Events, "of cluster "+c.ID)...)
	}
	out = append(out, "", th.Paints.Muted.Render(kit.KeyName(p.Env.Keys.Global.Actions)+": reboot, reboot with failover, promote read replica, fail over the Aurora cluster"))
	return wrapAll(out, w)
}

func (p *Pane) serviceDetail(s *sources.ECSService, w int) []string {
	th := p.Env.Theme
	now := p.Env.Now()
	h, why := s.Health()
	head := th.Paints.Bold.Render(s.Name) + "  cluster " + s.Cluster + "  " + s.Region + "  " + p.paint(h, s.Status)
	if s.LaunchType != "" {
		head += "  " + s.LaunchType
	}
	out := []string{head}
	out = append(out, fmt.Sprintf("tasks: desired %d  running %d  pending %d", s.Desired, s.Running, s.Pending))
	if h >= sources.HealthWarning {
		out = append(out, p.paint(h, h.String()+": "+why))
	}
	lo, hi, src := p.Env.Policy.DesiredBounds(*s, false)
	bounds := "desired count without override: " + boundsText(lo, hi) + " (" + src + ")"
	if s.Protected {
		bounds += "; protected cluster: never 0"
	}
	out = append(out, bounds)
	td := "task definition " + s.TaskDefinition.String()
	if !s.PreviousTaskDefinition.IsZero() {
		td += "  (" + kit.KeyName(p.keys().rollback) + " rolls back to " + s.PreviousTaskDefinition.String() + ")"
	}
	out = append(out, td, "", th.Paints.Muted.Render("DEPLOYMENTS"))
	for _, d := range s.Deployments {
		l := fmt.Sprintf("%-8s %s  %s  %d/%d running, %d pending", d.Status, d.TaskDefinition, orDash(string(d.RolloutState)), d.Running, d.Desired, d.Pending)
		if d.Failed > 0 {
			l += fmt.Sprintf(", %d failed", d.Failed)
		}
		if !d.CreatedAt.IsZero() {
			l += "  created " + kit.Age(now.Sub(d.CreatedAt)) + " ago"
		}
		if d.RolloutReason != "" {
			l += "  " + d.RolloutReason
		}
		out = append(out, l)
	}
	out = append(out, "", th.Paints.Muted.Render("EVENTS (newest first)"))
	for _, e := range s.Events {
		out = append(out, kit.FitRight(kit.Age(now.Sub(e.At)), 4, th.Ellipsis)+" ago  "+e.Message)
	}
	if len(s.Events) == 0 {
		out = append(out, th.Paints.Muted.Render("no events"))
	}
	out = append(out, p.taskLines(s)...)
	return wrapAll(out, w)
}

// paint renders text in its grade's paint (plain when ok or unknown).
func (p *Pane) paint(h sources.Health, text string) string {
	if pt := p.gradePaint(h); pt != nil {
		return pt.Render(text)
	}
	return text
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// wrapAll wraps every line to w cells.
func wrapAll(lines []string, w int) []string {
	var out []string
	for _, l := range lines {
		if kit.Width(l) <= w {
			out = append(out, l)
			continue
		}
		out = append(out, kit.Wrap(l, w)...)
	}
	return out
}
