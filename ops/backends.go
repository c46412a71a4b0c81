package ops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
)

// The Postgres backend actions.
const (
	Cancel    Kind = "cancel"    // pg_cancel_backend
	Terminate Kind = "terminate" // pg_terminate_backend (one or many = bulk)
)

// BackendSignaler is what the backend actions need from a Postgres source.
type BackendSignaler interface {
	// LookupBackends returns the live rows of these pids (absent when gone),
	// with Self set for the source's own connections.
	LookupBackends(ctx context.Context, pids []int32) ([]sources.Backend, error)
	// SignalBackend cancels (terminate=false) or terminates pid, but only if
	// its backend_start still equals start, checked in the same statement.
	// matched=false means the pid is gone or now belongs to another backend.
	// It must never be retried by the caller: a signal is not idempotent.
	SignalBackend(ctx context.Context, pid int32, start time.Time, terminate bool) (matched bool, err error)
}

// backendsHandler cancels and terminates Postgres backends. A target is
// pinned by pid + backend_start, since pids are reused.
type backendsHandler struct{}

func (backendsHandler) Area() sources.Kind { return sources.KindPostgres }

func (backendsHandler) Kinds() []KindSpec {
	return []KindSpec{{Cancel, "Cancel query"}, {Terminate, "Terminate backend"}}
}

// CheckBackend says why a backend may not be signalled, "" when it may.
func (p Policy) CheckBackend(b sources.Backend) string {
	switch {
	case b.Self:
		return fmt.Sprintf("pid %d is flightdeck's own connection", b.PID)
	case b.Hidden || b.BackendStart.IsZero():
		// Without backend_start the pid cannot be pinned: it may be reused
		// by the time the signal is sent.
		return fmt.Sprintf("pid %d is hidden from this role (needs pg_monitor): its identity cannot be checked", b.PID)
	case !b.IsClient():
		return fmt.Sprintf("pid %d is a %s, not a client backend", b.PID, b.BackendType)
	case b.LeaderPID != 0 && b.LeaderPID != b.PID:
		return fmt.Sprintf("pid %d is a parallel worker of %d; act on the leader", b.PID, b.LeaderPID)
	case protected(p.ProtectedRoles, b.User):
		return fmt.Sprintf("role %q is protected by policy", b.User)
	case protected(p.ProtectedApps, b.Application):
		return fmt.Sprintf("application %q is protected by policy", b.Application)
	}
	return ""
}

func (backendsHandler) Check(pol Policy, req Request, _ CheckScope) error {
	if len(req.Backends) == 0 {
		return refuse(ErrInvalid, "no backend selected")
	}
	if err := pol.CheckTargetCount(len(req.Backends)); err != nil {
		return err
	}
	for _, b := range req.Backends {
		if why := pol.CheckBackend(b); why != "" {
			return refuse(ErrPolicy, why)
		}
		// The server ignores a cancel sent to a backend with nothing
		// running, so offering it would be a confirm dialog for a no-op.
		if req.Action == Cancel && (b.State == "idle" || strings.HasPrefix(b.State, "idle in transaction")) {
			return refuse(ErrInvalid, fmt.Sprintf("pid %d is %s: no running query to cancel (terminate ends the session)", b.PID, b.State))
		}
	}
	return nil
}

func (backendsHandler) Plan(_ context.Context, env Env, req Request, p *Plan) error {
	if _, err := Capability[BackendSignaler](env, "signal backends"); err != nil {
		return err
	}
	verb := string(req.Action)
	for _, b := range req.Backends {
		p.Targets = append(p.Targets, Target{
			ID:       "pid " + strconv.Itoa(int(b.PID)),
			Identity: backendIdentity(b),
			Detail:   describeBackend(b, env.Now()),
			Seen:     seenBackend(b),
			Subject:  b,
		})
	}
	if len(req.Backends) == 1 {
		pid := strconv.Itoa(int(req.Backends[0].PID))
		p.Title = req.Action.Title() + " " + pid
		p.Phrase = pid
		if req.Action == Cancel {
			p.Risk = Low
			p.Preview = []string{"pg_cancel_backend(" + pid + "): the running query is cancelled, the session stays"}
		} else {
			p.Preview = []string{"pg_terminate_backend(" + pid + "): the session is closed, its transaction rolled back"}
		}
	} else {
		n := strconv.Itoa(len(req.Backends))
		p.Title = fmt.Sprintf("%s %s backends", strings.ToUpper(verb[:1])+verb[1:], n)
		p.Phrase = verb + " " + n
		p.Preview = []string{fmt.Sprintf("pg_%s_backend on %s backends (bulk)", verb, n)}
	}
	p.Preview = append(p.Preview, "each target must still have the same backend_start (pids are reused)")
	return nil
}

// bind is what a plan acts with and on: its source's signaller and the
// backends as the plan saw them.
func (backendsHandler) bind(env Env, p Plan) (BackendSignaler, []sources.Backend, error) {
	sig, err := Capability[BackendSignaler](env, "signal backends")
	if err != nil {
		return nil, nil, err
	}
	bs := make([]sources.Backend, 0, len(p.Targets))
	for _, t := range p.Targets {
		b, ok := t.Subject.(sources.Backend)
		if !ok {
			return nil, nil, refuse(ErrTampered, t.ID+" is not a backend")
		}
		bs = append(bs, b)
	}
	return sig, bs, nil
}

func (h backendsHandler) Recheck(ctx context.Context, env Env, p Plan) error {
	sig, bs, err := h.bind(env, p)
	if err != nil {
		return err
	}
	if err := h.Check(env.Policy, Request{Action: p.Action, Source: p.Source, Backends: bs}, WholeRequest); err != nil {
		return err
	}
	pids := make([]int32, len(bs))
	for i, b := range bs {
		pids[i] = b.PID
	}
	live, err := sig.LookupBackends(ctx, pids)
	if err != nil {
		return refuse(ErrRecheck, "looking up "+pidList(pids)+": "+err.Error())
	}
	byPID := make(map[int32]sources.Backend, len(live))
	for _, b := range live {
		byPID[b.PID] = b
	}
	for _, want := range bs {
		b, ok := byPID[want.PID]
		if !ok {
			return refuse(ErrTargetChanged, fmt.Sprintf("pid %d is gone", want.PID))
		}
		if !b.BackendStart.Equal(want.BackendStart) {
			return refuse(ErrTargetChanged, fmt.Sprintf("pid %d now belongs to another backend (started %s)",
				b.PID, b.BackendStart.Format(time.TimeOnly)))
		}
		// The live row decides: a role made protected, or a connection
		// that turned out to be our own, since the plan.
		if why := env.Policy.CheckBackend(b); why != "" {
			return refuse(ErrPolicy, why)
		}
	}
	return nil
}

// Act signals the backends one by one, each checked atomically against its
// backend_start by the source, never retried.
func (h backendsHandler) Act(ctx context.Context, env Env, p Plan) ([]string, error) {
	sig, bs, err := h.bind(env, p)
	if err != nil {
		return nil, err
	}
	terminate := p.Action == Terminate
	done := "cancel sent"
	if terminate {
		done = "terminated"
	}
	var details, failed []string
	for _, b := range bs {
		matched, err := sig.SignalBackend(ctx, b.PID, b.BackendStart, terminate)
		switch {
		case err != nil:
			details = append(details, fmt.Sprintf("pid %d: error: %v", b.PID, err))
			failed = append(failed, fmt.Sprintf("pid %d: %v", b.PID, err))
		case !matched:
			details = append(details, fmt.Sprintf("pid %d: not signalled: gone or reused", b.PID))
			failed = append(failed, fmt.Sprintf("pid %d gone or reused", b.PID))
		default:
			details = append(details, fmt.Sprintf("pid %d: %s", b.PID, done))
		}
	}
	if len(failed) > 0 {
		return details, errors.New(strings.Join(failed, "; "))
	}
	return details, nil
}

// backendIdentity is what pins a backend: its pid and start time.
func backendIdentity(b sources.Backend) string {
	return strconv.Itoa(int(b.PID)) + "@" + b.BackendStart.UTC().Format(time.RFC3339Nano)
}

func pidList(pids []int32) string {
	parts := make([]string, len(pids))
	for i, p := range pids {
		parts[i] = strconv.Itoa(int(p))
	}
	return "pid " + strings.Join(parts, ", ")
}

func describeBackend(b sources.Backend, now time.Time) string {
	age := ""
	switch {
	case !b.XactStart.IsZero():
		age = " xact " + shortDur(now.Sub(b.XactStart))
	case !b.QueryStart.IsZero():
		age = " query " + shortDur(now.Sub(b.QueryStart))
	}
	q := b.Query
	if len(q) > 60 {
		q = q[:60] + "…"
	}
	return fmt.Sprintf("pid %d  user=%s app=%s state=%s%s  %s", b.PID, b.User, b.Application, b.State, age, q)
}

// seenBackend is the audit record's account of a backend: who ran what,
// since when, in absolute times a postmortem can line up with logs.
func seenBackend(b sources.Backend) string {
	var s seen
	s.head("pid " + strconv.Itoa(int(b.PID)))
	s.add("user", b.User)
	s.add("database", b.Database)
	s.add("application", b.Application)
	s.add("client", b.ClientAddr)
	s.add("state", b.State)
	if b.WaitType != "" {
		s.add("wait", b.WaitType+"/"+b.WaitEvent)
	}
	s.time("backend_start", b.BackendStart)
	s.time("xact_start", b.XactStart)
	s.time("query_start", b.QueryStart)
	s.text("query", b.Query)
	return s.String()
}

func shortDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	default:
		return strconv.Itoa(int(d.Hours())) + "h" + strconv.Itoa(int(d.Minutes())%60) + "m"
	}
}
