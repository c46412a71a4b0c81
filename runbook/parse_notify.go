package runbook

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"flightdeck/ops"
)

// NotifyStep sends a message to a configured notification sink (config's
// notify.sinks[].name): the manual's `aws sns publish … "Failover to DR
// completed successfully"`, "Post in #incidents". It is written kind:
// notify with sink:, message: (one line) and text: (optional body), and
// loads as an Action step of ops.Notify, so it runs through the one plan →
// confirm → execute flow and is journaled like any action.
const NotifyStep StepKind = "notify"

// sinkNameRE is what a sink name may be: config's names are typed by
// people, but a runbook must name one exactly.
var sinkNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.#-]{0,63}$`)

func (p *fileParser) notify(s *Step, n *yaml.Node, raw map[string]entry) {
	s.Kind = Action
	if e, ok := raw["when"]; ok {
		s.When, s.when = p.cond(e, "when")
	}
	nt := &ops.Notification{}
	s.Act = &ActionTemplate{Kind: ops.Notify, Source: ops.NotifySource, Notification: nt}
	if e, ok := raw["sink"]; !ok {
		p.errAt(n, "sink", "required: the notify sink to send to (config's notify.sinks[].name)")
	} else if nt.Sink = p.str(e, "sink"); !sinkNameRE.MatchString(nt.Sink) {
		p.errAt(e.val, "sink", "not a sink name (letters, digits, _ . # -); got %q", nt.Sink)
	}
	if e, ok := raw["message"]; !ok {
		p.errAt(n, "message", "required: the one line to send, e.g. Failover to DR completed successfully")
	} else if nt.Subject = strings.TrimSpace(p.text(e, "message", maxTitle)); nt.Subject == "" {
		p.errAt(e.val, "message", "is empty")
	}
	if e, ok := raw["text"]; ok {
		nt.Text = p.text(e, "text", maxText)
	}
}

// resolveNotify is a notify step's request: nothing to look up, the sink
// is checked when planned.
func resolveNotify(a *ActionTemplate) resolution {
	n := a.Notification
	if n == nil {
		return resolution{unknown: "no notification"}
	}
	return resolution{req: &ops.Request{Action: ops.Notify, Source: ops.NotifySource, Subject: *n},
		lines: []string{"to " + n.Sink + ": " + n.Subject}}
}
