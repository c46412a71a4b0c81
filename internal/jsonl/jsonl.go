// Package jsonl is an append-only journal of JSON lines: one value per line,
// each written with a single write and fsynced before Append returns, and a
// reader that reports the lines it cannot use instead of skipping them.
//
// This is a minimal version so the flight recorder is not blocked; the
// hardening branch's version replaces it at merge.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// MaxLine bounds one line, for writer and reader alike: a journal line is a
// record, never a bulk payload.
const MaxLine = 1 << 20

// Writer appends JSON values to a file, one per line.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// Open opens (creating as needed, with its directory) the journal at path.
// A torn last line left by a crash is closed with a newline so the next
// record starts on a line of its own; readers report the torn one.
func Open(path string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	w := &Writer{f: f, path: path}
	if err := w.closeTornLine(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) closeTornLine() error {
	st, err := w.f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := w.f.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	if last[0] == '\n' {
		return nil
	}
	return w.write([]byte{'\n'})
}

// Path is where the journal lives.
func (w *Writer) Path() string { return w.path }

// Append writes v as one line and syncs it to disk.
func (w *Writer) Append(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	if len(line)+1 > MaxLine {
		return fmt.Errorf("journal %s: record of %d bytes exceeds %d", w.path, len(line), MaxLine)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("journal %s is closed", w.path)
	}
	return w.write(append(line, '\n'))
}

// write appends b with one write call and syncs; a failed or short write
// is cut off again so the next append starts on a clean line.
func (w *Writer) write(b []byte) error {
	end, err := w.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	n, err := w.f.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if terr := w.f.Truncate(end); terr != nil {
			err = errors.Join(err, fmt.Errorf("repair: %w", terr))
		}
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	return nil
}

// Close closes the file; Append fails afterwards.
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

// Damage is a line the reader could not use.
type Damage struct {
	Line   int   // 1-based line number
	Offset int64 // byte offset of the line's start
	Text   string
	Err    error
}

// maxDamageText bounds the excerpt of a damaged line kept for the report.
const maxDamageText = 200

// Read calls fn with every line that is valid JSON, in file order, and
// returns the lines that were not (torn, garbled, too long) or that fn
// refused, with why. Empty lines are ignored. The error is for the file
// itself (missing, unreadable).
func Read(path string, fn func(line int, raw []byte) error) ([]Damage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var damage []Damage
	var offset int64
	for n := 1; ; n++ {
		line, consumed, tooLong, err := readLine(r)
		start := offset
		offset += consumed
		if err != nil && !errors.Is(err, io.EOF) {
			return damage, fmt.Errorf("%s: %w", path, err)
		}
		text := bytes.TrimRight(line, "\r\n")
		switch {
		case tooLong:
			damage = append(damage, Damage{Line: n, Offset: start, Text: excerpt(text), Err: fmt.Errorf("line longer than %d bytes", MaxLine)})
		case len(bytes.TrimSpace(text)) == 0:
		case !json.Valid(text):
			why := errors.New("not valid JSON")
			if !bytes.HasSuffix(line, []byte("\n")) {
				why = errors.New("not valid JSON (torn last line)")
			}
			var v any
			if jerr := json.Unmarshal(text, &v); jerr != nil {
				why = fmt.Errorf("%w: %v", why, jerr)
			}
			damage = append(damage, Damage{Line: n, Offset: start, Text: excerpt(text), Err: why})
		default:
			if ferr := fn(n, text); ferr != nil {
				damage = append(damage, Damage{Line: n, Offset: start, Text: excerpt(text), Err: ferr})
			}
		}
		if errors.Is(err, io.EOF) {
			return damage, nil
		}
	}
}

// readLine reads one line including its newline and says how many bytes
// it consumed; a line beyond MaxLine is consumed whole but only its start is
// returned, with tooLong set. err is io.EOF for the last line.
func readLine(r *bufio.Reader) (line []byte, consumed int64, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		consumed += int64(len(chunk))
		switch {
		case tooLong:
		case len(line)+len(chunk) <= MaxLine:
			line = append(line, chunk...)
		default:
			line = line[:min(len(line), maxDamageText)]
			tooLong = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, consumed, tooLong, err
	}
}

func excerpt(b []byte) string {
	if len(b) > maxDamageText {
		b = b[:maxDamageText]
	}
	return string(b)
}
