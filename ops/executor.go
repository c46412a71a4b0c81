package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config wires an Executor.
type Config struct {
	Environment string
	// Production raises every action to the high-risk tier.
	Production bool
	// Policy is enforced with its zero fields defaulted (Policy.WithDefaults).
	Policy Policy
	// Caps are the capabilities of every source, by source name; the
	// handlers act through them. Sessions share one.
	Caps     Capabilities
	Journal  *Journal // required unless ReadOnly; safe to share between Executors
	Operator string   // who acts: user@host, or an SSH key's name and fingerprint
	// ReadOnly makes every Plan and Execute a refusal. A read-only UI is
	// not even given an Executor; this is the second wall.
	ReadOnly bool
	Log      *slog.Logger
	Now      func() time.Time
	// Waits bound how long an action's effect is awaited (EffectWait); zero
	// fields take DefaultWaits.
	Waits Waits
	// Signer is who acts, as the two-person rule compares people: the
	// user (every key of one user is one user), key fingerprint, address.
	// Zero takes the name from Operator.
	Signer Signer
	// CoSigns is the world's registry of co-sign requests, shared by every
	// operator's Executor: a plan the two-person rule covers waits there
	// for a second operator. nil (a session on its own) refuses such a
	// plan with the reason, unless BreakGlass.
	CoSigns *CoSigns
	// BreakGlass is the typed reason this session was started with
	// --break-glass: a plan the two-person rule covers then runs on one
	// confirmation, the reason written in its intent.
	BreakGlass string
}

// Executor is the only way the cockpit changes the world. It keeps the walls
// every action shares — read-only, the plan hash, the typed phrase, plan
// age, max_targets, the audit journal — and hands the rest to the Handler
// registered for the plan's Kind. One Executor serves one operator; many may
// share a Journal and Capabilities.
type Executor struct {
	cfg Config
}

// NewExecutor returns an Executor; zero Policy fields take DefaultPolicy's values.
func NewExecutor(cfg Config) *Executor {
	cfg.Policy = cfg.Policy.WithDefaults()
	cfg.Waits = cfg.Waits.withDefaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Operator == "" {
		cfg.Operator = LocalOperator()
	}
	return &Executor{cfg: cfg}
}

// Policy is the policy the Executor enforces.
func (e *Executor) Policy() Policy { return e.cfg.Policy }

// Operator is who the journal says acted.
func (e *Executor) Operator() string { return e.cfg.Operator }

// Result is the outcome of Execute.
type Result struct {
	Plan    Plan
	At      time.Time
	OK      bool
	Refused bool // nothing was changed
	// Summary is one line for the status bar.
	Summary string
	Err     error
	Details []string // one per target
	// Pending says the plan needs a co-signer and waits for one in the
	// request CoSign (AwaitCoSign returns how it ended); nothing was done
	// yet. CoSign also names the request of a co-signed execution.
	Pending bool
	CoSign  string
}

// env is what the handlers of this Executor's plans work with.
func (e *Executor) env(source string) Env {
	return Env{Source: source, Policy: e.cfg.Policy, Operator: e.cfg.Operator, Now: e.cfg.Now, Caps: e.cfg.Caps, Waits: e.cfg.Waits}
}

// Plan turns a request into a Plan: the kind's handler checks policy,
// reads what the preview needs (dry run, alerts a silence would hit) and
// picks targets, phrase and risk; then the shared rules apply (max_targets,
// production raises the tier, low risk confirms with y). It does I/O: call
// it from a tea.Cmd.
func (e *Executor) Plan(ctx context.Context, req Request) (Plan, error) {
	if e.cfg.ReadOnly {
		return Plan{}, refuse(ErrReadOnly, "actions are disabled")
	}
	h, err := handlerFor(req.Action)
	if err != nil {
		return Plan{}, err
	}
	if err := h.Check(e.cfg.Policy, req, WholeRequest); err != nil {
		return Plan{}, err
	}
	p := Plan{
		ID:          newPlanID(e.cfg.Now()),
		Action:      req.Action,
		Source:      req.Source,
		Environment: e.cfg.Environment,
		Params:      req.Params,
		Risk:        High,
	}
	if err := h.Plan(ctx, e.env(req.Source), req, &p); err != nil {
		return Plan{}, err
	}
	if len(p.Targets) == 0 {
		return Plan{}, refuse(ErrInvalid, "nothing to act on")
	}
	if err := e.cfg.Policy.CheckTargetCount(len(p.Targets)); err != nil {
		return Plan{}, err
	}
	if p.Title == "" {
		p.Title = req.Action.Title() + " " + p.Targets[0].ID
	}
	p.ActionRisk = p.Risk
	if e.cfg.Production {
		p.Risk = High
		p.Preview = append(p.Preview, "environment "+e.cfg.Environment+": high-risk confirmation")
	}
	if e.cfg.Policy.TwoPerson.Requires(p) {
		if e.cfg.BreakGlass == "" && e.cfg.CoSigns == nil {
			// Nobody could co-sign: say so now, not after the phrase.
			return Plan{}, e.lonely(p)
		}
		// A co-signer types the phrase too: it must be a real one.
		p.Risk, p.TwoPerson = High, true
		if e.cfg.BreakGlass != "" {
			p.Preview = append(p.Preview, "two-person rule: BREAK-GLASS, runs on your confirmation alone (journaled)")
		} else {
			p.Preview = append(p.Preview, twoPersonNote(e.cfg.Policy.TwoPerson))
		}
	}
	switch {
	case p.Risk == Low:
		p.Phrase = "y"
	case p.Phrase == "":
		// A typed confirmation of nothing would confirm anything.
		p.Phrase = p.Targets[0].ID
	}
	p.CreatedAt = e.cfg.Now()
	p.Hash = p.computeHash()
	return p, nil
}

// Execute carries out a plan after checking, itself and whatever the UI did:
// read-only mode, that the plan is unaltered and fresh, the typed
// confirmation, policy, and (through the kind's handler) that every target
// is still what the plan saw. It journals an intent — with what the plan saw
// of each target — before acting and an outcome after. A signal is never
// retried. It does I/O: call it from a tea.Cmd.
func (e *Executor) Execute(ctx context.Context, p Plan, typed string) Result {
	now := e.cfg.Now()
	res := Result{Plan: p, At: now}
	h, err := e.walls(ctx, p, typed, now, now)
	if err != nil {
		return e.refused(res, err)
	}
	rec := e.record(p, now, "intent")
	// The rule is read from this Executor's policy, not from the plan's
	// flag: a plan made elsewhere cannot opt out.
	if e.cfg.Policy.TwoPerson.Requires(p) {
		switch {
		case e.cfg.BreakGlass != "":
			rec.BreakGlass = e.cfg.BreakGlass
		case e.cfg.CoSigns == nil:
			return e.refused(res, e.lonely(p))
		default:
			return e.request(p, now)
		}
	}
	rec.Details = seenOf(p)
	return e.act(ctx, h, p, rec, res)
}

// lonely is the refusal of a two-person plan in a session on its own.
func (e *Executor) lonely(p Plan) error {
	return refuse(ErrCoSign, p.Action.Title()+" needs a second operator to co-sign, and this session is on its own: run it under flightdeck serve, or start with --break-glass")
}

// act journals the intent rec, has h carry out p, and journals the
// outcome.
func (e *Executor) act(ctx context.Context, h Handler, p Plan, rec Record, res Result) Result {
	if err := e.cfg.Journal.Append(rec); err != nil {
		return e.refused(res, refuse(ErrAudit, err.Error()))
	}
	details, err := h.Act(ctx, e.env(p.Source), p)
	res.Details = details
	res.Err = err
	res.OK = err == nil
	rec.Time, rec.Phase, rec.Details = e.cfg.Now(), "outcome", details
	switch {
	case err == nil:
		rec.Outcome = "ok"
		res.Summary = p.Title + ": done"
	case len(details) > 0 && p.IsBulk():
		rec.Outcome, rec.Error = "partial", err.Error()
		res.Summary = p.Title + ": partly failed: " + err.Error()
	default:
		rec.Outcome, rec.Error = "failed", err.Error()
		res.Summary = p.Title + ": failed: " + err.Error()
	}
	if jerr := e.cfg.Journal.Append(rec); jerr != nil {
		e.cfg.Log.Error("audit outcome not written", "plan", p.ID, "err", jerr)
		res.Summary += " (audit outcome not written: " + jerr.Error() + ")"
	}
	return res
}

// record is the journal line for p, without outcome.
func (e *Executor) record(p Plan, at time.Time, phase string) Record {
	targets := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		targets[i] = t.ID
	}
	rec := Record{Time: at, Phase: phase, PlanID: p.ID, PlanHash: p.Hash, Operator: e.cfg.Operator,
		Environment: p.Environment, Action: p.Action, Source: p.Source, Targets: targets}
	if !p.Params.isZero() {
		params := p.Params
		rec.Params = &params
	}
	return rec
}

// seenOf is what the plan saw of each target, one line per target, for the
// intent record.
func seenOf(p Plan) []string {
	var out []string
	for _, t := range p.Targets {
		if t.Seen != "" {
			out = append(out, t.Seen)
		}
	}
	return out
}

func (e *Executor) refused(res Result, err error) Result {
	res.Refused, res.Err = true, err
	res.Summary = "refused: " + err.Error()
	if e.cfg.Journal != nil && !errors.Is(err, ErrAudit) {
		rec := e.record(res.Plan, res.At, "refused")
		rec.Params = nil
		if res.CoSign != "" {
			rec.CoSign = &CoSignRecord{ID: res.CoSign}
			if s := e.signer(); s.Name != "" {
				rec.Signers = []Signer{s}
			}
		}
		rec.Outcome, rec.Error = "refused", err.Error()
		_ = e.cfg.Journal.Append(rec)
	}
	return res
}

// walls is every refusal path, in order from cheapest to the ones that
// need I/O (the handler's re-check of its targets). The plan's age is
// taken at confirmed (when its requester confirmed it: a co-signed plan
// waited for its co-signer within the request's expiry since), the
// targets are re-checked now. It returns the handler that will act.
func (e *Executor) walls(ctx context.Context, p Plan, typed string, now, confirmed time.Time) (Handler, error) {
	if e.cfg.ReadOnly {
		return nil, refuse(ErrReadOnly, "actions are disabled")
	}
	if e.cfg.Journal == nil {
		return nil, refuse(ErrAudit, "no journal configured")
	}
	// The hash covers the targets' identities and the subjects the handler
	// will act on, so nothing can be swapped after the plan was made.
	if p.Hash == "" || p.computeHash() != p.Hash {
		return nil, refuse(ErrTampered, "plan hash mismatch")
	}
	h, err := handlerFor(p.Action)
	if err != nil {
		return nil, err
	}
	if typed != p.Phrase {
		if p.Risk == High {
			return nil, refuse(ErrConfirmation, fmt.Sprintf("typed %q, expected %q", typed, p.Phrase))
		}
		return nil, refuse(ErrConfirmation, "not confirmed")
	}
	if age := confirmed.Sub(p.CreatedAt); age > e.cfg.Policy.MaxPlanAge || age < -time.Minute {
		return nil, refuse(ErrStalePlan, fmt.Sprintf("plan is %s old (limit %s); plan again", age.Round(time.Second), e.cfg.Policy.MaxPlanAge))
	}
	if len(p.Targets) == 0 {
		return nil, refuse(ErrInvalid, "nothing to act on")
	}
	if err := e.cfg.Policy.CheckTargetCount(len(p.Targets)); err != nil {
		return nil, err
	}
	return h, h.Recheck(ctx, e.env(p.Source), p)
}
