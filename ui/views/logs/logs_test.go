package logs

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/sources"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// fakeReader hands on the batches of each query and, following, waits
// for the end of the reading as a real one does.
type fakeReader struct {
	mu      sync.Mutex
	queries []sources.LogQuery
	batches func(q sources.LogQuery) []sources.LogBatch
}

func (f *fakeReader) ReadLogs(ctx context.Context, q sources.LogQuery, emit func(sources.LogBatch)) error {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	for _, b := range f.batches(q) {
		emit(b)
	}
	if q.Follow {
		<-ctx.Done()
	}
	return nil
}

// screenStub is the Screen the feature acts on.
type screenStub struct {
	kit.Screen
	pane   any
	pushed []kit.View
	status string
}

func (s *screenStub) Pane() any                  { return s.pane }
func (s *screenStub) Shown() kit.View            { return nil }
func (s *screenStub) Status(text string, _ bool) { s.status = text }
func (s *screenStub) Close(string)               {}
func (s *screenStub) Push(v kit.View)            { s.pushed = append(s.pushed, v) }

type target struct{ q sources.LogQuery }

func (t target) LogQuery() (sources.LogQuery, bool) { return t.q, true }

var t0 = uitest.T0

func line(pod string, at time.Duration, text string) sources.LogLine {
	return sources.LogLine{At: t0.Add(at), Pod: pod, Container: "api", Text: text}
}

// open presses the logs key over a pane whose selection has logs, and
// takes n batches.
func open(t *testing.T, r *fakeReader, n int) *view {
	t.Helper()
	f := New(uitest.Env(), context.Background(), Options{Readers: func(string) sources.LogReader { return r }, Cap: 100})
	s := &screenStub{pane: target{sources.LogQuery{Source: "kube", Namespace: "production", Selector: "app=api", Target: "production/nudgecampaign-api"}}}
	cmd, ok := f.Key(s, uitest.Key("l"))
	if !ok || len(s.pushed) != 1 {
		t.Fatalf("logs key not taken: %v %q", ok, s.status)
	}
	v := s.pushed[0].(*view)
	take(t, v, cmd, n)
	return v
}

// take runs the reading's Cmds for n batches.
func take(t *testing.T, v *view, cmd tea.Cmd, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if cmd == nil {
			t.Fatalf("no Cmd after %d batches", i)
		}
		cmd = v.Update(cmd())
	}
}

func screen(v *view, w, h int) []string {
	out := v.View(w, h)
	for i := range out {
		out[i] = ansi.Strip(out[i])
	}
	return out
}

func TestMergedByTimeTaggedAndHighlighted(t *testing.T) {
	r := &fakeReader{batches: func(sources.LogQuery) []sources.LogBatch {
		return []sources.LogBatch{
			{Lines: []sources.LogLine{line("nudgecampaign-api-7d9f8b6c5-x2k4p", 0, "GET /api/campaigns 200"), line("nudgecampaign-api-7d9f8b6c5-x2k4p", 2*time.Second, "POST /import 500 error: batch too large")}},
			// A late pod's tail belongs between the others' lines.
			{Lines: []sources.LogLine{line("nudgecampaign-api-7d9f8b6c5-q8w2z", time.Second, "panic: runtime error")}, Notices: []string{"pod x gone"}},
		}
	}}
	v := open(t, r, 2)
	if q := r.queries[0]; !q.Follow || q.Selector != "app=api" {
		t.Errorf("query %+v", q)
	}
	got := screen(v, 100, 8)
	want := []string{"GET /api/campaigns", "panic: runtime error", "POST /import 500"}
	for i, w := range want {
		if !strings.Contains(got[2+i], w) {
			t.Fatalf("line %d: %q, want %q\n%s", i, got[2+i], w, strings.Join(got, "\n"))
		}
	}
	if !strings.Contains(got[2], "7d9f8b6c5-x2k4p/api") || !strings.Contains(got[3], "7d9f8b6c5-q8w2z/api") {
		t.Errorf("tags: %q %q", got[2], got[3])
	}
	if !strings.Contains(got[1], "following") || !strings.Contains(got[1], "pod x gone") {
		t.Errorf("status line %q", got[1])
	}
	if lv := [3]level{v.buf.lines[0].level, v.buf.lines[1].level, v.buf.lines[2].level}; lv != [3]level{levelNone, levelCrit, levelError} {
		t.Errorf("levels %v", lv)
	}
}

func TestClassify(t *testing.T) {
	for text, want := range map[string]level{
		"GET / 200 12ms":                       levelNone,
		"took 503ms":                           levelNone,
		"POST /api 502 Bad Gateway":            levelError,
		"ERROR db timeout":                     levelError,
		"level=error msg=x":                    levelError,
		"panic: nil map":                       levelCrit,
		"FATAL ERROR: heap out of memory":      levelCrit,
		"Container api was OOMKilled":          levelCrit,
		"errors=0 warnings=0 (a word, not ok)": levelNone,
	} {
		if got := classify(text); got != want {
			t.Errorf("classify(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestFilterPauseAndPrevious(t *testing.T) {
	r := &fakeReader{batches: func(q sources.LogQuery) []sources.LogBatch {
		if q.Previous {
			l := line("api-1-a", 0, "FATAL heap out of memory")
			l.Previous = true
			return []sources.LogBatch{{Lines: []sources.LogLine{l}, Done: true}}
		}
		return []sources.LogBatch{{Lines: []sources.LogLine{line("api-1-a", 0, "GET / 200"), line("api-1-a", time.Second, "POST / 503"), line("api-1-a", 2*time.Second, "GET /x 200")}}}
	}}
	v := open(t, r, 1)
	// A regex filter.
	v.Update(uitest.Key("/"))
	if !v.CapturesKeys() {
		t.Fatal("filter prompt does not capture keys")
	}
	for _, k := range uitest.Typed(`/ 5\d\d/`) {
		v.Update(k)
	}
	v.Update(uitest.Key("enter"))
	got := screen(v, 80, 6)
	if v.buf.count() != 1 || !strings.Contains(got[2], "POST / 503") || !strings.Contains(got[1], "filter / 5\\d\\d/: 1 of 3 lines") {
		t.Fatalf("regex filter:\n%s", strings.Join(got, "\n"))
	}
	// Paused: new lines are held, the screen stays.
	v.Update(uitest.Key("space"))
	v.take(sources.LogBatch{Lines: []sources.LogLine{line("api-1-a", 3*time.Second, "POST / 500")}})
	if v.buf.count() != 1 || !strings.Contains(screen(v, 80, 6)[1], "PAUSED (1 new held)") {
		t.Errorf("pause did not hold: %d shown\n%s", v.buf.count(), strings.Join(screen(v, 80, 6), "\n"))
	}
	v.Update(uitest.Key("space"))
	if v.buf.count() != 2 {
		t.Errorf("resume: %d shown, want 2", v.buf.count())
	}
	// Previous reads anew, once, without following; the filter stays.
	cmd := v.Update(uitest.Key("p"))
	take(t, v, cmd, 2) // the batch, then the end
	if q := r.queries[len(r.queries)-1]; !q.Previous || q.Follow {
		t.Errorf("previous query %+v", q)
	}
	v.Update(uitest.Key("/"))
	v.Update(uitest.Key("backspace"))
	for range 20 {
		v.Update(uitest.Key("backspace"))
	}
	v.Update(uitest.Key("enter"))
	got = screen(v, 80, 6)
	if !strings.Contains(got[1], "previous containers") || !strings.Contains(got[2], "a/api prev") || !strings.Contains(got[2], "heap out of memory") {
		t.Errorf("previous:\n%s", strings.Join(got, "\n"))
	}
}

// Hostile lines as a reader hands them on (sanitized and cut at
// ingestion, sources.ClipText) fit the screen with nothing of theirs
// interpreted.
func TestHostileLinesReachTheScreenSafe(t *testing.T) {
	hostile := []string{
		"\x1b]52;c;cm0gLXJmIH4=\x07clipboard \x1b[2J\x1b[Hcleared",
		"\xff\xfe invalid \xc3\x28 utf8",
		strings.Repeat("A", 10<<20),
		"wide 世界" + strings.Repeat("界", 5000),
		"\x1bP+q\x1b\\dcs \u202eevil\u202c bidi",
	}
	r := &fakeReader{batches: func(sources.LogQuery) []sources.LogBatch {
		var b sources.LogBatch
		for i, h := range hostile {
			b.Lines = append(b.Lines, line("\x1b[31mpod-a-b", time.Duration(i), sources.ClipText(h, sources.MaxLogLineBytes)))
		}
		return []sources.LogBatch{b}
	}}
	v := open(t, r, 1)
	for _, l := range v.buf.lines {
		if len(l.Text) > sources.MaxLogLineBytes+8 {
			t.Errorf("kept %d bytes of a line", len(l.Text))
		}
	}
	raw := v.View(60, 10)
	for i, s := range raw {
		if strings.Contains(s, "\x1b]") || strings.Contains(s, "\x1bP") || strings.Contains(s, "\x1b[2J") || strings.ContainsRune(s, '\u202e') {
			t.Errorf("line %d carries a hostile sequence: %q", i, s)
		}
		if w := ansi.StringWidth(s); w != 60 {
			t.Errorf("line %d is %d cells wide, want 60: %q", i, w, ansi.Strip(s))
		}
	}
}

func TestCapBoundsTheBuffer(t *testing.T) {
	r := &fakeReader{batches: func(sources.LogQuery) []sources.LogBatch {
		var out []sources.LogBatch
		for b := 0; b < 10; b++ {
			var bb sources.LogBatch
			for i := 0; i < 50; i++ {
				bb.Lines = append(bb.Lines, line("api-1-a", time.Duration(b*50+i)*time.Millisecond, fmt.Sprintf("line %d", b*50+i)))
			}
			out = append(out, bb)
		}
		return out
	}}
	v := open(t, r, 10)
	if n := len(v.buf.lines); n > 125 || n < 100 {
		t.Errorf("kept %d lines with cap 100", n)
	}
	got := screen(v, 80, 5)
	if !strings.Contains(got[len(got)-2], "line 499") || !strings.Contains(got[len(got)-1], "older dropped (cap 100)") {
		t.Errorf("tail after trimming:\n%s", strings.Join(got, "\n"))
	}
}

// BenchmarkFollowTenPods is a 10-pod deployment followed at 1,000
// lines/s: each iteration is one 100 ms batch (100 lines, 10 per pod) and
// one frame, with a 5,000-line cap. It reports the frame time
// (ns/frame) and the heap the view holds once the cap is reached.
func BenchmarkFollowTenPods(b *testing.B) {
	env := uitest.Env()
	v := &view{env: env, q: sources.LogQuery{Target: "production/nudgecampaign-api", Follow: true}, reading: true, buf: buffer{cap: DefaultCap}}
	text := "POST /api/contacts/import 200 12ms user=4711 campaign=c-20250314 request_id=8f14e45fceea167a5a36dedd4bea2543"
	mk := func(n int) sources.LogBatch {
		var bb sources.LogBatch
		for i := 0; i < 100; i++ {
			bb.Lines = append(bb.Lines, sources.LogLine{At: t0.Add(time.Duration(n*100+i) * time.Millisecond),
				Pod: fmt.Sprintf("nudgecampaign-api-7d9f8b6c5-p%04d", i%10), Container: "api", Text: text})
		}
		return bb
	}
	for n := 0; n < 100; n++ { // fill to the cap first
		v.take(mk(n))
	}
	var frame time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.take(mk(100 + i))
		start := time.Now()
		_ = v.View(160, 50)
		frame += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(frame.Nanoseconds())/float64(b.N), "ns/frame")
	b.ReportMetric(float64(len(v.buf.lines)), "lines-kept")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(v)
}

// A runbook's logs step names a deployment or service by key; the feature
// finds its pods' selector (or its log group) in the latest snapshots.
func TestShowLogsResolvesTheTarget(t *testing.T) {
	r := &fakeReader{batches: func(sources.LogQuery) []sources.LogBatch { return nil }}
	f := New(uitest.Env(), context.Background(), Options{Readers: func(string) sources.LogReader { return r }})
	s := &screenStub{}
	f.Update(s, kit.SnapshotsMsg{Snapshots: []sources.Snapshot{
		{Source: "kube", Kind: sources.KindRollouts, Data: &sources.RolloutSet{Deployments: []sources.Deployment{
			{Namespace: "production", Name: "nudgecampaign-api", Selector: "app=nudgecampaign-api"}}}},
		{Source: "aws", Kind: sources.KindAWS, Data: &sources.AWSSet{ECS: []sources.ECSService{
			{Region: "us-east-1", Cluster: "nudgecampaign-production", Name: "api", Logs: sources.ECSLogs{Region: "us-east-1", Group: "/ecs/nudgecampaign-api", Prefix: "ecs"}}}}},
	}})
	cmd := f.Update(s, kit.ShowLogsMsg{Target: "production/nudgecampaign-api", Filter: "/ 5\\d\\d /"})
	if cmd == nil || len(s.pushed) != 1 {
		t.Fatalf("not opened: %q", s.status)
	}
	v := s.pushed[0].(*view)
	if v.q.Selector != "app=nudgecampaign-api" || v.q.Source != "kube" || v.filter != "/ 5\\d\\d /" || v.buf.filter == nil {
		t.Errorf("view %+v filter %q", v.q, v.filter)
	}
	f.Update(s, kit.ShowLogsMsg{Target: "us-east-1/nudgecampaign-production/api"})
	if v := s.pushed[1].(*view); v.q.Group != "/ecs/nudgecampaign-api" || v.q.Source != "aws" {
		t.Errorf("ECS view %+v", v.q)
	}
	v.stop()
	if f.Update(s, kit.ShowLogsMsg{Target: "production/nope"}); !strings.Contains(s.status, "no logs for production/nope") {
		t.Errorf("status %q", s.status)
	}
}

// The pin key hands the lines on screen, with the target and filter, to
// the recorder; without one it says so.
func TestPinTheLinesOnScreen(t *testing.T) {
	r := &fakeReader{batches: func(sources.LogQuery) []sources.LogBatch {
		return []sources.LogBatch{{Lines: []sources.LogLine{line("api-1-a", 0, "GET / 200"), line("api-1-a", time.Second, "POST / 500 error")}}}
	}}
	var got PinMsg
	f := New(uitest.Env(), context.Background(), Options{Readers: func(string) sources.LogReader { return r },
		Pin: func(p PinMsg) tea.Cmd { got = p; return nil }})
	s := &screenStub{pane: target{sources.LogQuery{Source: "kube", Namespace: "production", Selector: "app=api", Target: "production/api"}}}
	cmd, _ := f.Key(s, uitest.Key("l"))
	v := s.pushed[0].(*view)
	take(t, v, cmd, 1)
	screen(v, 80, 10)
	v.Update(uitest.Key("P"))
	if got.Target != "production/api" || len(got.Lines) != 2 || got.Lines[1] != "03:12:01.000 [1-a/api] POST / 500 error" || !got.At.Equal(uitest.T0) {
		t.Errorf("pinned %+v", got)
	}
	v.pin = nil
	if msg := v.Update(uitest.Key("P"))(); msg.(kit.StatusMsg).Text != "pin: this session has no flight recorder" {
		t.Errorf("without a recorder: %+v", msg)
	}
	v.stop()
}
