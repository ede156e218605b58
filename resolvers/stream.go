package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"messenger/chat"
)

type streamKey struct{}

// streamHooks are what a transport that drives subscriptions without a
// waiting goroutine offers a subscription resolver.
type streamHooks struct {
	ready    func(key any, patch string)
	register func(taken func(), reason func() error, skip func())
}

// WithStream returns ctx in which a subscription resolver lets the
// transport read its channel only when a read will not block:
//   - the resolver's stream calls ready after each value it puts on the
//     channel and after closing it (from any goroutine; ready must not
//     block);
//   - before returning the channel, the resolver calls register with taken,
//     which the transport calls after each value it reads (the stream
//     refills only then), reason, which says once the channel has closed
//     why the stream ended (nil: normally, or because ctx ended), and skip,
//     which takes a value off the channel without executing the operation.
//
// ready's key, when not nil, tells the transport that the value renders as
// every other value with that key does for the same document, except for
// patch (the subscriber's cursor): the transport may then send a rendering
// it kept and call skip. A resolver passes a key only when its selection
// reads nothing but the event (see sharedSelection).
//
// Without it (a transport that blocks on the channel) a resolver forwards
// its stream on a goroutine of its own.
func WithStream(ctx context.Context, ready func(key any, patch string), register func(taken func(), reason func() error, skip func())) context.Context {
	return context.WithValue(ctx, streamKey{}, &streamHooks{ready: ready, register: register})
}

func (r *Resolver) events(ctx context.Context, me, after string) (<-chan chat.Event, error) {
	h, push := ctx.Value(streamKey{}).(*streamHooks)
	if !push {
		return r.forwardedEvents(ctx, me, after)
	}
	var shared map[string]bool
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		shared = sharedEventTypes(fc.Field.Selections)
	}
	ready := func(e chat.Event, cursor string) {
		if e != nil && shared[e.EventType()] {
			h.ready(e, cursor)
			return
		}
		h.ready(nil, "")
	}
	sub, err := r.Chat.Subscribe(ctx, me, after, ready)
	if err != nil {
		return nil, err
	}
	skip := func() {
		<-sub.Events
		sub.Taken()
	}
	h.register(sub.Taken, sub.Err, skip)
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
