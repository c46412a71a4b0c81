package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"flightdeck/internal/jsonl"
)

// Reading a journal by time. Records are appended in time order, give or
// take: the recorder stamps an event with its snapshot's fetch time, a
// source-down with the error's time, and a crashed predecessor's last lines
// may sit beside a new process's first. So a range is found by binary
// search over byte offsets, asking each probe for the time of the first
// whole line after it, and read from a little before its start (seekSlack)
// to a little past its end. The cost of a read follows the range asked
// for, not the size of the file: `--since 2h` on a year of events reads the
// last two hours and a few probes.

// seekSlack is how far out of time order a journal's lines may be: the
// read starts this much before Since and stops at the first line this much
// past Until.
const seekSlack = 15 * time.Minute

// seekMin is the file size below which a journal is read from its start:
// probing would cost more than it saves.
const seekMin = 256 << 10

// maxProbe bounds the bytes one probe reads looking for a line with a
// time; past it (a damaged stretch) the probe counts as "later than the
// target", which only makes the read start earlier.
const maxProbe = 4 << 20

// maxDamaged bounds the damaged lines a read keeps; the rest are counted.
const maxDamaged = 100

// lineTime is the time of one journal line, read cheaply: both journals
// write "time" first, so the common case is a prefix and one time.Parse;
// anything else is decoded for that one field. ok is false for a line
// without a usable time.
func lineTime(raw []byte) (time.Time, bool) {
	const prefix = `{"time":"`
	if bytes.HasPrefix(raw, []byte(prefix)) {
		rest := raw[len(prefix):]
		if end := bytes.IndexByte(rest, '"'); end > 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(rest[:end])); err == nil {
				return t, true
			}
		}
	}
	var v struct {
		Time time.Time `json:"time"`
	}
	if json.Unmarshal(raw, &v) != nil || v.Time.IsZero() {
		return time.Time{}, false
	}
	return v.Time, true
}

// scanLine is one line handed to a scan's callback.
type scanLine struct {
	Raw []byte    // trimmed; valid only during the call
	At  time.Time // zero when the line has no readable time
	// Line is the 1-based line number, 0 when the read began mid-file
	// (after a seek) and the number is not known.
	Line   int
	Offset int64
}

// scanResult is what a scan saw besides the lines it handed on.
type scanResult struct {
	Damage      []jsonl.Damage
	MoreDamaged int // damaged lines beyond maxDamaged, counted
}

func (r *scanResult) damage(d jsonl.Damage) {
	if len(r.Damage) < maxDamaged {
		r.Damage = append(r.Damage, d)
		return
	}
	r.MoreDamaged++
}

// scanRange calls fn for every well-formed line of the journal at path
// whose time is within [from, to] (a zero bound is open), plus lines that
// are JSON but have no time (fn decides what they are), reading only the
// part of the file that can hold them. Damaged lines in the part read are
// reported; fn returning an error reports its line as damaged.
func scanRange(path string, from, to time.Time, fn func(scanLine) error) (scanResult, error) {
	var res scanResult
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, err
	}
	if st.IsDir() {
		return res, fmt.Errorf("%s is a directory", path)
	}
	size := st.Size()
	start := int64(0)
	if !from.IsZero() && size > seekMin {
		if start, err = seekTime(f, size, from.Add(-seekSlack)); err != nil {
			return res, err
		}
	}
	stopAfter := time.Time{}
	if !to.IsZero() {
		stopAfter = to.Add(seekSlack)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, start, size-start), 64<<10)
	off := start
	lineNo := 0
	if start == 0 {
		lineNo = 1
	}
	for ; ; lineNo = nextLine(lineNo) {
		line, n, terminated, tooLong, err := jsonl.ReadLine(br)
		if err != nil {
			return res, err
		}
		if n == 0 {
			return res, nil
		}
		at := off
		off += n
		body := bytes.TrimSpace(line)
		damage := func(e error) {
			res.damage(jsonl.Damage{Line: lineNo, Offset: at, Text: jsonl.Excerpt(line), Err: e})
		}
		switch {
		case tooLong:
			damage(fmt.Errorf("line longer than %d bytes", jsonl.MaxLine))
		case !terminated:
			// The writer repairs a torn tail before its next append; until
			// then it is visible here, never skipped silently.
			damage(errors.New("torn last line: no newline at the end of the file"))
		case len(body) == 0:
		default:
			t, ok := lineTime(body)
			switch {
			case ok && !stopAfter.IsZero() && t.After(stopAfter):
				return res, nil
			case ok && ((!from.IsZero() && t.Before(from)) || (!to.IsZero() && t.After(to))):
				// Out of range: not decoded, not kept.
			case !json.Valid(body):
				// Only lines in range pay for validation.
				damage(jsonl.DecodeError(body))
			default:
				if ferr := fn(scanLine{Raw: body, At: t, Line: lineNo, Offset: at}); ferr != nil {
					damage(ferr)
				}
			}
		}
		if !terminated {
			return res, nil
		}
	}
}

func nextLine(n int) int {
	if n == 0 {
		return 0
	}
	return n + 1
}

// seekTime returns the offset of a line start at or before the first line
// whose time is at or after target, found by binary search over offsets.
// Damaged or timeless stretches count as "not before target", which moves
// the start earlier, never later: nothing in range is missed.
func seekTime(f io.ReaderAt, size int64, target time.Time) (int64, error) {
	lo, hi := int64(0), size // lo: a line start known to be before target (or 0)
	for hi-lo > 64<<10 {
		mid := lo + (hi-lo)/2
		lineStart, t, ok, err := probe(f, mid, hi)
		if err != nil {
			return 0, err
		}
		if ok && t.Before(target) {
			lo = lineStart
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// probe finds the first whole line starting after off (and before limit)
// that has a time: its start and time. ok is false when none does within
// maxProbe bytes.
func probe(f io.ReaderAt, off, limit int64) (start int64, at time.Time, ok bool, err error) {
	end := min(limit, off+maxProbe)
	br := bufio.NewReaderSize(io.NewSectionReader(f, off, end-off), 64<<10)
	pos := off
	// Skip the rest of the line off falls in: it may be a partial one.
	_, n, terminated, _, err := jsonl.ReadLine(br)
	if err != nil || !terminated {
		return 0, time.Time{}, false, err
	}
	pos += n
	for {
		line, n, terminated, tooLong, err := jsonl.ReadLine(br)
		if err != nil || n == 0 || !terminated {
			return 0, time.Time{}, false, err
		}
		if !tooLong {
			if t, ok := lineTime(bytes.TrimSpace(line)); ok {
				return pos, t, true, nil
			}
		}
		pos += n
	}
}
