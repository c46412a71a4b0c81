package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"flightdeck/sources"
)

// The demo's evidence: the bad build's pods run out of memory on the
// batch import (OOMKilled, exit 137) every oomEvery seconds once they
// have been up oomAfter seconds, crash-loop for crashLoop seconds after
// each, fail their readiness probe while the error rate is high, and say
// so in their logs; the Kubernetes events about it are kept as the API
// server would (deduplicated, count and first/last seen) until the loop
// starts over.
const (
	oomAfter  = 15
	oomEvery  = 45
	crashLoop = 10
	// demoLogTicks bounds how many simulated seconds one follow step
	// generates (a sped-up demo must not produce hours of lines at once).
	demoLogTicks = 60
	// demoLogEvery is how often a followed demo log looks for new lines.
	demoLogEvery = 500 * time.Millisecond
)

// kubeEvent is a warning event with the deployment it is about.
type kubeEvent struct {
	dep string
	ev  sources.KubeEvent
}

// podName is the pod's name as the ReplicaSet controller would make it:
// the ReplicaSet's name and five characters of its own.
func podName(p pod) string {
	h := fnv.New32a()
	h.Write([]byte(p.rev.rs + "|" + p.ip))
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	v := h.Sum32()
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[v%uint32(len(alphabet))]
		v /= uint32(len(alphabet))
	}
	return p.rev.rs + "-" + string(b)
}

// bad is whether the pod runs the build that fails.
func bad(p pod) bool { return p.rev.tmpl.Image == badImage }

// restarts is how often the pod's container was OOMKilled by tick.
func restarts(p pod, tick int64) int32 {
	if !bad(p) || tick-p.up < oomAfter+oomEvery {
		return 0
	}
	return int32((tick - p.up - oomAfter) / oomEvery)
}

// warn records a warning event, deduplicated by reason and object as the
// API server's event correlator does.
func (w *World) warn(dep, kind, name, reason, msg string) {
	at := w.wall(w.tick)
	for _, e := range w.kevents {
		if e.ev.Reason == reason && e.ev.Name == name && e.ev.Kind == kind {
			e.ev.Count++
			e.ev.LastSeen, e.ev.Message = at, msg
			return
		}
	}
	w.kevents = append(w.kevents, &kubeEvent{dep: dep, ev: sources.KubeEvent{Kind: kind, Name: name, Type: "Warning",
		Reason: reason, Message: msg, Count: 1, FirstSeen: at, LastSeen: at}})
}

// stepEvidence is what the kubelet reports this second.
func (w *World) stepEvidence() {
	for _, d := range w.deps {
		for _, ps := range [][]pod{d.curPods, d.oldPods} {
			for _, p := range ps {
				if !bad(p) {
					continue
				}
				name, age := podName(p), w.tick-p.up
				if age >= oomAfter+oomEvery && (age-oomAfter)%oomEvery == 0 {
					w.warn(d.name, "Pod", name, "OOMKilling",
						"Memory cgroup out of memory: Killed process 1 (node) total-vm:3365432kB, anon-rss:3145728kB, file-rss:0kB, shmem-rss:0kB")
				}
				if age >= oomAfter+oomEvery && (age-oomAfter)%oomEvery < crashLoop && age%5 == 0 {
					w.warn(d.name, "Pod", name, "BackOff", "Back-off restarting failed container "+p.rev.tmpl.Container+" in pod "+name+"_"+namespace)
				}
				if w.intensity > 0.4 && age%10 == 0 {
					w.warn(d.name, "Pod", name, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503")
				}
			}
		}
	}
}

// evidenceOf is the deployment's pods and warning events now.
func (w *World) evidenceOf(d *deployment) sources.Evidence {
	var ev sources.Evidence
	for _, ps := range [][]pod{d.curPods, d.oldPods} {
		for _, p := range ps {
			st := sources.PodStatus{Name: podName(p), Phase: "Running", Ready: true, Containers: []string{p.rev.tmpl.Container},
				Labels: map[string]string{"app": d.name}, CreatedAt: w.wall(p.up), Restarts: restarts(p, w.tick)}
			if st.Restarts > 0 {
				oom := p.up + oomAfter + oomEvery*int64(st.Restarts)
				st.LastTermination = &sources.Termination{Container: p.rev.tmpl.Container, Reason: "OOMKilled", ExitCode: 137, At: w.wall(oom)}
				if w.tick-oom < crashLoop {
					st.Waiting, st.Ready = "CrashLoopBackOff", false
				}
			}
			ev.Pods = append(ev.Pods, st)
		}
	}
	ev.PodCount = len(ev.Pods)
	ev.Pods = sources.SortPods(ev.Pods)
	var warns []sources.KubeEvent
	for _, e := range w.kevents {
		if e.dep == d.name {
			warns = append(warns, e.ev)
		}
	}
	ev.Warnings, ev.WarningCount = sources.SortWarnings(warns)
	return ev
}

// Log lines. Each pod says a line or two a simulated second, made from a
// seed of its name and the second, so a line read again is the same line.

// lineRand is the randomness of pod's lines in second tick.
func lineRand(name string, tick int64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(h.Sum64(), uint64(tick)))
}

// podLines are the lines pod p wrote in seconds (from, to], current
// instance (previous false) or the one before its last restart.
func (w *World) podLines(d *deployment, p pod, from, to int64, previous bool) []sources.LogLine {
	name := podName(p)
	start, span := p.up, to-from
	if r := restarts(p, to); r > 0 {
		last := p.up + oomAfter + oomEvery*int64(r)
		if previous {
			start, to = max(p.up, last-oomEvery), last
			if r == 1 {
				start = p.up
			}
		} else {
			start = last
		}
	} else if previous {
		return nil
	}
	from = max(to-span, start-1)
	var out []sources.LogLine
	add := func(tick int64, ms int, text string) {
		out = append(out, sources.LogLine{At: w.wall(tick).Add(time.Duration(ms) * time.Millisecond), Pod: name,
			Container: p.rev.tmpl.Container, Text: text, Previous: previous})
	}
	for s := from + 1; s <= to; s++ {
		r := lineRand(name, s)
		if s == start {
			add(s, 5, "Server listening on :3000 ("+p.rev.tmpl.Image+", NODE_ENV=production)")
			continue
		}
		if previous && s == to {
			add(s, 100, "<--- Last few GCs --->")
			add(s, 101, "[1:0x5d2c6f0]   44012 ms: Mark-Compact 2041.2 (2083.5) -> 2039.8 (2084.2) MB, 1873.22 / 0.00 ms  (average mu = 0.113) allocation failure")
			add(s, 102, "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory")
			continue
		}
		lines := 1 + r.IntN(2)
		for i := 0; i < lines; i++ {
			add(s, 10+r.IntN(980), w.lineText(d, p, r))
		}
	}
	slices.SortStableFunc(out, func(a, b sources.LogLine) int { return a.At.Compare(b.At) })
	return out
}

// lineText is one request log line: the bad build's import requests fail
// as the failure builds up.
func (w *World) lineText(d *deployment, p pod, r *rand.Rand) string {
	ms := 5 + r.IntN(80)
	switch {
	case strings.Contains(d.name, "worker"):
		return fmt.Sprintf("send batch %d: %d emails queued via SES in %dms", 10000+r.IntN(90000), 50+r.IntN(450), ms)
	case strings.Contains(d.name, "web"):
		return fmt.Sprintf("GET /app/campaigns/%d 200 %dms", 1000+r.IntN(9000), ms)
	}
	if bad(p) && r.Float64() < 0.15+0.6*w.intensity {
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("POST /api/contacts/import 500 %dms error: batch import failed: timeout acquiring a connection (pool 20/20, CONTACT_IMPORT_BATCH_SIZE=5000)", 5000+r.IntN(2000))
		case 1:
			return fmt.Sprintf("GET /api/campaigns/%d 503 %dms error: upstream request timeout", 4000+r.IntN(1000), 5000+r.IntN(500))
		default:
			return fmt.Sprintf("error: UPDATE campaigns SET status=$1 WHERE id=$2 canceled: lock timeout (campaign %d)", 4711)
		}
	}
	paths := []string{"GET /api/campaigns", "GET /api/contacts?page=2", "POST /api/sends", "GET /healthz"}
	return fmt.Sprintf("%s 200 %dms", paths[r.IntN(len(paths))], ms)
}

// ReadLogs reads the demo pods' logs like the kube source: by the
// deployment's selector (app=name), the tail of each pod merged by time,
// then, following, each second's new lines and the pods that come and go.
func (s *KubeSource) ReadLogs(ctx context.Context, q sources.LogQuery, emit func(sources.LogBatch)) error {
	app, ok := strings.CutPrefix(q.Selector, "app=")
	if q.Namespace != namespace || !ok {
		err := fmt.Errorf("no pods match %s in namespace %s", q.Selector, q.Namespace)
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	w := s.w
	tail := q.TailOrDefault()
	if err := w.lockSynced(ctx); err != nil {
		return err
	}
	d := w.dep(app)
	if d == nil {
		w.mu.Unlock()
		err := fmt.Errorf("no pods match %s in namespace %s", q.Selector, q.Namespace)
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	var first sources.LogBatch
	seen := map[string]bool{}
	for _, p := range slices.Concat(d.curPods, d.oldPods) {
		seen[podName(p)] = true
		// A second gives at most two lines: tail lines need tail/1 seconds.
		ls := w.podLines(d, p, w.tick-int64(tail), w.tick, q.Previous)
		if len(ls) > tail {
			ls = ls[len(ls)-tail:]
		}
		first.Lines = append(first.Lines, ls...)
	}
	last := w.tick
	w.mu.Unlock()
	slices.SortStableFunc(first.Lines, func(a, b sources.LogLine) int { return a.At.Compare(b.At) })
	if q.Previous && len(first.Lines) == 0 {
		first.Notices = append(first.Notices, "no container of "+q.Selector+" has restarted: there is no previous log")
	}
	if q.Previous || !q.Follow {
		first.Done = true
		emit(first)
		return nil
	}
	emit(first)
	t := time.NewTicker(demoLogEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := w.lockSynced(ctx); err != nil {
			return nil
		}
		var b sources.LogBatch
		from := max(last, w.tick-demoLogTicks)
		now := map[string]bool{}
		for _, p := range slices.Concat(d.curPods, d.oldPods) {
			name := podName(p)
			now[name] = true
			if !seen[name] {
				b.Notices = append(b.Notices, "pod "+name+" started")
			}
			b.Lines = append(b.Lines, w.podLines(d, p, from, w.tick, false)...)
		}
		last = w.tick
		w.mu.Unlock()
		for name := range seen {
			if !now[name] {
				b.Notices = append(b.Notices, "pod "+name+" gone")
			}
		}
		slices.Sort(b.Notices)
		seen = now
		slices.SortStableFunc(b.Lines, func(a, b sources.LogLine) int { return a.At.Compare(b.At) })
		if len(b.Lines) > 0 || len(b.Notices) > 0 {
			emit(b)
		}
	}
}
