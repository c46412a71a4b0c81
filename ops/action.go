// Package ops is where safety lives: an action request becomes a Plan (a
// value: targets with the identity that makes them unique, a preview, a risk
// tier and the phrase a confirmation must type), and the Executor re-checks
// everything itself before it touches the world through small capability
// interfaces that the backends satisfy without importing this package. Every
// execution writes an intent record before and an outcome record after to the
// audit Journal.
package ops

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"flightdeck/sources"
)

// Kind names an action. The string values are also the keys of sources.Denied
// and of the keymap's action names.
type Kind string

// The actions the cockpit can take.
const (
	Cancel    Kind = "cancel"    // pg_cancel_backend
	Terminate Kind = "terminate" // pg_terminate_backend (one or many = bulk)
	Undo      Kind = "undo"      // kubectl rollout undo
	Restart   Kind = "restart"   // kubectl rollout restart
	Scale     Kind = "scale"     // kubectl scale
	Pause     Kind = "pause"     // kubectl rollout pause
	Resume    Kind = "resume"    // kubectl rollout resume
	Silence   Kind = "silence"   // Alertmanager silence
	Expire    Kind = "expire"    // expire an Alertmanager silence
)

// AllKinds lists every action, in menu order per area.
var AllKinds = []Kind{Cancel, Terminate, Undo, Restart, Scale, Pause, Resume, Silence, Expire}

// Title is the action's name for menus and dialogs.
func (k Kind) Title() string {
	switch k {
	case Cancel:
		return "Cancel query"
	case Terminate:
		return "Terminate backend"
	case Undo:
		return "Roll back (undo)"
	case Restart:
		return "Restart rollout"
	case Scale:
		return "Scale"
	case Pause:
		return "Pause rollout"
	case Resume:
		return "Resume rollout"
	case Silence:
		return "Silence alert"
	case Expire:
		return "Expire silence"
	}
	return string(k)
}

// Area says which pane's selection an action applies to.
func (k Kind) Area() sources.Kind {
	switch k {
	case Cancel, Terminate:
		return sources.KindPostgres
	case Undo, Restart, Scale, Pause, Resume:
		return sources.KindRollouts
	default:
		return sources.KindAlerts
	}
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

// Request is what the UI asks for: an action on the current selection.
// Exactly the fields the action needs are set.
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
	Params    Params
}

// Params are the knobs of an action.
type Params struct {
	ToRevision int64             `json:"to_revision,omitempty"` // undo: 0 = previous
	Replicas   int32             `json:"replicas,omitempty"`    // scale: new count
	Override   bool              `json:"override,omitempty"`    // scale past scale_max_change
	Matchers   []sources.Matcher `json:"matchers,omitempty"`    // silence
	Duration   time.Duration     `json:"duration,omitempty"`    // silence
	Comment    string            `json:"comment,omitempty"`     // silence
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

	Backend    *sources.Backend    `json:"-"`
	Deployment *sources.Deployment `json:"-"`
}

// Plan is a value: everything the confirm dialog shows and the Executor
// re-checks. It is made by Executor.Plan and consumed by Executor.Execute.
type Plan struct {
	ID          string    `json:"id"`
	Action      Kind      `json:"action"`
	Source      string    `json:"source"`
	Environment string    `json:"environment"`
	Targets     []Target  `json:"targets"`
	Params      Params    `json:"params"`
	Title       string    `json:"title"`
	Preview     []string  `json:"preview"`
	DryRun      []string  `json:"dry_run,omitempty"`
	Risk        Risk      `json:"risk"`
	Phrase      string    `json:"phrase"` // what confirmation must type; "y" for low risk
	CreatedAt   time.Time `json:"created_at"`
	Hash        string    `json:"hash"`
}

// IsBulk reports whether the plan touches more than one target.
func (p Plan) IsBulk() bool { return len(p.Targets) > 1 }

// computeHash fingerprints what the plan will do, so the journal can tie an
// outcome to its intent and the Executor can tell a plan was altered after it
// was made.
func (p Plan) computeHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00", p.ID, p.Action, p.Source, p.Environment, p.Risk, p.Phrase)
	h.Write([]byte(p.CreatedAt.UTC().Format(time.RFC3339Nano)))
	for _, t := range p.Targets {
		fmt.Fprintf(h, "\x00%s\x00%s", t.ID, t.Identity)
	}
	params, _ := json.Marshal(p.Params)
	h.Write(params)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// backendIdentity is what pins a backend: its pid and start time.
func backendIdentity(b sources.Backend) string {
	return strconv.Itoa(int(b.PID)) + "@" + b.BackendStart.UTC().Format(time.RFC3339Nano)
}

// deploymentIdentity pins a deployment: same object, same revision, same scale.
func deploymentIdentity(d sources.Deployment) string {
	return fmt.Sprintf("uid=%s rev=%d replicas=%d paused=%t", d.UID, d.Revision, d.Replicas, d.Paused)
}
