package sources

import (
	"context"
	"testing"
	"time"
)

// Added hears of a target or filter nobody wanted, not of a want renewed
// by the next evaluation; it stops with its context.
func TestLogWantsAdded(t *testing.T) {
	w := &LogCountWants{}
	ctx, cancel := context.WithCancel(context.Background())
	added := w.Added(ctx)
	heard := func() bool {
		select {
		case <-added:
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	}
	q := LogQuery{Source: "kube", Namespace: "production", Selector: "app=api", Target: "production/api"}
	until := time.Now().Add(time.Minute)
	w.Want(q, "", until)
	if !heard() {
		t.Error("a new target was not heard of")
	}
	w.Want(q, "", until.Add(time.Second))
	if heard() {
		t.Error("a renewed want was heard of")
	}
	w.Want(q, "timeout", until)
	if !heard() {
		t.Error("a new filter was not heard of")
	}
	// Wanted again after it lapsed: news again.
	w.Want(LogQuery{Source: "kube", Target: "production/web"}, "", time.Now().Add(-time.Second))
	<-added // the lapsed want was new when made
	w.Want(LogQuery{Source: "kube", Target: "production/web"}, "", until)
	if !heard() {
		t.Error("a want renewed after it lapsed was not heard of")
	}
	cancel()
	time.Sleep(10 * time.Millisecond) // AfterFunc runs on its own goroutine
	w.Want(LogQuery{Source: "kube", Target: "production/worker"}, "", until)
	w.mu.Lock()
	n := len(w.added)
	w.mu.Unlock()
	if n != 0 {
		t.Errorf("%d listeners after the context ended", n)
	}
}
