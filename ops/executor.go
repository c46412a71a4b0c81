package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"flightdeck/sources"
)

// Config wires an Executor.
type Config struct {
	Environment string
	// Production raises every action to the high-risk tier.
	Production bool
	Policy     Policy
	Caps       Capabilities
	Journal    *Journal // required unless ReadOnly
	Operator   string   // user@host or SSH key fingerprint
	// ReadOnly makes every Plan and Execute a refusal. A read-only UI is
	// not even given an Executor; this is the second wall.
	ReadOnly bool
	Log      *slog.Logger
	Now      func() time.Time
}

// Executor is the only way the cockpit changes the world.
type Executor struct {
	cfg Config
	seq *atomic.Uint64 // shared with the Executors As makes: plan IDs stay unique
}

// NewExecutor returns an Executor; zero Policy fields take DefaultPolicy's values.
func NewExecutor(cfg Config) *Executor {
	def := DefaultPolicy()
	if cfg.Policy.MaxTargets == 0 {
		cfg.Policy.MaxTargets = def.MaxTargets
	}
	if cfg.Policy.SilenceMax == 0 {
		cfg.Policy.SilenceMax = def.SilenceMax
	}
	if cfg.Policy.SilenceMaxAlerts == 0 {
		cfg.Policy.SilenceMaxAlerts = def.SilenceMaxAlerts
	}
	if cfg.Policy.MaxPlanAge == 0 {
		cfg.Policy.MaxPlanAge = def.MaxPlanAge
	}
	if cfg.Policy.LowRiskSilence == 0 {
		cfg.Policy.LowRiskSilence = def.LowRiskSilence
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Operator == "" {
		cfg.Operator = LocalOperator()
	}
	return &Executor{cfg: cfg, seq: new(atomic.Uint64)}
}

// As returns an Executor that journals under operator and shares
// everything else with e: policy, capabilities, journal and plan numbering.
// flightdeck serve makes one per operator session.
func (e *Executor) As(operator string) *Executor {
	cfg := e.cfg
	cfg.Operator = operator
	return &Executor{cfg: cfg, seq: e.seq}
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
}

// Plan turns a request into a Plan: checks policy, reads what the preview
// needs (dry run, alerts a silence would hit) and fixes the risk tier and
// confirmation phrase. It does I/O: call it from a tea.Cmd.
func (e *Executor) Plan(ctx context.Context, req Request) (Plan, error) {
	if e.cfg.ReadOnly {
		return Plan{}, refuse(ErrReadOnly, "actions are disabled")
	}
	if err := e.cfg.Policy.Check(req); err != nil {
		return Plan{}, err
	}
	p := Plan{
		ID:          fmt.Sprintf("%s-%d", e.cfg.Now().UTC().Format("20060102T150405"), e.seq.Add(1)),
		Action:      req.Action,
		Source:      req.Source,
		Environment: e.cfg.Environment,
		Params:      req.Params,
		Risk:        High,
	}
	var err error
	switch req.Action {
	case Cancel, Terminate:
		err = e.planBackends(&p, req)
	case Undo, Restart, Scale, Pause, Resume:
		err = e.planRollout(ctx, &p, req)
	case Silence:
		err = e.planSilence(ctx, &p, req)
	case Expire:
		err = e.planExpire(ctx, &p, req)
	}
	if err != nil {
		return Plan{}, err
	}
	if e.cfg.Production {
		p.Risk = High
		p.Preview = append(p.Preview, "environment "+e.cfg.Environment+": high-risk confirmation")
	}
	if p.Risk == Low {
		p.Phrase = "y"
	}
	p.CreatedAt = e.cfg.Now()
	p.Hash = p.computeHash()
	return p, nil
}

func (e *Executor) planBackends(p *Plan, req Request) error {
	if e.cfg.Caps.Backends[req.Source] == nil {
		return refuse(ErrUnsupported, fmt.Sprintf("no postgres source %q", req.Source))
	}
	verb := "cancel"
	if req.Action == Terminate {
		verb = "terminate"
	}
	for _, b := range req.Backends {
		b := b
		p.Targets = append(p.Targets, Target{
			ID:       "pid " + strconv.Itoa(int(b.PID)),
			Identity: backendIdentity(b),
			Detail:   describeBackend(b, e.cfg.Now()),
			Backend:  &b,
		})
	}
	if len(req.Backends) == 1 {
		pid := strconv.Itoa(int(req.Backends[0].PID))
		p.Title = req.Action.Title() + " " + pid
		p.Phrase = pid
		if req.Action == Cancel {
			p.Risk = Low
		}
		if req.Action == Cancel {
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

// FormatDuration prints a duration as people write it: 1h, 90m → 1h30m,
// 4h, 45s — without Go's trailing zero units (1h0m0s).
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
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

func (e *Executor) planRollout(ctx context.Context, p *Plan, req Request) error {
	ctl := e.cfg.Caps.Rollouts[req.Source]
	if ctl == nil {
		return refuse(ErrUnsupported, fmt.Sprintf("no kubernetes source %q", req.Source))
	}
	d := *req.Deployment
	p.Targets = []Target{{ID: d.Key(), Identity: deploymentIdentity(d), Deployment: &d,
		Detail: fmt.Sprintf("%s  revision %d  %d/%d ready  %s", d.Key(), d.Revision, d.Ready, d.Replicas, strings.Join(d.Images, ","))}}
	p.Phrase = d.Name
	p.Title = req.Action.Title() + " " + d.Key()
	switch req.Action {
	case Undo:
		to := req.Params.ToRevision
		if to == 0 {
			to = previousRevision(d)
		}
		p.Params.ToRevision = to
		p.Title = fmt.Sprintf("Roll back %s to revision %d", d.Key(), to)
		p.Preview = []string{fmt.Sprintf("revision %d → %d (like kubectl rollout undo --to-revision=%d)", d.Revision, to, to)}
		for _, r := range d.History {
			if r.Number == to && r.ChangeCause != "" {
				p.Preview = append(p.Preview, "target change-cause: "+r.ChangeCause)
			}
		}
		diff, dry, err := ctl.PreviewUndo(ctx, d.Namespace, d.Name, to)
		if err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
		p.Preview = append(p.Preview, diff...)
		p.DryRun = dry
	case Restart:
		p.Preview = []string{"sets kubectl.kubernetes.io/restartedAt: every pod is replaced by a rolling update"}
	case Scale:
		p.Title = fmt.Sprintf("Scale %s %d → %d", d.Key(), d.Replicas, req.Params.Replicas)
		p.Preview = []string{fmt.Sprintf("spec.replicas %d → %d", d.Replicas, req.Params.Replicas)}
		if req.Params.Override {
			p.Preview = append(p.Preview, "override: beyond scale_max_change")
		}
	case Pause:
		p.Risk = Low
		p.Preview = []string{"spec.paused=true: changes to the template stop rolling out"}
	case Resume:
		p.Preview = []string{"spec.paused=false: pending template changes roll out now"}
	}
	return nil
}

// previousRevision is the newest revision older than the current one, as
// kubectl rollout undo picks it.
func previousRevision(d sources.Deployment) int64 {
	var best int64
	for _, r := range d.History {
		if r.Number < d.Revision && r.Number > best {
			best = r.Number
		}
	}
	return best
}

func (e *Executor) planSilence(ctx context.Context, p *Plan, req Request) error {
	s := e.cfg.Caps.Silences[req.Source]
	if s == nil {
		return refuse(ErrUnsupported, fmt.Sprintf("no alertmanager source %q", req.Source))
	}
	hits, err := s.MatchingAlerts(ctx, req.Params.Matchers)
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	if err := e.checkSilenceHits(req.Params.Matchers, len(hits)); err != nil {
		return err
	}
	name := matcherValue(req.Params.Matchers, "alertname")
	if name == "" {
		name = "silence"
	}
	ms := FormatMatchers(req.Params.Matchers)
	p.Title = "Silence " + ms + " for " + FormatDuration(req.Params.Duration)
	p.Phrase = name
	if req.Params.Duration <= e.cfg.Policy.LowRiskSilence {
		p.Risk = Low
	}
	p.Targets = []Target{{ID: ms, Identity: fmt.Sprintf("hits=%d", len(hits))}}
	p.Preview = []string{
		fmt.Sprintf("matchers %s hit %d active alert(s)", ms, len(hits)),
		fmt.Sprintf("for %s, until %s, comment %q", FormatDuration(req.Params.Duration), e.cfg.Now().Add(req.Params.Duration).Format("15:04 MST"), req.Params.Comment),
	}
	for i, a := range hits {
		if i == 5 {
			p.Preview = append(p.Preview, fmt.Sprintf("… and %d more", len(hits)-5))
			break
		}
		p.Preview = append(p.Preview, fmt.Sprintf("  %s %s %s", a.Name, a.Severity, labelString(a.Labels)))
	}
	return nil
}

func (e *Executor) checkSilenceHits(ms []sources.Matcher, hits int) error {
	regex := false
	for _, m := range ms {
		regex = regex || m.IsRegex
	}
	if !regex {
		return nil
	}
	if hits == 0 {
		return refuse(ErrPolicy, "regex matchers hit no active alert")
	}
	if max := e.cfg.Policy.SilenceMaxAlerts; max > 0 && hits > max {
		return refuse(ErrPolicy, fmt.Sprintf("regex matchers hit %d alerts; policy allows %d", hits, max))
	}
	return nil
}

func (e *Executor) planExpire(ctx context.Context, p *Plan, req Request) error {
	s := e.cfg.Caps.Silences[req.Source]
	if s == nil {
		return refuse(ErrUnsupported, fmt.Sprintf("no alertmanager source %q", req.Source))
	}
	sil, err := s.GetSilence(ctx, req.SilenceID)
	if err != nil {
		return fmt.Errorf("read silence: %w", err)
	}
	if sil.State == "expired" {
		return refuse(ErrInvalid, "silence "+sil.ID+" has already expired")
	}
	p.Risk = Low
	p.Title = "Expire silence " + sil.ID
	p.Targets = []Target{{ID: sil.ID, Identity: sil.EndsAt.UTC().Format(time.RFC3339), Detail: FormatMatchers(sil.Matchers)}}
	p.Preview = []string{
		"matchers " + FormatMatchers(sil.Matchers),
		fmt.Sprintf("created by %s: %q; ends %s", sil.CreatedBy, sil.Comment, sil.EndsAt.Format("15:04 MST")),
		"the alerts it silences notify again",
	}
	return nil
}

// FormatMatchers renders matchers as Alertmanager does: {a="b", c=~"d"}.
func FormatMatchers(ms []sources.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		op := "="
		switch {
		case m.IsRegex && m.IsEqual:
			op = "=~"
		case m.IsRegex:
			op = "!~"
		case !m.IsEqual:
			op = "!="
		}
		parts[i] = m.Name + op + strconv.Quote(m.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func matcherValue(ms []sources.Matcher, name string) string {
	for _, m := range ms {
		if m.Name == name && m.IsEqual && !m.IsRegex {
			return m.Value
		}
	}
	return ""
}

func labelString(ls []sources.Label) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		if l.Name == "alertname" || l.Name == "severity" {
			continue
		}
		parts = append(parts, l.Name+"="+l.Value)
	}
	return strings.Join(parts, " ")
}

// Execute carries out a plan after checking, itself and whatever the UI did:
// read-only mode, that the plan is unaltered and fresh, the typed
// confirmation, policy, and that every target is still what the plan saw. It
// journals an intent before acting and an outcome after. A signal is never
// retried. It does I/O: call it from a tea.Cmd.
func (e *Executor) Execute(ctx context.Context, p Plan, typed string) Result {
	now := e.cfg.Now()
	res := Result{Plan: p, At: now}
	if err := e.precheck(ctx, p, typed, now); err != nil {
		return e.refused(res, err)
	}
	targets := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		targets[i] = t.ID
	}
	rec := Record{Time: now, Phase: "intent", PlanID: p.ID, PlanHash: p.Hash, Operator: e.cfg.Operator,
		Environment: p.Environment, Action: p.Action, Source: p.Source, Targets: targets, Params: paramsOrNil(p.Params)}
	if err := e.cfg.Journal.Append(rec); err != nil {
		return e.refused(res, refuse(ErrAudit, err.Error()))
	}
	details, err := e.act(ctx, p)
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

func paramsOrNil(p Params) *Params {
	if p.ToRevision == 0 && p.Replicas == 0 && len(p.Matchers) == 0 && p.Duration == 0 && p.Comment == "" && !p.Override {
		return nil
	}
	return &p
}

func (e *Executor) refused(res Result, err error) Result {
	res.Refused, res.Err = true, err
	res.Summary = "refused: " + err.Error()
	if e.cfg.Journal != nil && !errors.Is(err, ErrAudit) {
		targets := make([]string, len(res.Plan.Targets))
		for i, t := range res.Plan.Targets {
			targets[i] = t.ID
		}
		_ = e.cfg.Journal.Append(Record{Time: res.At, Phase: "refused", PlanID: res.Plan.ID, PlanHash: res.Plan.Hash,
			Operator: e.cfg.Operator, Environment: res.Plan.Environment, Action: res.Plan.Action,
			Source: res.Plan.Source, Targets: targets, Outcome: "refused", Error: err.Error()})
	}
	return res
}

// precheck is every refusal path, in order from cheapest to the one that
// needs I/O (target re-verification).
func (e *Executor) precheck(ctx context.Context, p Plan, typed string, now time.Time) error {
	if e.cfg.ReadOnly {
		return refuse(ErrReadOnly, "actions are disabled")
	}
	if e.cfg.Journal == nil {
		return refuse(ErrAudit, "no journal configured")
	}
	if p.Hash == "" || p.computeHash() != p.Hash {
		return refuse(ErrTampered, "plan hash mismatch")
	}
	// The hash covers each target's identity string; the typed copies the
	// capabilities are called with must still agree with it.
	for _, t := range p.Targets {
		if (t.Backend != nil && backendIdentity(*t.Backend) != t.Identity) ||
			(t.Deployment != nil && deploymentIdentity(*t.Deployment) != t.Identity) {
			return refuse(ErrTampered, t.ID+" does not match its identity")
		}
	}
	if typed != p.Phrase {
		if p.Risk == High {
			return refuse(ErrConfirmation, fmt.Sprintf("typed %q, expected %q", typed, p.Phrase))
		}
		return refuse(ErrConfirmation, "not confirmed")
	}
	if age := now.Sub(p.CreatedAt); age > e.cfg.Policy.MaxPlanAge || age < -time.Minute {
		return refuse(ErrStalePlan, fmt.Sprintf("plan is %s old (limit %s); plan again", age.Round(time.Second), e.cfg.Policy.MaxPlanAge))
	}
	if err := e.cfg.Policy.Check(requestOf(p)); err != nil {
		return err
	}
	return e.verifyTargets(ctx, p)
}

// requestOf rebuilds the request a plan was made from, for the policy re-check.
func requestOf(p Plan) Request {
	req := Request{Action: p.Action, Source: p.Source, Params: p.Params}
	for _, t := range p.Targets {
		if t.Backend != nil {
			req.Backends = append(req.Backends, *t.Backend)
		}
		if t.Deployment != nil {
			d := *t.Deployment
			req.Deployment = &d
		}
	}
	if p.Action == Expire && len(p.Targets) == 1 {
		req.SilenceID = p.Targets[0].ID
	}
	if p.Action == Undo && req.Deployment != nil {
		// The plan resolved "previous" to a number; policy sees that number.
		req.Params.ToRevision = p.Params.ToRevision
	}
	return req
}

func (e *Executor) verifyTargets(ctx context.Context, p Plan) error {
	switch p.Action {
	case Cancel, Terminate:
		sig := e.cfg.Caps.Backends[p.Source]
		if sig == nil {
			return refuse(ErrUnsupported, fmt.Sprintf("no postgres source %q", p.Source))
		}
		pids := make([]int32, 0, len(p.Targets))
		for _, t := range p.Targets {
			if t.Backend == nil {
				return refuse(ErrTampered, "backend target without identity")
			}
			pids = append(pids, t.Backend.PID)
		}
		live, err := sig.LookupBackends(ctx, pids)
		if err != nil {
			return refuse(ErrTargetChanged, "cannot re-read targets: "+err.Error())
		}
		byPID := make(map[int32]sources.Backend, len(live))
		for _, b := range live {
			byPID[b.PID] = b
		}
		for _, t := range p.Targets {
			b, ok := byPID[t.Backend.PID]
			if !ok {
				return refuse(ErrTargetChanged, fmt.Sprintf("pid %d is gone", t.Backend.PID))
			}
			if !b.BackendStart.Equal(t.Backend.BackendStart) {
				return refuse(ErrTargetChanged, fmt.Sprintf("pid %d now belongs to another backend (started %s)",
					b.PID, b.BackendStart.Format(time.TimeOnly)))
			}
			if why := e.cfg.Policy.CheckBackend(b); why != "" {
				return refuse(ErrPolicy, why)
			}
		}
	case Undo, Restart, Scale, Pause, Resume:
		ctl := e.cfg.Caps.Rollouts[p.Source]
		if ctl == nil {
			return refuse(ErrUnsupported, fmt.Sprintf("no kubernetes source %q", p.Source))
		}
		t := p.Targets[0]
		if t.Deployment == nil {
			return refuse(ErrTampered, "deployment target without identity")
		}
		cur, err := ctl.GetDeployment(ctx, t.Deployment.Namespace, t.Deployment.Name)
		if err != nil {
			return refuse(ErrTargetChanged, "cannot re-read "+t.ID+": "+err.Error())
		}
		if got := deploymentIdentity(cur); got != t.Identity {
			return refuse(ErrTargetChanged, fmt.Sprintf("%s changed: was %s, now %s", t.ID, t.Identity, got))
		}
	case Silence:
		s := e.cfg.Caps.Silences[p.Source]
		if s == nil {
			return refuse(ErrUnsupported, fmt.Sprintf("no alertmanager source %q", p.Source))
		}
		hits, err := s.MatchingAlerts(ctx, p.Params.Matchers)
		if err != nil {
			return refuse(ErrTargetChanged, "cannot re-read alerts: "+err.Error())
		}
		return e.checkSilenceHits(p.Params.Matchers, len(hits))
	case Expire:
		s := e.cfg.Caps.Silences[p.Source]
		if s == nil {
			return refuse(ErrUnsupported, fmt.Sprintf("no alertmanager source %q", p.Source))
		}
		sil, err := s.GetSilence(ctx, p.Targets[0].ID)
		if err != nil {
			return refuse(ErrTargetChanged, "cannot re-read silence: "+err.Error())
		}
		if sil.State == "expired" {
			return refuse(ErrTargetChanged, "silence "+sil.ID+" has already expired")
		}
	}
	return nil
}

// act performs the plan. Backend signals go one by one, each checked
// atomically against its backend_start, and are never retried.
func (e *Executor) act(ctx context.Context, p Plan) ([]string, error) {
	switch p.Action {
	case Cancel, Terminate:
		sig := e.cfg.Caps.Backends[p.Source]
		var details []string
		var failed []string
		for _, t := range p.Targets {
			b := t.Backend
			matched, err := sig.SignalBackend(ctx, b.PID, b.BackendStart, p.Action == Terminate)
			switch {
			case err != nil:
				details = append(details, fmt.Sprintf("pid %d: error: %v", b.PID, err))
				failed = append(failed, fmt.Sprintf("pid %d: %v", b.PID, err))
			case !matched:
				details = append(details, fmt.Sprintf("pid %d: not signalled: gone or reused", b.PID))
				failed = append(failed, fmt.Sprintf("pid %d gone or reused", b.PID))
			default:
				details = append(details, fmt.Sprintf("pid %d: %s", b.PID, map[bool]string{true: "terminated", false: "cancel sent"}[p.Action == Terminate]))
			}
		}
		if len(failed) > 0 {
			return details, errors.New(strings.Join(failed, "; "))
		}
		return details, nil
	case Undo, Restart, Scale, Pause, Resume:
		ctl := e.cfg.Caps.Rollouts[p.Source]
		d := p.Targets[0].Deployment
		var err error
		var detail string
		switch p.Action {
		case Undo:
			err = ctl.Undo(ctx, d.Namespace, d.Name, p.Params.ToRevision)
			detail = fmt.Sprintf("%s rolled back to revision %d", d.Key(), p.Params.ToRevision)
		case Restart:
			err = ctl.Restart(ctx, d.Namespace, d.Name, e.cfg.Now())
			detail = d.Key() + " restarted"
		case Scale:
			err = ctl.Scale(ctx, d.Namespace, d.Name, p.Params.Replicas)
			detail = fmt.Sprintf("%s scaled %d → %d", d.Key(), d.Replicas, p.Params.Replicas)
		case Pause, Resume:
			err = ctl.SetPaused(ctx, d.Namespace, d.Name, p.Action == Pause)
			detail = d.Key() + map[bool]string{true: " paused", false: " resumed"}[p.Action == Pause]
		}
		if err != nil {
			return nil, err
		}
		return []string{detail}, nil
	case Silence:
		s := e.cfg.Caps.Silences[p.Source]
		now := e.cfg.Now()
		id, err := s.CreateSilence(ctx, sources.Silence{Matchers: p.Params.Matchers, StartsAt: now,
			EndsAt: now.Add(p.Params.Duration), CreatedBy: e.cfg.Operator, Comment: p.Params.Comment})
		if err != nil {
			return nil, err
		}
		return []string{"silence " + id + " created"}, nil
	case Expire:
		s := e.cfg.Caps.Silences[p.Source]
		id := p.Targets[0].ID
		if err := s.ExpireSilence(ctx, id); err != nil {
			return nil, err
		}
		return []string{"silence " + id + " expired"}, nil
	}
	return nil, refuse(ErrInvalid, "unknown action")
}
