package record

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"flightdeck/sources"
)

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// feed runs r over batches, the clock at each batch's fetch time, and
// stops it; it returns when everything is written.
func feed(t *testing.T, r *Recorder, clk *clock, batches [][]sources.Snapshot, end time.Time) {
	t.Helper()
	in := make(chan []sources.Snapshot)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx, blocking{batches: in}) }()
	for _, b := range batches {
		clk.Set(b[0].FetchedAt)
		in <- b
	}
	in <- []sources.Snapshot{} // the last batch is recorded once Run asks again
	clk.Set(end)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// 100 alerts firing and resolving every second: the journal says each is
// flapping, how often it flapped, and how it settled, in a handful of
// lines per alert instead of two a second.
func TestFlappingIsCountedNotWritten(t *testing.T) {
	const alertsN, seconds = 100, 1200 // 20 minutes
	var batches [][]sources.Snapshot
	for s := range seconds {
		var as []sources.Alert
		if s%2 == 0 {
			for i := range alertsN {
				as = append(as, alert("Flap"+string(rune('A'+i/26))+string(rune('a'+i%26)), sources.AlertFiring, 0))
			}
		}
		batches = append(batches, []sources.Snapshot{alerts(s, as...)})
	}
	// Then calm for a window: every alert settles.
	batches = append(batches, []sources.Snapshot{alerts(seconds + 700)})
	j := &flaky{}
	clk := &clock{}
	r := newRecorder(j, Options{Now: clk.Now})
	feed(t, r, clk, batches, at(seconds+701))

	size, perAlert := 0, map[string][]Event{}
	for _, e := range j.got {
		b, _ := json.Marshal(e)
		size += len(b) + 1
		perAlert[e.Subject] = append(perAlert[e.Subject], e)
	}
	t.Logf("%d alerts flapping every second for %ds: %d lines, %d bytes (%.1f KiB/h); two lines a change would be %d lines",
		alertsN, seconds, len(j.got), size, float64(size)/1024*3600/seconds, alertsN*(seconds-1))
	if len(j.got) > alertsN*(DefaultFlapAfter+6)+2 {
		t.Fatalf("%d lines written", len(j.got))
	}
	evs := perAlert["FlapAa"]
	last := evs[len(evs)-1]
	if last.Kind != Flapping || last.To != "resolved" || !strings.Contains(last.Summary, "FlapAa flapped 1199 times from 03:07:01 to 03:26:59 UTC, then settled resolved") {
		t.Fatalf("settled line: %+v", last)
	}
	// Every change is accounted for: written, or counted in a line.
	changes := 0
	for _, e := range evs {
		switch e.Kind {
		case AlertFiring, AlertResolved:
			if !e.AtStart {
				changes++
			}
		case Flapping:
			if e.From == "flapping" {
				changes += e.Count
			}
		}
	}
	if changes != seconds-1 {
		t.Errorf("%d changes accounted for, want %d: %v", changes, seconds-1, evs)
	}
	// The first line is the alert found firing; six changes later, it is
	// flapping.
	if !strings.Contains(evs[DefaultFlapAfter+1].Summary, "FlapAa flapping: 6 changes in 10m, now firing") {
		t.Errorf("start line: %+v", evs[DefaultFlapAfter+1])
	}
}

// A subject that changes now and then is written change by change.
func TestOccasionalChangesAreNotFlapping(t *testing.T) {
	f := newFlapper(10*time.Minute, 6)
	var out []Event
	for i := range 20 {
		k := AlertFiring
		if i%2 == 1 {
			k = AlertResolved
		}
		out = append(out, f.filter([]Event{{Time: at(i * 300), Kind: k, Source: "am", Subject: "Slow", ID: "fp"}}, at(i*300))...)
	}
	if len(out) != 20 {
		t.Fatalf("%d lines for 20 changes five minutes apart", len(out))
	}
}

// The recorder rotates the live file past MaxSize, the timeline reads the
// rotated files with it, and files past retention are removed.
func TestRecorderRotatesAndTimelineReadsAll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	clk := &clock{t: t0}
	r, err := Open(path, Options{Now: clk.Now, Retention: Retention{MaxSize: 4 << 10, MaxFiles: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var batches [][]sources.Snapshot
	for s := range 200 {
		// One alert firing or resolving every 20 minutes: no flapping.
		var as []sources.Alert
		if s%2 == 0 {
			as = append(as, alert("Slow", sources.AlertFiring, 0))
		}
		batches = append(batches, []sources.Snapshot{alerts(s*1200, as...)})
	}
	feed(t, r, clk, batches, at(200*1200))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	rotated, _ := rotatedFiles(path)
	if len(rotated) != 3 {
		t.Fatalf("%d rotated files kept, want MaxFiles 3", len(rotated))
	}
	for _, f := range rotated {
		st, _ := os.Stat(f.Path)
		if st.Size() > 5<<10 {
			t.Errorf("%s is %d bytes: not rotated at MaxSize", f.Path, st.Size())
		}
	}
	tl, err := Build(TimelineOptions{EventsPath: path})
	if err != nil {
		t.Fatal(err)
	}
	lastEntry := tl.Entries[len(tl.Entries)-1]
	if lastEntry.Kind != string(RecorderStopped) || len(tl.Entries) < 30 || len(tl.Damaged) > 0 {
		t.Fatalf("%d entries, last %+v, damaged %v", len(tl.Entries), lastEntry, tl.Damaged)
	}
	for i := 1; i < len(tl.Entries); i++ {
		if tl.Entries[i].Time.Before(tl.Entries[i-1].Time) {
			t.Fatalf("rotated files read out of order at %d", i)
		}
	}
}

// Two cockpits on one journal: the second stands by and says who writes,
// records nothing, and takes over once the first stops; each start and
// stop line names its instance.
func TestSecondRecorderStandsBy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events-demo.jsonl")
	first, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	up1 := blocking{batches: make(chan []sources.Snapshot)}
	first.Start(context.Background(), up1)
	up1.batches <- []sources.Snapshot{alerts(0)}

	clk := &clock{t: time.Now()}
	second, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Err(); err == nil || !strings.Contains(err.Error(), "written by another flightdeck (pid ") || !strings.Contains(err.Error(), first.Instance()) {
		t.Fatalf("standing by: Err = %v", err)
	}
	up2 := blocking{batches: make(chan []sources.Snapshot)}
	second.Start(context.Background(), up2)
	up2.batches <- []sources.Snapshot{alerts(1, alert("OnlyTheSecondSaw", sources.AlertFiring, 1))}
	up2.batches <- []sources.Snapshot{alerts(2, alert("OnlyTheSecondSaw", sources.AlertFiring, 1))}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(lockRetry))
	up2.batches <- []sources.Snapshot{alerts(3)}
	up2.batches <- []sources.Snapshot{alerts(4)}
	if err := second.Err(); err != nil {
		t.Errorf("after taking over: Err = %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}

	evs, damage, err := ReadEvents(path)
	if err != nil || len(damage) > 0 {
		t.Fatal(err, damage)
	}
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Kind)+" "+e.Instance)
	}
	want := []string{
		"recorder_started " + first.Instance(), "recorder_stopped " + first.Instance(),
		"recorder_started " + second.Instance(), "alert_resolved ", "recorder_stopped " + second.Instance(),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(evs[2].Summary, "taking over") || !strings.Contains(evs[0].Summary, "instance "+first.Instance()) {
		t.Errorf("start lines: %q / %q", evs[0].Summary, evs[2].Summary)
	}
}
