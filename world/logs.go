package world

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"flightdeck/record"
	"flightdeck/sources"
	"flightdeck/sources/logcount"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/logs"
)

// sessionLogs is what a session's log view reads: the log reader of the
// source a pane or runbook names, found among the world's capabilities
// (the kube and AWS sources, the demo world), so a source that reads logs
// needs no wiring of its own; and where an excerpt pinned by operator goes
// (the flight recorder, when it runs).
func (w *World) sessionLogs(operator string) logs.Options {
	o := logs.Options{Readers: w.logReader}
	if rec := w.recorder; rec != nil {
		o.Pin = func(p logs.PinMsg) tea.Cmd {
			return func() tea.Msg {
				if err := rec.Pin(record.Excerpt{Target: p.Target, Filter: p.Filter, Who: operator, At: p.At, Lines: p.Lines}); err != nil {
					return kit.StatusMsg{Text: "pin: " + err.Error(), Bad: true}
				}
				return kit.StatusMsg{Text: fmt.Sprintf("pinned %d lines of %s to the timeline", len(p.Lines), p.Target)}
			}
		}
	}
	return o
}

// logReader is the log reader of the source called name, nil when it
// reads no logs: the log view and the log sampler find readers alike.
func (w *World) logReader(name string) sources.LogReader {
	r, _ := w.caps[name].(sources.LogReader)
	return r
}

// sampleNewWants has the log sampler read at once when a runbook
// expression asks for logs nobody was asking for, rather than at its next
// round (logcount.Interval): the check is known in seconds. Renewed wants
// are not news, so a run re-evaluating its checks does not make the
// sampler read more often.
func (w *World) sampleNewWants(ctx context.Context) {
	added := sources.LogWants.Added(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-added:
			w.hub.Refresh(logcount.Name)
		}
	}
}
