package gqlws

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// Stream is a pushed subscription's stream, as the transport reads it. The
// transport calls its methods from one goroutine at a time (while the
// stream may be calling Push.Ready from another).
type Stream interface {
	// Taken is called after each value the transport reads from the
	// channel: a stream with a bounded buffer refills it then.
	Taken()
	// Skip takes the next value off the channel and returns it, without
	// the operation being executed for it (the transport sends a rendering
	// it kept instead, see Push.Ready). It counts as taken.
	Skip() (value any)
	// Err says, once the channel has closed, why the stream ended: nil for
	// a normal end or because the operation's context ended, else the
	// reason handed to Config.OnStreamEnd.
	Err() error
}

// Push is the transport's side of one pushed subscription: its stream
// tells it when a result is ready. Ready and Closed may be called from any
// goroutine, and before Start; they never block (they queue, and may start
// a goroutine that reads), so a stream may call them under its own locks.
type Push struct{ o *op }

// Push returns the Push of the subscription whose resolver runs in ctx, or
// nil when ctx is not a subscription this transport is dispatching (another
// transport's, or a query). Call it from the resolver, before it returns.
func (t *Transport) Push(ctx context.Context) *Push {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	o, ok := t.dispatching.Load(graphql.GetOperationContext(ctx))
	if !ok {
		return nil
	}
	return &Push{o.(*op)}
}

// Start hands the transport the stream: its results are read as Ready says
// they are. Call it once, on the resolver's goroutine, just before the
// resolver returns the channel.
func (p *Push) Start(s Stream) { p.o.stream = s }

// Ready says one more value is on the channel, in the order the values
// were put there.
//
// Shared renderings: key, when not nil (and comparable), says that the
// value renders exactly as every other value with an equal key does for an
// operation with the same name and document (whatever its variables),
// except that the string patch (if not empty) appears in its place. The
// transport may then send a rendering it kept instead of executing the
// operation for the value: it calls Stream.Skip, and Config.OnReuse with
// the value. A
// message to a group of a thousand members is then rendered once per
// distinct subscription document, not once per member.
func (p *Push) Ready(key any, patch string) { p.o.ready(key, patch) }

// Closed says the channel is closed: the transport reads the end, asks
// Stream.Err why, and completes the operation or tells the client what
// Config.OnStreamEnd says.
func (p *Push) Closed() { p.o.ready(nil, "") }
