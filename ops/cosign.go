package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
)

// ErrCoSign is a two-person action refused for want of a valid co-signer:
// no second operator can be reached (a local session), the request expired
// or was withdrawn, or the co-signer is the requester.
var ErrCoSign = errors.New("two-person rule")

// CoSignState is where a co-sign request stands.
type CoSignState string

// The states of a co-sign request: Pending waits for a co-signer;
// Executing has one and is acting; the rest are closed.
const (
	CoSignPending   CoSignState = "pending"
	CoSignExecuting CoSignState = "executing"
	CoSignDone      CoSignState = "done"
	CoSignFailed    CoSignState = "failed"
	CoSignWithdrawn CoSignState = "withdrawn"
	CoSignExpired   CoSignState = "expired"
)

// Open reports whether the request still waits for a co-signer or acts.
func (s CoSignState) Open() bool { return s == CoSignPending || s == CoSignExecuting }

// CoSignRequest is a confirmed plan waiting for its second operator: every
// other operator session shows it and may co-sign it by typing the plan's
// phrase. It is a value; CoSigns publishes a fresh copy on every change.
type CoSignRequest struct {
	ID   string
	Plan Plan
	// Requester confirmed the plan; Operator is their journal identity.
	Requester Signer
	Operator  string
	At        time.Time
	Expires   time.Time
	State     CoSignState
	// CoSigner is who co-signed, once someone did.
	CoSigner *Signer
	// Summary is the outcome once closed ("Promote …: done", "expired").
	Summary string
	// result is the final Result once closed, for AwaitCoSign.
	result *Result
}

// CoSignRecord is what the journal says of a co-sign request.
type CoSignRecord struct {
	ID        string    `json:"id"`
	Requester Signer    `json:"requester"`
	CoSigner  *Signer   `json:"cosigner,omitempty"`
	Expires   time.Time `json:"expires"`
}

// Bounds on co-sign requests.
const (
	// MaxOpenCoSigns is how many requests may wait at once; one more is
	// refused, so a runaway runbook cannot flood every session's header.
	MaxOpenCoSigns = 16
	// keepClosedCoSigns is how many closed requests stay listed, so each
	// session can say how the last ones ended.
	keepClosedCoSigns = 8
)

// CoSignOptions configure a CoSigns.
type CoSignOptions struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// OnChange is given every request still listed after each change,
	// oldest first (together.CoSigns publishes them to every session). It
	// is called with no lock held and must not block.
	OnChange func([]CoSignRequest)
	// Log gets what could not be journaled.
	Log *slog.Logger
	// NoTimers leaves expiry to Sweep (tests drive the clock).
	NoTimers bool
}

// CoSigns holds the open co-sign requests of one world. Every operator's
// Executor shares it, as they share the Journal: one Executor opens a
// request, another's co-signs it, and the request's lifecycle (open,
// withdrawn, expired, co-signed) is journaled here.
type CoSigns struct {
	journal *Journal
	o       CoSignOptions

	mu     sync.Mutex
	seq    int
	reqs   []*CoSignRequest // oldest first: the open ones and the last closed
	closed chan struct{}    // closed and replaced on every close, for AwaitCoSign
}

// NewCoSigns returns an empty registry journaling to j.
func NewCoSigns(j *Journal, o CoSignOptions) *CoSigns {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &CoSigns{journal: j, o: o, closed: make(chan struct{})}
}

// List is every listed request, oldest first.
func (c *CoSigns) List() []CoSignRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listLocked()
}

// Get is the request with id.
func (c *CoSigns) Get(id string) (CoSignRequest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.findLocked(id); r != nil {
		return *r, true
	}
	return CoSignRequest{}, false
}

func (c *CoSigns) listLocked() []CoSignRequest {
	out := make([]CoSignRequest, len(c.reqs))
	for i, r := range c.reqs {
		out[i] = *r
	}
	return out
}

func (c *CoSigns) findLocked(id string) *CoSignRequest {
	for _, r := range c.reqs {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// changed publishes the list; call it without the lock.
func (c *CoSigns) changed() {
	if c.o.OnChange != nil {
		c.o.OnChange(c.List())
	}
}

// open registers p, confirmed by who, and journals the request.
func (c *CoSigns) open(p Plan, who Signer, operator string, expiry time.Duration) (CoSignRequest, error) {
	c.mu.Lock()
	n := 0
	for _, r := range c.reqs {
		if r.State.Open() {
			n++
			if r.Plan.Hash == p.Hash {
				c.mu.Unlock()
				return CoSignRequest{}, refuse(ErrCoSign, "this plan already waits for a co-signer ("+r.ID+")")
			}
		}
	}
	if n >= MaxOpenCoSigns {
		c.mu.Unlock()
		return CoSignRequest{}, refuse(ErrCoSign, fmt.Sprintf("%d co-sign requests are already open", n))
	}
	c.seq++
	now := c.o.Now()
	r := &CoSignRequest{ID: "cs" + strconv.Itoa(c.seq), Plan: p, Requester: who, Operator: operator, At: now,
		Expires: now.Add(expiry), State: CoSignPending}
	rec := c.recordLocked(r, "cosign_request", now)
	rec.Details = append([]string{fmt.Sprintf("%s asks a second operator to co-sign %s (%s, expires in %s)", who.Name, p.Title, r.ID, expiry)}, seenOf(p)...)
	if err := c.journal.Append(rec); err != nil {
		c.mu.Unlock()
		return CoSignRequest{}, refuse(ErrAudit, err.Error())
	}
	c.reqs = append(c.reqs, r)
	c.trimLocked()
	out := *r
	c.mu.Unlock()
	if !c.o.NoTimers {
		time.AfterFunc(expiry+10*time.Millisecond, c.Sweep)
	}
	c.changed()
	return out, nil
}

// recordLocked is the journal line of r's lifecycle.
func (c *CoSigns) recordLocked(r *CoSignRequest, phase string, at time.Time) Record {
	targets := make([]string, len(r.Plan.Targets))
	for i, t := range r.Plan.Targets {
		targets[i] = t.ID
	}
	return Record{Time: at, Phase: phase, PlanID: r.Plan.ID, PlanHash: r.Plan.Hash, Operator: r.Operator,
		Environment: r.Plan.Environment, Action: r.Plan.Action, Source: r.Plan.Source, Targets: targets,
		CoSign: &CoSignRecord{ID: r.ID, Requester: r.Requester, CoSigner: r.CoSigner, Expires: r.Expires}}
}

// trimLocked forgets the oldest closed requests beyond keepClosedCoSigns.
func (c *CoSigns) trimLocked() {
	closed := 0
	for _, r := range c.reqs {
		if !r.State.Open() {
			closed++
		}
	}
	c.reqs = slices.DeleteFunc(c.reqs, func(r *CoSignRequest) bool {
		if closed > keepClosedCoSigns && !r.State.Open() {
			closed--
			return true
		}
		return false
	})
}

// closeLocked ends r with state and result, journaling phase when it is
// not "" (an execution journals its own intent and outcome).
func (c *CoSigns) closeLocked(r *CoSignRequest, state CoSignState, res Result, phase, why string) {
	r.State, r.Summary = state, res.Summary
	r.result = &res
	if phase != "" {
		rec := c.recordLocked(r, phase, c.o.Now())
		rec.Outcome, rec.Error = string(state), why
		rec.Details = []string{r.Plan.Title + ": " + r.ID + " " + string(state) + ", nothing done"}
		if err := c.journal.Append(rec); err != nil {
			c.o.Log.Error("co-sign record not written", "request", r.ID, "phase", phase, "err", err)
		}
	}
	close(c.closed)
	c.closed = make(chan struct{})
	c.trimLocked()
}

// Sweep expires every pending request past its expiry, journaling each.
// A timer calls it at each request's expiry; Execute and CoSign see an
// expired request as expired even before it ran.
func (c *CoSigns) Sweep() {
	c.mu.Lock()
	now := c.o.Now()
	expired := false
	for _, r := range c.reqs {
		if r.State == CoSignPending && !now.Before(r.Expires) {
			c.expireLocked(r)
			expired = true
		}
	}
	c.mu.Unlock()
	if expired {
		c.changed()
	}
}

func (c *CoSigns) expireLocked(r *CoSignRequest) {
	why := fmt.Sprintf("nobody co-signed within %s", r.Expires.Sub(r.At).Round(time.Second))
	res := Result{Plan: r.Plan, At: c.o.Now(), Refused: true, Err: refuse(ErrCoSign, "request "+r.ID+" expired: "+why),
		Summary: r.Plan.Title + ": co-sign request expired, nothing done"}
	c.closeLocked(r, CoSignExpired, res, "cosign_expired", why)
}

// request turns a confirmed two-person plan into a co-sign request.
func (e *Executor) request(p Plan, now time.Time) Result {
	res := Result{Plan: p, At: now}
	r, err := e.cfg.CoSigns.open(p, e.signer(), e.cfg.Operator, e.cfg.Policy.TwoPerson.expiry())
	if err != nil {
		return e.refused(res, err)
	}
	res.Pending, res.CoSign = true, r.ID
	res.Summary = fmt.Sprintf("%s: waiting for a second operator to co-sign (%s, expires in %s)", p.Title, r.ID, r.Expires.Sub(now).Round(time.Second))
	return res
}

// AwaitsCoSigner reports whether Execute of p will open a co-sign request
// rather than act: the UI says so while it waits.
func (e *Executor) AwaitsCoSigner(p Plan) bool {
	return e.cfg.Policy.TwoPerson.Requires(p) && e.cfg.BreakGlass == "" && e.cfg.CoSigns != nil
}

// signer is who this Executor acts for.
func (e *Executor) signer() Signer {
	if e.cfg.Signer.Name != "" {
		return e.cfg.Signer
	}
	return signerFrom(e.cfg.Operator)
}

// CoSign is a second operator confirming request id by typing its plan's
// phrase. The Executor, whatever the UI did, refuses an observer (a
// read-only Executor), the requester themselves (any of their keys: users
// are compared by name), a wrong phrase, an expired, withdrawn or already
// co-signed request; it then re-checks the plan and its targets as
// Execute does, journals an intent naming both signers, acts and journals
// the outcome. It does I/O: call it from a tea.Cmd.
func (e *Executor) CoSign(ctx context.Context, id, typed string) Result {
	now := e.cfg.Now()
	if e.cfg.ReadOnly {
		return e.refused(Result{At: now}, refuse(ErrReadOnly, "an observer cannot co-sign"))
	}
	c := e.cfg.CoSigns
	if c == nil {
		return e.refused(Result{At: now}, refuse(ErrCoSign, "no co-sign requests here (a session on its own)"))
	}
	me := e.signer()
	c.mu.Lock()
	r := c.findLocked(id)
	if r == nil {
		c.mu.Unlock()
		return e.refused(Result{At: now}, refuse(ErrCoSign, "no co-sign request "+id))
	}
	res := Result{Plan: r.Plan, At: now, CoSign: id}
	var why error
	switch {
	case r.State == CoSignPending && !now.Before(r.Expires):
		c.expireLocked(r)
		c.mu.Unlock()
		c.changed()
		return e.refused(res, refuse(ErrCoSign, "request "+id+" expired"))
	case r.State != CoSignPending:
		why = refuse(ErrCoSign, "request "+id+" is "+string(r.State))
	case r.Requester.Name == me.Name:
		why = refuse(ErrCoSign, "nobody co-signs their own request ("+me.Name+" asked for it)")
	case typed != r.Plan.Phrase:
		why = refuse(ErrConfirmation, fmt.Sprintf("typed %q, expected %q", typed, r.Plan.Phrase))
	}
	if why != nil {
		c.mu.Unlock()
		return e.refused(res, why)
	}
	// Executing: nobody else can co-sign it now, nor can it expire or be
	// withdrawn while the targets are re-checked and acted on.
	r.State, r.CoSigner = CoSignExecuting, &me
	req := *r
	c.mu.Unlock()
	c.changed()

	final := e.executeCoSigned(ctx, req, now)
	c.mu.Lock()
	state := CoSignDone
	if !final.OK {
		state = CoSignFailed
	}
	c.closeLocked(r, state, final, "", "")
	c.mu.Unlock()
	c.changed()
	return final
}

// executeCoSigned is Execute for a co-signed request: the same walls but
// the plan's age (the request's expiry bounds how long it waited), an
// intent naming both signers.
func (e *Executor) executeCoSigned(ctx context.Context, r CoSignRequest, now time.Time) Result {
	p := r.Plan
	res := Result{Plan: p, At: now, CoSign: r.ID}
	h, err := e.walls(ctx, p, p.Phrase, now, r.At)
	if err != nil {
		return e.refused(res, err)
	}
	// The co-signature is its own record, under the co-signer's identity,
	// so the timeline says who co-signed, then what ran.
	signed := e.record(p, now, "cosign_signed")
	signed.Params = nil
	signed.CoSign = &CoSignRecord{ID: r.ID, Requester: r.Requester, CoSigner: r.CoSigner, Expires: r.Expires}
	signed.Details = []string{fmt.Sprintf("%s co-signs %s for %s (%s)", r.CoSigner.Name, p.Title, r.Requester.Name, r.ID)}
	if err := e.cfg.Journal.Append(signed); err != nil {
		return e.refused(res, refuse(ErrAudit, err.Error()))
	}
	rec := e.record(p, now, "intent")
	rec.Operator = r.Operator
	rec.Details = seenOf(p)
	rec.Signers = []Signer{r.Requester, *r.CoSigner}
	rec.CoSign = &CoSignRecord{ID: r.ID, Requester: r.Requester, CoSigner: r.CoSigner, Expires: r.Expires}
	return e.act(ctx, h, p, rec, res)
}

// Withdraw is the requester taking back request id: only the user who
// asked may (any of their keys), only while nobody co-signed it.
func (e *Executor) Withdraw(id string) error {
	c := e.cfg.CoSigns
	if e.cfg.ReadOnly || c == nil {
		return refuse(ErrCoSign, "no co-sign request to withdraw here")
	}
	me := e.signer()
	c.mu.Lock()
	r := c.findLocked(id)
	switch {
	case r == nil:
		c.mu.Unlock()
		return refuse(ErrCoSign, "no co-sign request "+id)
	case r.Requester.Name != me.Name:
		c.mu.Unlock()
		return refuse(ErrCoSign, "only "+r.Requester.Name+", who asked, can withdraw "+id)
	case r.State != CoSignPending:
		c.mu.Unlock()
		return refuse(ErrCoSign, "request "+id+" is "+string(r.State))
	}
	res := Result{Plan: r.Plan, At: e.cfg.Now(), Refused: true, CoSign: id, Err: refuse(ErrCoSign, "withdrawn by "+me.Name),
		Summary: r.Plan.Title + ": co-sign request withdrawn, nothing done"}
	c.closeLocked(r, CoSignWithdrawn, res, "cosign_withdrawn", "withdrawn by "+me.Name)
	c.mu.Unlock()
	c.changed()
	return nil
}

// AwaitCoSign blocks until the request of a pending result is closed
// (co-signed and acted on, expired, withdrawn) and returns how it ended:
// a runbook step or the requester's flow waits here for the outcome of
// what it asked. A result that is not pending is returned as is.
func (e *Executor) AwaitCoSign(ctx context.Context, pending Result) Result {
	c := e.cfg.CoSigns
	if !pending.Pending || c == nil {
		return pending
	}
	for {
		c.mu.Lock()
		r := c.findLocked(pending.CoSign)
		if r == nil {
			c.mu.Unlock()
			return e.refused(pending, refuse(ErrCoSign, "request "+pending.CoSign+" is gone"))
		}
		if !r.State.Open() && r.result != nil {
			out := *r.result
			c.mu.Unlock()
			return out
		}
		wait := c.closed
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			res := pending
			res.Pending = false
			res.Err, res.Summary = ctx.Err(), pending.Plan.Title+": stopped waiting for the co-signer"
			return res
		}
	}
}
