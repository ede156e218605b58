package resolvers

import (
	"context"

	"messenger/chat"
)

type streamKey struct{}

// streamHooks are what a transport that drives subscriptions without a
// waiting goroutine offers a subscription resolver.
type streamHooks struct {
	ready    func()
	register func(taken func(), reason func() error)
}

// WithStream returns ctx in which a subscription resolver lets the
// transport read its channel only when a read will not block:
//   - the resolver's stream calls ready after each value it puts on the
//     channel and after closing it (from any goroutine; ready must not
//     block);
//   - before returning the channel, the resolver calls register with taken,
//     which the transport calls after each value it reads (the stream
//     refills only then), and reason, which says once the channel has
//     closed why the stream ended (nil: normally, or because ctx ended).
//
// Without it (a transport that blocks on the channel) a resolver forwards
// its stream on a goroutine of its own.
func WithStream(ctx context.Context, ready func(), register func(taken func(), reason func() error)) context.Context {
	return context.WithValue(ctx, streamKey{}, &streamHooks{ready: ready, register: register})
}

func (r *Resolver) events(ctx context.Context, me, after string) (<-chan chat.Event, error) {
	h, push := ctx.Value(streamKey{}).(*streamHooks)
	if !push {
		return r.forwardedEvents(ctx, me, after)
	}
	sub, err := r.Chat.Subscribe(ctx, me, after, h.ready)
	if err != nil {
		return nil, err
	}
	h.register(sub.Taken, sub.Err)
	return sub.Events, nil
}

// forwardedEvents serves a transport that blocks on the channel: a
// goroutine hands each event on and tells the stream it was taken.
func (r *Resolver) forwardedEvents(ctx context.Context, me, after string) (<-chan chat.Event, error) {
	sub, err := r.Chat.Subscribe(ctx, me, after, nil)
	if err != nil {
		return nil, err
	}
	out := make(chan chat.Event)
	go func() {
		defer close(out)
		for e := range sub.Events {
			select {
			case out <- e:
				sub.Taken()
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
