package ops

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"flightdeck/sources"
)

// Handler is one area's actions (Postgres backends, Kubernetes rollouts,
// Alertmanager silences, …): their validation, planning, the re-check of
// their targets and the call. A handler is a stateless description, like a
// database/sql driver: the world it acts on comes through Env, whose
// Capabilities hold the sources of one process. The Executor around it keeps
// the walls every action shares — read-only, the typed phrase, staleness, the
// plan hash, max_targets, the journal — so a handler never repeats them.
//
// Adding an area is one file: its Kind constants, the capability interface
// it needs from a source (declared there, satisfied by the backend without
// importing ops), the handler, and one line in builtinHandlers — plus one
// typed field in Request for what its pane selects.
type Handler interface {
	// Area is the pane whose selection the handler's actions apply to.
	Area() sources.Kind
	// Kinds are the actions handled, in menu order, with their titles.
	Kinds() []KindSpec
	// Check judges req against policy before anything is read. It must be
	// pure (no I/O): the UI calls it through Policy.Check to show a
	// disabled action's reason, even in read-only mode.
	Check(pol Policy, req Request, scope CheckScope) error
	// Plan fills in the plan's targets (each with the Identity that pins
	// it, a Seen description for the audit record and the Subject it will
	// act on), Title, Preview, DryRun, Phrase and Risk (it starts High),
	// reading what the preview needs through env's capability. Check has
	// passed already.
	Plan(ctx context.Context, env Env, req Request, p *Plan) error
	// Recheck runs at execution, after the shared walls: policy again for
	// what the plan holds, and whether every target is still what the plan
	// saw. A target that changed is ErrTargetChanged; a target that could
	// not be read is ErrRecheck.
	Recheck(ctx context.Context, env Env, p Plan) error
	// Act carries the plan out, once (a signal is not idempotent: never
	// retry), and returns one detail line per target. A bulk action that
	// fails part-way returns the details so far with the error.
	Act(ctx context.Context, env Env, p Plan) (details []string, err error)
}

// KindSpec names one action a handler offers.
type KindSpec struct {
	Kind  Kind
	Title string // for menus and dialogs: "Terminate backend"
}

// CheckScope says how much of a request a check judges.
type CheckScope int

const (
	// WholeRequest judges everything, parameters included.
	WholeRequest CheckScope = iota
	// TargetOnly judges whether the action applies to the selection at
	// all, leaving out the parameters the operator has yet to give (replica
	// count, silence matchers, duration, comment): a menu asks before
	// opening the form.
	TargetOnly
)

// Env is what a handler works with when it plans, re-checks and acts.
type Env struct {
	// Source is the source the request or plan names ("pg main", "kube").
	Source string
	// Policy is the Executor's policy, defaults filled in.
	Policy Policy
	// Operator is who acts, as the journal records it (silence created_by).
	Operator string
	// Now is the Executor's clock.
	Now func() time.Time
	// Caps are the capabilities of every source; see Capability.
	Caps Capabilities
	// Waits bound an EffectWaiter's waits.
	Waits Waits
}

// Capability returns what env's source offers as T, the capability
// interface a handler declares, or a refusal (ErrUnsupported) saying that
// the source cannot do what: "source \"kube\" cannot signal backends".
func Capability[T any](env Env, what string) (T, error) {
	c, ok := env.Caps[env.Source].(T)
	if !ok {
		var zero T
		if env.Caps[env.Source] == nil {
			return zero, refuse(ErrUnsupported, fmt.Sprintf("no source %q to %s", env.Source, what))
		}
		return zero, refuse(ErrUnsupported, fmt.Sprintf("source %q cannot %s", env.Source, what))
	}
	return c, nil
}

// builtinHandlers are the areas every flightdeck has, in menu order.
var builtinHandlers = []Handler{backendsHandler{}, rolloutsHandler{}, silencesHandler{}, ecsHandler{}, rdsHandler{}, notifyHandler{}}

func init() {
	for _, h := range builtinHandlers {
		Register(h)
	}
}

// registry maps each Kind to its handler. It is package-level because a
// Kind answers Title and Area and a Policy checks a request without an
// Executor (the read-only UI has none).
var registry = struct {
	sync.RWMutex
	byKind map[Kind]registered
}{byKind: map[Kind]registered{}}

type registered struct {
	h    Handler
	spec KindSpec
}

// AllKinds lists every registered action in menu order: the built-in
// areas, then any registered later. Register appends to it; treat it as
// read-only.
var AllKinds []Kind

// Register makes h the handler of each of its kinds. Call it from an init
// function, or a test's setup, before any Executor or Policy sees those
// kinds. It panics, as database/sql's Register does, on a kind that is empty
// or already registered, or a handler without an area: both are programming
// errors that must not reach an incident.
func Register(h Handler) {
	if h == nil || h.Area() == "" {
		panic("ops: Register: handler without an area")
	}
	registry.Lock()
	defer registry.Unlock()
	specs := h.Kinds()
	for _, s := range specs {
		if s.Kind == "" {
			panic("ops: Register: empty kind")
		}
		if _, dup := registry.byKind[s.Kind]; dup {
			panic(fmt.Sprintf("ops: Register: kind %q registered twice", s.Kind))
		}
	}
	kinds := append([]Kind(nil), AllKinds...)
	for _, s := range specs {
		registry.byKind[s.Kind] = registered{h: h, spec: s}
		kinds = append(kinds, s.Kind)
	}
	AllKinds = kinds
}

// handlerFor is the handler of k, or a refusal for a kind nobody handles.
func handlerFor(k Kind) (Handler, error) {
	registry.RLock()
	r, ok := registry.byKind[k]
	registry.RUnlock()
	if !ok {
		return nil, refuse(ErrInvalid, fmt.Sprintf("unknown action %q", k))
	}
	return r.h, nil
}

func specOf(k Kind) (registered, bool) {
	registry.RLock()
	defer registry.RUnlock()
	r, ok := registry.byKind[k]
	return r, ok
}

// bindOne is what a single-target plan (a rollout, an ECS service, an RDS
// instance or cluster) acts with and on: its source's capability C (can
// says for what, in the refusal) and its one target's Subject as the plan
// saw it, which must be an S (noun names it in the refusal). Every
// single-target handler's Recheck, Act and EffectWait bind through it, so a
// plan altered to hold two targets or another kind of subject is refused
// the same way everywhere.
func bindOne[C, S any](env Env, p Plan, can, noun string) (C, S, error) {
	var ctl C
	var subject S
	ctl, err := Capability[C](env, can)
	if err != nil {
		return ctl, subject, err
	}
	if len(p.Targets) != 1 {
		return ctl, subject, refuse(ErrTampered, fmt.Sprintf("%s acts on exactly one %s", p.Action.Title(), noun))
	}
	subject, ok := p.Targets[0].Subject.(S)
	if !ok {
		return ctl, subject, refuse(ErrTampered, fmt.Sprintf("%s acts on one %s; %s is not one", p.Action.Title(), noun, p.Targets[0].ID))
	}
	return ctl, subject, nil
}

// recheckOne is the re-check every single-target handler makes before it
// acts: policy again on what the plan resolved (check), then the target
// read as it is now, by its raw identity (a failed read is ErrRecheck — the
// target could not be checked, not that it changed), must still have the
// identity the plan pinned (ErrTargetChanged when it differs). key names
// the target in the refusal.
func recheckOne[T any](p Plan, key string, check func() error, read func() (T, error), identity func(T) string) error {
	if err := check(); err != nil {
		return err
	}
	cur, err := read()
	if err != nil {
		return refuse(ErrRecheck, "reading "+key+": "+err.Error())
	}
	want := p.Targets[0].Identity
	if got := identity(cur); got != want {
		return refuse(ErrTargetChanged, fmt.Sprintf("%s changed: was %s, now %s", key, want, got))
	}
	return nil
}

// rawText shows a raw identifier (an ARN, an RDS identifier, exactly as the
// upstream gave it) safely in an identity, a Seen line or a refusal:
// unchanged when it is plain printable ASCII, else Go-quoted with every
// control, bidi and non-ASCII character escaped. Unlike sanitizing, this
// keeps two identifiers that differ only in such characters apart.
func rawText(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.QuoteToASCII(v)
		}
	}
	return v
}
