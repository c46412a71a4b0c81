// Package pubsub is the one fan-out of flightdeck: a Broker hands each
// published value to every subscriber without ever waiting for one. What a
// subscriber keeps of the values it has not read yet is the Delivery the
// broker was made with — only the newest (Latest), the newest per key
// (LatestPerKey), or a bounded queue that drops its oldest (Queue) — so a
// slow reader coalesces or loses values, never blocks the publisher, and
// costs bounded memory.
//
// The Hub's snapshots, presence, announcements and the views sessions watch
// of each other are all Brokers; they differ only in their Delivery and in
// what they prime a new subscriber with.
package pubsub

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Next after the subscription was closed, and by a
// closed broker's subscriptions when Close was given no error.
var ErrClosed = errors.New("pubsub: subscription closed")

// Delivery says what a subscriber keeps of the values it has not read yet.
// Make one with Latest, LatestPerKey or Queue.
type Delivery[T any] struct {
	// keep adds v to the unread values and reports how many it dropped.
	keep func(unread []T, v T) ([]T, int)
}

// Latest keeps only the newest unread value: a reader gets the current
// state, not the history.
func Latest[T any]() Delivery[T] {
	return Delivery[T]{keep: func(unread []T, v T) ([]T, int) {
		dropped := len(unread)
		return append(unread[:0], v), dropped
	}}
}

// LatestPerKey keeps the newest unread value of each key, in the order the
// keys were first published since the last read. Memory is bounded by the
// number of keys the publisher uses (the Hub's sources).
func LatestPerKey[T any, K comparable](key func(T) K) Delivery[T] {
	return Delivery[T]{keep: func(unread []T, v T) ([]T, int) {
		k := key(v)
		for i := range unread {
			if key(unread[i]) == k {
				unread[i] = v
				return unread, 1
			}
		}
		return append(unread, v), 0
	}}
}

// Queue keeps up to n unread values in order (n < 1 counts as 1); when it is
// full the oldest is dropped to make room.
func Queue[T any](n int) Delivery[T] {
	n = max(n, 1)
	return Delivery[T]{keep: func(unread []T, v T) ([]T, int) {
		dropped := 0
		if len(unread) >= n {
			dropped = len(unread) - n + 1
			unread = append(unread[:0], unread[dropped:]...)
		}
		return append(unread, v), dropped
	}}
}

// Broker fans values out to its subscribers. The zero value is not usable;
// make one with New. Safe for concurrent use.
type Broker[T any] struct {
	delivery Delivery[T]

	mu     sync.Mutex
	subs   map[*Subscription[T]]struct{}
	closed bool
	err    error
}

// New returns a Broker that delivers as d says.
func New[T any](d Delivery[T]) *Broker[T] {
	return &Broker[T]{delivery: d, subs: map[*Subscription[T]]struct{}{}}
}

// Publish hands v to every current subscriber. It never blocks on a
// subscriber: each keeps v as the broker's Delivery says and is woken.
// Publishing on a closed broker does nothing.
func (b *Broker[T]) Publish(v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.offer(v)
	}
}

// Subscribe returns a subscription that receives every value published
// after this call, primed with prime (kept as the Delivery says), so a
// caller that publishes under its own lock can prime with its current state
// without missing or repeating a publication. A subscription to a closed
// broker is already ended with the broker's error.
func (b *Broker[T]) Subscribe(prime ...T) *Subscription[T] {
	s := &Subscription[T]{b: b, notify: make(chan struct{}, 1)}
	for _, v := range prime {
		s.offer(v)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.end(b.err)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Subscribers is how many subscriptions are attached now.
func (b *Broker[T]) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Close ends every subscription with err (ErrClosed when nil): their Next
// returns it from then on, unread values or not. Later Subscribes get an
// ended subscription; later Publishes do nothing. Closing twice keeps the
// first error.
func (b *Broker[T]) Close(err error) {
	if err == nil {
		err = ErrClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed, b.err = true, err
	for s := range b.subs {
		s.end(err)
	}
	clear(b.subs)
}

// Subscription is one subscriber's unread values.
type Subscription[T any] struct {
	b      *Broker[T]
	notify chan struct{} // capacity 1: wake-ups coalesce

	mu      sync.Mutex
	unread  []T
	dropped uint64
	err     error
}

func (s *Subscription[T]) offer(v T) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	var dropped int
	s.unread, dropped = s.b.delivery.keep(s.unread, v)
	s.dropped += uint64(dropped)
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription[T]) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
		s.unread = nil
	}
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription[T]) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Next blocks until there is at least one unread value and returns all of
// them, oldest first; the slice is the caller's. Once the subscription has
// ended it returns why (ErrClosed after Close, the broker's error after the
// broker's Close), and ctx's error when ctx ends first.
func (s *Subscription[T]) Next(ctx context.Context) ([]T, error) {
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return nil, err
		}
		if len(s.unread) > 0 {
			out := s.unread
			s.unread = nil
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.notify:
		}
	}
}

// Dropped is how many values this subscriber lost or had replaced before
// reading them (for Queue: fell behind; for the latest-value deliveries:
// coalesced).
func (s *Subscription[T]) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close detaches the subscription from its broker; a blocked Next returns
// ErrClosed (or the broker's error, if it closed first). Closing twice is
// harmless.
func (s *Subscription[T]) Close() {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	s.end(ErrClosed)
}
