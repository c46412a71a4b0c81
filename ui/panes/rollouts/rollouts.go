// Package rollouts is the Rollouts pane: Kubernetes deployments with their
// rollout state and revision history, and the undo, restart, scale, pause
// and resume actions.
package rollouts

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// recentRollout is how fresh a rollout must be to be emphasised: "deployed
// 4m ago" next to a burning SLO is usually the answer.
const recentRollout = 30 * time.Minute

// Pane shows the deployments of its source.
type Pane struct {
	kit.List
	index []int
	// hist is the cursor in the detail view's revision history, and undoTo
	// the revision chosen there per deployment (0 = previous).
	hist   kit.Cursor
	undoTo map[string]int64
	// counts and byRecent are for the summary line, made in Rebuild:
	// deployments per state, and indexes newest rollout first.
	counts   map[sources.RolloutState]int
	byRecent []int
	// oneNS is the namespace every deployment is in ("" when several):
	// then rows show bare names and the header names the namespace once.
	oneNS string
	// prefix is the start every name shares, up to a word boundary
	// ("nudgecampaign-"), when there is one namespace; a pane too narrow
	// for the names drops it from the rows and says it once in the column
	// title. Made over the whole set, so rows keep their shape while a
	// filter is typed.
	prefix string
	// table lays the deployments out (draw.go).
	table kit.Table
}

// New builds the pane in its slot.
func New(s kit.Slot) *Pane {
	p := &Pane{undoTo: map[string]int64{}, table: newTable()}
	p.Init(s, kit.Meta{Title: "Rollouts", Kind: sources.KindRollouts, Noun: "rollouts", Help: s.Env.Keys.Rollouts.FullHelp()}, p)
	return p
}

// ShortHelp follows the pane.
func (p *Pane) ShortHelp() []key.Binding {
	k := p.Env.Keys
	return []key.Binding{k.List.Details, k.Rollouts.Undo, k.Rollouts.Restart, k.Rollouts.Scale, k.Global.Actions}
}

func (p *Pane) set() *sources.RolloutSet { return kit.Data[*sources.RolloutSet](&p.List) }

// Len is the number of deployments shown.
func (p *Pane) Len() int { return len(p.index) }

// Rebuild applies the filter and counts for the summary.
func (p *Pane) Rebuild() {
	p.index = p.index[:0]
	p.byRecent = p.byRecent[:0]
	p.counts = map[sources.RolloutState]int{}
	set := p.set()
	if set == nil {
		return
	}
	for i := range set.Deployments {
		p.counts[set.Deployments[i].State]++
		if !set.Deployments[i].RolledOutAt.IsZero() {
			p.byRecent = append(p.byRecent, i)
		}
	}
	sort.SliceStable(p.byRecent, func(a, b int) bool {
		return set.Deployments[p.byRecent[a]].RolledOutAt.After(set.Deployments[p.byRecent[b]].RolledOutAt)
	})
	p.oneNS = ""
	for i, d := range set.Deployments {
		if i == 0 {
			p.oneNS = d.Namespace
		} else if d.Namespace != p.oneNS {
			p.oneNS = ""
			break
		}
	}
	p.measure(set)
	f := strings.ToLower(p.Filter)
	for i, d := range set.Deployments {
		if f == "" || kit.ContainsFold(d.Key()+" "+string(d.State)+" "+strings.Join(d.Images, " "), f) {
			p.index = append(p.index, i)
		}
	}
	p.Cursor.Clamp(len(p.index), p.Visible())
}

// measure finds the shared prefix and the widest labels, in full and
// without the prefix (an ellipsis in its place), for the name column.
func (p *Pane) measure(set *sources.RolloutSet) {
	p.prefix = ""
	widest, rest := 0, 0
	if p.oneNS == "" {
		for i := range set.Deployments {
			widest = max(widest, kit.Width(set.Deployments[i].Key()))
		}
	} else {
		names := make([]string, len(set.Deployments))
		for i := range set.Deployments {
			names[i] = set.Deployments[i].Name
			widest = max(widest, kit.Width(names[i]))
		}
		p.prefix = kit.SharedPrefix(names)
		ell := kit.Width(p.Env.Theme.Ellipsis)
		for _, n := range names {
			rest = max(rest, ell+kit.Width(n)-kit.Width(p.prefix))
		}
	}
	p.table.Want[rName] = widest
	p.table.Names(rName, p.prefix, rest)
}

// label is the deployment's name for a row w cells wide: the bare name
// (less the dropped prefix, an ellipsis in its place) when the header
// already names the only namespace, else namespace/name with the namespace
// shortened first, since the name is what the operator looks for. A name
// still too long is cut in the middle: its end is what differs.
func (p *Pane) label(d *sources.Deployment, w int, drop, ell string) string {
	if p.oneNS != "" {
		return kit.CutMiddle(kit.TrimName(d.Name, drop, ell), w, ell)
	}
	key := d.Key()
	if kit.Width(key) <= w {
		return key
	}
	keep := w - kit.Width(d.Name) - kit.Width(ell) - 1 // room for "…/"
	if keep < 1 {
		return kit.CutMiddle(d.Name, w, ell)
	}
	return d.Namespace[:keep] + ell + "/" + d.Name
}

func (p *Pane) selected() *sources.Deployment {
	set := p.set()
	if i := p.Selected(); set != nil && i >= 0 {
		return &set.Deployments[p.index[i]]
	}
	return nil
}

// HandleKey handles a key while the pane has focus. The detail view is the
// revision history: the movement keys move in it and details chooses the
// revision under the cursor as the undo target.
func (p *Pane) HandleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.Env.Keys
	d := p.selected()
	if !p.Detail {
		if key.Matches(msg, k.List.Details) && d != nil && !p.CapturesKeys() {
			p.Touch()
			p.Detail, p.hist = true, kit.Cursor{}
			return nil
		}
		p.List.HandleKey(msg)
		return nil
	}
	p.Touch()
	switch {
	case key.Matches(msg, k.List.Back):
		p.Detail = false
	case d == nil:
	case key.Matches(msg, k.List.Details):
		if p.hist.Pos < len(d.History) {
			r := d.History[p.hist.Pos]
			if r.Number == d.Revision || p.undoTo[d.Key()] == r.Number {
				delete(p.undoTo, d.Key())
			} else {
				p.undoTo[d.Key()] = r.Number
			}
		}
	default:
		p.hist.Move(msg, k.List, len(d.History), len(d.History))
	}
	return nil
}

// Actions are the rollout actions on the selected deployment.
func (p *Pane) Actions() []kit.Action {
	k := p.Env.Keys
	src := p.Feeds.Name()
	d := p.selected()
	name := ""
	var to int64
	var denied sources.Denied
	if d != nil {
		name = d.Key()
		to = p.undoTo[d.Key()]
		if set := p.set(); set != nil {
			denied = set.Denied[d.Namespace]
		}
	}
	req := func(kind ops.Kind) func() ops.Request {
		return func() ops.Request {
			r := ops.Request{Action: kind, Source: src}
			if d != nil {
				dd := *d
				r.Deployment = &dd
			}
			if kind == ops.Undo {
				r.Params.ToRevision = to
			}
			return r
		}
	}
	keys := map[ops.Kind]key.Binding{ops.Undo: k.Rollouts.Undo, ops.Restart: k.Rollouts.Restart, ops.Scale: k.Rollouts.Scale}
	var out []kit.Action
	for _, kind := range []ops.Kind{ops.Undo, ops.Restart, ops.Scale, ops.Pause, ops.Resume} {
		a := kit.Action{Kind: kind, Label: kind.Title() + " " + name, Key: keys[kind], Request: req(kind), Denied: denied[string(kind)]}
		switch kind {
		case ops.Undo:
			if to != 0 {
				a.Label += fmt.Sprintf(" to revision %d", to)
			} else {
				a.Label += " to previous revision"
			}
		case ops.Scale:
			a.Form = p.scaleForm // the replica count comes from the form
		}
		out = append(out, a)
	}
	return out
}

// scaleForm asks for the replica count and whether to override the
// policy's largest change.
func (p *Pane) scaleForm(req ops.Request) kit.Form {
	f := kit.Form{
		Fields: []kit.Field{{Label: "replicas"}, {Label: "override scale_max_change (yes/no)", Value: "no"}},
		Submit: func(vs []string) (ops.Request, error) {
			n, err := ops.ParseCount("replicas", vs[0])
			if err != nil {
				return req, err
			}
			req.Params.Replicas = n
			ov := strings.ToLower(strings.TrimSpace(vs[1]))
			req.Params.Override = ov == "yes" || ov == "y"
			return req, nil
		},
	}
	if d := req.Deployment; d != nil {
		f.Fields[0].Value = strconv.Itoa(int(d.Replicas))
		lo, hi := p.Env.Policy.ScaleBounds(d.Replicas)
		f.Intro = []string{p.Env.Theme.Paints.Muted.Render(fmt.Sprintf("currently %d replicas; without override %d–%d", d.Replicas, lo, hi))}
	}
	return f
}

// Summary is the one-line view when another pane has the space.
func (p *Pane) Summary() string {
	head, ok := p.SummaryHead()
	set := p.set()
	if !ok || set == nil {
		return head
	}
	now := p.Env.Now()
	var recent []string
	for _, i := range p.byRecent {
		d := &set.Deployments[i]
		if now.Sub(d.RolledOutAt) >= recentRollout || len(recent) == 5 {
			break
		}
		recent = append(recent, d.Name+" "+kit.Age(now.Sub(d.RolledOutAt))+" ago")
	}
	out := head + fmt.Sprintf("  %d deployments  progressing %d  stalled %d",
		len(set.Deployments), p.counts[sources.RolloutProgressing], p.counts[sources.RolloutStalled])
	if len(recent) > 0 {
		out += "  " + p.Env.Theme.Paints.Recent.Render("deployed: "+strings.Join(recent, ", "))
	}
	return out
}
