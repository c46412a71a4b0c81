package sources

import (
	"fmt"
	"time"
)

// DefaultCorrelationWindow is how long before a burn or alert start a
// rollout counts as "shortly before": the ops manual's "review recent
// deployments" for a high error rate.
const DefaultCorrelationWindow = 30 * time.Minute

// Rollout is one revision becoming current on a deployment: what a burn or
// an alert is correlated with.
type Rollout struct {
	At         time.Time
	Deployment string // namespace/name
	Name       string // name alone, for the sentence
	Revision   int64
	Images     []string
}

// RolloutsOf lists the rollouts a RolloutSet knows of: each deployment's
// current revision at RolledOutAt (a rollback counts from when it became
// current again), and every older revision of its history at the time its
// ReplicaSet was created.
func RolloutsOf(set *RolloutSet) []Rollout {
	if set == nil {
		return nil
	}
	var out []Rollout
	for _, d := range set.Deployments {
		if !d.RolledOutAt.IsZero() {
			out = append(out, Rollout{At: d.RolledOutAt, Deployment: d.Key(), Name: d.Name, Revision: d.Revision, Images: d.Images})
		}
		for _, r := range d.History {
			if r.Number == d.Revision || r.CreatedAt.IsZero() {
				continue
			}
			out = append(out, Rollout{At: r.CreatedAt, Deployment: d.Key(), Name: d.Name, Revision: r.Number, Images: r.Images})
		}
	}
	return out
}

// Correlation ties the start of a burn or an alert to the rollout that came
// shortly before it.
type Correlation struct {
	Start   time.Time
	Rollout Rollout
	// Gap is Start minus the rollout's time.
	Gap time.Duration
	// Others counts the other rollouts within the window before Start.
	Others int
}

// Correlate finds the latest rollout at or before start and no more than
// window earlier (DefaultCorrelationWindow when window ≤ 0). ok is false
// when start is unknown (zero) or no rollout qualifies: say nothing rather
// than guess. The flight recorder's timeline and the cockpit's SLO and
// alert details both ask it, so they name the same rollout.
func Correlate(start time.Time, rollouts []Rollout, window time.Duration) (c Correlation, ok bool) {
	if start.IsZero() {
		return Correlation{}, false
	}
	if window <= 0 {
		window = DefaultCorrelationWindow
	}
	found := 0
	for _, r := range rollouts {
		gap := start.Sub(r.At)
		if r.At.IsZero() || gap < 0 || gap > window {
			continue
		}
		found++
		if found == 1 || r.At.After(c.Rollout.At) {
			c.Rollout, c.Gap = r, gap
		}
	}
	if found == 0 {
		return Correlation{}, false
	}
	c.Start, c.Others = start, found-1
	return c, true
}

// Text says it in one line: Text("burn") is "burn started 03:12, 4 min
// after nudgecampaign-api revision 42". Times are shown in the location of
// the start time given to Correlate (the timeline passes UTC).
func (c Correlation) Text(what string) string {
	s := fmt.Sprintf("%s started %s, %s after %s revision %d", what, c.Start.Format("15:04"), gapText(c.Gap), c.Rollout.Name, c.Rollout.Revision)
	if c.Others == 1 {
		s += " (and 1 other rollout in the window before)"
	} else if c.Others > 1 {
		s += fmt.Sprintf(" (and %d other rollouts in the window before)", c.Others)
	}
	return s
}

// gapText says how long before: "34 s", "4 min", "1h30m".
func gapText(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	}
	d = d.Round(time.Minute)
	h, m := d/time.Hour, d%time.Hour/time.Minute
	if m == 0 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// CorrelatesAlert is the one rule of which alerts are tied to a rollout
// that came shortly before they started: firing (inhibited counts, as it
// still fires) at severity critical/page or error/high (SeverityRank ≤ 1).
// Lesser alerts are the consequences a burn sets off, not its cause; naming
// a rollout for each would bury the one that matters. The timeline and the
// Alerts pane both ask it.
func CorrelatesAlert(state AlertState, severity string) bool {
	firing := state == AlertFiring || state == AlertInhibited
	return firing && SeverityRank(severity) <= 1
}
