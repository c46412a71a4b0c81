package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"flightdeck/sources"
)

// Log reading: the pods a Deployment's selector chooses, one stream per
// container (GET pods/{name}/log, the kubelet's endpoint through the API
// server, as kubectl logs does), merged by time in batches. Every bound is
// in sources (MaxLogLineBytes, MaxLogStreams, MaxLogTail).
const (
	// logFlush is how often lines read are handed on: often enough to feel
	// live, seldom enough that a busy deployment is a few batches a second.
	logFlush = 100 * time.Millisecond
	// logBatchMax hands a batch on early when this many lines are waiting.
	logBatchMax = 1000
	// podRelist is how often a follow looks for new and gone pods (a pod
	// replaced by its ReplicaSet, a rollout).
	podRelist = 2 * time.Second
	// Reconnect backoff for a followed stream that ended (a container
	// restarted, the connection dropped, a container not started yet).
	reconnectMin = time.Second
	reconnectMax = 30 * time.Second
)

// streamKey is one container of one pod.
type streamKey struct{ pod, container string }

// ReadLogs reads the logs of the pods q.Selector chooses in q.Namespace:
// the last q.Tail lines of each container, then, with q.Follow, new lines
// and the pods that appear, until ctx ends. With q.Previous it reads the
// previous instance of each container that restarted, once.
func (s *Source) ReadLogs(ctx context.Context, q sources.LogQuery, emit func(sources.LogBatch)) error {
	if q.Namespace == "" || q.Selector == "" {
		return errors.New("logs: a namespace and a pod selector are needed")
	}
	if q.Previous {
		q.Follow = false
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan sources.LogLine, 256)
	notes := make(chan string, 32)
	note := func(n string) {
		select {
		case notes <- n:
		case <-ctx.Done():
		}
	}
	var wg sync.WaitGroup
	running := map[streamKey]context.CancelFunc{}
	skipped := 0
	resync := func() error {
		pods, err := s.cs.CoreV1().Pods(q.Namespace).List(ctx, metav1.ListOptions{LabelSelector: q.Selector})
		if err != nil {
			return apiError("list pods", q.Namespace, err)
		}
		want := logStreams(pods.Items, q.Previous)
		if len(want) > sources.MaxLogStreams {
			if n := len(want) - sources.MaxLogStreams; n != skipped {
				skipped = n
				note(fmt.Sprintf("%d more containers not read (at most %d streams at once)", n, sources.MaxLogStreams))
			}
			want = want[:sources.MaxLogStreams]
		}
		keep := map[streamKey]bool{}
		for _, k := range want {
			keep[k] = true
			if _, ok := running[k]; ok {
				continue
			}
			sctx, scancel := context.WithCancel(ctx)
			running[k] = scancel
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.streamContainer(sctx, q, k, out, note)
			}()
		}
		for k, stop := range running {
			if !keep[k] {
				stop()
				delete(running, k)
				note("pod " + k.pod + " gone")
			}
		}
		return nil
	}
	if err := resync(); err != nil {
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	if len(running) == 0 {
		what := "no pods match " + q.Selector
		if q.Previous {
			what = "no container of " + q.Selector + " has restarted: there is no previous log"
		}
		note(what)
	}
	allDone := make(chan struct{})
	if !q.Follow {
		go func() { wg.Wait(); close(allDone) }()
	}
	var batch sources.LogBatch
	flush := func(done bool) {
		if len(batch.Lines) == 0 && len(batch.Notices) == 0 && !done {
			return
		}
		slices.SortStableFunc(batch.Lines, func(a, b sources.LogLine) int { return a.At.Compare(b.At) })
		batch.Done = done
		emit(batch)
		batch = sources.LogBatch{}
	}
	tick := time.NewTicker(logFlush)
	defer tick.Stop()
	var relist <-chan time.Time
	if q.Follow {
		t := time.NewTicker(podRelist)
		defer t.Stop()
		relist = t.C
	}
	// Every return cancels the streams first (ctx.Done, or all done), so
	// waiting for them here is short.
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			cancel()
			return nil
		case l := <-out:
			batch.Lines = append(batch.Lines, l)
			if len(batch.Lines) >= logBatchMax {
				flush(false)
			}
		case n := <-notes:
			batch.Notices = append(batch.Notices, n)
		case <-tick.C:
			flush(false)
		case <-relist:
			if err := resync(); err != nil {
				batch.Notices = append(batch.Notices, err.Error())
			}
		case <-allDone:
		drain:
			for {
				select {
				case l := <-out:
					batch.Lines = append(batch.Lines, l)
				case n := <-notes:
					batch.Notices = append(batch.Notices, n)
				default:
					break drain
				}
			}
			flush(true)
			return nil
		}
	}
}

// logStreams lists the containers to read, newest pods first: with
// previous, only containers that restarted (the others have no previous
// instance and the API server would answer 400).
func logStreams(pods []corev1.Pod, previous bool) []streamKey {
	slices.SortStableFunc(pods, func(a, b corev1.Pod) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var out []streamKey
	for _, p := range pods {
		if p.DeletionTimestamp != nil && !previous {
			continue
		}
		for _, c := range p.Spec.Containers {
			if previous && !restarted(p, c.Name) {
				continue
			}
			out = append(out, streamKey{p.Name, c.Name})
		}
	}
	return out
}

func restarted(p corev1.Pod, container string) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == container {
			return cs.RestartCount > 0 || cs.LastTerminationState.Terminated != nil
		}
	}
	return false
}

// streamContainer reads one container's log into out; following, it
// reconnects with backoff from the last line's time until ctx ends.
func (s *Source) streamContainer(ctx context.Context, q sources.LogQuery, k streamKey, out chan<- sources.LogLine, note func(string)) {
	tail := int64(q.TailOrDefault())
	backoff := reconnectMin
	var last time.Time
	for {
		opts := &corev1.PodLogOptions{Container: k.container, Follow: q.Follow, Timestamps: true, Previous: q.Previous}
		since := last
		if since.IsZero() {
			opts.TailLines = &tail
		} else {
			st := metav1.NewTime(since)
			opts.SinceTime = &st
		}
		rc, err := s.cs.CoreV1().Pods(q.Namespace).GetLogs(k.pod, opts).Stream(ctx)
		n := 0
		if err == nil {
			n, err = readLogLines(ctx, rc, k, q.Previous, since, &last, out)
			rc.Close()
		} else {
			err = apiError("logs of "+k.pod+"/"+k.container, "", err)
		}
		if ctx.Err() != nil {
			return
		}
		if !q.Follow {
			if err != nil {
				note(err.Error())
			}
			return
		}
		if n > 0 {
			backoff = reconnectMin
		}
		why := "stream ended"
		if err != nil {
			why = err.Error()
		}
		note(fmt.Sprintf("%s/%s: %s; reconnecting in %s", k.pod, k.container, why, backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, reconnectMax)
	}
}

// readLogLines reads timestamped lines ("2026-03-01T10:00:00.123456789Z
// text") until EOF, each cut to MaxLogLineBytes (the rest of a longer
// line is read and dropped) and sanitized. Lines at or before since were
// read before a reconnect (sinceTime is inclusive) and are skipped. It
// returns how many lines it handed on.
func readLogLines(ctx context.Context, r io.Reader, k streamKey, previous bool, since time.Time, last *time.Time, out chan<- sources.LogLine) (int, error) {
	br := bufio.NewReaderSize(r, sources.MaxLogLineBytes+64)
	n := 0
	for {
		raw, err := br.ReadSlice('\n')
		cut := false
		if errors.Is(err, bufio.ErrBufferFull) {
			cut = true
			raw = slices.Clone(raw)
			for errors.Is(err, bufio.ErrBufferFull) { // drop the rest of the line
				_, err = br.ReadSlice('\n')
			}
		}
		if len(raw) > 0 {
			l := parseLogLine(raw, cut)
			l.Pod, l.Container, l.Previous = k.pod, k.container, previous
			if since.IsZero() || l.At.After(since) {
				if !l.At.IsZero() {
					*last = l.At
				}
				select {
				case out <- l:
					n++
				case <-ctx.Done():
					return n, ctx.Err()
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
}

// parseLogLine splits the runtime's timestamp from the text, then cuts and
// sanitizes the text.
func parseLogLine(raw []byte, cut bool) sources.LogLine {
	s := strings.TrimRight(string(raw), "\r\n")
	var l sources.LogLine
	if i := strings.IndexByte(s, ' '); i > 0 && i < 40 {
		if t, err := time.Parse(time.RFC3339Nano, s[:i]); err == nil {
			l.At, s = t, s[i+1:]
		}
	}
	if cut {
		s += "…" // ClipText only marks what it cuts itself
	}
	l.Text = sources.ClipText(s, sources.MaxLogLineBytes)
	return l
}
