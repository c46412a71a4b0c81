package cosign

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/together"
	"flightdeck/ui/kit"
)

// withdrawWord is what the requester types to take a request back.
const withdrawWord = "withdraw"

// coSignDialog shows one request as the requester confirmed it, the live
// state of its targets, and asks a co-signer for the plan's phrase (the
// requester, for withdrawWord). It reads the request from the feature at
// each draw, so its state and countdown stay live.
type coSignDialog struct {
	f      *Feature
	id     string
	opened time.Time
	edit   kit.LineEdit
	err    string
}

func (f *Feature) dialog(id string) *coSignDialog {
	return &coSignDialog{f: f, id: id, opened: f.env.Exact()}
}

// own reports whether this session's user asked for r.
func (d *coSignDialog) own(r ops.CoSignRequest) bool { return r.Requester.Name == d.f.o.Signer.Name }

// Update edits and submits the phrase; close cancels at once.
func (d *coSignDialog) Update(msg tea.KeyPressMsg) (kit.Dialog, tea.Cmd) {
	f := d.f
	k := f.env.Keys
	if key.Matches(msg, k.Dialog.Close) {
		return nil, nil
	}
	if kit.Guarded(f.env, d.opened) {
		return d, nil
	}
	r, ok := f.request(d.id)
	if !ok || f.ex == nil {
		return d, nil // an observer reads; only close does anything
	}
	if !key.Matches(msg, k.Dialog.Submit) {
		d.edit.Handle(msg)
		d.err = ""
		return d, nil
	}
	ex, ctx, typed, id := f.ex, f.ctx, d.edit.Value, d.id
	if d.own(r) {
		if typed != withdrawWord {
			d.err = fmt.Sprintf("type %s to withdraw your request", withdrawWord)
			return d, nil
		}
		return nil, func() tea.Msg {
			if err := ex.Withdraw(id); err != nil {
				return doneMsg{err: err}
			}
			return doneMsg{text: r.Plan.Title + ": co-sign request withdrawn"}
		}
	}
	if typed != r.Plan.Phrase {
		d.err = fmt.Sprintf("%q does not match; type %s exactly", typed, r.Plan.Phrase)
		return d, nil
	}
	// The Executor re-checks everything (who, expiry, phrase, the targets)
	// and acts; its Result goes through the root's one result path.
	return nil, func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		return kit.ResultMsg{Result: ex.CoSign(c, id, typed)}
	}
}

// Content is the request: who asks what, its state and time left, the
// targets with what the plan saw and what the data says now, the preview,
// then what this session may type.
func (d *coSignDialog) Content() kit.DialogContent {
	f := d.f
	th := f.env.Theme
	k := f.env.Keys
	r, ok := f.request(d.id)
	if !ok {
		return kit.DialogContent{Title: "Co-sign", Head: []string{"request " + d.id + " is gone"},
			Tail: []string{th.Paints.Muted.Render(kit.KeyName(k.Dialog.Close) + " closes")}}
	}
	p := r.Plan
	now := f.env.Exact()
	state := string(r.State)
	if r.State == ops.CoSignPending {
		if left := r.Expires.Sub(now); left > 0 {
			state = "waiting, expires in " + kit.Dur(left.Round(time.Second))
		} else {
			state = "expired"
		}
	}
	if r.CoSigner != nil {
		state += " · co-signed by " + r.CoSigner.Name
	}
	dc := kit.DialogContent{Title: "Co-sign " + r.ID, Head: []string{
		th.Paints.Bold.Render(r.Requester.Name + " asks: " + p.Title),
		th.Paints.Crit.Render("risk: "+strings.ToUpper(p.Risk.String())) + "  environment: " + p.Environment + "  source: " + p.Source,
		"requested by " + r.Requester.String() + " at " + r.At.Local().Format("15:04:05"),
		th.Paints.Warn.Render(state),
	}}
	var targets []string
	for _, t := range p.Targets {
		line := t.ID
		if t.Detail != "" {
			line = t.Detail
		}
		targets = append(targets, "  "+line)
		if t.Seen != "" {
			targets = append(targets, "    planned: "+clip(t.Seen, 160))
		}
		targets = append(targets, "    now:     "+live(f.snaps, t, now))
	}
	dc.Sections = append(dc.Sections, kit.DialogSection{Label: th.Paints.Muted.Render(fmt.Sprintf("targets (%d):", len(p.Targets))), Items: targets, Max: 12})
	if len(p.Preview) > 0 {
		items := make([]string, len(p.Preview))
		for i, l := range p.Preview {
			items[i] = "  " + l
		}
		dc.Sections = append(dc.Sections, kit.DialogSection{Label: th.Paints.Muted.Render("preview:"), Items: items})
	}
	dc.Tail = append(dc.Tail, "")
	switch {
	case r.State != ops.CoSignPending || !now.Before(r.Expires):
		dc.Tail = append(dc.Tail, th.Paints.Muted.Render("nothing to co-sign any more · "+kit.KeyName(k.Dialog.Close)+" closes"))
	case f.ex == nil || !f.o.Role.CanAct():
		dc.Tail = append(dc.Tail, th.Paints.Error.Render("an observer cannot co-sign")+th.Paints.Muted.Render(" · "+kit.KeyName(k.Dialog.Close)+" closes"))
	case d.own(r):
		dc.Tail = append(dc.Tail, "your request: another operator must co-sign it; nobody co-signs their own.",
			"type "+th.Paints.Bold.Render(withdrawWord)+" to withdraw it, "+kit.KeyName(k.Dialog.Submit)+" submits, "+kit.KeyName(k.Dialog.Close)+" closes:",
			th.Paints.Accent.Render("> "+d.edit.View()))
	default:
		dc.Tail = append(dc.Tail, "type "+th.Paints.Bold.Render(p.Phrase)+" to co-sign, "+kit.KeyName(k.Dialog.Submit)+" submits, "+kit.KeyName(k.Dialog.Close)+" cancels:",
			th.Paints.Accent.Render("> "+d.edit.View()))
	}
	if d.err != "" {
		dc.Tail = append(dc.Tail, th.Paints.Error.Render(d.err))
	}
	return dc
}

// live is what the latest snapshots say of a target now, found by its raw
// identity: the co-signer judges the present, not the requester's past.
func live(snaps map[string]sources.Snapshot, t ops.Target, now time.Time) string {
	age := func(sn sources.Snapshot) string {
		if sn.FetchedAt.IsZero() {
			return ""
		}
		return " (data " + kit.Dur(now.Sub(sn.FetchedAt).Round(time.Second)) + " old)"
	}
	for _, sn := range snaps {
		switch subj := t.Subject.(type) {
		case sources.RDSInstance:
			if set, ok := sn.Data.(*sources.AWSSet); ok {
				if in, ok := set.Instance(subj.Region, subj.RawID); ok {
					return fmt.Sprintf("%s %s, status %s", in.Key(), in.RoleText(), in.Status) + age(sn)
				}
				return "not in the latest AWS data" + age(sn)
			}
		case sources.RDSCluster:
			if set, ok := sn.Data.(*sources.AWSSet); ok {
				if c, ok := set.Cluster(subj.Region, subj.RawID); ok {
					return fmt.Sprintf("%s status %s, writer %s", c.Key(), c.Status, c.Writer()) + age(sn)
				}
				return "not in the latest AWS data" + age(sn)
			}
		case sources.ECSService:
			if set, ok := sn.Data.(*sources.AWSSet); ok {
				if s, ok := set.Service(subj.Region, subj.Cluster, subj.RawName()); ok {
					return fmt.Sprintf("%s desired %d, running %d", s.Key(), s.Desired, s.Running) + age(sn)
				}
				return "not in the latest AWS data" + age(sn)
			}
		case sources.Deployment:
			if rs, ok := sn.Data.(*sources.RolloutSet); ok {
				for _, d := range rs.Deployments {
					if d.UID == subj.UID {
						return fmt.Sprintf("%s/%s revision %d, %d replicas", d.Namespace, d.Name, d.Revision, d.Replicas) + age(sn)
					}
				}
				return "not in the latest rollout data" + age(sn)
			}
		case sources.Backend:
			if pg, ok := sn.Data.(*sources.PGActivity); ok {
				for _, b := range pg.Backends {
					if b.PID == subj.PID && b.BackendStart.Equal(subj.BackendStart) {
						return fmt.Sprintf("pid %d %s, %s", b.PID, b.State, clip(b.Query, 60)) + age(sn)
					}
				}
			}
		}
	}
	if t.Subject == nil {
		return "(no live data for this action)"
	}
	return "(not in the latest data)"
}

// noteDialog is the one-line note input: submit adds it to the timeline
// under this session's identity; the next-field key toggles whether it is
// announced (sent out by the note rule of notify).
type noteDialog struct {
	f        *Feature
	opened   time.Time
	edit     kit.LineEdit
	announce bool
}

func (d *noteDialog) Update(msg tea.KeyPressMsg) (kit.Dialog, tea.Cmd) {
	k := d.f.env.Keys
	switch {
	case key.Matches(msg, k.Dialog.Close):
		return nil, nil
	case key.Matches(msg, k.Dialog.Next, k.Dialog.Prev):
		d.announce = !d.announce
		return d, nil
	case key.Matches(msg, k.Dialog.Submit):
		if kit.Guarded(d.f.env, d.opened) {
			return d, nil
		}
		inc, who, id, text, ann := d.f.o.Incident, d.f.o.Signer, d.f.o.Identity, d.edit.Value, d.announce
		return nil, func() tea.Msg {
			n, err := inc.AddNote(who, id, text, ann)
			return doneMsg{text: "note added: " + n.Text, err: err}
		}
	}
	if len(d.edit.Value) < together.MaxNote {
		d.edit.Handle(msg)
	}
	return d, nil
}

func (d *noteDialog) Content() kit.DialogContent {
	th := d.f.env.Theme
	k := d.f.env.Keys
	ann := "[ ] announce"
	if d.announce {
		ann = "[x] announce"
	}
	return kit.DialogContent{Title: "Note on the timeline", Head: []string{"as " + d.f.o.Signer.Name + " (" + d.f.o.Role.String() + ")"},
		Tail: []string{th.Paints.Accent.Render("> " + d.edit.View()), ann + th.Paints.Muted.Render("  ("+kit.KeyName(k.Dialog.Next)+" toggles: sent to the notify sinks that take notes)"),
			th.Paints.Muted.Render(kit.KeyName(k.Dialog.Submit) + " adds · " + kit.KeyName(k.Dialog.Close) + " cancels")}}
}
