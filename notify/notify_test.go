package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// listener is a real HTTP server on loopback recording what it was sent.
type listener struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	paths  []string
}

func newListener(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *listener {
	l := &listener{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.bodies = append(l.bodies, string(b))
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *listener) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bodies...)
}

// failures collects OnFailure reports.
type failures struct {
	mu sync.Mutex
	fs []Failure
	ch chan Failure
}

func newFailures() *failures { return &failures{ch: make(chan Failure, 64)} }

func (f *failures) add(x Failure) {
	f.mu.Lock()
	f.fs = append(f.fs, x)
	f.mu.Unlock()
	f.ch <- x
}

func (f *failures) wait(t *testing.T) Failure {
	t.Helper()
	select {
	case x := <-f.ch:
		return x
	case <-time.After(10 * time.Second):
		t.Fatal("no failure reported")
	}
	return Failure{}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, n *Notifier) {
	ctx, cancel := context.WithCancel(context.Background())
	n.Start(ctx)
	t.Cleanup(func() { cancel(); n.Wait() })
}

func TestSlackAndWebhookDeliverWhatTheirRulesChoose(t *testing.T) {
	slack := newListener(t, nil)
	hook := newListener(t, nil)
	n := New([]Route{
		{Sink: NewSlack("incidents", slack.URL+"/services/T0/B0/secret", nil), Kinds: []Kind{Action, CoSign}},
		{Sink: NewWebhook("audit", hook.URL+"/in", nil)},
	}, Options{})
	start(t, n)
	n.Notify(Event{Kind: Action, Environment: "production", Who: "alice", Subject: "Promote read replica nudgecampaign-dr-db: done"})
	n.Notify(Event{Kind: Note, Who: "bob", Subject: "customer emails paused"})
	n.Notify(Event{Kind: Step, Subject: "to nobody: a step names its sink"})
	waitFor(t, "deliveries", func() bool { return len(slack.got()) == 1 && len(hook.got()) == 2 })
	var msg map[string]string
	if err := json.Unmarshal([]byte(slack.got()[0]), &msg); err != nil || msg["text"] != "[production] alice: Promote read replica nudgecampaign-dr-db: done" {
		t.Fatalf("slack body %q (%v)", slack.got()[0], err)
	}
	var ev Event
	if err := json.Unmarshal([]byte(hook.got()[1]), &ev); err != nil || ev.Kind != Note || ev.Who != "bob" || ev.At.IsZero() {
		t.Fatalf("webhook body %q (%v)", hook.got()[1], err)
	}
	time.Sleep(50 * time.Millisecond)
	if len(slack.got()) != 1 || len(hook.got()) != 2 {
		t.Fatalf("a rule let through more: slack %d, hook %d", len(slack.got()), len(hook.got()))
	}
	// A step reaches the one sink it names, and Send says how it went.
	if err := n.Send(context.Background(), "incidents", Event{Kind: Step, Subject: "Post in #incidents: mitigated"}); err != nil {
		t.Fatal(err)
	}
	if got := slack.got(); len(got) != 2 || !strings.Contains(got[1], "Post in #incidents") {
		t.Fatalf("slack after step: %q", got)
	}
	if err := n.Send(context.Background(), "nope", Event{Subject: "x"}); err == nil {
		t.Fatal("Send to an unknown sink succeeded")
	}
}

func TestFailingSinkIsRetriedThenReportedWithoutItsSecret(t *testing.T) {
	var calls int
	var mu sync.Mutex
	bad := newListener(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "invalid_token \x1b[31mred\x1b[0m")
	})
	fs := newFailures()
	n := New([]Route{{Sink: NewSlack("incidents", bad.URL+"/services/T0/B0/XXXXsecret", nil)}},
		Options{Retries: 2, Backoff: 10 * time.Millisecond, OnFailure: fs.add})
	start(t, n)
	n.Notify(Event{Kind: Action, Subject: "x"})
	f := fs.wait(t)
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 || f.Attempts != 3 || f.Sink != "incidents" {
		t.Fatalf("calls %d, failure %+v", calls, f)
	}
	s := f.String()
	if strings.Contains(s, "XXXXsecret") || strings.Contains(s, "\x1b") || !strings.Contains(s, "500") || !strings.Contains(s, "invalid_token") {
		t.Fatalf("failure line %q", s)
	}
}

func TestHungSinkCostsItsTimeoutAndBlocksNothing(t *testing.T) {
	release := make(chan struct{})
	hung := newListener(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	good := newListener(t, nil)
	fs := newFailures()
	const timeout = 200 * time.Millisecond
	n := New([]Route{
		{Sink: NewWebhook("hung", hung.URL, nil)},
		{Sink: NewWebhook("good", good.URL, nil)},
	}, Options{Timeout: timeout, Retries: -1, Queue: 4, OnFailure: fs.add})
	start(t, n)
	began := time.Now()
	for i := range 100 {
		n.Notify(Event{Kind: Action, Subject: "event " + string(rune('a'+i%26))})
	}
	t.Logf("100 Notify calls with a hung sink took %s", time.Since(began))
	// The good sink is not held up by the hung one (its own queue of 4
	// keeps the newest).
	waitFor(t, "the good sink", func() bool { return len(good.got()) >= 4 })
	first := fs.wait(t)
	for first.Dropped { // the hung sink's queue overflowed: reported too
		first = fs.wait(t)
	}
	if first.Sink != "hung" || first.Attempts != 1 || !strings.Contains(first.Err.Error(), "no answer within 200ms") {
		t.Fatalf("failure %+v", first)
	}
	if first.Took < timeout || first.Took > timeout+2*time.Second {
		t.Fatalf("a hung attempt took %s, want about its timeout %s", first.Took, timeout)
	}
	fs.mu.Lock()
	dropped := false
	for _, f := range fs.fs {
		dropped = dropped || f.Dropped
	}
	fs.mu.Unlock()
	if !dropped {
		t.Error("the hung sink's full queue was not reported")
	}
}

func TestEventBounded(t *testing.T) {
	e := Event{Subject: strings.Repeat("s", 500), Text: strings.Repeat("é", MaxText+10)}.bounded()
	if len([]rune(e.Subject)) != MaxSubject || len([]rune(e.Text)) != MaxText || !strings.HasSuffix(e.Text, "…") {
		t.Fatalf("subject %d runes, text %d runes", len([]rune(e.Subject)), len([]rune(e.Text)))
	}
	if got := snsSubject("a\nb\x1b" + "é"); got != "a b??" {
		t.Fatalf("snsSubject = %q", got)
	}
}
