// Package sources defines what the panes show (snapshot payloads), the Source
// interface every backend implements, and the Hub that polls sources and fans
// their latest snapshots out to subscribers.
//
// Backends (sources/postgres, sources/prom, sources/alertmanager, sources/kube,
// sources/demo) import this package; this package imports none of them, and
// never ops or ui.
package sources

import (
	"context"
	"time"
)

// Kind says which pane a source feeds.
type Kind string

// The kinds of data the cockpit shows, one per pane.
const (
	KindSLO      Kind = "slo"
	KindAlerts   Kind = "alerts"
	KindPostgres Kind = "postgres"
	KindRollouts Kind = "rollouts"
	KindAWS      Kind = "aws"
)

// Payload is the data of one successful fetch. It is sealed: only the payload
// types of this package implement it, so the UI can switch over them exhaustively.
// A payload is immutable once returned: the Hub hands the same pointer to every
// subscriber, and backends may share slices (image lists, say) between
// snapshots. Copy before changing anything.
type Payload interface {
	payloadKind() Kind
}

// Source is something the Hub polls. Fetch must honour ctx (the Hub gives it a
// deadline) and must return text already sanitized (see Sanitize).
type Source interface {
	// Name identifies the source in the status bar and in plans ("pg main",
	// "prom", "am", "kube"). Unique within a Hub.
	Name() string
	// Kind says which pane the payload belongs to.
	Kind() Kind
	// Fetch reads one snapshot.
	Fetch(ctx context.Context) (Payload, error)
}

// Pusher is a Source that produces snapshots itself (for example from
// Kubernetes watches) instead of being polled. The Hub calls Run once in its
// own goroutine; Run publishes on every change and returns when ctx ends.
// publish never blocks. Fetch is still used for a one-off read (config check).
type Pusher interface {
	Source
	Run(ctx context.Context, publish func(Payload, error))
}

// Snapshot is what the Hub hands to subscribers: the last good data of one
// source plus the outcome of its latest attempt.
type Snapshot struct {
	Source string // Source.Name()
	Kind   Kind
	// Data is the last successful payload; nil until the first success.
	Data Payload
	// FetchedAt is when Data was fetched; the UI shows its age.
	FetchedAt time.Time
	// Err is the error of the latest attempt, nil when it succeeded.
	Err error
	// ErrAt is when Err happened.
	ErrAt time.Time
	// Stale is true when Data is older than the latest attempt, i.e. the
	// latest attempt failed and the pane shows the last good data dimmed.
	Stale bool
	// Seq increases with every update of this source.
	Seq uint64
	// PollingSince is when the Hub began asking the source (its first
	// fetch, or a pusher's start); zero before Hub.Start. Until the first
	// answer it is how long the pane has been waiting.
	PollingSince time.Time
	// Timeout is each fetch's deadline (PollOptions.Timeout); zero for a
	// pushed source, which has none.
	Timeout time.Duration
	// Interval is how often the Hub polls the source; 0 when it does not
	// poll it (a Pusher, a snapshot made by hand).
	Interval time.Duration
}

// OnTime reports whether the data is as fresh as polling makes it: no
// older at now than one interval and a grace (half an interval, at least a
// second) for the fetch itself. A screen can then show a fresh source
// without an age that would change every second between polls, and show
// the age once data is late. Without an Interval nothing is on time.
func (s Snapshot) OnTime(now time.Time) bool {
	if s.Interval <= 0 || s.FetchedAt.IsZero() || s.Err != nil || s.Stale {
		return false
	}
	return s.Age(now) <= s.Interval+max(s.Interval/2, time.Second)
}

// Age is how old the data is at now; zero when there is no data yet.
func (s Snapshot) Age(now time.Time) time.Duration {
	if s.FetchedAt.IsZero() {
		return 0
	}
	return now.Sub(s.FetchedAt)
}
