package record

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writeEvents writes n events one step apart from start, one in every
// damageEvery lines (0: none) damaged, and returns the time of the last.
func writeEvents(t testing.TB, path string, start time.Time, step time.Duration, n, damageEvery int) time.Time {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	pad := strings.Repeat("x", 300)
	at := start
	for i := range n {
		at = start.Add(time.Duration(i) * step)
		if damageEvery > 0 && i%damageEvery == damageEvery-1 {
			fmt.Fprintf(w, `{"time":"%s","kind":"alert_fir`+"\n", at.Format(time.RFC3339Nano))
			continue
		}
		fmt.Fprintf(w, `{"time":"%s","kind":"alert_firing","source":"am","subject":"Flap%d","summary":"Flap%d firing: %s","severity":"warning"}`+"\n",
			at.Format(time.RFC3339Nano), i%100, i%100, pad)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return at
}

// A range read from the middle of a large journal returns exactly the
// lines in range, with damaged lines nearby (even where a probe lands)
// reported, not skipped.
func TestScanRangeSeeks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	writeEvents(t, path, start, time.Second, 20000, 97) // ~8 MB
	from, to := start.Add(5000*time.Second), start.Add(5999*time.Second)
	var got []time.Time
	res, err := scanRange(path, from, to, func(l scanLine) error {
		got = append(got, l.At)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 1000 - 1000/97 - 1 // damaged lines in range are not lines handed on
	if len(got) < want-1 || len(got) > want+1 || got[0].Before(from) || got[len(got)-1].After(to) {
		t.Fatalf("%d lines, first %v last %v", len(got), got[0], got[len(got)-1])
	}
	if len(res.Damage) == 0 || len(res.Damage) > 40 {
		t.Fatalf("%d damaged lines reported: want those near the range only", len(res.Damage))
	}
	if res.Damage[0].Line != 0 || res.Damage[0].Offset == 0 {
		t.Errorf("a seek does not know line numbers, it knows offsets: %+v", res.Damage[0])
	}
}

// Rotated files are read as one journal with the live one, and files
// wholly outside the range are not opened.
func TestTimelineReadsRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	last := writeEvents(t, path, start, time.Minute, 100, 0)
	if err := os.Rename(path, rotatedName(path, last)); err != nil {
		t.Fatal(err)
	}
	last = writeEvents(t, path, last.Add(time.Minute), time.Minute, 100, 0)
	if err := os.Rename(path, rotatedName(path, last)); err != nil {
		t.Fatal(err)
	}
	writeEvents(t, path, last.Add(time.Minute), time.Minute, 100, 0)

	tl, err := Build(TimelineOptions{EventsPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Entries) != 300 || len(tl.Damaged) != 0 {
		t.Fatalf("%d entries %d damaged %v", len(tl.Entries), len(tl.Damaged), tl.Notes)
	}
	files, err := journalFiles(path, start.Add(250*time.Minute), time.Time{})
	if err != nil || len(files) != 1 || files[0] != path {
		t.Fatalf("files for the last hour: %v %v", files, err)
	}
	files, _ = journalFiles(path, time.Time{}, start.Add(30*time.Minute))
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "events.jsonl.2026") {
		t.Fatalf("files for the first half hour: %v", files)
	}
	tl, _ = Build(TimelineOptions{EventsPath: path, Since: start.Add(150 * time.Minute), Until: start.Add(159 * time.Minute)})
	if len(tl.Entries) != 10 {
		t.Fatalf("%d entries in ten minutes", len(tl.Entries))
	}
}

// A full load keeps the newest MaxEntries and says how many it left out.
func TestTimelineMaxEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	last := writeEvents(t, path, start, time.Second, 1000, 0)
	tl, err := Build(TimelineOptions{EventsPath: path, MaxEntries: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Entries) != 100 || !tl.Entries[99].Time.Equal(last) || tl.Omitted != 900 || tl.Entries[0].Rel != "+0s" {
		t.Fatalf("%d entries, last %v, omitted %d", len(tl.Entries), tl.Entries[len(tl.Entries)-1].Time, tl.Omitted)
	}
	if !strings.Contains(strings.Join(tl.Notes, "\n"), "900 earlier journal records in range not shown") {
		t.Errorf("notes %q", tl.Notes)
	}
	tl, _ = Build(TimelineOptions{EventsPath: path})
	if tl.Omitted != 0 || len(tl.Notes) != 0 {
		t.Errorf("nothing left out: %d %q", tl.Omitted, tl.Notes)
	}
}

// Sessions asking for the same range at once load it once.
func TestTimelinesShareOneLoad(t *testing.T) {
	c := NewTimelines(2, time.Minute)
	var loads atomic.Int32
	release := make(chan struct{})
	c.build = func(o TimelineOptions) (*Timeline, error) {
		loads.Add(1)
		<-release
		return &Timeline{Since: o.Since}, nil
	}
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	got := make([]*Timeline, 4)
	for i := range got {
		wg.Go(func() {
			tl, err := c.Build(context.Background(), TimelineOptions{EventsPath: "e", Since: since})
			if err != nil {
				t.Error(err)
			}
			got[i] = tl
		})
	}
	for c.loading() < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the other three arrive
	close(release)
	wg.Wait()
	if loads.Load() != 1 || got[0] != got[3] {
		t.Fatalf("%d loads for four sessions", loads.Load())
	}
	// Other ranges evict the least recently used: the bound holds.
	for i := range 5 {
		c.Build(context.Background(), TimelineOptions{EventsPath: "e", Since: since.Add(time.Duration(i+1) * time.Hour)})
	}
	if n := c.held(); n != 2 {
		t.Fatalf("%d ranges held, want at most 2", n)
	}
	// A caller that gives up does not wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.build = func(TimelineOptions) (*Timeline, error) { select {} }
	if _, err := c.Build(ctx, TimelineOptions{EventsPath: "other"}); err == nil {
		t.Fatal("cancelled wait returned no error")
	}
}

func (c *Timelines) loading() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *Timelines) held() int { return c.loading() }

// peakHeap runs f and returns how long it took, the bytes it allocated and
// the highest heap in use seen while it ran.
func peakHeap(f func()) (took time.Duration, alloc, peak uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	var top atomic.Uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > top.Load() {
				top.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	t0 := time.Now()
	f()
	took = time.Since(t0)
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc, top.Load()
}

// The figures: a 200 MB event journal (generated here), read for
// `--since 2h` with nothing in range and for a full load keeping the
// default number of entries. Memory follows the range, not the file: the
// empty range allocates next to nothing. Times are printed, not asserted.
func TestTimelineLargeJournalFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MB")
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	now := time.Now().UTC()
	// 440,000 events of ~470 bytes, one every 5 s, ending 3 h ago.
	n := 440000
	writeEvents(t, path, now.Add(-3*time.Hour-time.Duration(n)*5*time.Second), 5*time.Second, n, 0)
	st, _ := os.Stat(path)

	var tl *Timeline
	took, alloc, peak := peakHeap(func() {
		var err error
		if tl, err = Build(TimelineOptions{EventsPath: path, Since: now.Add(-2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("--since 2h on %d MB, nothing in range: %d entries, %v, %.1f MB allocated, peak heap %.1f MB",
		st.Size()>>20, len(tl.Entries), took.Round(time.Microsecond), float64(alloc)/(1<<20), float64(peak)/(1<<20))
	if len(tl.Entries) != 0 {
		t.Fatalf("%d entries in an empty range", len(tl.Entries))
	}
	if alloc > 32<<20 {
		t.Errorf("an empty range allocated %d MB: the read does not follow the range", alloc>>20)
	}

	took, alloc, peak = peakHeap(func() {
		var err error
		if tl, err = Build(TimelineOptions{EventsPath: path}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("full load of %d MB keeping %d entries (%d left out): %v, %.1f MB allocated, peak heap %.1f MB",
		st.Size()>>20, len(tl.Entries), tl.Omitted, took.Round(time.Millisecond), float64(alloc)/(1<<20), float64(peak)/(1<<20))
	if len(tl.Entries) != DefaultMaxEntries || tl.Omitted != n-DefaultMaxEntries {
		t.Fatalf("%d entries, %d omitted", len(tl.Entries), tl.Omitted)
	}
}
