package serve

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/internal/testsrv"
)

// lockedWriter collects what a frameWriter sends.
type lockedWriter struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.b.Write(p)
}

func (w *lockedWriter) take() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, n := w.b.String(), w.writes
	w.b.Reset()
	w.writes = 0
	return s, n
}

// drawNow offers v and draws it at once (the test owns the pacing).
func drawNow(f *frameWriter, v tea.View) {
	f.offer(v)
	f.draw(false)
}

func testFrame(rows []string) tea.View {
	v := tea.NewView(strings.Join(rows, "\n"))
	v.AltScreen = true
	v.WindowTitle = "flightdeck test"
	return v
}

// stoppedFrameWriter is a frameWriter whose goroutine is stopped: the test
// calls draw itself.
func stoppedFrameWriter(out *lockedWriter, hub *renderHub, w, h int) *frameWriter {
	f := newFrameWriter(out, false, hub, []string{"TERM=xterm-256color"}, colorprofile.TrueColor, w, h, 1000)
	close(f.stop)
	<-f.stopped
	f.stop = make(chan struct{}) // for close
	f.stopped = make(chan struct{})
	close(f.stopped)
	return f
}

// TestFramesSendOnlyWhatChanged: an unchanged frame sends nothing at all;
// a frame with one changed age sends a few bytes, not a line; moving down
// to a changed row uses a line feed, never "\r\n" and an absolute column
// (what charm's emulated pty forced).
func TestFramesSendOnlyWhatChanged(t *testing.T) {
	out := &lockedWriter{}
	f := stoppedFrameWriter(out, newRenderHub(newLineCache()), 80, 6)
	rows := []string{"header 10:00:01", "db-1   age 3s", "db-2   age 7s", "", "", "status"}
	drawNow(f, testFrame(rows))
	first, _ := out.take()
	if !strings.Contains(first, ansi.SetModeAltScreenSaveCursor) || !strings.Contains(first, "db-2   age 7s") {
		t.Fatalf("first frame: %q", first)
	}
	drawNow(f, testFrame(rows))
	if got, n := out.take(); n != 0 || got != "" {
		t.Fatalf("an unchanged frame sent %d writes: %q", n, got)
	}
	rows[1], rows[2] = "db-1   age 4s", "db-2   age 8s"
	drawNow(f, testFrame(rows))
	got, n := out.take()
	if n != 1 || len(got) > 20 || strings.Contains(got, "db-") {
		t.Fatalf("two ages changed: %d writes, %d bytes %q", n, len(got), got)
	}
	if strings.Contains(got, "\r\n") || strings.Contains(got, "G") {
		t.Fatalf("moved with CR LF or an absolute column: %q", got)
	}
	f.close()
	if last, _ := out.take(); !strings.Contains(last, ansi.ResetModeAltScreenSaveCursor) || !strings.Contains(last, ansi.SetModeTextCursorEnable) {
		t.Fatalf("close did not give the terminal back: %q", last)
	}
}

// TestFramesShareParsedLines: sessions drawing the same line share one
// parse.
func TestFramesShareParsedLines(t *testing.T) {
	c := newLineCache()
	a := c.get(lineKey{text: "\x1b[1mbold\x1b[m row", width: 40})
	b := c.get(lineKey{text: "\x1b[1mbold\x1b[m row", width: 40})
	if a != b || len(a.cells) != 40 || a.cells[0].Content != "b" || a.cells[0].Style.Attrs == 0 {
		t.Fatalf("entries %p %p, cells %d %+v", a, b, len(a.cells), a.cells[0])
	}
	if open := c.get(lineKey{text: "\x1b[1mopen", width: 40}); open.end.style.Attrs == 0 {
		t.Fatal("a line that leaves bold open does not carry it")
	}
}

// TestFramesOnATerminal draws a sequence of frames (styles, a style left
// open across rows, wide characters, changed rows, rows gone, a resize)
// into a real terminal (a tmux pane in raw mode, as OpenSSH leaves the
// client's) and checks the screen shows each frame exactly.
func TestFramesOnATerminal(t *testing.T) {
	tmux := testsrv.LookBin(t, "apt-get install tmux", "tmux")
	dir := t.TempDir()
	fifo, sock := filepath.Join(dir, "fifo"), filepath.Join(dir, "sock")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const w, h = 60, 12
	run := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-f", "/dev/null", "-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v %s", args, err, out)
		}
		return string(out)
	}
	run("new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "stty raw -echo; cat "+fifo+"; sleep 600")
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", sock, "kill-server").Run() })
	pipe, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pipe.Close()
	time.Sleep(300 * time.Millisecond) // stty has run before cat opened the fifo

	// f's terminal is the pane; sib is another session on the same hub
	// that draws first, the same frame or, every other frame, its own:
	// then f's screen has no renderer left and one is made for it.
	hub := newRenderHub(newLineCache())
	lw, sibOut := &lockedWriter{}, &lockedWriter{}
	f, sib := stoppedFrameWriter(lw, hub, w, h), stoppedFrameWriter(sibOut, hub, w, h)
	bold := lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#ff8800"))
	frames := [][]string{
		{"flightdeck · DEMO", bold.Render("SLOs") + "   " + bold.Render("Alerts"), "db-1   age 3s   conns 12", "db-2   age 7s   conns 40", "wide 漢字 row", "", "\x1b[1mopen bold", "carried bold", "\x1b[m", "status bar"},
		{"flightdeck · DEMO", bold.Render("SLOs") + "   " + bold.Render("Alerts"), "db-1   age 4s   conns 12", "db-2   age 8s   conns 41", "wide 字漢 row!", "new row", "\x1b[1mopen bold", "carried bold changed", "\x1b[m", "status bar"},
		// A pane grew a line: the rows under it move down together (the
		// renderer scrolls them).
		{"flightdeck · DEMO", bold.Render("SLOs") + "   " + bold.Render("Alerts"), "grown line", "db-1   age 4s   conns 12", "db-2   age 8s   conns 41", "wide 字漢 row!", "new row", "\x1b[1mopen bold", "carried bold changed", "\x1b[m", "status bar"},
		{"flightdeck · DEMO", "db-1   age 5s", "", "", "", "", "", "", "", "short"},
		{"flightdeck · DEMO", "db-1   age 6s   conns 12", "db-2   age 9s   conns 41", strings.Repeat("x", w+10), "tail"},
	}
	for i, rows := range frames {
		resized := i == len(frames)-1
		if resized { // a resize: the pane and the frames
			run("resize-window", "-x", fmt.Sprint(w-10), "-y", fmt.Sprint(h-2))
			f.resize(w-10, h-2)
		}
		sibRows := rows
		if i%2 == 1 {
			sibRows = append([]string{"the sibling's own header"}, rows[1:]...)
		}
		drawNow(sib, testFrame(sibRows))
		drawNow(f, testFrame(rows))
		data, _ := lw.take()
		if i == 2 && (strings.Contains(data, "db-1") || strings.Contains(data, "db-2")) {
			t.Errorf("rows that moved down were written again, not scrolled: %q", data)
		}
		if _, err := pipe.WriteString(data); err != nil {
			t.Fatal(err)
		}
		cw, ch := w, h
		if resized {
			cw, ch = w-10, h-2
		}
		want := make([]string, ch)
		for y := range ch {
			if y < len(rows) {
				want[y] = strings.TrimRight(ansi.Truncate(ansi.Strip(rows[y]), cw, ""), " ")
			}
		}
		testsrv.WaitFor(t, 5*time.Second, func() (bool, string) {
			got := strings.Split(strings.TrimSuffix(run("capture-pane", "-p", "-t", "0"), "\n"), "\n")
			for len(got) < ch {
				got = append(got, "")
			}
			for y := range ch {
				if strings.TrimRight(got[y], " ") != want[y] {
					return false, fmt.Sprintf("frame %d row %d: screen %q, frame %q\nscreen:\n%s", i, y, got[y], want[y], strings.Join(got, "\n"))
				}
			}
			return true, ""
		})
		if i == 1 {
			// tmux writes a style where it changes: bold from row 6
			// through row 7, no reset between them.
			styled := run("capture-pane", "-p", "-e", "-t", "0")
			if !strings.Contains(styled, "\x1b[1mopen bold\ncarried bold changed\n") {
				t.Fatalf("the bold left open on row 6 is not on row 7: %q", styled)
			}
		}
	}
}

// TestFramesComputedOnce: two sessions on the same screens get the same
// bytes from one renderer; a session that goes its own way gets its own
// and stays correct (TestFramesOnATerminal shows the screen).
func TestFramesComputedOnce(t *testing.T) {
	hub := newRenderHub(newLineCache())
	a, b := &lockedWriter{}, &lockedWriter{}
	fa, fb := stoppedFrameWriter(a, hub, 80, 6), stoppedFrameWriter(b, hub, 80, 6)
	rows := []string{"header", "db-1   age 3s", "db-2   age 7s", "", "", "status"}
	for i := range 5 {
		rows[1] = fmt.Sprintf("db-1   age %ds", 3+i)
		drawNow(fa, testFrame(rows))
		drawNow(fb, testFrame(rows))
		ga, _ := a.take()
		gb, _ := b.take()
		if ga != gb || ga == "" {
			t.Fatalf("frame %d: %q and %q", i, ga, gb)
		}
	}
	if hub.made != 1 {
		t.Fatalf("%d renderers made for two sessions on one screen", hub.made)
	}
	rows[0] = "b's own header"
	drawNow(fb, testFrame(rows))
	if got, _ := b.take(); !strings.Contains(got, "b's own") || strings.Contains(got, "db-1") {
		t.Fatalf("b's own frame: %q", got)
	}
}

// Observers draw mid-period on the wall clock (x.050, x.150, … at 10 a
// second): the same instants for every session, away from the whole
// second when the cockpits' ages turn.
func TestBeatWait(t *testing.T) {
	base := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	every := 100 * time.Millisecond
	for _, c := range []struct{ at, want time.Duration }{
		{0, 50 * time.Millisecond},
		{20 * time.Millisecond, 30 * time.Millisecond},
		{50 * time.Millisecond, 100 * time.Millisecond}, // on a beat: the next one
		{70 * time.Millisecond, 80 * time.Millisecond},
		{999 * time.Millisecond, 51 * time.Millisecond},
	} {
		if got := beatWait(base.Add(c.at), every); got != c.want {
			t.Errorf("at +%s: wait %s, want %s", c.at, got, c.want)
		}
	}
}
