package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/charmbracelet/colorprofile"

	"flightdeck/config"
	"flightdeck/keymap"
	"flightdeck/ops"
	"flightdeck/record"
	"flightdeck/runbook"
	"flightdeck/sources"
	"flightdeck/sources/demo"
	"flightdeck/termcap"
	"flightdeck/themes"
	"flightdeck/together"
	"flightdeck/ui"
	"flightdeck/ui/views/crew"
)

// World is what one flightdeck process builds once and every session
// shares: the hub polling each source (so N viewers cost the upstreams what
// one does), the capabilities the ops handlers act through, the audit
// journal, the policy, the keymap and the facts from config. The local
// terminal is one session on it; flightdeck serve makes one per SSH
// connection.
type World struct {
	hub       *sources.Hub
	caps      ops.Capabilities
	journal   *ops.Journal // nil in a read-only world: no session may act
	auditPath string
	policy    ops.Policy
	keys      keymap.KeyMap
	log       *slog.Logger
	panes     ui.PaneSetup // which panes have no source, which are hidden

	environment string
	production  bool
	operator    string // config's operator: the local session's identity when set
	theme       string
	ascii       bool
	demo        bool
	readOnly    bool

	// shared is what sessions share besides the data, once
	// ShareSessions made it; nil for the one local session.
	shared *shared
	// The flight recorder (world_record.go) writes beside the journal;
	// recorder is nil, and recorderErr says why, when it could not open.
	eventsPath  string
	recorder    *record.Recorder
	recorderErr error
	runbooks    *runbook.Set
	// repaired says what opening the journals repaired (a side file
	// keeps what was cut off); every session's status bar shows it.
	repaired []string

	// timelines is the loaded timeline every session's `t` shares.
	timelines *record.Timelines
	// team is notifications, roles and notes, the two-person rule's
	// co-sign requests and break-glass (teamwork.go).
	team teamwork

	closers []func()
}

// shared is the world's registries of its sessions: who is connected, what
// they did, where each operator is looking.
type shared struct {
	presence  *together.Presence
	announcer *together.Announcer
	follow    *together.Views
}

type wireOptions struct {
	demo, readOnly bool
	log            *slog.Logger
}

// wire builds the world from the config: sources and the hub (or the demo
// incident), capabilities, the journal (unless read-only), policy, keymap.
// Nothing connects here; Start begins polling.
func wire(_ context.Context, cfg *config.Config, o wireOptions) (*World, error) {
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	w := &World{hub: sources.NewHub(o.log), caps: ops.Capabilities{}, log: o.log,
		environment: cfg.Environment, production: cfg.IsProduction(), operator: cfg.Operator,
		theme: cfg.Theme, ascii: cfg.ASCII, demo: o.demo, readOnly: o.readOnly}
	if o.demo {
		d := demo.NewWorld(demo.Options{Speed: demoSpeed()})
		for _, s := range d.Sources() {
			w.hub.Add(s, sources.PollOptions{Interval: demoInterval})
		}
		w.caps[d.Postgres().Name()] = d.Postgres()
		w.caps[d.Rollouts().Name()] = d.Rollouts()
		w.caps[d.Alerts().Name()] = d.Alerts()
		w.caps[d.AWS().Name()] = d.AWS()
	} else if err := w.addLiveSources(cfg, func(err error) { o.log.Warn("source unavailable", "err", err) }); err != nil {
		w.Close()
		return nil, err
	}

	w.panes = paneSetup(cfg, w.hub)
	w.keys = keymap.DefaultKeyMap()
	if err := keymap.ApplyOverrides(&w.keys, cfg.Keys); err != nil {
		w.Close()
		return nil, err // checkKeys already named the line at load time
	}
	if _, err := themes.ForEnv(cfg.Theme, nil); err != nil {
		w.Close()
		return nil, err
	}
	w.policy = policyFrom(cfg)
	// Demo actions and events go to their own journals so they never mix
	// with a real incident's timeline (journalPaths says where).
	w.auditPath, w.eventsPath = journalPaths(cfg, o.demo)
	w.timelines = record.NewTimelines(0, 0)
	// A broken runbook stops startup as a broken config does (config
	// check names its file, line and step).
	books, err := runbook.LoadAll(cfg.Runbooks)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.runbooks = books
	if !o.readOnly {
		j, err := ops.OpenJournal(w.auditPath)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("%v (fix audit.path, or run with --read-only)", err)
		}
		w.journal = j
		w.closers = append(w.closers, func() { j.Close() })
		for _, r := range j.Repairs() {
			w.log.Warn("audit journal repaired", "repair", r.String())
			w.repaired = append(w.repaired, "audit journal repaired: "+r.String())
		}
	}
	if err := w.setupTeamwork(cfg); err != nil {
		w.Close()
		return nil, err
	}
	w.openRecorder(cfg.Record)
	return w, nil
}

// Start begins polling every source, and the flight recorder; it returns
// at once.
func (w *World) Start(ctx context.Context) {
	w.hub.Start(ctx)
	w.startRecorder(ctx)
	w.startTeamwork(ctx)
}

// Wait blocks until the pollers have stopped (after Start's ctx ended).
func (w *World) Wait() { w.hub.Wait() }

// Close releases what the world opened (connections, the journal), last
// opened first. Call it after every session has ended.
func (w *World) Close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

// ShareSessions makes the world's sessions aware of each other: each
// session's header shows who is connected, every action's outcome is
// announced to all, and an observer can follow an operator. flightdeck
// serve calls it once and hands the same registries to the SSH server,
// which joins and leaves sessions; the local terminal, alone, does not.
func (w *World) ShareSessions() (*together.Presence, *together.Announcer, *together.Views) {
	if w.shared == nil {
		w.shared = &shared{presence: together.NewPresence(), announcer: together.NewAnnouncer(), follow: together.NewViews()}
		w.shareTeamwork()
	}
	return w.shared.presence, w.shared.announcer, w.shared.follow
}

// SessionInfo is who one cockpit is for and what its terminal says.
type SessionInfo struct {
	// ID names the session among those sharing the world (serve's session
	// ID); "" for the local terminal.
	ID string
	// Context ends when the session does; its subscription to the hub is
	// released then. nil means context.Background().
	Context context.Context
	// User is who: user@host at the local terminal, the configured name of
	// an SSH key.
	User string
	// Fingerprint is the SSH key's fingerprint ("SHA256:…") when there is
	// one.
	Fingerprint string
	// Addr is where the session comes from: the SSH client's address, ""
	// for a terminal on this machine.
	Addr string
	// Identity, when set, is what the journal records as-is; otherwise it
	// is composed from User, Fingerprint and Addr.
	Identity string
	// ReadOnly makes an observer: the session gets no Executor.
	ReadOnly bool
	// Environ is the session's own environment ("NO_COLOR=1", "TERM=…",
	// "COLORTERM=…"): the process's for the local terminal, what the client
	// sent (with its pty's TERM) over SSH. Colours are decided from it.
	Environ []string
}

// identity is who the journal says acted: "alice (SHA256:…, ssh from
// 10.0.0.5:53122)", "oncall@bastion (ssh from 10.0.0.5)", "oncall@laptop".
func (s SessionInfo) identity() string {
	if s.Identity != "" {
		return s.Identity
	}
	who := s.User
	if who == "" {
		who = "unknown"
	}
	var where []string
	if s.Fingerprint != "" {
		where = append(where, s.Fingerprint)
	}
	if s.Addr != "" {
		where = append(where, "ssh from "+s.Addr)
	}
	if len(where) == 0 {
		return who
	}
	return who + " (" + strings.Join(where, ", ") + ")"
}

// LocalSession describes the person at this process's terminal: the OS
// user@host, noting the SSH client when the terminal came in over SSH
// ($SSH_CLIENT in environ), or config's operator when it names one.
func (w *World) LocalSession(ctx context.Context, environ []string) SessionInfo {
	info := SessionInfo{Context: ctx, User: ops.LocalOperator(), Environ: environ, ReadOnly: w.readOnly}
	if c := strings.Fields(lookupEnv(environ, "SSH_CLIENT")); len(c) > 0 {
		info.Addr = c[0]
	}
	if w.operator != "" {
		info.Identity = w.operator
	}
	return info
}

// errNoJournal is an operator session asked of a world built read-only.
var errNoJournal = errors.New("this flightdeck runs read-only: no session may act")

// NewSession builds one cockpit's options on the world: its identity, an
// Executor of its own (journaling under that identity, sharing the world's
// handlers, capabilities and journal) unless it is read-only, colours from
// its own environment, and a hub subscription that ends with its context.
// Pass the result to ui.New.
func (w *World) NewSession(info SessionInfo) (ui.Options, error) {
	ctx := info.Context
	if ctx == nil {
		ctx = context.Background()
	}
	getenv := func(k string) string { return lookupEnv(info.Environ, k) }
	theme, err := themes.ForEnv(w.theme, getenv)
	if err != nil {
		return ui.Options{}, err
	}
	// A terminal that shows no colour (TERM unset or dumb, a vt100,
	// NO_COLOR) would lose the selection and the criticality drawn in
	// colour: use the theme that keeps them as bold and reverse.
	if termcap.Profile(info.Environ) <= colorprofile.ASCII {
		theme = theme.WithNoColor()
	}
	if w.ascii {
		theme = theme.WithASCII()
	}
	identity := info.identity()
	readOnly := w.readOnly || info.ReadOnly
	var ex *ops.Executor
	if !readOnly {
		if w.journal == nil {
			return ui.Options{}, errNoJournal
		}
		xc := ops.Config{
			Environment: w.environment,
			Production:  w.production,
			Policy:      w.policy,
			Caps:        w.caps,
			Journal:     w.journal,
			Operator:    identity,
			Log:         w.log.With("operator", identity),
		}
		w.teamExecutor(&xc, info)
		ex = ops.NewExecutor(xc)
	}
	sub := w.hub.Subscribe()
	context.AfterFunc(ctx, sub.Close)
	var tg *crew.Together
	if w.shared != nil && info.ID != "" {
		tg = &crew.Together{Presence: w.shared.presence, Announcer: w.shared.announcer, Views: w.shared.follow,
			SessionID: info.ID, Name: info.User}
	}
	o := ui.Options{
		Context:  ctx,
		Together: tg,
		Identity: ui.Identity{Environment: w.environment, Production: w.production, Operator: identity,
			ReadOnly: readOnly, Demo: w.demo},
		Actions:  ui.Actions{Executor: ex, Policy: w.policy},
		Data:     ui.Data{Updates: sub, Refresh: w.hub.Refresh, Panes: w.panes},
		Look:     ui.Look{KeyMap: w.keys, Theme: theme},
		Journals: ui.Journals{AuditPath: w.auditPath},
		CoSign:   w.teamSession(info, identity, readOnly),
	}
	w.sessionRunbooks(&o, ex != nil, identity)
	return o, nil
}

// lookupEnv is the value of key in environ ("KEY=value" entries; the last
// wins, as in os/exec), "" when absent.
func lookupEnv(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
