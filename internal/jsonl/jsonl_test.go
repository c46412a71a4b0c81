package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"flightdeck/internal/sanitize"
	"flightdeck/internal/testsrv"
)

type rec struct {
	N     int    `json:"n"`
	Phase string `json:"phase"`
	Pad   string `json:"pad,omitempty"`
}

// readAll reads path and returns the records and the damage.
func readAll(t *testing.T, path string) ([]rec, []Damage) {
	t.Helper()
	var out []rec
	dmg, err := Read(path, func(_ int, raw []byte) error {
		var r rec
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, dmg
}

func TestAppendReadAndPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "fd", "log.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Append(rec{N: i, Phase: "intent"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(rec{}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	if w.Path() != path {
		t.Errorf("Path = %q", w.Path())
	}
	got, dmg := readAll(t, path)
	if len(got) != 3 || got[2].N != 2 || len(dmg) != 0 {
		t.Fatalf("got %+v, damage %v", got, dmg)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, st.Mode().Perm(), want, err)
		}
	}
}

func TestOpenRepairsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	os.WriteFile(path, []byte(`{"n":1,"phase":"intent"}`+"\n"+`{"n":1,"phase":"o`), 0o600)
	// Before repair, the reader reports the torn line rather than hiding it.
	got, dmg := readAll(t, path)
	if len(got) != 1 || len(dmg) != 1 || dmg[0].Line != 2 || dmg[0].Offset != 25 || !strings.Contains(dmg[0].Err.Error(), "torn") {
		t.Fatalf("before repair: %+v %v", got, dmg)
	}
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(rec{N: 2, Phase: "intent"}); err != nil {
		t.Fatal(err)
	}
	got, dmg = readAll(t, path)
	if len(got) != 2 || got[1].N != 2 || len(dmg) != 0 {
		t.Fatalf("after repair: %+v %v", got, dmg)
	}
	// What was cut off is kept in a side file, and said.
	reps := w.Repairs()
	if len(reps) != 1 || reps[0].Completed || reps[0].Offset != 25 || reps[0].Bytes != 17 {
		t.Fatalf("repairs %+v", reps)
	}
	side, err := os.ReadFile(reps[0].SideFile)
	if err != nil || string(side) != `{"n":1,"phase":"o` {
		t.Fatalf("side file %q: %q, %v", reps[0].SideFile, side, err)
	}
	if !strings.HasPrefix(reps[0].SideFile, path+".damaged-") || !strings.Contains(reps[0].String(), reps[0].SideFile) {
		t.Errorf("side file %q, warning %q", reps[0].SideFile, reps[0])
	}
	if st, err := os.Stat(reps[0].SideFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("side file mode: %v %v", st, err)
	}
}

// TestOpenKeepsCompleteLastRecord is issue 16.11: a crash after a record's
// write but before its newline leaves a complete record at the end of the
// file; repair must give it its newline, not cut it off, and say so in the
// log and in Repairs.
func TestOpenKeepsCompleteLastRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	os.WriteFile(path, []byte(`{"n":1,"phase":"intent"}`+"\n"+`{"n":1,"phase":"outcome"}`), 0o600)
	// A reader, before any repair, delivers it too.
	if got, dmg := readAll(t, path); len(got) != 2 || got[1] != (rec{N: 1, Phase: "outcome"}) || len(dmg) != 0 {
		t.Fatalf("before repair: %+v, damage %v", got, dmg)
	}
	var logged bytes.Buffer
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w, err := OpenWith(path, Options{Log: slog.New(slog.NewTextHandler(&logged, nil)), Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(rec{N: 2, Phase: "intent"}); err != nil {
		t.Fatal(err)
	}
	got, dmg := readAll(t, path)
	want := []rec{{N: 1, Phase: "intent"}, {N: 1, Phase: "outcome"}, {N: 2, Phase: "intent"}}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(dmg) != 0 {
		t.Fatalf("records %+v (want %+v), damage %v", got, want, dmg)
	}
	reps := w.Repairs()
	if len(reps) != 1 || !reps[0].Completed || reps[0].SideFile != "" || reps[0].Offset != 25 || !reps[0].Time.Equal(at) {
		t.Fatalf("repairs %+v", reps)
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "completed=true") {
		t.Errorf("log: %q", logged.String())
	}
	if side, _ := filepath.Glob(path + ".damaged-*"); len(side) != 0 {
		t.Errorf("side files for a complete record: %v", side)
	}
}

// faultyFile injects failures into the real file underneath.
type faultyFile struct {
	*os.File
	shortWrite  bool  // write half the bytes and report success (a short write)
	failWrite   error // write half the bytes, then fail with this error
	failSync    error
	failTrunc   error
	truncations int
}

func (f *faultyFile) Write(b []byte) (int, error) {
	switch {
	case f.shortWrite:
		f.shortWrite = false
		return f.File.Write(b[:len(b)/2])
	case f.failWrite != nil:
		err := f.failWrite
		f.failWrite = nil
		n, _ := f.File.Write(b[:len(b)/2])
		return n, err
	}
	return f.File.Write(b)
}

func (f *faultyFile) Sync() error {
	if err := f.failSync; err != nil {
		f.failSync = nil
		return err
	}
	return f.File.Sync()
}

func (f *faultyFile) Truncate(n int64) error {
	f.truncations++
	if err := f.failTrunc; err != nil {
		f.failTrunc = nil
		return err
	}
	return f.File.Truncate(n)
}

func openFaulty(t *testing.T) (*Writer, *faultyFile) {
	t.Helper()
	w, err := Open(filepath.Join(t.TempDir(), "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	ff := &faultyFile{File: w.f.(*os.File)}
	w.f = ff
	return w, ff
}

// TestFailedWritesNeverGlue is the torn write: the disk fills in the
// middle of an outcome record; the next record must start on a line of its
// own and every acknowledged record must read back.
func TestFailedWritesNeverGlue(t *testing.T) {
	for _, c := range []struct {
		name   string
		inject func(*faultyFile)
	}{
		{"short write", func(f *faultyFile) { f.shortWrite = true }},
		{"ENOSPC mid-write", func(f *faultyFile) { f.failWrite = syscall.ENOSPC }},
		{"fsync fails", func(f *faultyFile) { f.failSync = syscall.EIO }},
		{"write and cut-back both fail", func(f *faultyFile) { f.failWrite = syscall.ENOSPC; f.failTrunc = syscall.EIO }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, ff := openFaulty(t)
			if err := w.Append(rec{N: 1, Phase: "intent"}); err != nil {
				t.Fatal(err)
			}
			c.inject(ff)
			if err := w.Append(rec{N: 1, Phase: "outcome", Pad: strings.Repeat("x", 200)}); err == nil {
				t.Fatal("a failed append reported success")
			}
			if err := w.Append(rec{N: 2, Phase: "intent"}); err != nil {
				t.Fatal(err)
			}
			got, dmg := readAll(t, w.Path())
			if len(dmg) != 0 || len(got) != 2 || got[0] != (rec{N: 1, Phase: "intent"}) || got[1] != (rec{N: 2, Phase: "intent"}) {
				t.Fatalf("records %+v, damage %v", got, dmg)
			}
			if ff.truncations == 0 {
				t.Error("nothing was cut back")
			}
			// Where the cut-back failed, the next append's repair moved the
			// half-written bytes to a side file rather than dropping them.
			reps := w.Repairs()
			if c.name == "write and cut-back both fail" {
				if len(reps) != 1 || reps[0].Completed || reps[0].SideFile == "" {
					t.Fatalf("repairs %+v", reps)
				}
				if side, err := os.ReadFile(reps[0].SideFile); err != nil || !strings.HasPrefix(string(side), `{"n":1,"phase":"outcome"`) {
					t.Errorf("side file: %q, %v", side, err)
				}
			} else if len(reps) != 0 {
				t.Errorf("repairs after a clean cut-back: %+v", reps)
			}
		})
	}
}

// TestFullDiskTmpfs fills a real (tiny) tmpfs: the write that hits ENOSPC
// is cut back, and once space is freed the next record lands whole.
func TestFullDiskTmpfs(t *testing.T) {
	dir := testsrv.Tmpfs(t, 64<<10)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 16<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pad := strings.Repeat("p", 3000)
	acked := 0
	for ; ; acked++ {
		if err := w.Append(rec{N: acked, Phase: "outcome", Pad: pad}); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("append %d: %v", acked, err)
			}
			break
		}
		if acked > 100 {
			t.Fatal("a 64 KiB tmpfs never filled")
		}
	}
	raw, _ := os.ReadFile(w.Path())
	if len(raw) == 0 || raw[len(raw)-1] != '\n' {
		t.Fatalf("file does not end on a whole line after ENOSPC (%d bytes)", len(raw))
	}
	// Free space the way an operator would: delete something else.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(rec{N: 99, Phase: "intent"}); err != nil {
		t.Fatal(err)
	}
	got, dmg := readAll(t, w.Path())
	if len(dmg) != 0 || len(got) != acked+1 || got[len(got)-1].N != 99 {
		t.Fatalf("%d records (want %d), damage %v", len(got), acked+1, dmg)
	}
}

func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	w1, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Close()
	w2, err := Open(path) // a second writer on the same file, as a second process would be
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := w1
			if g%2 == 1 {
				w = w2
			}
			for i := range 50 {
				if err := w.Append(rec{N: g*1000 + i, Pad: strings.Repeat("z", g*100)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, dmg := readAll(t, path)
	if len(got) != 400 || len(dmg) != 0 {
		t.Fatalf("%d records, damage %v", len(got), dmg)
	}
}

func TestReadReportsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	long := `{"pad":"` + strings.Repeat("a", MaxLine) + `"}`
	content := strings.Join([]string{
		`{"n":1,"phase":"intent"}`,
		`{"n":2,"phase":"o{"n":3,"phase":"intent"}`, // torn outcome with the next intent glued on
		``,
		`{"n":4}{"n":5}`,
		"\x1b]52;c;QQ==\x07 \u202egarbage",
		long,
		`[1,2]`, // valid JSON the callback refuses
		`{"n":6,"phase":"outcome"}`,
	}, "\n") + "\n"
	os.WriteFile(path, []byte(content), 0o600)
	got, dmg := readAll(t, path)
	if len(got) != 2 || got[0].N != 1 || got[1].N != 6 {
		t.Errorf("records %+v", got)
	}
	wantLines := []int{2, 4, 5, 6, 7}
	if len(dmg) != len(wantLines) {
		t.Fatalf("damage %v", dmg)
	}
	for i, d := range dmg {
		if d.Line != wantLines[i] {
			t.Errorf("damage %d at line %d, want %d", i, d.Line, wantLines[i])
		}
		if d.Offset != int64(strings.Index(content, strings.SplitN(content, "\n", d.Line+1)[d.Line-1])) {
			t.Errorf("damage %v: offset does not point at its line", d)
		}
		if sanitize.Text(d.Text) != d.Text || len([]rune(d.Text)) > excerptLen+1 {
			t.Errorf("damage text not a bounded, sanitized excerpt: %q", d.Text)
		}
	}
	if !strings.Contains(dmg[1].Err.Error(), "glued") || !strings.Contains(dmg[3].Err.Error(), "longer than") {
		t.Errorf("reasons: %v / %v", dmg[1].Err, dmg[3].Err)
	}
	// ErrStop ends the read without an error.
	calls := 0
	if _, err := Read(path, func(int, []byte) error { calls++; return ErrStop }); err != nil || calls != 1 {
		t.Errorf("ErrStop: calls %d, err %v", calls, err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzRead feeds the reader torn and glued journals (and whatever the fuzzer
// makes of them): every non-blank line is either delivered as valid JSON or
// reported as damage, with a truthful line number and offset and a safe
// excerpt; and after Open repairs the file, nothing is lost (what it cut
// off is in a side file), a new record always reads back whole and every
// line delivered before is still delivered.
func FuzzRead(f *testing.F) {
	a := `{"time":"2026-01-02T03:04:05Z","phase":"intent","plan_id":"p-1"}`
	b := `{"time":"2026-01-02T03:04:06Z","phase":"outcome","plan_id":"p-1","outcome":"ok"}`
	f.Add([]byte(a + "\n" + b + "\n"))
	f.Add([]byte(a + "\n" + b[:30]))                  // torn tail
	f.Add([]byte(a + "\n" + b))                       // whole last record, no newline
	f.Add([]byte(a + "\n" + b[:30] + a + "\n"))       // torn outcome, next intent glued on
	f.Add([]byte(a + b + "\n"))                       // glued whole records
	f.Add([]byte("\n\n" + a + "\r\n" + "\x00\xff\n")) // blanks, CRLF, binary
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "log.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var delivered []string
		dmg, err := Read(path, func(n int, raw []byte) error {
			if !json.Valid(raw) {
				t.Fatalf("line %d delivered but not JSON: %q", n, raw)
			}
			delivered = append(delivered, string(raw))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(data, []byte{'\n'})
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		nonBlank := 0
		offsets := map[int]int64{}
		var off int64
		for i, l := range lines {
			offsets[i+1] = off
			off += int64(len(l)) + 1
			if len(bytes.TrimSpace(l)) > 0 || (i == len(lines)-1 && !bytes.HasSuffix(data, []byte{'\n'})) {
				nonBlank++
			}
		}
		if len(delivered)+len(dmg) != nonBlank {
			t.Fatalf("%d lines, %d delivered + %d damaged: a line went missing\n%q", nonBlank, len(delivered), len(dmg), data)
		}
		for _, d := range dmg {
			if offsets[d.Line] != d.Offset {
				t.Fatalf("damage %v: offset, want %d", d, offsets[d.Line])
			}
			if sanitize.Text(d.Text) != d.Text || len([]rune(d.Text)) > excerptLen+1 {
				t.Fatalf("unsafe excerpt %q", d.Text)
			}
		}

		w, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing is lost: the repaired file plus what went to a side
		// file is the original, with at most a newline added.
		repaired, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var moved []byte
		for _, r := range w.Repairs() {
			b, err := os.ReadFile(r.SideFile)
			if !r.Completed && err != nil {
				t.Fatal(err)
			}
			moved = append(moved, b...)
		}
		if whole := append(bytes.Clone(repaired), moved...); !bytes.Equal(whole, data) && !bytes.Equal(whole, append(bytes.Clone(data), '\n')) {
			t.Fatalf("repair lost bytes:\noriginal %q\nkept     %q\nmoved    %q", data, repaired, moved)
		}
		if err := w.Append(rec{N: 7, Phase: "intent"}); err != nil {
			t.Fatal(err)
		}
		w.Close()
		var after []string
		dmg2, err := Read(path, func(_ int, raw []byte) error { after = append(after, string(raw)); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(after) == 0 || after[len(after)-1] != `{"n":7,"phase":"intent"}` {
			t.Fatalf("the new record did not read back whole: %q (damage %v)", after, dmg2)
		}
		// Every line delivered before (a whole last record without its
		// newline too) is delivered after, and nothing else.
		if fmt.Sprint(after[:len(after)-1]) != fmt.Sprint(delivered) {
			t.Fatalf("repair changed what was delivered:\nbefore %q\nafter  %q", delivered, after[:len(after)-1])
		}
		for _, d := range dmg2 {
			if d.Err == errTorn {
				t.Fatalf("a torn tail survived Open: %v", d)
			}
		}
	})
}
