package rollouts

import (
	"fmt"
	"strconv"
	"strings"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// warnCount is the row's note of the deployment's warning events ("3
// warn"), empty when there are none.
func warnCount(d *sources.Deployment) string {
	if n := d.Evidence.WarningCount; n > 0 {
		return strconv.Itoa(n) + " warn  "
	}
	return ""
}

// evidenceLines are the detail's pods (restarts, last termination) and
// warning events, w cells wide. Every text in them was sanitized and cut
// by the source.
func (p *Pane) evidenceLines(d *sources.Deployment, w int) []string {
	th := p.Env.Theme
	ell := th.Ellipsis
	now := p.Env.Now()
	ev := d.Evidence
	if ev.PodCount == 0 && len(ev.Warnings) == 0 {
		return nil
	}
	out := []string{""}
	if ev.PodCount > 0 {
		head := fmt.Sprintf("PODS %d", ev.PodCount)
		if ev.PodCount > len(ev.Pods) {
			head += fmt.Sprintf(" (%d with most restarts shown)", len(ev.Pods))
		}
		out = append(out, th.Paints.Muted.Render(head))
		for _, pod := range ev.Pods {
			state := pod.Phase
			if pod.Waiting != "" {
				state = pod.Waiting
			} else if pod.Ready {
				state += " ready"
			}
			line := "  " + kit.Fit(pod.Name, 36, ell) + " " + kit.Fit(state, 18, ell) + kit.FitRight(strconv.Itoa(int(pod.Restarts)), 4, ell) + " restarts"
			if t := pod.LastTermination; t != nil {
				line += "  last: " + termination(t)
				if !t.At.IsZero() {
					line += " " + kit.Age(now.Sub(t.At)) + " ago"
				}
			}
			line = kit.Fit(line, w, ell)
			if pod.Waiting != "" || (pod.LastTermination != nil && pod.LastTermination.Reason == "OOMKilled") {
				line = th.Paints.Warn.Render(line)
			}
			out = append(out, line)
		}
	}
	if len(ev.Warnings) > 0 {
		out = append(out, th.Paints.Muted.Render(fmt.Sprintf("WARNING EVENTS %d", ev.WarningCount)))
		for _, e := range ev.Warnings {
			seen := "-"
			if !e.LastSeen.IsZero() {
				seen = kit.Age(now.Sub(e.LastSeen)) + " ago"
			}
			line := "  " + kit.Fit(e.Reason, 18, ell) + " " + kit.Fit(strings.ToLower(e.Kind)+"/"+e.Name, 36, ell) +
				kit.FitRight("×"+strconv.Itoa(int(e.Count)), 5, ell) + " " + kit.Fit(seen, 9, ell) + " " + e.Message
			out = append(out, th.Paints.Warn.Render(kit.Fit(line, w, ell)))
		}
	}
	return out
}

// termination reads like kubectl describe's Last State: "OOMKilled exit
// 137 (app)".
func termination(t *sources.Termination) string {
	s := t.Reason
	if s == "" {
		s = "terminated"
	}
	s += " exit " + strconv.Itoa(int(t.ExitCode))
	if t.Container != "" {
		s += " (" + t.Container + ")"
	}
	return s
}

// LogQuery is the selected deployment's logs: its pods by its selector
// (the log view's Target).
func (p *Pane) LogQuery() (sources.LogQuery, bool) {
	d := p.selected()
	if d == nil || d.Selector == "" {
		return sources.LogQuery{}, false
	}
	return sources.LogQuery{Source: p.Feeds.Name(), Namespace: d.Namespace, Selector: d.Selector, Target: d.Key()}, true
}
