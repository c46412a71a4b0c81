package stderrlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// records is a log whose records a test can read.
type records struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *records) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *records) all(t *testing.T) []map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func newLog() (*records, *slog.Logger) {
	r := &records{}
	return r, slog.New(slog.NewJSONHandler(r, nil))
}

const hostile = "helper says \x1b]52;c;cHduZWQ=\a \u009b2J \u202e done"

// TestCaptureTakesChildAndOwnStderr: while a Capture runs, what the process
// and a child that inherited its stderr write reaches the log sanitized,
// and nothing of it reaches the original fd 2; after Stop, fd 2 is what
// it was.
func TestCaptureTakesChildAndOwnStderr(t *testing.T) {
	// The original fd 2 is a file here, so what reaches it can be read.
	orig, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	keep := redirectFD2(t, orig)
	rec, log := newLog()
	c, err := Start(log)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "own: "+hostile)
	child := exec.Command("sh", "-c", `printf 'child: helper says \033]52;c;cHduZWQ=\007 \302\2332J \342\200\256 done\n' >&2`)
	child.Stderr = os.Stderr // as the AWS SDK and client-go pass it
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	c.Stop()
	fmt.Fprintln(os.Stderr, "after stop")
	if tail := c.Tail(); strings.Join(tail, "|") != "own: helper says    done|child: helper says    done" {
		t.Errorf("tail %q", tail)
	}
	keep()

	var texts []string
	for _, r := range rec.all(t) {
		texts = append(texts, fmt.Sprint(r["text"]))
	}
	want := []string{"own: helper says    done", "child: helper says    done"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("logged %q, want %q", texts, want)
	}
	got, _ := os.ReadFile(orig.Name())
	if string(got) != "after stop\n" {
		t.Errorf("the original stderr got %q", got)
	}
}

// redirectFD2 points fd 2 at f for the test, and returns the function that
// puts it back (also run at cleanup).
func redirectFD2(t *testing.T, f *os.File) func() {
	t.Helper()
	saved, err := unix.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(int(f.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			_ = unix.Dup2(saved, 2)
			unix.Close(saved)
		})
	}
	t.Cleanup(restore)
	return restore
}

// TestLinesAreBounded: a line longer than MaxLine is cut and says by how
// much; a line cut in the middle of an escape sequence leaks none of it.
func TestLinesAreBounded(t *testing.T) {
	rec, log := newLog()
	long := strings.Repeat("a", MaxLine-3) + "\x1b]52;c;" + strings.Repeat("Q", 10000) + "\a tail\n"
	copyLines(strings.NewReader(long+"short\n"+"no newline at the end"), log, time.Now, func(string) {})
	rs := rec.all(t)
	if len(rs) != 3 {
		t.Fatalf("%d records: %v", len(rs), rs)
	}
	if text := rs[0]["text"].(string); text != strings.Repeat("a", MaxLine-3) || rs[0]["cut_bytes"].(float64) != float64(len(long)-1-MaxLine) {
		t.Errorf("long line: %d bytes, cut %v", len(text), rs[0]["cut_bytes"])
	}
	if rs[1]["text"] != "short" || rs[1]["cut_bytes"] != nil || rs[2]["text"] != "no newline at the end" {
		t.Errorf("records %v", rs[1:])
	}
}

// TestLinesPerSecondAreBounded: a flood is logged up to the limit each
// second; the rest is counted, not lost silently.
func TestLinesPerSecondAreBounded(t *testing.T) {
	rec, log := newLog()
	clock := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var in strings.Builder
	for range 3 * MaxLinesPerSecond {
		in.WriteString("flood\n")
	}
	var kept int
	copyLines(strings.NewReader(in.String()), log, func() time.Time { return clock }, func(string) { kept++ })
	rs := rec.all(t)
	if len(rs) != MaxLinesPerSecond+1 {
		t.Fatalf("%d records", len(rs))
	}
	if last := rs[len(rs)-1]; last["msg"] != "stderr lines dropped" || last["lines"].(float64) != 2*MaxLinesPerSecond {
		t.Errorf("last record %v", last)
	}
	if kept != 3*MaxLinesPerSecond {
		t.Errorf("%d lines kept for the tail", kept)
	}
}

// TestTailKeepsTheLastLines: what a crash wrote last is there to say again
// after Stop, bounded.
func TestTailKeepsTheLastLines(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range TailLines + 10 {
			fmt.Fprintf(w, "line %d\n", i)
		}
		w.Close()
	}()
	_, log := newLog()
	c := &Capture{r: r, done: make(chan struct{})}
	c.copy(log)
	tail := c.Tail()
	if len(tail) != TailLines || tail[0] != "line 10" || tail[TailLines-1] != fmt.Sprintf("line %d", TailLines+9) {
		t.Errorf("tail %q", tail)
	}
}
