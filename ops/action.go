// Package ops is where safety lives: an action request becomes a Plan (a
// value: targets with the identity that makes them unique, a preview, a risk
// tier and the phrase a confirmation must type), and the Executor re-checks
// everything itself before it touches the world through small capability
// interfaces that the backends satisfy without importing this package. Every
// execution writes an intent record before and an outcome record after to the
// audit Journal.
//
// Each area's actions live in one Handler (backends.go, rollouts.go,
// silences.go, ecs.go, rds.go), registered by Kind; the Executor keeps the
// walls they share. A handler whose effect takes minutes (ECS, RDS) is also
// an EffectWaiter: the cockpit waits for the effect through
// Executor.EffectWait.
package ops

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"flightdeck/sources"
)

// Kind names an action. The string values are also the keys of sources.Denied
// and of the keymap's action names. Each area's constants live with its
// handler.
type Kind string

// Title is the action's name for menus and dialogs, as its handler
// registered it.
func (k Kind) Title() string {
	if r, ok := specOf(k); ok {
		return r.spec.Title
	}
	return string(k)
}

// Area says which pane's selection an action applies to; "" for a kind no
// handler registered.
func (k Kind) Area() sources.Kind {
	if r, ok := specOf(k); ok {
		return r.h.Area()
	}
	return ""
}

// Risk is the confirmation tier.
type Risk int

// Low risk is confirmed with y (No focused); high risk by typing the phrase.
const (
	Low Risk = iota
	High
)

func (r Risk) String() string {
	if r == High {
		return "high"
	}
	return "low"
}

// Request is what the UI (or a runbook step) asks for: an action on a
// selection. Exactly the fields the action's area needs are set: one typed
// field per built-in area, so a pane hands over what it shows and the
// handler reads it without guessing; an area without a typed field carries
// its selection in Subject.
type Request struct {
	Action Kind
	// Source is the name of the source the selection came from ("pg main",
	// "kube", "am"); it picks the capability that will act.
	Source string
	// Backends are the selected or tagged backends as the pane saw them.
	Backends []sources.Backend
	// Deployment is the selected deployment as the pane saw it.
	Deployment *sources.Deployment
	// Alert is the selected alert (silence).
	Alert *sources.Alert
	// SilenceID is the silence to expire.
	SilenceID string
	// ECSService is the selected ECS service (desired count, forced
	// deployment, task definition rollback).
	ECSService *sources.ECSService
	// RDSInstance is the selected RDS instance (reboot, promotion); for an
	// Aurora failover, the member the operator had selected.
	RDSInstance *sources.RDSInstance
	// RDSCluster is the Aurora cluster to fail over.
	RDSCluster *sources.RDSCluster
	// Subject is the selection of an area that has no typed field above (a
	// handler registered outside ops, an area too new to have one): the
	// value its pane saw, which that area's handler type-asserts.
	Subject any
	Params  Params
}

// Params are the knobs of an action.
type Params struct {
	ToRevision int64             `json:"to_revision,omitempty"` // undo: 0 = previous
	Replicas   int32             `json:"replicas,omitempty"`    // scale: new count
	Override   bool              `json:"override,omitempty"`    // scale past scale_max_change
	Matchers   []sources.Matcher `json:"matchers,omitempty"`    // silence
	Duration   time.Duration     `json:"duration,omitempty"`    // silence
	Comment    string            `json:"comment,omitempty"`     // silence
	// Desired is an ECS service's new desired count.
	Desired int32 `json:"desired,omitempty"`
	// TaskDefinition is where an ECS rollback goes (family:revision); ""
	// asks for the previous ACTIVE revision, which the plan resolves.
	TaskDefinition string `json:"task_definition,omitempty"`
	// FailoverTarget is the Aurora reader to make the writer; "" lets RDS
	// choose.
	FailoverTarget string `json:"failover_target,omitempty"`
}

// isZero reports whether no knob is set (the journal then omits params).
func (p Params) isZero() bool {
	return p.ToRevision == 0 && p.Replicas == 0 && !p.Override && len(p.Matchers) == 0 && p.Duration == 0 && p.Comment == "" &&
		p.Desired == 0 && p.TaskDefinition == "" && p.FailoverTarget == ""
}

// Target is one thing an action touches, with the identity that pins it:
// pid + backend_start for a backend (pids are reused), UID + revision +
// replicas for a deployment, the matchers' hits for a silence.
type Target struct {
	// ID is the human-unique handle: "pid 4711", "production/nudgecampaign-api",
	// a silence id, an alert name.
	ID string `json:"id"`
	// Identity is what must still hold at execution.
	Identity string `json:"identity,omitempty"`
	// Detail is one preview line about the target.
	Detail string `json:"detail,omitempty"`
	// Seen is what the plan saw of the target, as key=value pairs with any
	// outside text cut to a bounded excerpt (user, application, state,
	// query start and query; revision and images; matchers and hits). The
	// intent record carries it, so the journal alone tells a postmortem
	// what was acted on.
	Seen string `json:"seen,omitempty"`
	// Subject is the handler's own copy of the target as the plan saw it
	// (a sources.Backend, a sources.Deployment, …): what it re-checks and
	// acts on. The plan hash covers it, so it cannot be swapped after the
	// plan was made.
	Subject any `json:"-"`
}

// Plan is a value: everything the confirm dialog shows and the Executor
// re-checks. It is made by Executor.Plan and consumed by Executor.Execute.
type Plan struct {
	ID          string   `json:"id"`
	Action      Kind     `json:"action"`
	Source      string   `json:"source"`
	Environment string   `json:"environment"`
	Targets     []Target `json:"targets"`
	Params      Params   `json:"params"`
	Title       string   `json:"title"`
	Preview     []string `json:"preview"`
	DryRun      []string `json:"dry_run,omitempty"`
	Risk        Risk     `json:"risk"`
	// ActionRisk is the action's own tier, as its handler rated it, before
	// a production environment raised Risk: what the two-person rule's
	// risk selector reads.
	ActionRisk Risk      `json:"action_risk"`
	Phrase     string    `json:"phrase"` // what confirmation must type; "y" for low risk
	CreatedAt  time.Time `json:"created_at"`
	Hash       string    `json:"hash"`
	// TwoPerson says the policy's two-person rule covers the plan: a
	// second operator must co-sign it before it runs.
	TwoPerson bool `json:"two_person,omitempty"`
}

// IsBulk reports whether the plan touches more than one target.
func (p Plan) IsBulk() bool { return len(p.Targets) > 1 }

// computeHash fingerprints what the plan will do — its targets' identities
// and the subjects the handler will act on included — so the journal can tie
// an outcome to its intent and the Executor can tell a plan was altered
// after it was made.
func (p Plan) computeHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00%d\x00%s\x00%t\x00", p.ID, p.Action, p.Source, p.Environment, p.Risk, p.ActionRisk, p.Phrase, p.TwoPerson)
	h.Write([]byte(p.CreatedAt.UTC().Format(time.RFC3339Nano)))
	for _, t := range p.Targets {
		fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00%T\x00", t.ID, t.Identity, t.Seen, t.Subject)
		subject, _ := json.Marshal(t.Subject)
		h.Write(subject)
	}
	params, _ := json.Marshal(p.Params)
	h.Write(params)
	return hex.EncodeToString(h.Sum(nil))[:16]
}
