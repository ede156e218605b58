package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"messenger/chat"
	"messenger/gqlws"
	"messenger/storage"
)

// Pusher is the websocket transport as a subscription resolver uses it
// (*gqlws.Transport): the Push of the subscription being resolved in ctx,
// nil when the transport does not serve it.
type Pusher interface {
	Push(ctx context.Context) *gqlws.Push
}

var _ Pusher = (*gqlws.Transport)(nil)

// events opens my subscription. Served by the websocket transport it is
// pushed (see gqlws.Push): no goroutine waits for an idle subscription.
func (r *Resolver) events(ctx context.Context, me, after string) (<-chan chat.Event, error) {
	var push *gqlws.Push
	if r.Push != nil {
		push = r.Push.Push(ctx)
	}
	if push == nil {
		return r.forwardedEvents(ctx, me, after)
	}
	p := &pushed{push: push}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		p.shared = sharedEventTypes(fc.Field.Selections)
	}
	sub, err := r.Chat.Subscribe(ctx, me, after, p)
	if err != nil {
		return nil, err
	}
	p.sub = sub
	push.Start(p)
	return sub.Events, nil
}

// pushed joins chat's subscription to the transport: it is the
// subscription's chat.Receiver, telling the transport when an event is
// ready (and whether its rendering can be shared), and the transport's
// gqlws.Stream, through which the transport takes events.
type pushed struct {
	push   *gqlws.Push
	shared map[string]bool // event types the selection renders the same for every recipient
	sub    chat.Subscription
}

var (
	_ chat.Receiver = (*pushed)(nil)
	_ gqlws.Stream  = (*pushed)(nil)
)

// Ready offers the transport a shared rendering for an event whose
// selection reads nothing but the event (see sharedSelection): the events
// a message's fan-out hands its recipients share the message, so the
// message is the key, and the recipient's cursor the patch.
func (p *pushed) Ready(e chat.Event) {
	if m, ok := e.(*chat.MessageAdded); ok && p.shared[m.EventType()] && m.Message != nil {
		p.push.Ready(sharedMessage{m.Message}, m.Cursor)
		return
	}
	p.push.Ready(nil, "")
}

// sharedMessage keys the rendering of a MessageAdded event.
type sharedMessage struct{ m *storage.Message }

func (p *pushed) Closed()    { p.push.Closed() }
func (p *pushed) Taken()     { p.sub.Taken() }
func (p *pushed) Err() error { return p.sub.Err() }

// Skip takes an event that the transport renders from a kept rendering.
func (p *pushed) Skip() any {
	e := <-p.sub.Events
	p.sub.Taken()
	return e
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
