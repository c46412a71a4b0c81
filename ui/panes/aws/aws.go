// Package aws is the AWS pane: RDS instances (engine, class, status,
// Multi-AZ, role, replica lag, CPU and connections graded against the ops
// manual's thresholds) and ECS services (desired/running/pending, the
// primary deployment's rollout, the task definition revision) of every
// configured region, and their actions: on a service the Rollouts pane's
// keys — scale sets the desired count, restart forces a new deployment,
// undo rolls the task definition back — and in the action menu the RDS
// reboot (with failover), read replica promotion and Aurora failover.
//
// A region whose read fails keeps its last rows, dimmed, under a line
// naming the error and its age; the other regions stay live.
package aws

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// section is which table a row belongs to.
type section int

const (
	secRDS section = iota
	secECS
)

// item is one row shown: an index into the pane's instances or services.
type item struct {
	sec section
	i   int
}

// instance and service are rows with where they came from: stale rows are
// a failing region's last good read.
type instance struct {
	sources.RDSInstance
	stale bool
}

type service struct {
	sources.ECSService
	stale bool
}

// Pane shows the AWS estate of its source.
type Pane struct {
	kit.List
	estates map[string]*estate // by source name
	rds     []instance
	ecs     []service
	index   []item
	// notes are the lines above the tables: region errors with their
	// age, and the source's warnings. Found in Rebuild, worded in Draw
	// (noteLines), where the ages are the display second's.
	notes []note
	// worst are the summary's findings, most urgent first.
	worst []finding
	// rdsT and ecsT lay the two tables out; their Want is the longest
	// text of each flexible column, measured in Rebuild so Draw never
	// scans every row.
	rdsT, ecsT kit.Table
}

// finding is one graded problem for the summary line.
type finding struct {
	h    sources.Health
	text string
}

// New builds the pane in its slot.
func New(s kit.Slot) *Pane {
	p := &Pane{estates: map[string]*estate{}}
	p.rdsT, p.ecsT = newTables()
	p.Init(s, kit.Meta{Title: "AWS", Kind: sources.KindAWS, Noun: "aws"}, p)
	k := p.keys()
	p.Meta.Help = [][]key.Binding{{k.desired, k.redeploy, k.rollback}}
	return p
}

// paneKeys are the Rollouts pane's bindings (the same verbs on a service)
// with help text that says what they do here.
type paneKeys struct{ desired, redeploy, rollback key.Binding }

func (p *Pane) keys() paneKeys {
	k := p.Env.Keys.Rollouts
	relabel := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	return paneKeys{
		desired:  relabel(k.Scale, "desired count"),
		redeploy: relabel(k.Restart, "force deployment"),
		rollback: relabel(k.Undo, "roll back task def"),
	}
}

// ShortHelp follows the pane.
func (p *Pane) ShortHelp() []key.Binding {
	k := p.keys()
	return []key.Binding{p.Env.Keys.List.Details, k.desired, k.redeploy, k.rollback, p.Env.Keys.Global.Actions}
}

// SetSnapshot merges a new payload region by region before the rows are
// rebuilt, so a failing region keeps its last good rows.
func (p *Pane) SetSnapshot(s sources.Snapshot) {
	if p.Hold(s) {
		return // paused: merged on resume
	}
	if set, ok := s.Data.(*sources.AWSSet); ok {
		e := p.estates[s.Source]
		if e == nil {
			e = &estate{}
			p.estates[s.Source] = e
		}
		e.merge(set, s.FetchedAt)
	}
	p.List.SetSnapshot(s)
}

func (p *Pane) estate() *estate { return p.estates[p.Feeds.Name()] }

// Len is the number of rows shown.
func (p *Pane) Len() int { return len(p.index) }

// note is a line above the tables: a region's failing read, or the
// source's warnings.
type note struct {
	region, what string
	pt           part
	read         bool
	warning      string
}

// noteLines words the notes at the display second: how long each read has
// been failing and how old the rows it keeps are.
func (p *Pane) noteLines() []string {
	now := p.Env.Now()
	th := &p.Env.Theme
	out := make([]string, 0, len(p.notes))
	for _, n := range p.notes {
		if n.warning != "" {
			out = append(out, th.Paints.Warn.Render(n.warning))
			continue
		}
		line := fmt.Sprintf("%s %s ERR %s: %s", n.region, n.what, kit.Age(now.Sub(n.pt.since)), n.pt.err)
		switch {
		case n.what == "CloudWatch":
			line += " — figures unknown"
		case n.read && !n.pt.at.IsZero():
			line += " — rows from " + kit.Age(now.Sub(n.pt.at)) + " ago, dimmed"
		default:
			line += " — nothing read yet"
		}
		out = append(out, th.Paints.Error.Render(line))
	}
	return out
}

// Visible is how many rows fit: the frame, the notes and the filter line,
// and a column title line per table.
func (p *Pane) Visible() int { return max(1, p.H-2-p.above()-2) }

// above counts the lines drawn over the tables.
func (p *Pane) above() int {
	n := len(p.notes)
	if p.Prompt.Editing() || p.Filter != "" {
		n++
	}
	if s, ok := p.Feeds.Current(); !ok || s.Err != nil || s.Stale {
		n++
	}
	return n
}

// WantHeight makes the pane compact: its grid row is as tall as its rows
// (the root bounds it), since an estate is a handful of databases and
// services; an open detail view wants all it can get.
func (p *Pane) WantHeight() int {
	if p.Detail {
		return 1 << 10
	}
	return 2 + p.above() + 2 + max(1, len(p.index))
}

// Rebuild lays the estate's regions out as rows, applies the filter and
// grades everything for the summary.
func (p *Pane) Rebuild() {
	p.rds, p.ecs, p.index, p.notes, p.worst = p.rds[:0], p.ecs[:0], p.index[:0], p.notes[:0], p.worst[:0]
	e := p.estate()
	if e == nil {
		return
	}
	for _, r := range e.regions {
		for _, in := range r.instances {
			p.rds = append(p.rds, instance{RDSInstance: in, stale: r.rds.err != ""})
		}
		for _, s := range r.services {
			p.ecs = append(p.ecs, service{ECSService: s, stale: r.ecs.err != ""})
		}
		for _, f := range []struct {
			what string
			pt   part
			read bool
		}{{"RDS", r.rds, r.rdsRead}, {"ECS", r.ecs, r.ecsRead}, {"CloudWatch", r.cw, true}} {
			if f.pt.err == "" {
				continue
			}
			p.notes = append(p.notes, note{region: r.name, what: f.what, pt: f.pt, read: f.read})
			p.worst = append(p.worst, finding{sources.HealthCritical, r.name + " " + f.what + " ERR"})
		}
	}
	if e.set != nil && len(e.set.Warnings) > 0 {
		p.notes = append(p.notes, note{warning: "warning: " + strings.Join(e.set.Warnings, "; ")})
	}
	for _, in := range p.rds {
		if h, why := in.Health(); h >= sources.HealthWarning {
			p.worst = append(p.worst, finding{h, in.ID + " " + why})
		}
	}
	for _, s := range p.ecs {
		if h, why := s.Health(); h >= sources.HealthWarning {
			p.worst = append(p.worst, finding{h, s.Name + " (" + s.Cluster + ") " + why})
		}
	}
	// Most urgent first; the order within a grade stays the table's.
	slices.SortStableFunc(p.worst, func(a, b finding) int { return int(b.h) - int(a.h) })
	p.measure()
	f := strings.ToLower(p.Filter)
	for i := range p.rds {
		in := &p.rds[i]
		if f == "" || kit.ContainsFold(strings.Join([]string{in.Region, in.ID, in.Engine, in.Class, in.Status, in.RoleText()}, " "), f) {
			p.index = append(p.index, item{secRDS, i})
		}
	}
	for i := range p.ecs {
		s := &p.ecs[i]
		if f == "" || kit.ContainsFold(strings.Join([]string{s.Region, s.Cluster + "/" + s.Name, s.Status, string(s.Rollout.RolloutState), s.TaskDefinition.String()}, " "), f) {
			p.index = append(p.index, item{secECS, i})
		}
	}
	p.Cursor.Clamp(len(p.index), p.Visible())
}

// measure finds the longest text of each flexible column.
func (p *Pane) measure() {
	clear(p.rdsT.Want)
	clear(p.ecsT.Want)
	longest := func(w []int, i int, s string) { w[i] = max(w[i], kit.Width(s)) }
	for i := range p.rds {
		in := &p.rds[i]
		longest(p.rdsT.Want, rID, in.ID)
		longest(p.rdsT.Want, rEngine, in.Engine+" "+in.EngineVersion)
		longest(p.rdsT.Want, rStatus, in.Status)
		longest(p.rdsT.Want, rRole, in.RoleText())
	}
	for i := range p.ecs {
		s := &p.ecs[i]
		longest(p.ecsT.Want, eService, s.Cluster+"/"+s.Name)
		longest(p.ecsT.Want, eTaskDef, s.TaskDefinition.String())
	}
}

// selected is the row under the cursor.
func (p *Pane) selected() (item, bool) {
	if i := p.Selected(); i >= 0 {
		return p.index[i], true
	}
	return item{}, false
}

func (p *Pane) selectedInstance() *sources.RDSInstance {
	if it, ok := p.selected(); ok && it.sec == secRDS {
		return &p.rds[it.i].RDSInstance
	}
	return nil
}

func (p *Pane) selectedService() *sources.ECSService {
	if it, ok := p.selected(); ok && it.sec == secECS {
		return &p.ecs[it.i].ECSService
	}
	return nil
}

// HandleKey handles a key while the pane has focus: the list's keys (the
// detail view is the selected row's details); the action keys reach the
// root through Actions.
func (p *Pane) HandleKey(msg tea.KeyPressMsg) tea.Cmd {
	p.List.HandleKey(msg)
	return nil
}

// Actions are the selected row's actions: a service's by their keys, an
// instance's in the menu.
func (p *Pane) Actions() []kit.Action {
	src := p.Feeds.Name()
	if s := p.selectedService(); s != nil {
		return p.serviceActions(src, *s)
	}
	if in := p.selectedInstance(); in != nil {
		return p.instanceActions(src, *in)
	}
	return nil
}

func (p *Pane) serviceActions(src string, s sources.ECSService) []kit.Action {
	k := p.keys()
	req := func(kind ops.Kind) func() ops.Request {
		return func() ops.Request {
			svc := s
			return ops.Request{Action: kind, Source: src, ECSService: &svc}
		}
	}
	name := s.Name + " (" + s.Cluster + ")"
	back := "to the previous revision"
	if !s.PreviousTaskDefinition.IsZero() {
		back = "to " + s.PreviousTaskDefinition.String()
	}
	return []kit.Action{
		{Kind: ops.SetDesiredCount, Label: "Set desired count of " + name, Key: k.desired, Request: req(ops.SetDesiredCount), Form: p.desiredForm},
		{Kind: ops.ForceDeployment, Label: "Force a new deployment of " + name, Key: k.redeploy, Request: req(ops.ForceDeployment)},
		{Kind: ops.RollbackTaskDef, Label: "Roll back " + name + " " + back, Key: k.rollback, Request: req(ops.RollbackTaskDef)},
	}
}

func (p *Pane) instanceActions(src string, in sources.RDSInstance) []kit.Action {
	req := func(kind ops.Kind) func() ops.Request {
		return func() ops.Request {
			i := in
			return ops.Request{Action: kind, Source: src, RDSInstance: &i}
		}
	}
	// The labels leave the identifier out: it is the selected row, every
	// reason names it, and the menu's width goes to the reasons.
	out := []kit.Action{
		{Kind: ops.RebootDB, Label: ops.RebootDB.Title(), Request: req(ops.RebootDB)},
		{Kind: ops.RebootDBFailover, Label: ops.RebootDBFailover.Title(), Request: req(ops.RebootDBFailover)},
		{Kind: ops.PromoteReplica, Label: ops.PromoteReplica.Title(), Request: req(ops.PromoteReplica)},
	}
	fo := kit.Action{Kind: ops.FailoverCluster, Label: ops.FailoverCluster.Title(), Request: req(ops.FailoverCluster)}
	if in.ClusterID != "" {
		fo.Label += " " + in.ClusterID
		c := p.estate().cluster(in.Region, in.ClusterID)
		target := ""
		if !in.ClusterWriter {
			// On a reader the operator means "make this one the writer";
			// on the writer, RDS picks a reader.
			target = in.ID
			fo.Label += " (" + in.ID + " becomes writer)"
		}
		if c == nil {
			fo.Disabled = "cluster " + in.ClusterID + " was not read (list it under rds.clusters)"
		}
		fo.Request = func() ops.Request {
			r := req(ops.FailoverCluster)()
			if c != nil {
				cc := *c
				r.RDSCluster = &cc
			}
			r.Params.FailoverTarget = target
			return r
		}
	}
	return append(out, fo)
}

// desiredForm asks for the new desired count, showing the bounds that
// apply (ops.Policy.DesiredBounds, the rule the Executor enforces).
func (p *Pane) desiredForm(req ops.Request) kit.Form {
	f := kit.Form{
		Fields: []kit.Field{{Label: "desired count"}, {Label: "override scale_max_change (yes/no)", Value: "no"}},
		Submit: func(vs []string) (ops.Request, error) {
			n, err := ops.ParseCount("desired count", vs[0])
			if err != nil {
				return req, err
			}
			req.Params.Desired = n
			ov := strings.ToLower(strings.TrimSpace(vs[1]))
			req.Params.Override = ov == "yes" || ov == "y"
			return req, nil
		},
	}
	if s := req.ECSService; s != nil {
		f.Fields[0].Value = strconv.Itoa(int(s.Desired))
		lo, hi, why := p.Env.Policy.DesiredBounds(*s, false)
		muted := p.Env.Theme.Paints.Muted
		f.Intro = []string{muted.Render(fmt.Sprintf("%s in %s: desired %d, running %d, pending %d", s.Name, s.Cluster, s.Desired, s.Running, s.Pending)),
			muted.Render("without override " + boundsText(lo, hi) + " (" + why + ")")}
		if s.Protected {
			f.Intro = append(f.Intro, muted.Render("cluster "+s.Cluster+" is protected: never 0"))
		}
	}
	return f
}

// boundsText is "2–10", or "2 or more" without an upper bound.
func boundsText(lo, hi int32) string {
	if hi == math.MaxInt32 {
		return strconv.Itoa(int(lo)) + " or more"
	}
	return strconv.Itoa(int(lo)) + "–" + strconv.Itoa(int(hi))
}

// Summary is the one-line view when another pane has the space: how much
// there is, then the most urgent findings.
func (p *Pane) Summary() string {
	head, ok := p.SummaryHead()
	if !ok || p.estate() == nil {
		return head
	}
	th := &p.Env.Theme
	out := head + fmt.Sprintf("  %d DB instances  %d services", len(p.rds), len(p.ecs))
	if len(p.worst) == 0 {
		return out + "  " + th.Paints.OK.Render("all healthy")
	}
	for i, f := range p.worst {
		if i == 3 {
			out += th.Paints.Muted.Render(fmt.Sprintf("  +%d more", len(p.worst)-i))
			break
		}
		st := th.Paints.Warn
		if f.h == sources.HealthCritical {
			st = th.Paints.Crit
		}
		out += "  " + st.Render(f.text)
	}
	return out
}
