package ui

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/themes"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
	"flightdeck/ui/panes/alerts"
	awspane "flightdeck/ui/panes/aws"
	"flightdeck/ui/panes/postgres"
	"flightdeck/ui/panes/rollouts"
	"flightdeck/ui/panes/slo"
)

// TestSharedDrawKeys holds every built-in pane to the rule of shared
// blocks (kit.Blocks): a session that gets another session's block, drawn
// for the same key, sees exactly what it would have drawn itself, and is
// left with the same cursor. Two sessions (a, b) share one Blocks; a
// third (c) gets everything b gets and draws alone, so c is what b should
// show. The sessions live through the demo incident with their own
// histories (b misses snapshots a gets, as a slow or late session does;
// sources fail and recover), sizes, focus and keys: mostly the same keys,
// so their states meet and part again. Every pane must share some blocks,
// and every shared block must be b's own.
func TestSharedDrawKeys(t *testing.T) {
	for i, mk := range BuiltinPanes() {
		rng := rand.New(rand.NewSource(int64(i) + 1))
		clock := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
		world := demo.NewWorld(demo.Options{Seed: 7, Speed: 5, Now: func() time.Time { return clock }})
		srcs := world.Sources()
		seqs := map[string]uint64{}
		latest := map[string]sources.Snapshot{}
		km := keymap.DefaultKeyMap()
		theme := themes.MustGet("dark")
		blocks := kit.NewBlocks()
		env := func(b *kit.Blocks) *kit.Env {
			return &kit.Env{Theme: theme, Keys: km, Policy: ops.DefaultPolicy().WithDefaults(), Blocks: b, Burns: burnsAt{&clock}}
		}
		a, b, c := mk(kit.Slot{Env: env(blocks), Key: "1"}), mk(kit.Slot{Env: env(blocks), Key: "1"}), mk(kit.Slot{Env: env(nil), Key: "1"})
		envs := []*kit.Env{paneEnv(a), paneEnv(b), paneEnv(c)}
		title := a.Title()
		keys := paneKeys(km, a.Title())
		feed := func(p Pane, s sources.Snapshot) {
			if slices.Contains(p.Kinds(), s.Kind) {
				p.SetSnapshot(s)
			}
			if r, ok := p.(Reader); ok && slices.Contains(r.Reads(), s.Kind) {
				r.Read(s)
			}
		}
		sizes := [][2]int{{100, 30}, {100, 30}, {100, 30}, {200, 40}, {64, 12}}
		size := sizes[0]
		for _, p := range []Pane{a, b, c} {
			p.SetSize(size[0], size[1])
		}
		mismatches := 0
		for step := range 2000 {
			// The world moves; each source is read, and sometimes fails
			// (the hub's way: the last good data, stale, with the error).
			if rng.Intn(3) == 0 {
				clock = clock.Add(time.Duration(200+rng.Intn(1800)) * time.Millisecond)
			}
			for _, env := range envs {
				env.SetClock(clock)
			}
			if rng.Intn(4) == 0 {
				src := srcs[rng.Intn(len(srcs))]
				seqs[src.Name()]++
				s := sources.Snapshot{Source: src.Name(), Kind: src.Kind(), Seq: seqs[src.Name()], FetchedAt: clock}
				if data, err := src.Fetch(context.Background()); err != nil || rng.Intn(8) == 0 {
					prev := latest[src.Name()]
					s.Data, s.FetchedAt, s.Stale, s.Err, s.ErrAt = prev.Data, prev.FetchedAt, prev.Data != nil, errFetch, clock
				} else {
					s.Data = regionFails(rng, data)
				}
				latest[src.Name()] = s
				feed(a, s)
				if rng.Intn(3) > 0 { // b (and c) miss some: they get the latest later
					feed(b, s)
					feed(c, s)
				}
			}
			if rng.Intn(10) == 0 { // b catches up with every source's latest
				for _, s := range latest {
					feed(b, s)
					feed(c, s)
				}
			}
			// Keys: mostly the same to both, sometimes to one.
			if rng.Intn(3) == 0 {
				k := keys[rng.Intn(len(keys))]
				switch rng.Intn(6) {
				case 0:
					a.HandleKey(k)
				case 1:
					b.HandleKey(k)
					c.HandleKey(k)
				default:
					a.HandleKey(k)
					b.HandleKey(k)
					c.HandleKey(k)
				}
			}
			if rng.Intn(40) == 0 {
				size = sizes[rng.Intn(len(sizes))]
				for _, p := range []Pane{a, b, c} {
					p.SetSize(size[0], size[1])
				}
			}
			focused := rng.Intn(4) > 0
			// Either session may draw first.
			var gotB []string
			if rng.Intn(2) == 0 {
				a.View(focused)
				gotB = b.View(focused)
			} else {
				gotB = b.View(focused)
				a.View(focused)
			}
			want := c.View(focused)
			if !slices.Equal(gotB, want) && mismatches < 3 {
				mismatches++
				t.Errorf("%s, step %d: the shared block is not the session's own:\n got: %q\nwant: %q", title, step, gotB, want)
			}
			if cb, cc := paneCursor(b), paneCursor(c); cb != cc && mismatches < 3 {
				mismatches++
				t.Errorf("%s, step %d: the shared drawing left the cursor at %+v, its own at %+v", title, step, cb, cc)
			}
		}
		draws, shared := blocks.Counts()
		t.Logf("%s: %d blocks drawn, %d shared", title, draws, shared)
		if shared < 20 {
			t.Errorf("%s: only %d blocks shared of %d drawn: the pane does not share", title, shared, draws)
		}
	}
}

// TestSharedBlocksKeepEachSessionsHistory: a pane that keeps what earlier
// snapshots showed (an AWS region whose read fails keeps its last good
// rows) shares no block between sessions that saw different snapshots
// before the same latest one.
func TestSharedBlocksKeepEachSessionsHistory(t *testing.T) {
	blocks := kit.NewBlocks()
	mk := func(b *kit.Blocks) Pane {
		env := uitest.Env()
		env.Blocks = b
		p := awspane.New(kit.Slot{Env: env, Key: "5"})
		p.SetSize(200, 16)
		return p
	}
	a, b, alone := mk(blocks), mk(blocks), mk(nil)
	snap := func(seq uint64, age time.Duration, cpu float64, fail bool) sources.Snapshot {
		set := uitest.AWS()
		for i := range set.RDS {
			if set.RDS[i].Region == set.Regions[1].Name {
				set.RDS[i].CPUPercent = cpu
			}
		}
		if fail {
			set.Regions[1].RDSErr = "rds:DescribeDBInstances in us-west-2: throttled"
			set.RDS = slices.DeleteFunc(set.RDS, func(i sources.RDSInstance) bool { return i.Region == set.Regions[1].Name })
		}
		s := uitest.Snap("aws", sources.KindAWS, set, age)
		s.Seq = seq
		return s
	}
	first, second, failing := snap(1, 5*time.Minute, 41, false), snap(2, 2*time.Minute, 52, false), snap(3, 0, 63, true)
	for _, s := range []sources.Snapshot{first, second, failing} {
		a.SetSnapshot(s)
	}
	for _, s := range []sources.Snapshot{first, failing} { // b missed the second
		b.SetSnapshot(s)
		alone.SetSnapshot(s)
	}
	a.View(true)
	got, want := ansi.Strip(strings.Join(b.View(true), "\n")), ansi.Strip(strings.Join(alone.View(true), "\n"))
	if got != want {
		t.Errorf("b shows a's history:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(want, "rows from 5m ago") || !strings.Contains(want, "41%") {
		t.Errorf("the fixture does not show the rows' age:\n%s", want)
	}
}

// burnsAt says every SLO began to burn ten minutes before the clock, so
// the SLO detail names a rollout (kit.Rollouts) when one came before.
type burnsAt struct{ clock *time.Time }

func (b burnsAt) BurnStart(source, slo string) (time.Time, bool) {
	return b.clock.Add(-10 * time.Minute), true
}

var errFetch = errorString("connection refused")

type errorString string

func (e errorString) Error() string { return string(e) }

// paneEnv and paneCursor reach the List every built-in pane embeds.
func paneEnv(p Pane) *kit.Env { return listOf(p).Env }

func paneCursor(p Pane) [3]int {
	l := listOf(p)
	return [3]int{l.Cursor.Pos, l.Cursor.Offset, l.DetailOff}
}

func listOf(p Pane) *kit.List {
	switch p := p.(type) {
	case *slo.Pane:
		return &p.List
	case *alerts.Pane:
		return &p.List
	case *postgres.Pane:
		return &p.List
	case *rollouts.Pane:
		return &p.List
	case *awspane.Pane:
		return &p.List
	}
	panic("not a built-in pane")
}

// regionFails makes one region's reads of an AWS payload fail now and
// then, as a throttled or unreachable region does: the error, and none of
// its rows. Other payloads pass.
func regionFails(rng *rand.Rand, data sources.Payload) sources.Payload {
	set, ok := data.(*sources.AWSSet)
	if !ok || len(set.Regions) == 0 || rng.Intn(3) > 0 {
		return data
	}
	cp := *set
	cp.Regions = slices.Clone(set.Regions)
	r := &cp.Regions[rng.Intn(len(cp.Regions))]
	switch rng.Intn(3) {
	case 0:
		r.RDSErr = "throttled"
		cp.RDS = slices.DeleteFunc(slices.Clone(set.RDS), func(i sources.RDSInstance) bool { return i.Region == r.Name })
	case 1:
		r.ECSErr = "unreachable"
		cp.ECS = slices.DeleteFunc(slices.Clone(set.ECS), func(e sources.ECSService) bool { return e.Region == r.Name })
	default:
		r.MetricsErr = "access denied"
	}
	return &cp
}

// paneKeys are the key presses of the list bindings and the pane's own
// (and some typing for the filter prompt).
func paneKeys(km keymap.KeyMap, title string) []tea.KeyPressMsg {
	own := map[string][][]key.Binding{"Postgres": km.Postgres.FullHelp(), "Alerts": km.Alerts.FullHelp(),
		"Rollouts": km.Rollouts.FullHelp(), "AWS": km.Rollouts.FullHelp()}
	var bs []key.Binding
	for _, g := range [][][]key.Binding{km.List.FullHelp(), own[title], own[title]} {
		for _, col := range g {
			bs = append(bs, col...)
		}
	}
	named := map[string]tea.KeyPressMsg{
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "space": {Code: tea.KeySpace, Text: " "},
		"backspace": {Code: tea.KeyBackspace}, "down": {Code: tea.KeyDown}, "up": {Code: tea.KeyUp},
		"pgdown": {Code: tea.KeyPgDown}, "pgup": {Code: tea.KeyPgUp}, "home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd},
	}
	var out []tea.KeyPressMsg
	for _, b := range bs {
		for _, k := range b.Keys() {
			if m, ok := named[k]; ok {
				out = append(out, m)
			} else if r, n := utf8.DecodeRuneInString(k); n == len(k) {
				out = append(out, tea.KeyPressMsg{Code: r, Text: k})
			}
		}
	}
	for _, r := range "apgi:" {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// TestSessionsShareTheJoinedScreen: two sessions of one world in the same
// state get one joined screen body (the same string, not two copies);
// once one of them moves, each shows what a session drawing alone shows.
func TestSessionsShareTheJoinedScreen(t *testing.T) {
	e := newEnv(t, true)
	e.opts.Look.Blocks = kit.NewBlocks()
	a, b := e.model(200, 60), e.model(200, 60)
	ra, rb := a.Render(), b.Render()
	if ra != rb {
		t.Fatal("two sessions in one state render differently")
	}
	if unsafe.StringData(a.rc.bodyStr) != unsafe.StringData(b.rc.bodyStr) {
		t.Error("the joined body was made twice")
	}
	if unsafe.StringData(ra) != unsafe.StringData(rb) {
		t.Error("the screen was made twice")
	}
	draws, shared := e.opts.Look.Blocks.Counts()
	if shared < 5 || draws > 5 {
		t.Errorf("%d blocks drawn, %d shared: want each pane drawn once", draws, shared)
	}
	alone := e.opts
	alone.Look.Blocks = nil
	c := New(alone)
	cm, _ := c.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	cm, _ = cm.Update(SnapshotsMsg{Snapshots: uitest.AllSnaps()})
	c = cm.(Model)
	for _, keys := range [][]string{{"3", "j", "j"}, {"/", "a", "p", "p", "enter"}, {"tab", "enter"}} {
		b, _ = press(b, keys...)
		c, _ = press(c, keys...)
		a.Render()
		if got, want := b.Render(), c.Render(); got != want {
			t.Errorf("after %q the shared screen is not the session's own:\n%s\nwant\n%s", keys, ansi.Strip(got), ansi.Strip(want))
		}
	}
	if a.Render() != ra {
		t.Error("the other session's keys changed this one's screen")
	}
}

// TestSharedBlocksAcrossGoroutines: sessions run on goroutines of their
// own, so a shared block must never be written after it is handed out
// (go test -race): eight sessions draw the demo incident's panes through
// one Blocks at once, each checking every block against its own drawing.
func TestSharedBlocksAcrossGoroutines(t *testing.T) {
	clock := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	world := demo.NewWorld(demo.Options{Seed: 3, Speed: 5, Now: func() time.Time { return clock }})
	var frames [][]sources.Snapshot // each step's snapshots
	for step := range 40 {
		var snaps []sources.Snapshot
		for _, src := range world.Sources() {
			data, err := src.Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			snaps = append(snaps, sources.Snapshot{Source: src.Name(), Kind: src.Kind(), Data: data, Seq: uint64(step + 1), FetchedAt: clock})
		}
		frames = append(frames, snaps)
		clock = clock.Add(700 * time.Millisecond)
	}
	blocks := kit.NewBlocks()
	km, theme := keymap.DefaultKeyMap(), themes.MustGet("dark")
	done := make(chan []string, 8)
	for range 8 {
		go func() {
			var errs []string
			shared, alone := &kit.Env{Theme: theme, Keys: km, Blocks: blocks}, &kit.Env{Theme: theme, Keys: km}
			var ps, own []Pane
			for i, mk := range BuiltinPanes() {
				ps = append(ps, mk(kit.Slot{Env: shared, Key: strconv.Itoa(i + 1)}))
				own = append(own, mk(kit.Slot{Env: alone, Key: strconv.Itoa(i + 1)}))
			}
			for i := range ps {
				ps[i].SetSize(100, 30)
				own[i].SetSize(100, 30)
			}
			start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
			for step, snaps := range frames {
				now := start.Add(time.Duration(step) * 700 * time.Millisecond)
				shared.SetClock(now)
				alone.SetClock(now)
				for i := range ps {
					for _, s := range snaps {
						for _, p := range []Pane{ps[i], own[i]} {
							if slices.Contains(p.Kinds(), s.Kind) {
								p.SetSnapshot(s)
							}
							if r, ok := p.(Reader); ok && slices.Contains(r.Reads(), s.Kind) {
								r.Read(s)
							}
						}
					}
					if got, want := ps[i].View(i == 0), own[i].View(i == 0); !slices.Equal(got, want) {
						errs = append(errs, fmt.Sprintf("%s, step %d: the shared block differs", ps[i].Title(), step))
					}
				}
			}
			done <- errs
		}()
	}
	for range 8 {
		for _, e := range <-done {
			t.Error(e)
		}
	}
	if _, shared := blocks.Counts(); shared == 0 {
		t.Error("no block was shared")
	}
}
