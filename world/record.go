package world

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"flightdeck/config"
	"flightdeck/ops"
	"flightdeck/record"
	"flightdeck/runbook"
)

// JournalPaths are the audit journal and, beside it, the event journal:
// the one place that says where they are, for the world and for
// `flightdeck timeline`. Demo runs have their own pair so they never mix
// with a real incident's timeline.
func JournalPaths(cfg *config.Config, demo bool) (audit, events string) {
	audit = cfg.Audit.Path
	if demo {
		audit = filepath.Join(filepath.Dir(audit), "audit-demo.jsonl")
	}
	return audit, record.EventsPath(audit)
}

// openRecorder opens the flight recorder's event journal. It runs
// whenever flightdeck runs, read-only too: observing is what it is for. A
// journal that cannot be opened does not stop the cockpit; the status bar
// says the recorder is off, and why.
func (w *World) openRecorder(rc *config.Record) {
	o := record.Options{Log: w.log}
	if rc != nil {
		o.Retention = record.Retention{MaxSize: int64(rc.MaxSizeMiB) << 20, MaxFiles: rc.MaxFiles, MaxAge: rc.MaxAge.D()}
	}
	rec, err := record.Open(w.eventsPath, o)
	if err != nil {
		w.recorderErr = fmt.Errorf("off: %w", err)
		w.log.Warn("flight recorder off", "err", err)
		return
	}
	w.recorder = rec
	w.closers = append(w.closers, func() { rec.Close() })
	for _, r := range rec.Repairs() { // logged by the journal itself
		w.repaired = append(w.repaired, "event journal repaired: "+r.String())
	}
}

// startRecorder records the hub's snapshots until ctx ends: once per
// world, so `flightdeck serve` records once for all its sessions.
func (w *World) startRecorder(ctx context.Context) {
	if w.recorder == nil {
		return
	}
	sub := w.hub.Subscribe()
	context.AfterFunc(ctx, sub.Close)
	w.recorder.Start(ctx, sub)
	// Evidence (warning events, stopped tasks …) on its own subscription.
	evidence := w.hub.Subscribe()
	context.AfterFunc(ctx, evidence.Close)
	w.recorder.StartEvidence(ctx, evidence)
}

// recorderStatus is the recorder's latest write error, for the status bar.
func (w *World) recorderStatus() error {
	if w.recorder == nil {
		return w.recorderErr
	}
	return w.recorder.Err()
}

// timelineSpan is how far back the cockpit's timeline reads; the command
// line's has no limit.
const timelineSpan = 24 * time.Hour

// timeline is the incident timeline the cockpit shows: the same entries
// `flightdeck timeline` prints, from the last day. It reads the journals:
// the UI calls it in a Cmd.
func (w *World) timeline(ctx context.Context) ([]string, error) {
	// One load for every session asking at about the same time.
	tl, err := w.timelines.Recent(ctx, w.eventsPath, w.auditPath, timelineSpan)
	if err != nil {
		return nil, err
	}
	return tl.Lines(), nil
}

// sessionRunbooks gives a session the runbooks, the runs left open in the
// audit journal (a restart brings them back, continued under the session's
// identity), the journal to record runs in when it may act, the timeline
// and the recorder's health. What could not be read is said in the status
// bar, never skipped silently.
func (w *World) sessionRunbooks(s *Session) {
	s.Actions.Runbooks = w.runbooks
	s.Journals.Timeline = w.timeline
	s.Journals.RecorderErr = w.recorderStatus
	if w.recorder != nil {
		s.Journals.Burns = w.recorder // burn starts as the recorder saw them, for every session alike
	}
	s.Journals.Notices = append(s.Journals.Notices, w.repaired...)
	if s.Actions.Executor != nil && w.journal != nil {
		s.Actions.RunJournal = w.journal
	}
	recs, err := ops.ReadJournal(w.auditPath)
	var damage *ops.DamageError
	switch {
	case errors.As(err, &damage):
		// Keep what could be read; say where the damage is.
		s.Journals.Notices = append(s.Journals.Notices, fmt.Sprintf("audit journal %s: %d damaged line(s), the first at line %d; runs resumed from the rest",
			damage.Path, len(damage.Lines), damage.Lines[0].Line))
	case errors.Is(err, fs.ErrNotExist):
		return // no journal yet: nothing was ever run
	case err != nil:
		s.Journals.Notices = append(s.Journals.Notices, "runs not resumed: "+err.Error())
		return
	}
	runs, err := runbook.Resume(recs, w.runbooks, w.policy)
	if err != nil {
		s.Journals.Notices = append(s.Journals.Notices, "runs not resumed: "+err.Error())
	}
	for _, r := range runs {
		r.ContinueAs(s.Identity.Actor)
	}
	s.Actions.Runs = runs
}
