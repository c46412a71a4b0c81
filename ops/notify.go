package ops

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"flightdeck/sources"
)

// Notify sends a message to one notification sink (a runbook's notify
// step: the manual's `aws sns publish … "Failover to DR completed
// successfully"`, "Post in #incidents"). It goes through the Executor like
// any action because it changes the world outside: previewed, confirmed,
// journaled with who sent what where.
const Notify Kind = "notify"

// NotifySource is the capability key of the notification sinks.
const NotifySource = "notify"

// AreaNotify is the notify action's area: no pane selects a sink, so no
// action menu offers it; runbooks ask for it.
const AreaNotify sources.Kind = "notify"

// Notification is what a notify request sends: Request.Subject.
type Notification struct {
	// Sink is the configured sink's name.
	Sink string `json:"sink"`
	// Subject is the one line (an SNS subject, a chat line).
	Subject string `json:"subject"`
	// Text is the body, may be empty.
	Text string `json:"text,omitempty"`
}

// Notifier is what the notify action needs: the configured sinks, and a
// delivery to one of them that returns how it went (bounded by its
// timeout and retries). notify's Notifier, adapted by the world, is one.
type Notifier interface {
	Sinks() []string
	SendNote(ctx context.Context, sink, who string, n Notification) error
}

// Bounds on a notification's text.
const (
	maxNotifySubject = 100
	maxNotifyText    = 4000
)

type notifyHandler struct{}

func (notifyHandler) Area() sources.Kind { return AreaNotify }

func (notifyHandler) Kinds() []KindSpec { return []KindSpec{{Notify, "Notify"}} }

func notificationOf(req Request) (Notification, error) {
	n, ok := req.Subject.(Notification)
	switch {
	case !ok:
		return Notification{}, refuse(ErrInvalid, "no notification given")
	case n.Sink == "":
		return Notification{}, refuse(ErrInvalid, "no sink named")
	case strings.TrimSpace(n.Subject) == "":
		return Notification{}, refuse(ErrInvalid, "the message is empty")
	case len(n.Subject) > maxNotifySubject*4 || len(n.Text) > maxNotifyText*4:
		return Notification{}, refuse(ErrInvalid, "the message is too long")
	}
	return n, nil
}

func (notifyHandler) Check(_ Policy, req Request, _ CheckScope) error {
	_, err := notificationOf(req)
	return err
}

func (notifyHandler) Plan(_ context.Context, env Env, req Request, p *Plan) error {
	n, _ := notificationOf(req)
	if env.Caps[env.Source] == nil {
		return refuse(ErrUnsupported, "no notify sinks are configured (notify.sinks in the config) to send to "+n.Sink)
	}
	nt, err := Capability[Notifier](env, "send notifications")
	if err != nil {
		return err
	}
	if !slices.Contains(nt.Sinks(), n.Sink) {
		return refuse(ErrInvalid, fmt.Sprintf("no notify sink %q (configured: %s)", n.Sink, strings.Join(nt.Sinks(), ", ")))
	}
	p.Risk = Low
	p.Title = "Notify " + n.Sink
	p.Preview = []string{"send to " + n.Sink + ": " + n.Subject}
	if n.Text != "" {
		p.Preview = append(p.Preview, n.Text)
	}
	p.Targets = []Target{{ID: n.Sink, Identity: n.Sink, Seen: "subject=" + strconv.Quote(excerpt(n.Subject, maxSeenText)), Subject: n}}
	return nil
}

func (notifyHandler) Recheck(_ context.Context, env Env, p Plan) error {
	nt, err := Capability[Notifier](env, "send notifications")
	if err != nil {
		return err
	}
	for _, t := range p.Targets {
		if !slices.Contains(nt.Sinks(), t.ID) {
			return refuse(ErrTargetChanged, "notify sink "+t.ID+" is no longer configured")
		}
	}
	return nil
}

func (notifyHandler) Act(ctx context.Context, env Env, p Plan) ([]string, error) {
	nt, err := Capability[Notifier](env, "send notifications")
	if err != nil {
		return nil, err
	}
	var details []string
	for _, t := range p.Targets {
		n, _ := t.Subject.(Notification)
		if err := nt.SendNote(ctx, t.ID, signerFrom(env.Operator).Name, n); err != nil {
			return details, err
		}
		details = append(details, "sent to "+t.ID)
	}
	return details, nil
}
