package aws

import (
	"strconv"
	"strings"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// taskLines are a service's tasks in its detail: the running ones, then
// the recently stopped ones with ECS's reason and their containers' exit
// codes (ECS forgets a stopped task within about an hour).
func (p *Pane) taskLines(s *sources.ECSService) []string {
	th := p.Env.Theme
	now := p.Env.Now()
	if len(s.Tasks) == 0 {
		return nil
	}
	out := []string{"", th.Paints.Muted.Render("TASKS (running, then stopped)")}
	for _, t := range s.Tasks {
		l := kit.Fit(t.ID, 14, th.Ellipsis) + "  " + kit.Fit(t.LastStatus, 8, th.Ellipsis) + "  " + t.TaskDefinition.String()
		if !t.Stopped() {
			if !t.StartedAt.IsZero() {
				l += "  started " + kit.Age(now.Sub(t.StartedAt)) + " ago"
			}
			out = append(out, l)
			continue
		}
		if !t.StoppedAt.IsZero() {
			l += "  stopped " + kit.Age(now.Sub(t.StoppedAt)) + " ago"
		}
		if t.StopCode != "" {
			l += "  " + t.StopCode
		}
		if t.StoppedReason != "" {
			l += ": " + t.StoppedReason
		}
		var exits []string
		for _, c := range t.Containers {
			if c.HasExit {
				e := c.Name + " exit " + strconv.Itoa(int(c.ExitCode))
				if c.Reason != "" {
					e += " (" + c.Reason + ")"
				}
				exits = append(exits, e)
			}
		}
		if len(exits) > 0 {
			l += "; " + strings.Join(exits, ", ")
		}
		out = append(out, th.Paints.Warn.Render(l))
	}
	if s.Logs.Group != "" {
		out = append(out, th.Paints.Muted.Render("logs: "+s.Logs.Group+" ("+kit.KeyName(p.Env.Keys.Rollouts.Logs)+" opens them)"))
	}
	return out
}

// rdsEventLines are RDS's own words about an instance (and its Aurora
// cluster): failovers, reboots, maintenance, storage.
func (p *Pane) rdsEventLines(evs []sources.RDSEvent, what string) []string {
	if len(evs) == 0 {
		return nil
	}
	th := p.Env.Theme
	now := p.Env.Now()
	out := []string{"", th.Paints.Muted.Render("RDS EVENTS " + what + " (newest first)")}
	for _, e := range evs {
		l := kit.FitRight(kit.Age(now.Sub(e.At)), 4, th.Ellipsis) + " ago  " + e.Message
		if len(e.Categories) > 0 {
			l += "  [" + strings.Join(e.Categories, ", ") + "]"
		}
		out = append(out, l)
	}
	return out
}

// LogQuery is the selected ECS service's CloudWatch Logs (the log view's
// Target); false on an instance or a service that does not use awslogs.
func (p *Pane) LogQuery() (sources.LogQuery, bool) {
	s := p.selectedService()
	if s == nil || s.Logs.Group == "" {
		return sources.LogQuery{}, false
	}
	return sources.LogQuery{Source: p.Feeds.Name(), Region: s.Logs.Region, Group: s.Logs.Group, Prefix: s.Logs.Prefix, Target: s.Key()}, true
}
