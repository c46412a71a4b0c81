package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"flightdeck/internal/duration"
	"flightdeck/sources"
)

// The Alertmanager silence actions.
const (
	Silence Kind = "silence" // Alertmanager silence
	Expire  Kind = "expire"  // expire an Alertmanager silence
)

// Silencer is what the silence actions need from Alertmanager.
type Silencer interface {
	// MatchingAlerts returns the active (not yet silenced) alerts the
	// matchers select, for the preview and the policy check.
	MatchingAlerts(ctx context.Context, matchers []sources.Matcher) ([]sources.Alert, error)
	// CreateSilence creates s (ID empty) and returns its id.
	CreateSilence(ctx context.Context, s sources.Silence) (string, error)
	// GetSilence reads one silence.
	GetSilence(ctx context.Context, id string) (sources.Silence, error)
	// ExpireSilence ends a silence now.
	ExpireSilence(ctx context.Context, id string) error
}

// silencesHandler creates and expires silences. A new silence's target is
// its matchers, pinned by how many active alerts they hit; an expiry's is
// the silence, pinned by its end time.
type silencesHandler struct{}

func (silencesHandler) Area() sources.Kind { return sources.KindAlerts }

func (silencesHandler) Kinds() []KindSpec {
	return []KindSpec{{Silence, "Silence alert"}, {Expire, "Expire silence"}}
}

func (silencesHandler) Check(pol Policy, req Request, scope CheckScope) error {
	switch req.Action {
	case Silence:
		if scope == TargetOnly {
			if req.Alert == nil && len(req.Params.Matchers) == 0 {
				return refuse(ErrInvalid, "no alert selected")
			}
			return nil // matchers, duration and comment are asked for next
		}
		if len(req.Params.Matchers) == 0 {
			return refuse(ErrInvalid, "a silence needs at least one matcher")
		}
		if req.Params.Duration <= 0 {
			return refuse(ErrInvalid, "silence duration must be positive")
		}
		if pol.SilenceMax > 0 && req.Params.Duration > pol.SilenceMax {
			return refuse(ErrPolicy, fmt.Sprintf("duration %s exceeds silence_max %s", duration.Format(req.Params.Duration), duration.Format(pol.SilenceMax)))
		}
		if req.Params.Comment == "" {
			return refuse(ErrInvalid, "a silence needs a comment")
		}
	case Expire:
		if req.SilenceID == "" {
			return refuse(ErrInvalid, "no silence selected")
		}
	}
	return nil
}

func (h silencesHandler) Plan(ctx context.Context, env Env, req Request, p *Plan) error {
	s, err := Capability[Silencer](env, "manage silences")
	if err != nil {
		return err
	}
	if req.Action == Expire {
		return h.planExpire(ctx, env, s, req, p)
	}
	hits, err := s.MatchingAlerts(ctx, req.Params.Matchers)
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	if err := checkSilenceHits(env.Policy, req.Params.Matchers, len(hits)); err != nil {
		return err
	}
	name := matcherValue(req.Params.Matchers, "alertname")
	if name == "" {
		name = "silence"
	}
	ms := FormatMatchers(req.Params.Matchers)
	p.Title = "Silence " + ms + " for " + duration.Format(req.Params.Duration)
	p.Phrase = name
	if req.Params.Duration <= env.Policy.LowRiskSilence {
		p.Risk = Low
	}
	p.Targets = []Target{{ID: ms, Identity: fmt.Sprintf("hits=%d", len(hits)), Seen: seenHits(ms, hits)}}
	p.Preview = []string{
		fmt.Sprintf("matchers %s hit %d active alert(s)", ms, len(hits)),
		fmt.Sprintf("for %s, until %s, comment %q", duration.Format(req.Params.Duration), env.Now().Add(req.Params.Duration).Format("15:04 MST"), req.Params.Comment),
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

func (silencesHandler) planExpire(ctx context.Context, _ Env, s Silencer, req Request, p *Plan) error {
	sil, err := s.GetSilence(ctx, req.SilenceID)
	if err != nil {
		return fmt.Errorf("read silence: %w", err)
	}
	if sil.State == "expired" {
		return refuse(ErrInvalid, "silence "+sil.ID+" has already expired")
	}
	p.Risk = Low
	p.Title = "Expire silence " + sil.ID
	p.Phrase = sil.ID
	var sn seen
	sn.head("silence " + sil.ID)
	sn.add("matchers", FormatMatchers(sil.Matchers))
	sn.add("state", sil.State)
	sn.text("created_by", sil.CreatedBy)
	sn.text("comment", sil.Comment)
	sn.time("starts_at", sil.StartsAt)
	sn.time("ends_at", sil.EndsAt)
	p.Targets = []Target{{ID: sil.ID, Identity: sil.EndsAt.UTC().Format(time.RFC3339), Detail: FormatMatchers(sil.Matchers),
		Seen: sn.String(), Subject: sil}}
	p.Preview = []string{
		"matchers " + FormatMatchers(sil.Matchers),
		fmt.Sprintf("created by %s: %q; ends %s", sil.CreatedBy, sil.Comment, sil.EndsAt.Format("15:04 MST")),
		"the alerts it silences notify again",
	}
	return nil
}

// maxSeenAlerts bounds the alerts a silence's Seen line names.
const maxSeenAlerts = 10

// seenHits is the audit record's account of a new silence: its matchers and
// the alerts they hit when it was planned.
func seenHits(ms string, hits []sources.Alert) string {
	var s seen
	s.head(ms)
	s.add("hits", strconv.Itoa(len(hits)))
	names := make([]string, 0, min(len(hits), maxSeenAlerts))
	for i, a := range hits {
		if i == maxSeenAlerts {
			names = append(names, fmt.Sprintf("and %d more", len(hits)-i))
			break
		}
		n := a.Name
		if ls := labelString(a.Labels); ls != "" {
			n += "{" + ls + "}"
		}
		names = append(names, n)
	}
	s.text("alerts", strings.Join(names, "; "))
	return s.String()
}

func checkSilenceHits(pol Policy, ms []sources.Matcher, hits int) error {
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
	if max := pol.SilenceMaxAlerts; max > 0 && hits > max {
		return refuse(ErrPolicy, fmt.Sprintf("regex matchers hit %d alerts; policy allows %d", hits, max))
	}
	return nil
}

func (h silencesHandler) Recheck(ctx context.Context, env Env, p Plan) error {
	s, err := Capability[Silencer](env, "manage silences")
	if err != nil {
		return err
	}
	if len(p.Targets) != 1 {
		return refuse(ErrTampered, "a silence plan has exactly one target")
	}
	switch p.Action {
	case Silence:
		if err := h.Check(env.Policy, Request{Action: p.Action, Source: p.Source, Params: p.Params}, WholeRequest); err != nil {
			return err
		}
		hits, err := s.MatchingAlerts(ctx, p.Params.Matchers)
		if err != nil {
			return refuse(ErrRecheck, "matching alerts: "+err.Error())
		}
		return checkSilenceHits(env.Policy, p.Params.Matchers, len(hits))
	case Expire:
		id := p.Targets[0].ID
		sil, err := s.GetSilence(ctx, id)
		if err != nil {
			return refuse(ErrRecheck, "reading silence "+id+": "+err.Error())
		}
		if sil.State == "expired" {
			return refuse(ErrTargetChanged, "silence "+sil.ID+" has already expired")
		}
	}
	return nil
}

func (silencesHandler) Act(ctx context.Context, env Env, p Plan) ([]string, error) {
	s, err := Capability[Silencer](env, "manage silences")
	if err != nil {
		return nil, err
	}
	switch p.Action {
	case Silence:
		now := env.Now()
		id, err := s.CreateSilence(ctx, sources.Silence{Matchers: p.Params.Matchers, StartsAt: now,
			EndsAt: now.Add(p.Params.Duration), CreatedBy: env.Operator, Comment: p.Params.Comment})
		if err != nil {
			return nil, err
		}
		return []string{"silence " + id + " created"}, nil
	case Expire:
		id := p.Targets[0].ID
		if err := s.ExpireSilence(ctx, id); err != nil {
			return nil, err
		}
		return []string{"silence " + id + " expired"}, nil
	}
	return nil, refuse(ErrInvalid, fmt.Sprintf("silences cannot %s", p.Action))
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
