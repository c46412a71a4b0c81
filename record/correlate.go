package record

import (
	"flightdeck/sources"
)

// RolloutsFromEvents lists the rollouts the recorder saw (RolloutRevision
// events), each at the deployment's RolledOutAt when it gave one, else at
// the time the recorder saw the revision change. sources.Correlate ties a
// burn or an alert to them, as the cockpit does with the live rollouts.
func RolloutsFromEvents(events []Event) []sources.Rollout {
	var out []sources.Rollout
	for _, e := range events {
		if e.Kind != RolloutRevision {
			continue
		}
		at := e.Since
		if at.IsZero() || at.After(e.Time) {
			at = e.Time
		}
		out = append(out, sources.Rollout{At: at, Deployment: e.Subject, Name: nameOf(e.Subject), Revision: e.Revision, Images: e.Images})
	}
	return out
}

func nameOf(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '/' {
			return key[i+1:]
		}
	}
	return key
}
