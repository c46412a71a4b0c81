package record

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"flightdeck/internal/jsonl"
	"flightdeck/internal/sanitize"
)

// One recorder writes an event journal at a time. Two cockpits on one
// machine with one config would otherwise interleave their lines in one
// file, each "flight recorder started" and "stopped" with nothing saying
// whose. The journal's lock is an flock on "<path>.lock" (not on the
// journal itself: jsonl locks that around each append, and rotation
// renames it), holding who took it, so the one left out can say whom it
// waits for.

// journalLock is a held lock on an event journal.
type journalLock struct{ f *os.File }

func (l *journalLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}

// tryLock takes the journal's lock without waiting. Held by another
// process, it returns a nil lock and who holds it ("pid 4711, instance
// 3fa2c1d0, since 03:07:00 UTC"). Where the file system has no locks,
// the lock is granted: recording matters more than the interleaving.
func tryLock(path, instance string) (*journalLock, string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, "", err
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, "", err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := readHolder(f)
			f.Close()
			return nil, holder, nil
		}
		if !errors.Is(err, syscall.ENOLCK) && !errors.Is(err, syscall.ENOTSUP) && !errors.Is(err, syscall.EOPNOTSUPP) {
			f.Close()
			return nil, "", fmt.Errorf("locking %s.lock: %w", path, err)
		}
	}
	who := fmt.Sprintf("pid %d, instance %s, since %s UTC", os.Getpid(), instance, time.Now().UTC().Format(time.DateTime))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(who+"\n"), 0)
	}
	return &journalLock{f: f}, "", nil
}

// readHolder is the first line of a lock file, as outside text.
func readHolder(f *os.File) string {
	line, err := bufio.NewReader(io.LimitReader(f, 200)).ReadString('\n')
	if err != nil && line == "" {
		return "holder unknown"
	}
	return bound(sanitize.Text(strings.TrimSpace(line)), 120)
}

// newInstanceID names this process's recorder: 8 hex digits.
func newInstanceID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// firstRecordTime is the time of the first record in the journal at path,
// zero when there is none: how old the live file is.
func firstRecordTime(path string) time.Time {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.LimitReader(f, maxProbe), 64<<10)
	for {
		line, n, terminated, _, err := jsonl.ReadLine(br)
		if err != nil || n == 0 || !terminated {
			return time.Time{}
		}
		if t, ok := lineTime(line); ok {
			return t
		}
	}
}
