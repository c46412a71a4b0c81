package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Retention bounds the event journal on disk. The live file is rotated
// (renamed to "<path>.<UTC time>") once it reaches MaxSize; rotated files
// are deleted once older than MaxAge, or beyond the newest MaxFiles. The
// timeline reads rotated files too, so rotation loses nothing until a file
// is past retention. The audit journal is never rotated: it is the record
// of what people did, and it grows at the pace of people.
type Retention struct {
	MaxSize  int64
	MaxFiles int
	MaxAge   time.Duration
}

// Retention defaults: about 600 MB of events at most, a month of them.
const (
	DefaultMaxSize  = 64 << 20
	DefaultMaxFiles = 8
	DefaultMaxAge   = 30 * 24 * time.Hour
)

func (r Retention) withDefaults() Retention {
	if r.MaxSize <= 0 {
		r.MaxSize = DefaultMaxSize
	}
	if r.MaxFiles <= 0 {
		r.MaxFiles = DefaultMaxFiles
	}
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultMaxAge
	}
	return r
}

// rotatedLayout stamps a rotated file with when it was rotated: the time
// of (about) its last record, and names that sort in time order.
const rotatedLayout = "20060102T150405Z"

// rotatedFile is one rotated event journal.
type rotatedFile struct {
	Path string
	At   time.Time // when it was rotated: no record in it is much later
}

// rotatedFiles lists the rotated files of the journal at path, oldest
// first. Files whose suffix is not a rotation time are not ours.
func rotatedFiles(path string) ([]rotatedFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []rotatedFile
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || e.IsDir() {
			continue
		}
		stamp, _, _ := strings.Cut(rest, "-") // "-2" marks a second rotation in one second
		at, err := time.Parse(rotatedLayout, stamp)
		if err != nil {
			continue
		}
		out = append(out, rotatedFile{Path: filepath.Join(dir, e.Name()), At: at})
	}
	slices.SortStableFunc(out, func(a, b rotatedFile) int { return strings.Compare(filepath.Base(a.Path), filepath.Base(b.Path)) })
	return out, nil
}

// journalFiles are the files that can hold records in [from, to] (zero:
// open), oldest first: the rotated files whose span may overlap, then the
// live file.
func journalFiles(path string, from, to time.Time) ([]string, error) {
	rotated, err := rotatedFiles(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, r := range rotated {
		if !from.IsZero() && r.At.Add(seekSlack).Before(from) {
			continue // ended before the range
		}
		if !to.IsZero() && i > 0 && rotated[i-1].At.Add(-seekSlack).After(to) {
			continue // began after the range
		}
		out = append(out, r.Path)
	}
	if n := len(rotated); n > 0 && !to.IsZero() && rotated[n-1].At.Add(-seekSlack).After(to) {
		return out, nil // the live file began after the range
	}
	return append(out, path), nil
}

// rotatedName is the name the live file at path gets when rotated at now.
func rotatedName(path string, now time.Time) string {
	name := path + "." + now.UTC().Format(rotatedLayout)
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s.%s-%d", path, now.UTC().Format(rotatedLayout), i)
	}
}

// prune deletes rotated files past retention, and says which.
func prune(path string, r Retention, now time.Time) ([]string, error) {
	rotated, err := rotatedFiles(path)
	if err != nil {
		return nil, err
	}
	var gone []string
	var errs []error
	for i, f := range rotated {
		if len(rotated)-i <= r.MaxFiles && now.Sub(f.At) <= r.MaxAge {
			continue
		}
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		gone = append(gone, f.Path)
	}
	return gone, errors.Join(errs...)
}
