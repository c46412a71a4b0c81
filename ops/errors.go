package ops

import "errors"

// Sentinel kinds of refusal; match with errors.Is. The error text carries the
// specific reason ("plan is 41s old (limit 30s)").
var (
	ErrReadOnly      = errors.New("read-only mode")
	ErrConfirmation  = errors.New("confirmation does not match")
	ErrStalePlan     = errors.New("plan is stale")
	ErrTampered      = errors.New("plan was altered after it was made")
	ErrPolicy        = errors.New("refused by policy")
	ErrTargetChanged = errors.New("target changed since the plan was made")
	// ErrRecheck is a target that could not be read again at execution (a
	// hung database, an API error): nothing is known to have changed, but
	// acting unverified is not allowed.
	ErrRecheck     = errors.New("cannot re-check targets")
	ErrUnsupported = errors.New("not supported here")
	ErrDenied      = errors.New("not permitted")
	ErrAudit       = errors.New("audit journal unavailable")
	ErrInvalid     = errors.New("invalid request")
)

// Refusal is an action the Executor would not carry out. Nothing was changed.
type Refusal struct {
	Kind   error  // one of the sentinels above
	Reason string // specifics for the status bar
}

func (r *Refusal) Error() string {
	if r.Reason == "" {
		return r.Kind.Error()
	}
	return r.Kind.Error() + ": " + r.Reason
}

func (r *Refusal) Unwrap() error { return r.Kind }

func refuse(kind error, reason string) error { return &Refusal{Kind: kind, Reason: reason} }

// IsRefusal reports whether err is a refusal (nothing was changed) rather
// than a failure while acting.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}
