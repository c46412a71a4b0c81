package together

import (
	"context"

	"flightdeck/internal/pubsub"
	"flightdeck/ops"
)

// CoSigns is the board of co-sign requests every session shows: the
// world's ops.CoSigns hands it each change (ops.CoSignOptions.OnChange),
// and each session's Board follows it with latest-value semantics — a
// session sees the current requests at once, and a slow one coalesces
// changes rather than holding anyone up.
type CoSigns struct {
	fanout *pubsub.Broker[[]ops.CoSignRequest]
	latest func() []ops.CoSignRequest
}

// NewCoSigns returns a board; current lists the requests now, to prime a
// new subscriber (ops.CoSigns.List).
func NewCoSigns(current func() []ops.CoSignRequest) *CoSigns {
	return &CoSigns{fanout: pubsub.New(pubsub.Latest[[]ops.CoSignRequest]()), latest: current}
}

// Publish hands every session the requests now listed. It never blocks.
func (c *CoSigns) Publish(list []ops.CoSignRequest) { c.fanout.Publish(list) }

// Subscribe returns a Board whose first Next returns the current requests
// at once.
func (c *CoSigns) Subscribe() *Board {
	var prime []ops.CoSignRequest
	if c.latest != nil {
		prime = c.latest()
	}
	return &Board{sub: c.fanout.Subscribe(prime)}
}

// Board is one session's view of the co-sign requests.
type Board struct {
	sub *pubsub.Subscription[[]ops.CoSignRequest]
}

// Next blocks until the requests changed (the first call returns at once)
// and returns them, oldest first.
func (b *Board) Next(ctx context.Context) ([]ops.CoSignRequest, error) {
	lists, err := b.sub.Next(ctx)
	if err != nil {
		return nil, closedAs(err)
	}
	return lists[len(lists)-1], nil
}

// Close detaches the Board; a blocked Next returns ErrClosed.
func (b *Board) Close() { b.sub.Close() }
