package config

import (
	"strconv"
	"strings"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
)

// Notify is the notify: section: where flightdeck tells the world what
// happens on the incident. Delivery never blocks the cockpit: a bounded
// queue, a timeout per attempt, a few retries with backoff; a failure is
// shown in the status bar and journaled.
type Notify struct {
	// Timeout bounds one delivery attempt (default 5s).
	Timeout Duration `yaml:"timeout,omitempty"`
	// Retries is how many times a failed delivery is tried again (default 2).
	Retries *int `yaml:"retries,omitempty"`
	// Queue is how many notifications may wait per sink (default 64);
	// beyond it the oldest is dropped and counted.
	Queue int          `yaml:"queue,omitempty"`
	Sinks []NotifySink `yaml:"sinks"`
}

// NotifySink is one destination.
type NotifySink struct {
	// Name tells sinks apart in the status bar, the journal and runbook
	// notify steps (sink: incidents).
	Name string `yaml:"name"`
	// Type is slack (an incoming webhook: {"text": …}), webhook (a JSON
	// POST of the whole event) or sns (an AWS SNS topic).
	Type string `yaml:"type"`
	// URL is the webhook's address. It is a secret (a Slack webhook's path
	// is its credential): masked in every output.
	URL string `yaml:"url,omitempty"`
	// TopicARN, Region and Endpoint address an SNS topic; Endpoint
	// overrides the AWS endpoint (a VPC endpoint, a test server); region
	// defaults to the topic ARN's.
	TopicARN string `yaml:"topic_arn,omitempty"`
	Region   string `yaml:"region,omitempty"`
	Endpoint string `yaml:"endpoint,omitempty"`
	// Events chooses what goes out: action (outcomes), cosign (requests),
	// runbook (start and end), commander (changes), note (notes marked to
	// announce), page (pages fired and resolved), step (runbook notify
	// steps addressed to this sink). Empty sends every kind.
	Events []string `yaml:"events,omitempty"`
}

// NotifyEvents are the kinds of event a sink may choose.
var NotifyEvents = []string{"action", "cosign", "runbook", "commander", "note", "page", "step"}

// Bounds and defaults of notify:.
const (
	DefaultNotifyTimeout = 5 * time.Second
	DefaultNotifyRetries = 2
	DefaultNotifyQueue   = 64
	MaxNotifyTimeout     = time.Minute
	MaxNotifyRetries     = 10
	MaxNotifyQueue       = 10000
	MaxNotifySinks       = 32
)

func (n *Notify) masked() *Notify {
	if n == nil {
		return nil
	}
	m := *n
	m.Sinks = append([]NotifySink(nil), n.Sinks...)
	for i := range m.Sinks {
		m.Sinks[i].URL = redact.Webhook(m.Sinks[i].URL)
		m.Sinks[i].Endpoint = redact.URL(m.Sinks[i].Endpoint)
	}
	return &m
}

func (c *Config) sanitizeNotify() {
	if c.Notify == nil {
		return
	}
	for i := range c.Notify.Sinks {
		c.Notify.Sinks[i].Name = sanitize.Text(c.Notify.Sinks[i].Name)
	}
}

func (c *Config) defaultNotify() {
	n := c.Notify
	if n == nil {
		return
	}
	if n.Timeout == 0 {
		n.Timeout = Duration(DefaultNotifyTimeout)
	}
	if n.Retries == nil {
		r := DefaultNotifyRetries
		n.Retries = &r
	}
	if n.Queue == 0 {
		n.Queue = DefaultNotifyQueue
	}
}

func (c *Config) checkNotify() Errors {
	n := c.Notify
	if n == nil {
		return nil
	}
	c.sanitizeNotify()
	c.defaultNotify()
	var errs Errors
	add := func(path, format string, args ...any) { errs = append(errs, c.errAt(path, format, args...)) }
	if d := n.Timeout.D(); d < MinTimeout || d > MaxNotifyTimeout {
		add("notify.timeout", "must be between %s and %s, got %s", duration.Format(MinTimeout), duration.Format(MaxNotifyTimeout), duration.Format(d))
	}
	if *n.Retries < 0 || *n.Retries > MaxNotifyRetries {
		add("notify.retries", "must be between 0 and %d, got %d", MaxNotifyRetries, *n.Retries)
	}
	if n.Queue < 1 || n.Queue > MaxNotifyQueue {
		add("notify.queue", "must be between 1 and %d, got %d", MaxNotifyQueue, n.Queue)
	}
	if len(n.Sinks) == 0 {
		add("notify", "has no sinks")
	}
	if len(n.Sinks) > MaxNotifySinks {
		add("notify.sinks", "at most %d sinks, got %d", MaxNotifySinks, len(n.Sinks))
	}
	names := map[string]bool{}
	for i, s := range n.Sinks {
		base := "notify.sinks[" + strconv.Itoa(i) + "]"
		switch {
		case s.Name == "":
			add(base, "name is required")
		case names[s.Name]:
			add(base+".name", "duplicate sink name %q", s.Name)
		}
		names[s.Name] = true
		switch s.Type {
		case "slack", "webhook":
			if s.URL == "" {
				add(base, "a %s sink needs url", s.Type)
			} else if e := c.checkURL(base+".url", s.URL); e != nil {
				// checkURL quotes through redact.URL, which keeps the path:
				// a webhook's path is its secret.
				e.Msg = strings.ReplaceAll(e.Msg, redact.URL(s.URL), redact.Webhook(s.URL))
				errs = append(errs, e)
			}
			if s.TopicARN != "" || s.Region != "" || s.Endpoint != "" {
				add(base, "topic_arn, region and endpoint are for an sns sink")
			}
		case "sns":
			if !strings.HasPrefix(s.TopicARN, "arn:") || len(strings.Split(s.TopicARN, ":")) != 6 {
				add(base+".topic_arn", "must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), got %q", s.TopicARN)
			}
			if s.Endpoint != "" {
				if e := c.checkURL(base+".endpoint", s.Endpoint); e != nil {
					errs = append(errs, e)
				}
			}
			if s.URL != "" {
				add(base+".url", "is for a slack or webhook sink")
			}
		default:
			add(base+".type", "unknown sink type %q (slack, webhook or sns)", s.Type)
		}
		for j, ev := range s.Events {
			if !contains(NotifyEvents, ev) {
				add(base+".events["+strconv.Itoa(j)+"]", "unknown event %q (one of %s)", ev, strings.Join(NotifyEvents, ", "))
			}
		}
	}
	return errs
}
