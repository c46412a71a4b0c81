package aws

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
	"flightdeck/themes"
	"flightdeck/ui/kit"
)

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

// roomyAt is the width from which the columns sit two cells apart.
const roomyAt = 120

// The steps rank the columns (each shows if it fits, in this order): the
// essential ones (the grade, the name,
// status, CPU, role, lag, connections; for a service its counts, rollout
// and task definition) show first and widen to their text before any
// other shows at all — a whole role ("replica of nudgecampaign-prod
// (us-east-1)") is worth more than the engine or the class; then engine,
// region, class and Multi-AZ (a service's last event, deploy age and
// region), in the order they give way. A service's last event takes what
// is left.
func newTables() (rds, ecs kit.Table) {
	rds = kit.Table{Fill: -1, RoomyAt: roomyAt, Spread: 1, Want: make([]int, rConns+1),
		Cols: []kit.Col{
			rMark:    {W: 2},
			rID:      {Title: "DB INSTANCE", W: 18, Gap: 1},
			rRegion:  {Title: "REGION", W: 10, Gap: 1},
			rEngine:  {Title: "ENGINE", W: 13, Gap: 1},
			rClass:   {Title: "CLASS", W: 14, Gap: 1},
			rStatus:  {Title: "STATUS", W: 10, Gap: 1},
			rMultiAZ: {Title: "MULTI-AZ", W: 8, Gap: 1},
			rRole:    {Title: "ROLE", W: 16, Gap: 1},
			rLag:     {Title: "LAG", W: 7, Gap: 1, Right: true},
			rCPU:     {Title: "CPU", W: 5, Gap: 1, Right: true},
			rConns:   {Title: "CONNS", W: 9, Gap: 1, Right: true},
		},
		Steps: []kit.Step{
			{Kind: kit.Show, Col: rMark}, {Kind: kit.Show, Col: rID},
			{Kind: kit.Show, Col: rStatus}, {Kind: kit.Show, Col: rCPU}, {Kind: kit.Show, Col: rRole}, {Kind: kit.Show, Col: rLag}, {Kind: kit.Show, Col: rConns},
			{Kind: kit.Grow, Col: rID, To: 30}, {Kind: kit.Grow, Col: rStatus, To: 14}, {Kind: kit.Grow, Col: rRole, To: 44},
			{Kind: kit.Show, Col: rEngine}, {Kind: kit.Show, Col: rRegion}, {Kind: kit.Show, Col: rClass}, {Kind: kit.Show, Col: rMultiAZ},
			{Kind: kit.Grow, Col: rEngine, To: 24},
		},
	}
	ecs = kit.Table{Fill: eEvent, RoomyAt: roomyAt, Spread: 1, Want: make([]int, eEvent+1),
		Cols: []kit.Col{
			eMark:     {W: 2},
			eService:  {Title: "SERVICE", W: 24, Gap: 1, Cut: kit.KeepTail},
			eRegion:   {Title: "REGION", W: 10, Gap: 1},
			eDesired:  {Title: "DES", W: 4, Gap: 1, Right: true},
			eRunning:  {Title: "RUN", W: 4, Gap: 1, Right: true},
			ePending:  {Title: "PEND", W: 5, Gap: 1, Right: true},
			eRollout:  {Title: "ROLLOUT", W: 11, Gap: 1},
			eTaskDef:  {Title: "TASK DEFINITION", W: 18, Gap: 1, Cut: kit.KeepTail},
			eDeployed: {Title: "DEPLOYED", W: 9, Gap: 1},
			eEvent:    {Title: "LAST EVENT", W: 12, Gap: 1},
		},
		Steps: []kit.Step{
			{Kind: kit.Show, Col: eMark}, {Kind: kit.Show, Col: eService}, {Kind: kit.Show, Col: eDesired}, {Kind: kit.Show, Col: eRunning},
			{Kind: kit.Show, Col: eRollout}, {Kind: kit.Show, Col: eTaskDef}, {Kind: kit.Show, Col: ePending},
			{Kind: kit.Grow, Col: eService, To: 40}, {Kind: kit.Grow, Col: eTaskDef, To: 30},
			{Kind: kit.Show, Col: eEvent}, {Kind: kit.Show, Col: eDeployed}, {Kind: kit.Show, Col: eRegion},
		},
	}
	return rds, ecs
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
	th := &p.Env.Theme
	k := p.Env.Keys
	inner := p.W - 2
	sh := kit.Sheet{Title: p.title(), Ready: p.estate() != nil, Above: p.noteLines(), Visible: p.Visible(), N: len(p.index),
		DetailFooter: kit.KeyName(k.List.Down) + "/" + kit.KeyName(k.List.Up) + " scroll  " + kit.KeyName(k.List.Back) + " back  " +
			kit.KeyName(k.Global.Actions) + " actions"}
	if s, ok := p.Feeds.Current(); ok && s.Data == nil && s.Err != nil {
		// No data at all (no credentials, say): the whole reason, wrapped,
		// names the credential chain that was tried.
		sh.Notice = []string{}
		for _, l := range kit.Wrap(s.Source+": "+s.Err.Error(), inner) {
			sh.Notice = append(sh.Notice, th.Paints.Error.Render(l))
		}
	}
	if !sh.Ready {
		return p.DrawSheet(focused, sh)
	}
	if len(p.index) > 0 {
		sh.Detail = p.detailLines
	}
	sh.Empty = "no RDS instances or ECS services configured"
	if p.Filter != "" {
		sh.Empty = "nothing matches the filter"
	}
	sh.Empty = th.Paints.Muted.Render(sh.Empty)
	p.rdsT.Fit(inner, th.Ellipsis)
	p.ecsT.Fit(inner, th.Ellipsis)
	sh.Rows = func(body []string, from, to int, dim bool) []string {
		now := p.Env.Now()
		var last section = -1
		for i := from; i < to; i++ {
			it := p.index[i]
			if it.sec != last {
				body = p.flush(body, last)
				if it.sec == secRDS {
					body = append(body, p.rdsT.Header(th.Paints.Muted))
				} else {
					body = append(body, p.ecsT.Header(th.Paints.Muted))
				}
				last = it.sec
			}
			sel := focused && i == p.Cursor.Pos
			if it.sec == secRDS {
				in := &p.rds[it.i]
				p.rdsRow(in, sel, dim || in.stale)
			} else {
				s := &p.ecs[it.i]
				p.ecsRow(s, sel, dim || s.stale, now)
			}
		}
		return p.flush(body, last)
	}
	return p.DrawSheet(focused, sh)
}

// flush draws the rows of sec's table collected so far.
func (p *Pane) flush(body []string, sec section) []string {
	switch sec {
	case secRDS:
		return p.rdsT.Lines(body)
	case secECS:
		return p.ecsT.Lines(body)
	}
	return body
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

// identity is what tells two rows apart whose names read alike: the raw
// identifier AWS gave (never shown; only hashed into a tag by kit.Tell),
// else the region-qualified name.
func identity(raw, key string) string {
	if raw != "" {
		return raw
	}
	return key
}

func (p *Pane) rdsRow(in *instance, selected, dim bool) {
	h, _ := in.Health()
	t := &p.rdsT
	c := t.Cells()
	c[rMark] = kit.Cell{Text: p.mark(h), Paint: p.gradePaint(h)}
	c[rID] = kit.Cell{Text: in.ID, ID: identity(in.RawID, in.Region+"/"+in.ID)}
	c[rRegion].Text = in.Region
	c[rEngine].Text = strings.TrimSpace(in.Engine + " " + in.EngineVersion)
	c[rClass].Text = in.Class
	c[rStatus] = kit.Cell{Text: in.Status, Paint: p.gradePaint(in.StatusHealth())}
	c[rMultiAZ].Text = yesNo(in.MultiAZ)
	c[rRole].Text = in.RoleText()
	if d, ok := in.Lag(); ok {
		c[rLag] = kit.Cell{Text: lagText(d), Paint: p.gradePaint(in.LagHealth())}
	} else {
		c[rLag].Text = "-"
	}
	c[rCPU] = kit.Cell{Text: percent(in.CPUPercent), Paint: p.gradePaint(in.CPUHealth())}
	c[rConns] = kit.Cell{Text: connsText(in.RDSInstance), Paint: p.gradePaint(in.ConnectionsHealth())}
	t.Add(c, p.rowPaint(selected, dim), nil)
}

func (p *Pane) ecsRow(s *service, selected, dim bool, now time.Time) {
	h, _ := s.Health()
	paint := p.gradePaint(h)
	t := &p.ecsT
	c := t.Cells()
	c[eMark] = kit.Cell{Text: p.mark(h), Paint: paint}
	c[eService] = kit.Cell{Text: s.Cluster + "/" + s.Name, ID: identity(s.RawARN, s.Key())}
	c[eRegion].Text = s.Region
	c[eDesired].Text = strconv.Itoa(int(s.Desired))
	c[eRunning] = kit.Cell{Text: strconv.Itoa(int(s.Running)), Paint: paint}
	c[ePending].Text = strconv.Itoa(int(s.Pending))
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
	c[eRollout] = kit.Cell{Text: st, Paint: stPaint}
	c[eTaskDef].Text = s.TaskDefinition.String()
	if !s.Rollout.CreatedAt.IsZero() {
		c[eDeployed].Text = kit.Age(now.Sub(s.Rollout.CreatedAt)) + " ago"
	}
	if len(s.Events) > 0 {
		ev := s.Events[0]
		c[eEvent].Text = kit.Age(now.Sub(ev.At)) + " ago: " + eventText(ev.Message, s.Name)
	}
	t.Add(c, p.rowPaint(selected, dim), nil)
}

// eventText is an ECS service event on the service's own row: its
// "(service name)" subject is the row's, so it reads "service has reached a
// steady state." rather than repeating the name or losing the subject; an
// event about something else keeps its own.
func eventText(msg, service string) string {
	if rest, ok := strings.CutPrefix(msg, "(service "+service+") "); ok {
		return "service " + rest
	}
	return msg
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
	th := &p.Env.Theme
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
		out = append(out, p.paint(in.LagHealth(), "replica lag "+lagText(d))+" (warning ≥ "+kit.Age(sources.ReplicaLagWarn)+", critical ≥ the "+kit.Age(sources.ReplicaLagCritical)+" RPO)")
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
	th := &p.Env.Theme
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
