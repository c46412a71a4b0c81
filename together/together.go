// Package together is what the sessions on one flightdeck share besides the
// data: who is connected (Presence), what was just done (Announcer), and
// where each session is looking (Views), so an observer can watch an
// operator's screen and pair with them.
//
// It sits below both serve (which joins and leaves sessions) and ui (which
// shows them), so neither has to import the other. Every type here fans out
// through one internal/pubsub Broker, under the Hub's rule: a subscriber
// that reads slowly misses or coalesces updates but never blocks whoever
// publishes, and memory per subscriber is bounded.
package together

import (
	"errors"
	"fmt"

	"flightdeck/internal/pubsub"
)

// ErrClosed is returned by Next after the subscription was closed.
var ErrClosed = errors.New("together: subscription closed")

// Role is what a session may do. The zero value is Observer, so a Role
// nobody set can never act.
type Role int

const (
	// Observer sees everything and can change nothing: its UI gets no
	// Executor.
	Observer Role = iota
	// Operator may act through the ops Executor, journaled under its own
	// identity.
	Operator
)

// String is the role as written in the config: "observer" or "operator".
func (r Role) String() string {
	if r == Operator {
		return "operator"
	}
	return "observer"
}

// CanAct reports whether a session with this role may be given an Executor.
func (r Role) CanAct() bool { return r == Operator }

// ParseRole reads "operator" or "observer".
func ParseRole(s string) (Role, error) {
	switch s {
	case "operator":
		return Operator, nil
	case "observer":
		return Observer, nil
	}
	return Observer, fmt.Errorf("unknown role %q (operator or observer)", s)
}

// closedAs is err with the broker's own ErrClosed reported as this
// package's, which callers compare against.
func closedAs(err error) error {
	if errors.Is(err, pubsub.ErrClosed) {
		return ErrClosed
	}
	return err
}
