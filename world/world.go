// Package world is what one flightdeck process builds once and every
// cockpit on it shares, and how one person's cockpit is made on it.
//
// Build maps the config onto backends (sources on a Hub, the capabilities
// the ops handlers act through), opens the audit journal and the flight
// recorder, loads the runbooks and fills in the policy and the keymap.
// NewSession then gives one person their cockpit: their identity, what
// they may act with (an Executor of their own, or none), their data (a Hub
// subscription), the journals they read, and, under flightdeck serve, the
// registries shared with the other sessions. Server is the serve adapter:
// an SSH server whose every session is a NewSession on the same World.
//
// Only package main imports world; world imports the packages below it
// (serve, ui, runbook, record, ops, sources/*, config) and none imports it.
package world

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
	"flightdeck/sources/logcount"
	"flightdeck/termcap"
	"flightdeck/themes"
	"flightdeck/together"
	"flightdeck/ui"
	"flightdeck/ui/kit"
	"flightdeck/ui/views/crew"
	"flightdeck/ui/views/runbooks"
)

// World is what one flightdeck process builds once and every session
// shares: the hub polling each source (so N viewers cost the upstreams what
// one does), the capabilities the ops handlers act through, the audit
// journal, the policy, the keymap and the facts from config. The local
// terminal is one session on it; flightdeck serve makes one per SSH
// connection.
type World struct {
	// ctx is Build's, or ends sooner by stop (Serve, Close): polling and
	// recording stop then, and a session given no context of its own ends
	// with it.
	ctx  context.Context
	stop context.CancelFunc
	hub  *sources.Hub
	// blocks are the pane blocks its sessions share (kit.Blocks): one
	// world's sessions agree on the key map, policy and data.
	blocks    *kit.Blocks
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

	// registries is what sessions share besides the data, once
	// ShareSessions made it; nil for the one local session.
	registries *sessionRegistries
	// The flight recorder (record.go) writes beside the journal;
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

// sessionRegistries are the world's registries of its sessions: who is
// connected, what they did, where each operator is looking.
type sessionRegistries struct {
	presence  *together.Presence
	announcer *together.Announcer
	follow    *together.Views
}

// Options are how the command line asks for the world.
type Options struct {
	// Demo builds the built-in demo incident instead of the configured
	// backends, with its own journals (JournalPaths).
	Demo bool
	// ReadOnly opens no journal and gives no session an Executor.
	ReadOnly bool
	// Log receives the world's records (sources, actions, the recorder);
	// nil discards them.
	Log *slog.Logger
}

// Build makes the world from the config: sources and the hub (or the demo
// incident), capabilities, the journal (unless read-only), policy, keymap.
// Nothing connects here; Start begins polling. ctx is the world's
// lifetime: polling and recording run until it ends, and a build that
// finds it ended stops and says why (a SIGTERM during startup).
func Build(ctx context.Context, cfg *config.Config, o Options) (*World, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(ctx)
	w := &World{ctx: ctx, stop: stop, hub: sources.NewHub(o.Log), blocks: kit.NewBlocks(), caps: ops.Capabilities{}, log: o.Log,
		environment: cfg.Environment, production: cfg.IsProduction(), operator: cfg.Operator,
		theme: cfg.Theme, ascii: cfg.ASCII, demo: o.Demo, readOnly: o.ReadOnly}
	if o.Demo {
		d := demo.NewWorld(demo.Options{Speed: demoSpeed()})
		for _, s := range d.Sources() {
			w.hub.Add(s, sources.PollOptions{Interval: demoInterval})
		}
		w.caps[d.Postgres().Name()] = d.Postgres()
		w.caps[d.Rollouts().Name()] = d.Rollouts()
		w.caps[d.Alerts().Name()] = d.Alerts()
		w.caps[d.AWS().Name()] = d.AWS()
	} else if err := w.addLiveSources(cfg, func(err error) { o.Log.Warn("source unavailable", "err", err) }); err != nil {
		w.Close()
		return nil, err
	}
	// The log sampler reads the logs runbook expressions count, through
	// the same readers as the log view, only while they are asked for.
	w.hub.Add(logcount.New(w.logReader, sources.LogWants, nil), sources.PollOptions{Interval: logcount.Interval, Timeout: logcount.Timeout})

	w.panes = paneSetup(cfg, w.hub)
	w.keys = keymap.DefaultKeyMap()
	if err := keymap.ApplyOverrides(&w.keys, cfg.Keys); err != nil {
		w.Close()
		return nil, err // CheckKeys already named the line at load time
	}
	if _, err := themes.ForEnv(cfg.Theme, nil); err != nil {
		w.Close()
		return nil, err
	}
	w.policy = policyFrom(cfg)
	// Demo actions and events go to their own journals so they never mix
	// with a real incident's timeline (JournalPaths says where).
	w.auditPath, w.eventsPath = JournalPaths(cfg, o.Demo)
	w.timelines = record.NewTimelines(0, 0)
	// A broken runbook stops startup as a broken config does (config
	// check names its file, line and step).
	books, err := runbook.LoadAll(cfg.Runbooks)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.runbooks = books
	for _, e := range unknownSinks(cfg, books) {
		w.log.Warn("runbook notify step", "problem", e.Error())
	}
	// Sources are constructed and the runbooks read; the journals are
	// opened next, and only when the world is still wanted.
	if err := ctx.Err(); err != nil {
		w.Close()
		return nil, err
	}
	if !o.ReadOnly {
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

// Start begins polling every source, and the flight recorder, until
// Build's context ends; it returns at once.
func (w *World) Start() {
	w.hub.Start(w.ctx)
	go w.sampleNewWants(w.ctx)
	w.startRecorder(w.ctx)
	w.startTeamwork(w.ctx)
}

// Wait blocks until the pollers have stopped (after Build's context ended).
func (w *World) Wait() { w.hub.Wait() }

// Close ends the world's context and releases what it opened
// (connections, the journal), last opened first. Call it after every
// session has ended.
func (w *World) Close() {
	if w.stop != nil { // nil in checkSources' world, which never runs
		w.stop()
	}
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
	if w.registries == nil {
		w.registries = &sessionRegistries{presence: together.NewPresence(), announcer: together.NewAnnouncer(), follow: together.NewViews()}
		w.shareTeamwork()
	}
	return w.registries.presence, w.registries.announcer, w.registries.follow
}

// SessionInfo is who one cockpit is for and what its terminal says.
type SessionInfo struct {
	// ID names the session among those sharing the world (serve's session
	// ID); "" for the local terminal.
	ID string
	// Context ends when the session does; its subscription to the hub is
	// released then. nil means the world's (Build's) context.
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

// identity is who the journal says acted, in the one form every session
// writes (together.Actor): "alice (SHA256:…) from 10.0.0.5:53122, session
// 7f3a09c1", "oncall@bastion from 10.0.0.5", "oncall@laptop".
func (s SessionInfo) identity() string {
	if s.Identity != "" {
		return s.Identity
	}
	return together.Actor{Name: s.User, Fingerprint: s.Fingerprint, Addr: s.Addr, Session: s.ID}.String()
}

// LocalSession describes the person at this process's terminal: the OS
// user@host, noting the SSH client when the terminal came in over SSH
// ($SSH_CLIENT in environ), or config's operator when it names one.
func (w *World) LocalSession(ctx context.Context, environ []string) SessionInfo {
	info := SessionInfo{Context: ctx, User: ops.LocalOperator(), Environ: environ, ReadOnly: w.readOnly}
	if c := strings.Fields(termcap.Lookup(environ, "SSH_CLIENT")); len(c) > 0 {
		info.Addr = c[0]
	}
	if w.operator != "" {
		info.Identity = w.operator
	}
	return info
}

// errNoJournal is an operator session asked of a world built read-only.
var errNoJournal = errors.New("this flightdeck runs read-only: no session may act")

// NewSession builds one cockpit on the world: its identity, an Executor of
// its own (journaling under that identity, sharing the world's handlers,
// capabilities and journal) unless it is read-only, colours from its own
// environment, and a hub subscription that ends with its context. Pass
// its Options to ui.New.
func (w *World) NewSession(info SessionInfo) (*Session, error) {
	ctx := info.Context
	if ctx == nil {
		ctx = w.ctx
	}
	getenv := func(k string) string { return termcap.Lookup(info.Environ, k) }
	theme, err := themes.ForEnv(w.theme, getenv)
	if err != nil {
		return nil, err
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
			return nil, errNoJournal
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
	if w.registries != nil && info.ID != "" {
		tg = &crew.Together{Presence: w.registries.presence, Announcer: w.registries.announcer, Views: w.registries.follow,
			SessionID: info.ID, Name: info.User}
	}
	s := &Session{
		Context:  ctx,
		Identity: Identity{ID: info.ID, User: info.User, Actor: identity, ReadOnly: readOnly},
		Actions:  Actions{Executor: ex, Policy: w.policy},
		Data:     Data{Updates: sub, Refresh: w.hub.Refresh},
		Journals: Journals{AuditPath: w.auditPath},
		Together: tg,
		Screen: Screen{Environment: w.environment, Production: w.production, Demo: w.demo,
			KeyMap: w.keys, Theme: theme, Panes: w.panes, Blocks: w.blocks},
	}
	s.CoSign = w.teamSession(info, identity, readOnly)
	w.sessionRunbooks(s)
	s.Logs = w.sessionLogs(s.Identity.Actor)
	return s, nil
}

// Options is the session as ui.New takes it.
func (s *Session) Options() ui.Options {
	return ui.Options{
		Context:  s.Context,
		Together: s.Together,
		Identity: ui.Identity{Environment: s.Screen.Environment, Production: s.Screen.Production,
			Operator: s.Identity.Actor, ReadOnly: s.Identity.ReadOnly, Demo: s.Screen.Demo},
		Actions: ui.Actions{Executor: s.Actions.Executor, Policy: s.Actions.Policy},
		Data:    ui.Data{Updates: s.Data.Updates, Refresh: s.Data.Refresh, Panes: s.Screen.Panes},
		Look:    ui.Look{KeyMap: s.Screen.KeyMap, Theme: s.Screen.Theme, Blocks: s.Screen.Blocks},
		Journals: ui.Journals{AuditPath: s.Journals.AuditPath, Timeline: s.Journals.Timeline,
			RecorderErr: s.Journals.RecorderErr, Burns: s.Journals.Burns, Notices: s.Journals.Notices},
		Runbooks: runbooks.Options{Set: s.Actions.Runbooks, Runs: s.Actions.Runs, Journal: s.Actions.RunJournal},
		Logs:     s.Logs,
		CoSign:   s.CoSign,
	}
}
