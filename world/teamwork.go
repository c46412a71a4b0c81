package world

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/logging"

	"flightdeck/config"
	"flightdeck/notify"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/together"
	"flightdeck/ui/views/cosign"
)

// teamwork is what the world adds for working as a team on one incident:
// the notification sinks (every journal record worth telling goes out
// through their rules), the incident's commander and notes, and, when
// sessions share the world (serve), the co-sign requests of the
// two-person rule. A local session without --break-glass has no co-signer,
// so the rule refuses there.
type teamwork struct {
	notifier *notify.Notifier
	incident *together.Incident
	cosigns  *ops.CoSigns
	board    *together.CoSigns
	// breakGlass is the reason typed at --break-glass.
	breakGlass string
	// news carries notification failures to every session's status bar,
	// the local one included.
	news *together.Announcer
}

// setupTeamwork builds the notifier from notify:, offers it to the notify
// action, and makes the incident; the journal feeds the notification rules.
func (w *World) setupTeamwork(cfg *config.Config) error {
	w.team.news = together.NewAnnouncer()
	switch {
	case cfg.Notify != nil:
		n, err := notifierFrom(cfg.Notify, cfg.AWS, w.log, w.notifyFailed)
		if err != nil {
			return err
		}
		w.team.notifier = n
	case w.demo:
		// The demo's runbooks post to #incidents and the critical-alerts
		// topic: its sinks show what would be sent, in every session's
		// status bar.
		w.team.notifier = notify.New([]notify.Route{
			{Sink: demoSink{name: "incidents", news: w.team.news}, Kinds: []notify.Kind{notify.Step}},
			{Sink: demoSink{name: "critical-alerts", news: w.team.news}, Kinds: []notify.Kind{notify.Step}},
		}, notify.Options{OnFailure: w.notifyFailed})
	}
	if n := w.team.notifier; n != nil {
		w.caps[ops.NotifySource] = notifyCap{n: n, environment: w.environment}
	}
	var journal func(ops.Record) error
	if w.journal != nil {
		journal = w.journal.Append
		if n := w.team.notifier; n != nil {
			env := w.environment
			w.journal.Watch(func(r ops.Record) {
				if e, ok := eventOf(r, env); ok {
					n.Notify(e)
				}
			})
		}
	}
	w.team.incident = together.NewIncident(journal)
	return nil
}

// startTeamwork starts delivering notifications and watching pages.
func (w *World) startTeamwork(ctx context.Context) {
	if n := w.team.notifier; n != nil {
		n.Start(ctx)
		go watchPages(ctx, w.hub.Subscribe(), n, w.environment)
	}
}

// shareTeamwork makes the co-sign requests every served session sees.
func (w *World) shareTeamwork() {
	if w.team.cosigns != nil || w.journal == nil {
		return
	}
	var cs *ops.CoSigns
	board := together.NewCoSigns(func() []ops.CoSignRequest { return cs.List() })
	cs = ops.NewCoSigns(w.journal, ops.CoSignOptions{OnChange: board.Publish, Log: w.log})
	w.team.cosigns, w.team.board = cs, board
}

// signer is who a session is, as the two-person rule compares people.
func (s SessionInfo) signer() ops.Signer {
	name := s.User
	if s.Identity != "" && s.Fingerprint == "" && s.Addr == "" {
		name = s.Identity
	}
	return ops.Signer{Name: name, Fingerprint: s.Fingerprint, Addr: s.Addr}
}

// teamExecutor adds the two-person rule's wiring to a session's Executor.
func (w *World) teamExecutor(c *ops.Config, info SessionInfo) {
	c.Signer = info.signer()
	c.CoSigns = w.team.cosigns
	if info.ID == "" {
		c.BreakGlass = w.team.breakGlass // the local session's
	}
}

// teamSession is a session's co-sign, roles and notes feature.
func (w *World) teamSession(info SessionInfo, identity string, readOnly bool) *cosign.Options {
	role := together.Operator
	if readOnly {
		role = together.Observer
	}
	o := &cosign.Options{Board: w.team.board, Incident: w.team.incident, News: w.team.news, Signer: info.signer(), Identity: identity, Role: role}
	if w.registries != nil {
		o.Presence = w.registries.presence
	}
	if info.ID == "" {
		o.BreakGlass = w.team.breakGlass
	}
	return o
}

// BreakGlass starts the local session without the two-person rule's
// co-signer, for reason: journaled, announced through the notify rules, and
// shown as BREAK-GLASS in its header. It is refused without a journal.
func (w *World) BreakGlass(info SessionInfo, reason string) error {
	if w.journal == nil {
		return errNoJournal
	}
	rec := ops.Record{Time: time.Now(), Phase: "break_glass", Operator: info.identity(), Environment: w.environment, BreakGlass: reason,
		Details: []string{info.signer().Name + " starts with --break-glass: the two-person rule is lifted for this session (" + reason + ")"},
		Session: &ops.SessionRecord{Who: info.signer(), Text: reason}}
	if err := w.journal.Append(rec); err != nil {
		return err
	}
	w.team.breakGlass = reason
	return nil
}

// notifyFailed journals a delivery that failed for good and tells every
// session sharing the world.
func (w *World) notifyFailed(f notify.Failure) {
	if w.journal != nil {
		_ = w.journal.Append(ops.Record{Time: time.Now(), Phase: "notify_failed", Operator: "flightdeck", Environment: w.environment,
			Outcome: "failed", Error: f.String(), Details: []string{f.String()}})
	}
	w.team.news.Announce(together.Announcement{From: "flightdeck", Text: f.String(), Failed: true})
}

// notifierFrom builds the sinks of notify:. An SNS sink's client takes
// credentials as the AWS source does (environment, profile, instance
// role), in the topic's region unless the sink names one.
func notifierFrom(nc *config.Notify, ac *config.AWS, log interface{ Warn(string, ...any) }, onFailure func(notify.Failure)) (*notify.Notifier, error) {
	var routes []notify.Route
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, s := range nc.Sinks {
		var sink notify.Sink
		switch s.Type {
		case "slack":
			sink = notify.NewSlack(s.Name, s.URL, client)
		case "webhook":
			sink = notify.NewWebhook(s.Name, s.URL, client)
		case "sns":
			region := s.Region
			if region == "" {
				region = strings.Split(s.TopicARN, ":")[3]
			}
			opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region), awsconfig.WithAppID("flightdeck"),
				awsconfig.WithLogger(logging.Nop{})}
			if ac != nil && ac.Profile != "" {
				opts = append(opts, awsconfig.WithSharedConfigProfile(ac.Profile))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("notify sink %s: %v", s.Name, err)
			}
			c := sns.NewFromConfig(cfg, func(o *sns.Options) {
				if s.Endpoint != "" {
					o.BaseEndpoint = aws.String(s.Endpoint)
				}
			})
			sink = notify.NewSNS(s.Name, s.TopicARN, c)
		default:
			return nil, fmt.Errorf("notify sink %s: unknown type %q", s.Name, s.Type)
		}
		r := notify.Route{Sink: sink}
		for _, e := range s.Events {
			r.Kinds = append(r.Kinds, notify.Kind(e))
		}
		routes = append(routes, r)
	}
	retries := config.DefaultNotifyRetries
	if nc.Retries != nil {
		retries = *nc.Retries
	}
	if retries == 0 {
		retries = -1 // notify's zero is its default
	}
	return notify.New(routes, notify.Options{Timeout: nc.Timeout.D(), Retries: retries, Queue: nc.Queue, OnFailure: onFailure}), nil
}

// demoSink is a notify sink of the demo incident: what would be sent is
// said in every session's status bar instead.
type demoSink struct {
	name string
	news *together.Announcer
}

func (d demoSink) Name() string { return d.name }

func (d demoSink) Send(_ context.Context, e notify.Event) error {
	d.news.Announce(together.Announcement{From: "demo " + d.name, Text: e.Line()})
	return nil
}

// notifyCap is the notifier as the notify action sees it.
type notifyCap struct {
	n           *notify.Notifier
	environment string
}

func (c notifyCap) Sinks() []string { return c.n.Sinks() }

func (c notifyCap) SendNote(ctx context.Context, sink, who string, n ops.Notification) error {
	return c.n.Send(ctx, sink, notify.Event{Kind: notify.Step, Environment: c.environment, Who: who, Subject: n.Subject, Text: n.Text})
}

// nameOf is the user in a journal identity ("alice (SHA256:…)" → alice).
func nameOf(operator string) string {
	name, _, _ := strings.Cut(operator, " (")
	return name
}

// eventOf is what a journal record tells the world, if anything: the one
// mapping from what happened to the notification rules' kinds.
func eventOf(r ops.Record, environment string) (notify.Event, bool) {
	e := notify.Event{At: r.Time, Environment: environment, Who: nameOf(r.Operator)}
	detail := ""
	if len(r.Details) > 0 {
		detail = r.Details[0]
	}
	target := strings.Join(r.Targets, ", ")
	switch r.Phase {
	case "outcome":
		if r.Action == ops.Notify {
			return e, false // it was the notification
		}
		e.Kind, e.Failed = notify.Action, r.Outcome != "ok"
		e.Subject = r.Action.Title() + " " + target + ": " + r.Outcome
		if r.Error != "" {
			e.Text = r.Error
		}
		if len(r.Signers) == 2 {
			e.Text = strings.TrimSpace(e.Text + " (requested by " + r.Signers[0].Name + ", co-signed by " + r.Signers[1].Name + ")")
		}
	case "cosign_request":
		e.Kind, e.Subject = notify.CoSign, detail
	case "break_glass":
		e.Kind, e.Failed, e.Subject = notify.CoSign, true, "BREAK-GLASS: "+detail
	case "run_start", "run_end":
		if r.Run == nil {
			return e, false
		}
		name := r.Run.Title
		if name == "" {
			name = r.Run.Runbook
		}
		e.Kind = notify.Runbook
		if r.Phase == "run_start" {
			e.Subject = "runbook " + name + " started"
		} else {
			e.Subject = "runbook " + name + " ended: " + r.Run.Result
			e.Failed = r.Run.Result != "" && r.Run.Result != "completed"
		}
	case "commander":
		e.Kind, e.Subject = notify.Commander, detail
	case "note_announced":
		e.Kind, e.Subject = notify.Note, detail
	default:
		return e, false
	}
	if e.Subject == "" {
		return e, false
	}
	return e, true
}

// watchPages notifies pages fired and resolved: critical alerts starting
// to fire and ending, as the hub's alert snapshots show them.
func watchPages(ctx context.Context, sub *sources.Subscription, n *notify.Notifier, environment string) {
	defer sub.Close()
	firing := map[string]sources.Alert{}
	primed := map[string]bool{} // a source's first snapshot is the state, not news
	for {
		snaps, err := sub.Next(ctx)
		if err != nil {
			return
		}
		for _, sn := range snaps {
			set, ok := sn.Data.(*sources.AlertSet)
			if !ok || sn.Err != nil {
				continue
			}
			now := map[string]sources.Alert{}
			for _, a := range set.Alerts {
				if a.State == sources.AlertFiring && a.Severity == "critical" {
					now[sn.Source+"/"+a.Fingerprint] = a
				}
			}
			if primed[sn.Source] {
				for k, a := range now {
					if _, was := firing[k]; !was {
						n.Notify(notify.Event{Kind: notify.Page, Environment: environment, Failed: true, Subject: "page fired: " + a.Name})
					}
				}
				for k, a := range firing {
					if _, still := now[k]; !still && strings.HasPrefix(k, sn.Source+"/") {
						n.Notify(notify.Event{Kind: notify.Page, Environment: environment, Subject: "page resolved: " + a.Name})
					}
				}
			}
			for k := range firing {
				if strings.HasPrefix(k, sn.Source+"/") {
					delete(firing, k)
				}
			}
			for k, a := range now {
				firing[k] = a
			}
			primed[sn.Source] = true
		}
	}
}
