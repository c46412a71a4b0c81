// Package stderrlog keeps the terminal the UI's. While a Capture runs,
// whatever is written to the process's standard error goes to the log
// instead of the screen: a library's warnings, the Go runtime's, and a
// child process's that inherited it — an AWS credential_process or a
// kubeconfig exec plugin, whose output is outside text and may carry
// escape sequences. Each line becomes one log record, sanitized
// (flightdeck/internal/sanitize) and bounded in length, and the number of
// records a second is bounded too: a helper that floods its stderr costs
// the log a capped amount, and never blocks on a full pipe.
package stderrlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"flightdeck/internal/sanitize"
)

const (
	// MaxLine is how many bytes of one line are kept; the rest of the
	// line is dropped and the record says how much.
	MaxLine = 2048
	// MaxLinesPerSecond is how many lines a second are logged; the rest
	// are counted, and the count is logged.
	MaxLinesPerSecond = 50
	// TailLines is how many of the last lines Tail keeps.
	TailLines = 60
	// stopWait is how long Stop waits for the last lines: a child that
	// still runs holds the pipe open, and quitting does not wait for it.
	stopWait = time.Second
)

// Capture is fd 2 pointed at a pipe whose lines go to a log.
type Capture struct {
	saved *os.File // what fd 2 was, restored by Stop
	r     *os.File // the pipe's read end
	done  chan struct{}
	tail  []string // the last TailLines lines, sanitized; read after done
}

// Start points fd 2 at a pipe and copies each line written to it to log
// until Stop. A crash's trace goes to the original stderr as well
// (debug.SetCrashOutput), so it is not lost in a pipe nobody reads any
// more.
func Start(log *slog.Logger) (*Capture, error) {
	saved, err := unix.Dup(2)
	if err != nil {
		return nil, fmt.Errorf("stderr: %w", err)
	}
	unix.CloseOnExec(saved)
	c := &Capture{saved: os.NewFile(uintptr(saved), "stderr"), done: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		c.saved.Close()
		return nil, fmt.Errorf("stderr: %w", err)
	}
	err = unix.Dup2(int(w.Fd()), 2)
	w.Close() // fd 2 is the write end now
	if err != nil {
		r.Close()
		c.saved.Close()
		return nil, fmt.Errorf("stderr: %w", err)
	}
	c.r = r
	_ = debug.SetCrashOutput(c.saved, debug.CrashOptions{})
	go c.copy(log)
	return c, nil
}

// Stop points fd 2 back at what it was and waits, a little, for the lines
// written before to reach the log. Call it once.
func (c *Capture) Stop() {
	_ = unix.Dup2(int(c.saved.Fd()), 2) // closes our write end of the pipe
	_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
	select {
	case <-c.done:
	case <-time.After(stopWait):
	}
	c.r.Close()
	<-c.done
	c.saved.Close()
}

// Tail is the last TailLines lines written, sanitized, oldest first: after
// Stop, what a crash of the UI left (bubbletea writes a panic's trace to
// stderr) can be said on the terminal again, which is no longer the UI's.
func (c *Capture) Tail() []string {
	<-c.done
	return append([]string(nil), c.tail...)
}

func (c *Capture) copy(log *slog.Logger) {
	defer close(c.done)
	copyLines(c.r, log, time.Now, func(text string) {
		if len(c.tail) == TailLines {
			c.tail = append(c.tail[:0], c.tail[1:]...)
		}
		c.tail = append(c.tail, text)
	})
}

// copyLines logs each line read from r until it ends, and hands it to keep
// whether the log took it or not.
func copyLines(r io.Reader, log *slog.Logger, now func() time.Time, keep func(text string)) {
	br := bufio.NewReaderSize(r, 4096)
	var line []byte
	total := 0
	lim := limiter{now: now, log: log}
	for {
		chunk, err := br.ReadSlice('\n')
		total += len(chunk)
		if room := MaxLine - len(line); room > 0 {
			line = append(line, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the same line goes on
		}
		if total > 0 {
			size := total // the line's length without its newline
			if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
				size--
			}
			text := sanitize.Text(strings.TrimRight(string(line), "\r\n"))
			keep(text)
			switch cut := size - min(size, MaxLine); {
			case !lim.allow(): // counted, and said when the second is over
			case cut > 0:
				log.Warn("stderr", "text", text, "cut_bytes", cut)
			case text != "":
				log.Warn("stderr", "text", text)
			}
		}
		line, total = line[:0], 0
		if err != nil {
			lim.flush()
			return
		}
	}
}

// limiter lets MaxLinesPerSecond lines a second through and counts the
// rest, logging the count when the next second starts (or at the end).
type limiter struct {
	now     func() time.Time
	log     *slog.Logger
	second  time.Time
	n       int
	dropped int
}

func (l *limiter) allow() bool {
	if t := l.now().Truncate(time.Second); !t.Equal(l.second) {
		l.flush()
		l.second, l.n = t, 0
	}
	if l.n >= MaxLinesPerSecond {
		l.dropped++
		return false
	}
	l.n++
	return true
}

func (l *limiter) flush() {
	if l.dropped > 0 {
		l.log.Warn("stderr lines dropped", "lines", l.dropped, "limit_per_second", MaxLinesPerSecond)
		l.dropped = 0
	}
}
