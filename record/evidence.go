package record

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
)

// Evidence: what the upstreams forget on their own — Kubernetes keeps
// events about an hour, ECS forgets a stopped task within about an hour —
// is written to the event journal when first seen, so the timeline of an
// incident still says why things died. A second loop beside Run (its own
// subscription, the same journal) keeps it apart from the state-change
// rules.
const (
	// KubeWarning is a Kubernetes warning event about a deployment, its
	// ReplicaSets or pods; written again (an update) when its count grew
	// and evidenceRepeat passed.
	KubeWarning EventKind = "kube_warning"
	// PodTerminated is a container of a deployment's pod that ended
	// (OOMKilled, Error), once per termination.
	PodTerminated EventKind = "pod_terminated"
	// ECSTaskStopped is an ECS service's task that stopped, with why.
	ECSTaskStopped EventKind = "ecs_task_stopped"
	// RDSEvent is an event RDS recorded about an instance or cluster.
	RDSEvent EventKind = "rds_event"
	// LogExcerpt is lines an operator pinned from the log view.
	LogExcerpt EventKind = "log_excerpt"
)

// evidenceRepeat is the shortest time between two lines about one warning
// whose count keeps growing: a crash loop is a line every few minutes with
// its count, first and last seen, not one per back-off.
const evidenceRepeat = 5 * time.Minute

// maxEvidenceKeys bounds what the recorder remembers having written; past
// it the oldest half is forgotten (and may be written again if the
// upstream still shows it).
const maxEvidenceKeys = 20000

// Bounds of a pinned excerpt: its lines go into the event's labels.
const (
	maxExcerptLines = maxLabels
	excerptLineText = maxLabelText
)

// mark is what was last written about one piece of evidence.
type mark struct {
	count int
	wrote time.Time
}

// evidenceMemory is what the evidence loop has written, by event ID.
type evidenceMemory map[string]mark

// evidenceID is an event ID for key: short and stable (journal readers
// bound IDs), so a restarted recorder knows what it already wrote.
func evidenceID(kind EventKind, key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	return string(kind) + ":" + strconv.FormatUint(h.Sum64(), 16)
}

// evidenceEvents are the events the snapshots' evidence calls for, given
// what was written before (mem, updated). It is pure but for mem.
func evidenceEvents(mem evidenceMemory, snaps []sources.Snapshot) []Event {
	var out []Event
	add := func(e Event, count int) {
		m, ok := mem[e.ID]
		switch {
		case !ok:
		case count > m.count && e.Time.Sub(m.wrote) >= evidenceRepeat:
		default:
			return
		}
		e.Count = count
		e.Summary = bound(e.Summary, maxSummary)
		mem[e.ID] = mark{count: count, wrote: e.Time}
		out = append(out, e)
	}
	for _, s := range snaps {
		switch set := s.Data.(type) {
		case *sources.RolloutSet:
			for _, d := range set.Deployments {
				for _, w := range d.Evidence.Warnings {
					obj := strings.ToLower(w.Kind) + "/" + w.Name
					e := Event{Time: w.LastSeen, Kind: KubeWarning, Source: s.Source, Subject: d.Key(),
						ID: evidenceID(KubeWarning, d.Key()+"|"+obj+"|"+w.Reason+"|"+w.FirstSeen.UTC().Format(time.RFC3339)), Since: w.FirstSeen,
						Summary: fmt.Sprintf("%s %s %s (×%d, first %s, last %s): %s", d.Key(), w.Reason, obj, w.Count,
							clockText(w.FirstSeen), clockText(w.LastSeen), w.Message)}
					if e.Time.IsZero() {
						e.Time = s.FetchedAt
					}
					add(e, int(max(w.Count, 1)))
				}
				for _, p := range d.Evidence.Pods {
					t := p.LastTermination
					if t == nil || t.At.IsZero() {
						continue
					}
					e := Event{Time: t.At, Kind: PodTerminated, Source: s.Source, Subject: d.Key(),
						ID: evidenceID(PodTerminated, d.Namespace+"/"+p.Name+"|"+t.Container+"|"+t.At.UTC().Format(time.RFC3339Nano)),
						Summary: fmt.Sprintf("%s pod %s container %s terminated: %s exit %d (restarts %d)",
							d.Key(), p.Name, t.Container, orWord(t.Reason, "terminated"), t.ExitCode, p.Restarts)}
					if t.Message != "" {
						e.Summary += ": " + t.Message
					}
					add(e, 1)
				}
			}
		case *sources.AWSSet:
			for _, sv := range set.ECS {
				for _, t := range sv.Tasks {
					if !t.Stopped() {
						continue
					}
					at := t.StoppedAt
					if at.IsZero() { // stopping, or ECS (an emulator) did not say: when it was seen
						at = s.FetchedAt
					}
					e := Event{Time: at, Kind: ECSTaskStopped, Source: s.Source, Subject: sv.Key(),
						ID:      evidenceID(ECSTaskStopped, sv.Key()+"|"+t.ID),
						Summary: fmt.Sprintf("%s task %s stopped: %s", sv.Key(), t.ID, stopText(t))}
					add(e, 1)
				}
			}
			rds := func(subject string, evs []sources.RDSEvent) {
				for _, r := range evs {
					e := Event{Time: r.At, Kind: RDSEvent, Source: s.Source, Subject: subject,
						ID:      evidenceID(RDSEvent, subject+"|"+r.At.UTC().Format(time.RFC3339Nano)+"|"+r.Message),
						Summary: "RDS " + subject + ": " + r.Message}
					if len(r.Categories) > 0 {
						e.Summary += " [" + strings.Join(r.Categories, ", ") + "]"
					}
					add(e, 1)
				}
			}
			for _, in := range set.RDS {
				rds(in.Key(), in.Events)
			}
			for _, c := range set.Clusters {
				rds(c.Key(), c.Events)
			}
		}
	}
	return out
}

// stopText is why a task stopped and how its containers exited.
func stopText(t sources.ECSTask) string {
	s := orWord(t.StoppedReason, "no reason given")
	if t.StopCode != "" {
		s = t.StopCode + ": " + s
	}
	for _, c := range t.Containers {
		if c.HasExit {
			s += fmt.Sprintf("; %s exit %d", c.Name, c.ExitCode)
			if c.Reason != "" {
				s += " (" + c.Reason + ")"
			}
		}
	}
	return s
}

func orWord(s, w string) string {
	if s == "" {
		return w
	}
	return s
}

func clockText(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("15:04:05")
}

// forget keeps mem within maxEvidenceKeys: the oldest half goes.
func (mem evidenceMemory) forget() {
	if len(mem) <= maxEvidenceKeys {
		return
	}
	type kv struct {
		id string
		at time.Time
	}
	all := make([]kv, 0, len(mem))
	for id, m := range mem {
		all = append(all, kv{id, m.wrote})
	}
	slices.SortFunc(all, func(a, b kv) int { return a.at.Compare(b.at) })
	for _, e := range all[:len(all)/2] {
		delete(mem, e.id)
	}
}

// recallSpan is how far back a restarted recorder looks for the evidence
// it already wrote: past what any upstream keeps (Kubernetes events about
// an hour, stopped ECS tasks about an hour, RDS events the day read).
const recallSpan = 48 * time.Hour

// recall is what an earlier run wrote to the journal in the last
// recallSpan, rotated files included (a restart may rotate the live file):
// evidence is written once across restarts too.
func (r *Recorder) recall() evidenceMemory {
	mem := evidenceMemory{}
	from := r.now().Add(-recallSpan)
	files, err := journalFiles(r.Path(), from, time.Time{})
	if err != nil {
		return mem
	}
	res, err := readJournal(files, span{From: from}, 0, decodeEvent)
	if err != nil {
		return mem
	}
	for _, e := range res.kept {
		switch e.Kind {
		case KubeWarning, PodTerminated, ECSTaskStopped, RDSEvent:
			if m, ok := mem[e.ID]; !ok || e.Count >= m.count {
				mem[e.ID] = mark{count: e.Count, wrote: e.Time}
			}
		}
	}
	mem.forget()
	return mem
}

// StartEvidence runs RunEvidence in its own goroutine until ctx ends or
// updates closes. Give it its own subscription.
func (r *Recorder) StartEvidence(ctx context.Context, updates Updates) {
	go func() {
		if err := r.RunEvidence(ctx, updates); err != nil {
			r.log.Error("evidence recorder stopped", "err", err)
		}
	}()
}

// RunEvidence writes the evidence the snapshots carry (warning events, pod
// terminations, stopped ECS tasks, RDS events) until ctx ends or updates
// closes (both a normal stop, returning nil).
func (r *Recorder) RunEvidence(ctx context.Context, updates Updates) error {
	mem := r.recall()
	for {
		snaps, err := updates.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, sources.ErrClosed) {
				return nil
			}
			return err
		}
		if evs := evidenceEvents(mem, snaps); len(evs) > 0 {
			r.write(evs)
		}
		mem.forget()
	}
}

// Excerpt is lines pinned from the log view.
type Excerpt struct {
	// Target is what the lines are of ("production/nudgecampaign-api").
	Target string
	Filter string
	// Who pinned it (the session's operator identity), and when.
	Who   string
	At    time.Time
	Lines []string
}

// Pin writes a log excerpt to the event journal: its first lines in the
// summary (the timeline's text), up to maxExcerptLines lines in its labels
// (line01 …), each bounded. It writes synchronously: call it in a Cmd.
func (r *Recorder) Pin(x Excerpt) error {
	lines := x.Lines
	if len(lines) > maxExcerptLines {
		lines = lines[len(lines)-maxExcerptLines:] // the newest: what was on screen last
	}
	e := Event{Time: x.At, Kind: LogExcerpt, Source: "logs", Subject: x.Target,
		Summary: fmt.Sprintf("log excerpt of %s pinned by %s, %d lines", x.Target, orWord(x.Who, "someone"), len(x.Lines))}
	if x.Filter != "" {
		e.Summary += fmt.Sprintf(" (filter %q)", x.Filter)
	}
	if len(lines) > 0 {
		e.Summary += ": " + strings.Join(lines, " | ")
		e.Labels = make(map[string]string, len(lines))
		for i, l := range lines {
			e.Labels[fmt.Sprintf("line%02d", i+1)] = bound(l, excerptLineText)
		}
	}
	e.Summary = bound(e.Summary, maxSummary)
	r.write([]Event{e})
	return r.Err()
}
