// Package jsonl is an append-only file of JSON values, one per line, that
// never corrupts itself and never loses a record: every append is one write
// followed by fsync, a failed or short write is cut back off before the call
// returns, and a tail left without its newline by a crash (or by another
// process) is repaired before the next append — a complete record gets its
// newline, anything else is moved to a side file with a warning. A reader
// reports every line it cannot decode instead of skipping it, so a damaged
// record is seen, not lost.
//
// The audit journal (ops) and the flight recorder are built on it.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"flightdeck/internal/sanitize"
)

// MaxLine bounds one line, written or read: a record is kilobytes, so a
// longer line is damage (or a file that is not ours), never a reason to read
// gigabytes into memory.
const MaxLine = 1 << 20

// excerptLen bounds Damage.Text.
const excerptLen = 120

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("jsonl: file is closed")

// ErrStop, returned by Read's callback, ends the read early without an error.
var ErrStop = errors.New("jsonl: stop")

// errTorn is the Damage.Err of a last line without its newline.
var errTorn = errors.New("torn last line: no newline at the end of the file")

// file is what Writer needs of an *os.File; tests inject short writes and
// failures through it.
type file interface {
	io.Writer
	io.ReaderAt
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	Sync() error
	Close() error
	Fd() uintptr
}

// maxRepairs bounds the repairs a Writer remembers for Repairs; the log
// and the side files keep every one.
const maxRepairs = 16

// Writer appends one JSON value per line, fsynced; it repairs a torn tail at
// Open and after any failed or short write, before the next append. It is
// safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	f    file
	path string
	log  *slog.Logger
	now  func() time.Time

	repairs []Repair // guarded by mu once Open has returned
}

// Options are Open's optional settings.
type Options struct {
	// Log receives a warning for every repair (nil: discarded; the caller
	// still sees each one in Repairs).
	Log *slog.Logger
	// Now stamps repairs and names side files (nil: time.Now).
	Now func() time.Time
}

// Repair is one repair of a tail left without its newline: either the tail
// was a complete record and got its newline (nothing removed), or it was
// not a record and its bytes were moved to SideFile before being cut off.
// Nothing is ever dropped.
type Repair struct {
	Time      time.Time
	Path      string // the journal
	Offset    int64  // where the tail began
	Bytes     int64  // the tail's length
	Completed bool   // the tail was a whole record: it got its newline
	SideFile  string // where the removed bytes went ("" when Completed)
}

// String is the repair as a warning a person can act on.
func (r Repair) String() string {
	if r.Completed {
		return fmt.Sprintf("%s: the last record (byte %d) had no newline, left by a crash; its newline was added, nothing removed", r.Path, r.Offset)
	}
	return fmt.Sprintf("%s: %d byte(s) at byte %d were not a whole record (a write torn by a crash); moved to %s", r.Path, r.Bytes, r.Offset, r.SideFile)
}

// Open opens the file at path with default Options; see OpenWith.
func Open(path string) (*Writer, error) { return OpenWith(path, Options{}) }

// OpenWith opens (creating it 0600, and its directory 0700, as needed) the
// file at path for appending, and repairs a last line left without its
// newline: a complete record gets its newline; anything else is a record
// whose write never completed (never acknowledged to anyone), and is moved
// to a side file next to the journal, with a warning in o.Log and in
// Repairs.
func OpenWith(path string, o Options) (*Writer, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, path: path, log: o.Log, now: o.Now}
	unlock := w.lock()
	_, err = w.repair()
	unlock()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: repairing a torn last line: %w", path, err)
	}
	return w, nil
}

// Path is the file's path.
func (w *Writer) Path() string { return w.path }

// Repairs are the repairs made since Open (the last 16), oldest first, for
// a caller to show (a status bar): each names the side file that holds
// what was removed.
func (w *Writer) Repairs() []Repair {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Repair(nil), w.repairs...)
}

// Append writes v as one line (json.Marshal and a newline) with a single
// write, and fsyncs. On any failure — marshalling, a short or failed write,
// fsync — the file is cut back to where it was before the call, so the
// next record never lands glued to half of this one.
func (w *Writer) Append(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(line)+1 > MaxLine {
		return fmt.Errorf("jsonl: record of %d bytes is over the %d-byte line limit", len(line), MaxLine)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ErrClosed
	}
	unlock := w.lock()
	defer unlock()
	// Another process, or an earlier failure whose cut-back failed too,
	// may have left a torn tail: repair it first.
	start, err := w.repair()
	if err != nil {
		return fmt.Errorf("repairing a torn last line: %w", err)
	}
	n, err := w.f.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = w.f.Sync()
	}
	if err != nil {
		// Cut back; if even that fails, the next Append's repair tries again.
		if terr := w.f.Truncate(start); terr != nil {
			return errors.Join(err, fmt.Errorf("cutting back the partial line: %w", terr))
		}
		return err
	}
	return nil
}

// Close closes the file; later Appends return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// lock takes an advisory lock on the file, so that two processes appending
// to one journal never cut off each other's lines. Where the file system
// has no locks, the in-process mutex is all there is.
func (w *Writer) lock() (unlock func()) {
	fd := int(w.f.Fd())
	if syscall.Flock(fd, syscall.LOCK_EX) != nil {
		return func() {}
	}
	return func() { _ = syscall.Flock(fd, syscall.LOCK_UN) }
}

// repair makes the file end with a newline when it does not, and returns
// the size of the (repaired) file: where the next line starts. A tail that
// is one complete JSON value (a crash after the write, before its newline
// reached the disk) gets its newline; any other tail is copied to a side
// file, synced, and only then cut off. Callers hold w.mu or own w alone.
func (w *Writer) repair() (int64, error) {
	st, err := w.f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if size == 0 {
		return 0, nil
	}
	var last [1]byte
	if _, err := w.f.ReadAt(last[:], size-1); err != nil {
		return 0, err
	}
	if last[0] == '\n' {
		return size, nil
	}
	good, err := lastNewline(w.f, size)
	if err != nil {
		return 0, err
	}
	r := Repair{Time: w.now(), Path: w.path, Offset: good, Bytes: size - good}
	complete, err := wholeRecord(w.f, good, size)
	if err != nil {
		return 0, err
	}
	if complete {
		r.Completed = true
		if _, err := w.f.Write([]byte{'\n'}); err != nil {
			return 0, err
		}
		size++
	} else {
		if r.SideFile, err = w.saveTail(good, size, r.Time); err != nil {
			return 0, fmt.Errorf("saving the %d torn byte(s) before cutting them off (nothing was cut): %w", size-good, err)
		}
		if err := w.f.Truncate(good); err != nil {
			return 0, err
		}
		size = good
	}
	if err := w.f.Sync(); err != nil {
		return 0, err
	}
	w.log.Warn("journal repaired", "path", r.Path, "offset", r.Offset, "bytes", r.Bytes, "completed", r.Completed, "side_file", r.SideFile)
	if len(w.repairs) == maxRepairs {
		w.repairs = w.repairs[1:]
	}
	w.repairs = append(w.repairs, r)
	return size, nil
}

// wholeRecord reports whether bytes [start, end) of r, the tail after the
// last newline, are one complete JSON value, or only blanks (a newline
// ends them without losing anything). A tail longer than MaxLine is no
// record of ours.
func wholeRecord(r io.ReaderAt, start, end int64) (bool, error) {
	if end-start > MaxLine {
		return false, nil
	}
	b := make([]byte, end-start)
	if _, err := r.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	body := bytes.TrimSpace(b)
	return len(body) == 0 || json.Valid(body), nil
}

// saveTail copies bytes [start, end) of the journal to a new side file,
// <path>.damaged-<time>, 0600, fsynced, and returns its path.
func (w *Writer) saveTail(start, end int64, at time.Time) (string, error) {
	base := w.path + ".damaged-" + at.UTC().Format("20060102T150405.000000000Z")
	var side *os.File
	var name string
	for i := 0; side == nil; i++ {
		name = base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			side = f
		case errors.Is(err, os.ErrExist) && i < 100:
			continue
		default:
			return "", err
		}
	}
	_, err := io.Copy(side, io.NewSectionReader(w.f, start, end-start))
	if err == nil {
		err = side.Sync()
	}
	if cerr := side.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// lastNewline returns the offset just past the last '\n' before size, 0
// when there is none, reading backwards in blocks.
func lastNewline(r io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		start := max(end-int64(len(buf)), 0)
		b := buf[:end-start]
		if _, err := r.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// Damage is a line the reader could not decode: reported, never silently
// skipped.
type Damage struct {
	Line   int    // 1-based
	Offset int64  // of the line's first byte
	Text   string // sanitized excerpt of the line, at most 120 characters
	Err    error
}

func (d Damage) String() string {
	return fmt.Sprintf("line %d (byte %d): %v: %q", d.Line, d.Offset, d.Err, d.Text)
}

// Read calls fn for every decodable line, with its 1-based line number and
// raw JSON bytes (valid only during the call), and returns the lines that
// could not be decoded: not JSON (two records glued together, a torn
// write), longer than MaxLine, a last line without its newline that is not
// a whole record, or a line fn refused by returning an error. A whole
// record missing only its newline (a crash between the two) is delivered,
// as Open's repair keeps it. Blank lines are skipped. fn returning
// ErrStop ends the read early. The error is for the file as a whole (it
// cannot be opened or read).
func Read(path string, fn func(line int, raw []byte) error) ([]Damage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var damages []Damage
	var off int64
	for n := 1; ; n++ {
		line, size, terminated, tooLong, err := ReadLine(br)
		if err != nil {
			return damages, err
		}
		if size == 0 {
			return damages, nil
		}
		start := off
		off += size
		body := bytes.TrimSpace(line)
		damage := func(e error) { damages = append(damages, Damage{Line: n, Offset: start, Text: Excerpt(line), Err: e}) }
		switch {
		case tooLong:
			damage(fmt.Errorf("line longer than %d bytes", MaxLine))
		case !terminated && (len(body) == 0 || !json.Valid(body)):
			damage(errTorn)
		case len(body) == 0:
			// blank: nothing lost
		case !json.Valid(body):
			damage(DecodeError(body))
		default:
			if ferr := fn(n, body); ferr != nil {
				if errors.Is(ferr, ErrStop) {
					return damages, nil
				}
				damage(ferr)
			}
		}
		if !terminated {
			return damages, nil
		}
	}
}

// ReadLine reads one line, keeping at most MaxLine bytes of it: what every
// reader of a journal does, so a 10 GB line costs MaxLine. size is the
// number of bytes consumed (0 at the end of the input); terminated is false
// for a last line without its newline, tooLong when bytes were dropped.
func ReadLine(br *bufio.Reader) (line []byte, size int64, terminated, tooLong bool, err error) {
	for {
		chunk, rerr := br.ReadSlice('\n')
		if rerr == nil && line == nil {
			// The whole line was in the buffer: no copy (the usual case).
			// The slice is valid until the next read.
			return chunk[:len(chunk)-1], int64(len(chunk)), true, false, nil
		}
		size += int64(len(chunk))
		if len(line)+len(chunk) <= MaxLine {
			line = append(line, chunk...)
		} else {
			tooLong = true
		}
		switch {
		case rerr == nil:
			return bytes.TrimSuffix(line, []byte{'\n'}), size, true, tooLong, nil
		case errors.Is(rerr, bufio.ErrBufferFull):
			continue
		case errors.Is(rerr, io.EOF):
			return line, size, false, tooLong, nil
		default:
			return nil, 0, false, false, rerr
		}
	}
}

// DecodeError says why body is not one JSON value.
func DecodeError(body []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return fmt.Errorf("not one JSON value: more follows at byte %d (two records glued together?)", dec.InputOffset())
}

// Excerpt is the start of a damaged line, safe for a terminal: what a
// Damage shows of it.
func Excerpt(line []byte) string {
	if len(line) > 4*excerptLen {
		line = line[:4*excerptLen]
	}
	s := sanitize.Text(string(line))
	if utf8.RuneCountInString(s) > excerptLen {
		r := []rune(s)
		s = string(r[:excerptLen]) + "…"
	}
	return s
}
