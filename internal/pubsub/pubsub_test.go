package pubsub

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func next[T any](t *testing.T, s *Subscription[T]) []T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return v
}

func TestLatestKeepsOnlyTheNewest(t *testing.T) {
	b := New(Latest[int]())
	s := b.Subscribe(0)
	for i := 1; i <= 100; i++ {
		b.Publish(i)
	}
	if got := next(t, s); !slices.Equal(got, []int{100}) {
		t.Fatalf("Next = %v, want [100]", got)
	}
	if s.Dropped() != 100 {
		t.Errorf("Dropped = %d, want 100 (the prime and 99 coalesced)", s.Dropped())
	}
}

func TestLatestPerKeyKeepsTheNewestOfEachKeyInFirstSeenOrder(t *testing.T) {
	type snap struct {
		src string
		seq int
	}
	b := New(LatestPerKey(func(s snap) string { return s.src }))
	s := b.Subscribe(snap{"pg", 0}, snap{"am", 0})
	b.Publish(snap{"kube", 1})
	b.Publish(snap{"pg", 2})
	b.Publish(snap{"pg", 3})
	want := []snap{{"pg", 3}, {"am", 0}, {"kube", 1}}
	if got := next(t, s); !slices.Equal(got, want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
}

func TestQueueKeepsOrderAndDropsTheOldestWhenFull(t *testing.T) {
	b := New(Queue[int](3))
	s := b.Subscribe()
	for i := 1; i <= 5; i++ {
		b.Publish(i)
	}
	if got := next(t, s); !slices.Equal(got, []int{3, 4, 5}) {
		t.Fatalf("Next = %v, want [3 4 5]", got)
	}
	if s.Dropped() != 2 {
		t.Errorf("Dropped = %d, want 2", s.Dropped())
	}
	b.Publish(6)
	if got := next(t, s); !slices.Equal(got, []int{6}) {
		t.Fatalf("Next = %v, want [6]", got)
	}
}

// A subscriber that never reads costs the publisher nothing and holds at
// most its Delivery's bound.
func TestASubscriberThatNeverReadsNeitherBlocksNorGrows(t *testing.T) {
	b := New(Queue[[]byte](8))
	stuck := b.Subscribe()
	done := make(chan struct{})
	go func() {
		for range 100_000 {
			b.Publish(make([]byte, 16))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Publish blocked on a subscriber that never reads")
	}
	stuck.mu.Lock()
	n := len(stuck.unread)
	stuck.mu.Unlock()
	if n != 8 || stuck.Dropped() != 100_000-8 {
		t.Fatalf("unread %d, dropped %d; want 8 and %d", n, stuck.Dropped(), 100_000-8)
	}
}

func TestNewSubscribersGetOnlyWhatIsPublishedAfterwards(t *testing.T) {
	b := New(Queue[string](4))
	b.Publish("before")
	s := b.Subscribe()
	b.Publish("after")
	if got := next(t, s); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("Next = %v", got)
	}
}

func TestCloseEndsTheSubscriptionAndDetachesIt(t *testing.T) {
	b := New(Latest[int]())
	s := b.Subscribe()
	errc := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background())
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond) // let Next block; it returns either way
	s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Next after Close = %v, want ErrClosed", err)
	}
	if b.Subscribers() != 0 {
		t.Fatalf("Subscribers = %d after Close", b.Subscribers())
	}
	b.Publish(1)
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close and Publish = %v", err)
	}
	s.Close() // twice is harmless
}

func TestBrokerCloseEndsEverySubscriptionWithItsError(t *testing.T) {
	gone := errors.New("leader gone")
	b := New(Latest[int]())
	s1, s2 := b.Subscribe(1), b.Subscribe()
	b.Close(gone)
	b.Close(errors.New("second close is ignored"))
	for _, s := range []*Subscription[int]{s1, s2} {
		if _, err := s.Next(context.Background()); !errors.Is(err, gone) {
			t.Fatalf("Next = %v, want %v (unread values are not delivered after the end)", err, gone)
		}
	}
	s1.Close() // the first end wins
	if _, err := s1.Next(context.Background()); !errors.Is(err, gone) {
		t.Fatalf("Next after Close of an ended subscription = %v, want %v", err, gone)
	}
	late := b.Subscribe(7)
	if _, err := late.Next(context.Background()); !errors.Is(err, gone) {
		t.Fatalf("subscription to a closed broker: Next = %v", err)
	}
	if b.Subscribers() != 0 {
		t.Fatalf("Subscribers = %d after Close", b.Subscribers())
	}
}

func TestNextReturnsWhenTheContextEnds(t *testing.T) {
	s := New(Latest[int]()).Subscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v", err)
	}
}

// Run under -race: publishers, readers, subscribes and closes at once. Every
// reader sees its values in publication order.
func TestConcurrentPublishSubscribeClose(t *testing.T) {
	b := New(Queue[int](16))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				s := b.Subscribe()
				last := -1
				for range 3 {
					vs, err := s.Next(ctx)
					if err != nil {
						break
					}
					for _, v := range vs {
						if v <= last {
							t.Errorf("out of order: %d after %d", v, last)
						}
						last = v
					}
				}
				s.Close()
			}
		}()
	}
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			default:
			}
			b.Publish(i)
		}
	}()
	wg.Wait()
	cancel()
	<-pubDone
	b.Close(nil)
}

// BenchmarkPublish: one publication to 100 subscribers that never read
// (the worst case: every one keeps a value), per delivery.
func BenchmarkPublish(b *testing.B) {
	for _, c := range []struct {
		name string
		d    Delivery[int]
	}{
		{"latest", Latest[int]()},
		{"per-key", LatestPerKey(func(v int) int { return v % 8 })},
		{"queue32", Queue[int](32)},
	} {
		b.Run(c.name, func(b *testing.B) {
			br := New(c.d)
			for range 100 {
				br.Subscribe()
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				br.Publish(i)
			}
		})
	}
}
