// Package logs is the log view: the logs of a deployment's pods (or an
// ECS service's CloudWatch streams), the last lines of each merged by
// time, each tagged with its pod and container; following, paused, the
// previous containers, a filter and a level highlight. Reading runs in a
// goroutine a Cmd starts (sources.LogReader), its batches come back as
// messages; the view keeps a bounded buffer and draws only the lines on
// screen. One log view at a time: opening another closes the first and
// stops its reading. Feature is a kit.Feature; the view a kit.View.
package logs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// viewID is fixed: one log view at a time.
const viewID = "logs"

// DefaultCap is how many lines the view keeps when Options.Cap is 0.
const DefaultCap = 5000

// maxNotices is how many of the readers' notices the view keeps.
const maxNotices = 3

// Target is what a pane whose rows have logs implements: the query for
// the selected row's logs.
type Target interface {
	LogQuery() (sources.LogQuery, bool)
}

// PinMsg is a pinned excerpt of the log view, for the incident timeline:
// what was read, the filter, and the lines on screen.
type PinMsg struct {
	Target string
	Filter string
	At     time.Time
	Lines  []string
}

// Options configure the feature.
type Options struct {
	// Readers find the log reader of a source by name ("kube", "aws");
	// nil or a nil answer means the source has no logs.
	Readers func(source string) sources.LogReader
	// Cap is how many lines the view keeps (0: DefaultCap).
	Cap int
	// Pin receives an excerpt pinned with the pin key; nil means pinning
	// is off (no recorder).
	Pin func(PinMsg) tea.Cmd
}

// Feature is the logs key and the owner of the one log view.
type Feature struct {
	env  *kit.Env
	ctx  context.Context
	opts Options
	cur  *view
	// targets are the log queries of every deployment and ECS service in
	// the latest snapshots, by key, for kit.ShowLogsMsg; bySource keeps
	// each source's so one source's snapshot replaces only its own.
	bySource map[string]map[string]sources.LogQuery
}

// New is the log feature of a session whose context is ctx.
func New(env *kit.Env, ctx context.Context, o Options) *Feature {
	if o.Cap <= 0 {
		o.Cap = DefaultCap
	}
	return &Feature{env: env, ctx: ctx, opts: o}
}

// Key answers the logs key over a pane that has logs.
func (f *Feature) Key(s kit.Screen, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if !key.Matches(msg, f.env.Keys.Rollouts.Logs) || s.Shown() != nil {
		return nil, false
	}
	t, ok := s.Pane().(Target)
	if !ok {
		return nil, false
	}
	q, ok := t.LogQuery()
	if !ok {
		s.Status("no logs: select a deployment first", true)
		return nil, true
	}
	return f.open(s, q, ""), true
}

// Update keeps the log targets of each snapshot and opens the view for a
// kit.ShowLogsMsg.
func (f *Feature) Update(s kit.Screen, msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case kit.SnapshotsMsg:
		for _, snap := range m.Snapshots {
			f.learn(snap)
		}
	case kit.ShowLogsMsg:
		for _, src := range f.bySource {
			if q, ok := src[m.Target]; ok {
				return f.open(s, q, m.Filter)
			}
		}
		s.Status("no logs for "+m.Target+": no deployment or ECS service of that name in the latest snapshots", true)
	}
	return nil
}

// learn takes the log targets of a snapshot with data.
func (f *Feature) learn(snap sources.Snapshot) {
	switch snap.Data.(type) {
	case *sources.RolloutSet, *sources.AWSSet:
	default:
		return
	}
	qs := sources.LogQueries(snap)
	if f.bySource == nil {
		f.bySource = map[string]map[string]sources.LogQuery{}
	}
	f.bySource[snap.Source] = qs
}

func (f *Feature) open(s kit.Screen, q sources.LogQuery, filter string) tea.Cmd {
	var r sources.LogReader
	if f.opts.Readers != nil {
		r = f.opts.Readers(q.Source)
	}
	if r == nil {
		s.Status("no logs: source "+q.Source+" cannot read logs", true)
		return nil
	}
	if f.cur != nil {
		f.cur.stop()
	}
	q.Follow = true
	v := &view{env: f.env, parent: f.ctx, reader: r, q: q, buf: buffer{cap: f.opts.Cap}, pin: f.opts.Pin}
	if m, err := newMatcher(filter); err == nil {
		v.filter = filter
		v.buf.setFilter(m)
	}
	f.cur = v
	s.Close(viewID)
	s.Push(v)
	return v.start()
}

// batchMsg is one batch of the reading gen of view v; end says the
// reading is over.
type batchMsg struct {
	v     *view
	gen   int
	batch sources.LogBatch
	end   bool
}

// view is the log view on screen.
type view struct {
	env    *kit.Env
	parent context.Context
	reader sources.LogReader
	q      sources.LogQuery
	pin    func(PinMsg) tea.Cmd

	cancel context.CancelFunc
	gen    int
	ch     chan sources.LogBatch
	// reading is false once the reader returned (not following, or failed).
	reading bool

	buf buffer
	// While paused, batches wait in held (bounded by the cap too).
	paused  bool
	held    []entry
	notices []string
	err     error

	filter    string
	filterErr error
	editing   bool
	edit      string

	// off is how many shown lines lie below the window: 0 keeps the
	// newest in view.
	off   int
	cache kit.Cache
	w, h  int
}

// start begins a reading (q as it is now) in a goroutine; batches come
// back through waitCmd.
func (v *view) start() tea.Cmd {
	v.stop()
	ctx, cancel := context.WithCancel(v.parent)
	v.cancel = cancel
	v.gen++
	v.reading = true
	ch := make(chan sources.LogBatch, 8)
	v.ch = ch
	r, q := v.reader, v.q
	gen := v.gen
	return func() tea.Msg {
		go func() {
			defer close(ch)
			_ = r.ReadLogs(ctx, q, func(b sources.LogBatch) {
				select {
				case ch <- b:
				case <-ctx.Done():
				}
			})
		}()
		return waitBatch(v, gen, ch)()
	}
}

// waitBatch waits for the next batch of reading gen.
func waitBatch(v *view, gen int, ch <-chan sources.LogBatch) tea.Cmd {
	return func() tea.Msg {
		b, ok := <-ch
		return batchMsg{v: v, gen: gen, batch: b, end: !ok}
	}
}

// stop ends the reading in progress, if any.
func (v *view) stop() {
	if v.cancel != nil {
		v.cancel()
		v.cancel = nil
	}
}

// ID is fixed: one log view at a time.
func (v *view) ID() string { return viewID }

// Title names the view in help.
func (v *view) Title() string { return "Logs" }

// SetSnapshot: logs come from their reader, not the snapshots.
func (v *view) SetSnapshot(sources.Snapshot) {}

// CapturesKeys while the filter is typed.
func (v *view) CapturesKeys() bool { return v.editing }

// Update takes batches and keys.
func (v *view) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case batchMsg:
		if msg.v != v || msg.gen != v.gen {
			return nil
		}
		if msg.end {
			v.reading = false
			v.cache.Touch()
			return nil
		}
		v.take(msg.batch)
		return waitBatch(v, v.gen, v.ch)
	case tea.KeyPressMsg:
		v.cache.Touch()
		if v.editing {
			return v.editKey(msg)
		}
		return v.key(msg)
	}
	return nil
}

// take adds a batch: to the buffer, or held while paused.
func (v *view) take(b sources.LogBatch) {
	v.cache.Touch()
	if b.Err != nil {
		v.err = b.Err
	}
	for _, n := range b.Notices {
		v.notices = append(v.notices, n)
	}
	if len(v.notices) > maxNotices {
		v.notices = v.notices[len(v.notices)-maxNotices:]
	}
	es := make([]entry, len(b.Lines))
	for i, l := range b.Lines {
		es[i] = newEntry(l)
	}
	if v.paused {
		v.held = append(v.held, es...)
		if over := len(v.held) - v.buf.cap; over > 0 {
			v.buf.dropped += over
			v.held = v.held[over:]
		}
		return
	}
	v.addLines(es)
}

func (v *view) addLines(es []entry) {
	before := v.buf.count()
	v.buf.add(es)
	if v.off > 0 { // scrolled up: the window stays on the same lines
		v.off = max(0, v.off+v.buf.count()-before)
	}
}

func (v *view) key(msg tea.KeyPressMsg) tea.Cmd {
	k := v.env.Keys
	page := max(1, v.rows()-1)
	switch {
	case key.Matches(msg, k.List.Up):
		v.scroll(1)
	case key.Matches(msg, k.List.Down):
		v.scroll(-1)
	case key.Matches(msg, k.List.PageUp):
		v.scroll(page)
	case key.Matches(msg, k.List.PageDn):
		v.scroll(-page)
	case key.Matches(msg, k.List.Top):
		v.off = max(0, v.buf.count()-v.rows())
	case key.Matches(msg, k.List.Bottom):
		v.off = 0
	case key.Matches(msg, k.List.Filter):
		v.editing, v.edit = true, v.filter
	case key.Matches(msg, k.Logs.Pause):
		v.paused = !v.paused
		if !v.paused {
			held := v.held
			v.held = nil
			v.addLines(held)
		}
	case key.Matches(msg, k.Logs.Follow):
		if v.q.Previous {
			return nil // a previous container has no new lines
		}
		v.q.Follow = !v.q.Follow
		if v.q.Follow {
			return v.restart()
		}
		v.stop()
		v.reading = false
	case key.Matches(msg, k.Logs.Previous):
		v.q.Previous = !v.q.Previous
		v.q.Follow = !v.q.Previous
		return v.restart()
	case key.Matches(msg, k.Logs.Pin):
		return v.pinCmd()
	}
	return nil
}

// restart reads anew with the current query: the buffer starts empty.
func (v *view) restart() tea.Cmd {
	m := v.buf.filter
	v.buf = buffer{cap: v.buf.cap}
	v.buf.setFilter(m)
	v.held, v.notices, v.err, v.off, v.paused = nil, nil, nil, 0, false
	return v.start()
}

func (v *view) editKey(msg tea.KeyPressMsg) tea.Cmd {
	k := v.env.Keys
	switch {
	case key.Matches(msg, k.Dialog.Close):
		v.editing = false
	case key.Matches(msg, k.Dialog.Submit):
		m, err := newMatcher(v.edit)
		v.filterErr = err
		if err == nil {
			v.editing, v.filter, v.off = false, v.edit, 0
			v.buf.setFilter(m)
		}
	case msg.Code == tea.KeyBackspace:
		if r := []rune(v.edit); len(r) > 0 {
			v.edit = string(r[:len(r)-1])
		}
	case kit.Types(msg):
		if len(v.edit) < 200 {
			v.edit += msg.Text
		}
	}
	return nil
}

// pinCmd pins the lines on screen (at most a screenful) into the
// timeline.
func (v *view) pinCmd() tea.Cmd {
	if v.pin == nil {
		return func() tea.Msg { return kit.StatusMsg{Text: "pin: this session has no flight recorder", Bad: true} }
	}
	from, to := v.window()
	if from == to {
		return func() tea.Msg { return kit.StatusMsg{Text: "pin: no lines on screen", Bad: true} }
	}
	p := PinMsg{Target: v.q.Target, Filter: v.filter, At: v.env.Exact()}
	for i := from; i < to; i++ {
		p.Lines = append(p.Lines, lineText(v.buf.at(i)))
	}
	return v.pin(p)
}

// lineText is a line as a pinned excerpt keeps it.
func lineText(e *entry) string {
	return e.At.UTC().Format("15:04:05.000") + " [" + e.tag + "] " + e.Text
}

func (v *view) rows() int { return max(1, v.h-3) }

func (v *view) scroll(d int) {
	v.off = max(0, min(v.off+d, v.buf.count()-v.rows()))
}

// window is the range of shown lines on screen.
func (v *view) window() (from, to int) {
	n := v.buf.count()
	v.off = max(0, min(v.off, n-v.rows()))
	to = n - v.off
	from = max(0, to-v.rows())
	return from, to
}

// ShortHelp is the status bar's hints while the view is shown.
func (v *view) ShortHelp() []key.Binding {
	k := v.env.Keys
	return []key.Binding{k.Logs.Pause, k.Logs.Previous, k.List.Filter, k.Logs.Follow, k.Logs.Pin, k.List.Back}
}

// FullHelp is the view's section of the help overlay.
func (v *view) FullHelp() [][]key.Binding {
	k := v.env.Keys
	return [][]key.Binding{{k.List.Up, k.List.Down, k.List.PageUp, k.List.PageDn, k.List.Top, k.List.Bottom},
		{k.Logs.Pause, k.Logs.Previous, k.Logs.Follow, k.Logs.Pin, k.List.Filter, k.List.Back}}
}

// View draws the lines on screen, and nothing else.
func (v *view) View(w, h int) []string {
	v.w, v.h = w, h
	return v.cache.Block(v.env, true, w, h, v.draw)
}

func (v *view) draw(bool) []string {
	th := v.env.Theme
	ell := th.Ellipsis
	inner := max(1, v.w-2)
	// The status line: what is read and how, the filter, what the readers
	// said last.
	var mode []string
	switch {
	case v.q.Previous:
		mode = append(mode, "previous containers")
	case v.q.Follow && v.reading:
		mode = append(mode, "following")
	case v.reading:
		mode = append(mode, "reading")
	default:
		mode = append(mode, "stopped")
	}
	if v.paused {
		mode = append(mode, fmt.Sprintf("PAUSED (%d new held)", len(v.held)))
	}
	status := strings.Join(mode, " · ")
	switch {
	case v.editing:
		status = "filter: " + v.edit + "▏"
		if v.filterErr != nil {
			status += "  " + v.filterErr.Error()
		}
	case v.filter != "":
		status += fmt.Sprintf(" · filter %s: %d of %d lines", v.filter, v.buf.count(), len(v.buf.lines))
	}
	if len(v.notices) > 0 {
		status += " · " + v.notices[len(v.notices)-1]
	}
	body := []string{th.Paints.Muted.Render(kit.Fit(status, inner, ell))}
	if v.err != nil {
		body[0] = th.Paints.Error.Render(kit.Fit("logs: "+v.err.Error(), inner, ell))
	}
	from, to := v.window()
	for i := from; i < to; i++ {
		e := v.buf.at(i)
		stamp := e.At.UTC().Format("15:04:05.000")
		if e.At.IsZero() {
			stamp = strings.Repeat(" ", 12)
		}
		line := kit.Fit(stamp+" "+kit.Fit(e.tag, 22, ell)+" "+e.Text, inner, ell)
		switch e.level {
		case levelCrit:
			line = th.Paints.Crit.Render(line)
		case levelError:
			line = th.Paints.Warn.Render(line)
		}
		body = append(body, line)
	}
	if to == 0 && v.err == nil {
		body = append(body, th.Paints.Muted.Render("no lines yet"))
	}
	footer := fmt.Sprintf("%d lines", v.buf.count())
	if to > 0 {
		footer = fmt.Sprintf("lines %d–%d of %d", from+1, to, v.buf.count())
	}
	if v.buf.dropped > 0 {
		footer += fmt.Sprintf(" · %d older dropped (cap %d)", v.buf.dropped, v.buf.cap)
	}
	return kit.Frame(th, "Logs · "+v.q.Target, footer, true, v.w, v.h, body)
}
