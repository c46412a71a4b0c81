package cosign

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"flightdeck/ops"
	"flightdeck/ops/opstest"
	"flightdeck/sources"
	"flightdeck/together"
	"flightdeck/ui/internal/uitest"
	"flightdeck/ui/kit"
)

// screen is the root as the feature sees it: a dialog stack and a status.
type screen struct {
	dialogs []kit.Dialog
	status  string
	bad     bool
}

func (s *screen) Pane() any                  { return nil }
func (s *screen) Shown() kit.View            { return nil }
func (s *screen) Views() []kit.View          { return nil }
func (s *screen) Status(text string, b bool) { s.status, s.bad = text, b }
func (s *screen) PushDialog(d kit.Dialog)    { s.dialogs = append(s.dialogs, d) }
func (s *screen) PopDialog()                 { s.dialogs = s.dialogs[:len(s.dialogs)-1] }
func (s *screen) Push(kit.View)              {}
func (s *screen) Keep(kit.View)              {}
func (s *screen) Close(string)               {}
func (s *screen) Focus(string) any           { return nil }
func (s *screen) Size() (w, h int)           { return 80, 24 }
func (s *screen) Dialog() kit.Dialog {
	if len(s.dialogs) == 0 {
		return nil
	}
	return s.dialogs[len(s.dialogs)-1]
}

// world is the shared part of several sessions: the AWS estate, the
// journal, the co-sign registry and board, the incident.
type world struct {
	aws      *opstest.FakeAWS
	j        *ops.Journal
	path     string
	cs       *ops.CoSigns
	board    *together.CoSigns
	incident *together.Incident
	clock    *opstest.Clock
}

func newWorld(t *testing.T) *world {
	w := &world{clock: opstest.NewClock(uitest.T0)}
	w.aws = opstest.NewFakeAWS(opstest.AWSEstate(uitest.T0))
	w.path = filepath.Join(t.TempDir(), "audit.jsonl")
	j, err := ops.OpenJournal(w.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	w.j = j
	w.board = together.NewCoSigns(nil)
	w.cs = ops.NewCoSigns(j, ops.CoSignOptions{Now: w.clock.Now, NoTimers: true, OnChange: w.board.Publish})
	w.incident = together.NewIncident(j.Append)
	return w
}

// session is one person's cockpit feature on w.
type session struct {
	f  *Feature
	ex *ops.Executor
	s  *screen
}

func (w *world) session(t *testing.T, name string, role together.Role) *session {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	signer := ops.Signer{Name: name, Fingerprint: "SHA256:" + name, Addr: "10.0.0.1:1"}
	var ex *ops.Executor
	if role.CanAct() {
		pol := ops.DefaultPolicy()
		pol.TwoPerson = ops.TwoPerson{Actions: []ops.Kind{ops.PromoteReplica}}
		ex = ops.NewExecutor(ops.Config{Environment: "production", Production: true, Policy: pol, Journal: w.j,
			Operator: signer.String(), Signer: signer, Now: w.clock.Now, Caps: ops.Capabilities{"aws": w.aws}, CoSigns: w.cs})
	}
	env := uitest.Env()
	f := New(env, ctx, &Options{Board: w.board, Incident: w.incident, Signer: signer, Identity: signer.String(), Role: role}, ex)
	se := &session{f: f, ex: ex, s: &screen{}}
	se.pump(t, f.Init())
	return se
}

// pump runs cmd and feeds what it answers back, one level of batching.
func (se *session) pump(t *testing.T, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	msg := cmd()
	var out []tea.Msg
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			if c != nil {
				out = append(out, se.deliver(t, c()))
			}
		}
		return out
	}
	return append(out, se.deliver(t, msg))
}

// deliver hands msg to the feature without waiting on the next Cmd it
// re-arms (that would block until the next change).
func (se *session) deliver(t *testing.T, msg tea.Msg) tea.Msg {
	t.Helper()
	se.f.Update(se.s, msg)
	return msg
}

// sync waits for the board's next publication in this session.
func (se *session) sync(t *testing.T) {
	t.Helper()
	se.deliver(t, se.f.boardCmd()())
}

func (se *session) key(t *testing.T, k string) tea.Cmd {
	t.Helper()
	msg := uitest.Key(k)
	if d := se.s.Dialog(); d != nil {
		next, cmd := d.Update(msg)
		se.s.dialogs = se.s.dialogs[:len(se.s.dialogs)-1]
		if next != nil {
			se.s.dialogs = append(se.s.dialogs, next)
		}
		return cmd
	}
	cmd, _ := se.f.Key(se.s, msg)
	return cmd
}

func (se *session) typeText(t *testing.T, s string) {
	for _, r := range s {
		se.key(t, string(r))
	}
}

func content(d kit.Dialog) string {
	dc := d.Content()
	var all []string
	all = append(all, dc.Head...)
	for _, s := range dc.Sections {
		all = append(all, s.Label)
		all = append(all, s.Items...)
	}
	all = append(all, dc.Tail...)
	return ansi.Strip(strings.Join(all, "\n"))
}

func (w *world) requestPromotion(t *testing.T, alice *session) ops.Result {
	t.Helper()
	in, ok := w.aws.Instance("us-west-2/nudgecampaign-dr-db")
	if !ok {
		t.Fatal("no DR replica in the estate")
	}
	p, err := alice.ex.Plan(context.Background(), ops.Request{Action: ops.PromoteReplica, Source: "aws", RDSInstance: &in})
	if err != nil {
		t.Fatal(err)
	}
	res := alice.ex.Execute(context.Background(), p, p.Phrase)
	if !res.Pending {
		t.Fatalf("promotion not pending: %+v", res)
	}
	return res
}

func TestCoSignBetweenSessions(t *testing.T) {
	w := newWorld(t)
	alice := w.session(t, "alice", together.Operator)
	carol := w.session(t, "carol", together.Operator)
	bob := w.session(t, "bob", together.Observer)
	res := w.requestPromotion(t, alice)
	for _, se := range []*session{alice, carol, bob} {
		se.sync(t)
	}
	// Every other session hears of it at once, header and status bar.
	if !strings.Contains(carol.s.status, "alice asks a second operator to co-sign Promote") || !strings.Contains(carol.s.status, "! to review") {
		t.Fatalf("carol's status = %q", carol.s.status)
	}
	if h := ansi.Strip(headerText(carol.f)); !strings.Contains(h, "CO-SIGN? alice: Promote") || !strings.Contains(h, "2m") {
		t.Fatalf("carol's header = %q", h)
	}
	if !strings.Contains(bob.s.status, "alice asks") || strings.Contains(bob.s.status, "to review") {
		t.Fatalf("bob's status = %q", bob.s.status)
	}
	if alice.s.status != "" {
		t.Fatalf("alice told of her own request: %q", alice.s.status)
	}
	// The observer sees it and cannot co-sign: typing does nothing.
	bob.key(t, "!")
	bob.f.env.SetClock(uitest.T0.Add(time.Second))
	if c := content(bob.s.Dialog()); !strings.Contains(c, "an observer cannot co-sign") || !strings.Contains(c, "nudgecampaign-dr-db") {
		t.Fatalf("bob's dialog:\n%s", c)
	}
	bob.typeText(t, "nudgecampaign-dr-db")
	if cmd := bob.key(t, "enter"); cmd != nil {
		t.Fatal("an observer's enter did something")
	}
	// Alice, on her own request, is told she cannot co-sign it.
	alice.key(t, "!")
	alice.f.env.SetClock(uitest.T0.Add(time.Second))
	if c := content(alice.s.Dialog()); !strings.Contains(c, "nobody co-signs their own") {
		t.Fatalf("alice's dialog:\n%s", c)
	}
	alice.key(t, "esc")
	// Carol sees the preview and the live state, and co-signs.
	carol.key(t, "!")
	carol.f.env.SetClock(uitest.T0.Add(time.Second))
	carol.deliver(t, kit.SnapshotsMsg{Snapshots: []sources.Snapshot{uitest.Snap("aws", sources.KindAWS, uitest.AWS(), time.Second)}})
	c := content(carol.s.Dialog())
	for _, want := range []string{"alice asks: Promote", "planned:", "now:     us-west-2/nudgecampaign-dr-db replica", "two-person rule", "type nudgecampaign-dr-db to co-sign"} {
		if !strings.Contains(c, want) {
			t.Errorf("carol's dialog lacks %q:\n%s", want, c)
		}
	}
	carol.typeText(t, "nudgecampaign-dr-db")
	cmd := carol.key(t, "enter")
	if cmd == nil {
		t.Fatal("carol's co-signature did nothing")
	}
	msg, ok := cmd().(kit.ResultMsg)
	if !ok || !msg.Result.OK {
		t.Fatalf("co-sign result = %+v", msg)
	}
	if fin := alice.ex.AwaitCoSign(context.Background(), res); !fin.OK {
		t.Fatalf("alice learns %+v", fin)
	}
	recs, err := ops.ReadJournal(w.path)
	if err != nil {
		t.Fatal(err)
	}
	intent := recs[2]
	if intent.Phase != "intent" || len(intent.Signers) != 2 || intent.Signers[0].Name != "alice" || intent.Signers[1].Name != "carol" {
		t.Fatalf("journal = %+v", recs)
	}
}

func TestRequesterWithdrawsFromTheDialog(t *testing.T) {
	w := newWorld(t)
	alice := w.session(t, "alice", together.Operator)
	w.requestPromotion(t, alice)
	alice.sync(t)
	alice.key(t, "!")
	alice.f.env.SetClock(uitest.T0.Add(time.Second))
	alice.typeText(t, "withdraw")
	cmd := alice.key(t, "enter")
	alice.deliver(t, cmd())
	if alice.s.status != "Promote read replica nudgecampaign-dr-db: co-sign request withdrawn" && !strings.Contains(alice.s.status, "withdrawn") {
		t.Fatalf("status = %q", alice.s.status)
	}
	if l := w.cs.List(); l[0].State != ops.CoSignWithdrawn {
		t.Fatalf("request = %+v", l[0])
	}
}

func TestNotesAndCommand(t *testing.T) {
	w := newWorld(t)
	alice := w.session(t, "alice", together.Operator)
	bob := w.session(t, "bob", together.Observer)
	alice.deliver(t, alice.key(t, "@")())
	if alice.s.status != "you command the incident" {
		t.Fatalf("status %q", alice.s.status)
	}
	bob.deliver(t, bob.f.incidentCmd()())
	if h := ansi.Strip(headerText(bob.f)); !strings.Contains(h, "CMD alice") {
		t.Fatalf("bob's header = %q", h)
	}
	bob.key(t, "@")
	if !bob.s.bad || !strings.Contains(bob.s.status, "observer cannot command") {
		t.Fatalf("bob's command = %q", bob.s.status)
	}
	bob.key(t, "n")
	bob.f.env.SetClock(uitest.T0.Add(time.Second))
	bob.typeText(t, "customer emails paused")
	bob.key(t, "tab")
	bob.deliver(t, bob.key(t, "enter")())
	if bob.s.status != "note added: customer emails paused" {
		t.Fatalf("bob's note: %q", bob.s.status)
	}
	recs, _ := ops.ReadJournal(w.path)
	if len(recs) != 2 || recs[1].Phase != "note_announced" || recs[1].Session.Who.Name != "bob" {
		t.Fatalf("journal = %+v", recs)
	}
}

func TestCommanderHandsOver(t *testing.T) {
	w := newWorld(t)
	presence := together.NewPresence()
	presence.Join(together.Member{ID: "a", Name: "alice", Role: together.Operator})
	presence.Join(together.Member{ID: "b", Name: "bob", Role: together.Observer})
	presence.Join(together.Member{ID: "c", Name: "carol", Role: together.Operator, Addr: "10.0.0.7:1"})
	alice := w.session(t, "alice", together.Operator)
	alice.f.o.Presence = presence
	alice.f.roster = presence.Subscribe()
	alice.deliver(t, alice.f.rosterCmd()())
	alice.deliver(t, alice.key(t, "@")())
	alice.deliver(t, alice.f.incidentCmd()())
	// As commander, @ offers the other operators only.
	alice.key(t, "@")
	alice.f.env.SetClock(uitest.T0.Add(time.Second))
	c := content(alice.s.Dialog())
	if !strings.Contains(c, "carol") || strings.Contains(c, "bob") || strings.Contains(c, "alice") {
		t.Fatalf("hand-over picker:\n%s", c)
	}
	alice.deliver(t, alice.key(t, "enter")())
	if alice.s.status != "command handed to carol" {
		t.Fatalf("status %q", alice.s.status)
	}
	if st := w.incident.State(); st.Commander != "carol" {
		t.Fatalf("commander = %q", st.Commander)
	}
	recs, _ := ops.ReadJournal(w.path)
	if len(recs) != 2 || recs[1].Details[0] != "alice hands command to carol" || recs[1].Session.To != "carol" {
		t.Fatalf("journal = %+v", recs)
	}
}

func TestOffWithoutOptions(t *testing.T) {
	env := uitest.Env()
	if f := New(env, context.Background(), nil, nil); f != nil {
		t.Fatal("a feature without options")
	}
	g := env.Keys.Global
	if g.CoSign.Enabled() || g.Note.Enabled() || g.Commander.Enabled() {
		t.Fatal("keys left on with nothing behind them")
	}
}

func TestWorldNewsInTheStatusBar(t *testing.T) {
	news := together.NewAnnouncer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := New(uitest.Env(), ctx, &Options{News: news}, nil)
	s := &screen{}
	cmd := f.newsCmd()
	news.Announce(together.Announcement{From: "flightdeck", Text: `notify incidents: "x" not delivered after 3 attempt(s)`, Failed: true})
	f.Update(s, cmd())
	if !s.bad || s.status != `flightdeck: notify incidents: "x" not delivered after 3 attempt(s)` {
		t.Fatalf("status %q bad=%v", s.status, s.bad)
	}
}

// headerText is the feature's header notes as one line.
func headerText(f *Feature) string {
	var parts []string
	for _, g := range f.HeaderNotes() {
		parts = append(parts, strings.Join(g, " · "))
	}
	return strings.Join(parts, "  ")
}
