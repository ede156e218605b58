package chat

import (
	"context"
	"errors"
	"fmt"

	"messenger/fault"
	"messenger/realtime"
)

// subscriptionBuffer is how many events wait for one subscriber before the
// log is asked to hold the rest.
const subscriptionBuffer = 16

// Subscription is a live stream of my events.
//
// How an event reaches a socket: the event log offers each event appended
// to my log to the subscription (realtime.Sink, on the log's goroutine);
// the subscription puts it on Events and tells its Receiver, which (through
// resolvers/stream.go) tells the websocket transport (gqlws.Push); the
// transport reads Events only then, renders the event for the socket and
// calls Taken.
type Subscription struct {
	// Events is closed when the subscription ends; then Err says why.
	Events <-chan Event
	st     *stream
}

// Taken must be called after each event read from Events: the stream
// refills Events only then. A reader that leaves Events full for the log's
// slow-consumer limit is dropped (ErrSlowConsumer).
func (s Subscription) Taken() { s.st.taken() }

// Err is nil after the caller's context ended, or the reason the
// subscription failed (CURSOR_EXPIRED, slow consumer, backend
// unavailable). Call it only after Events is closed.
func (s Subscription) Err() error { return s.st.final }

// Receiver is told when a subscription has something to read, so that its
// reader needs no goroutine waiting on Events: the websocket transport
// reads only then.
//
// The subscription calls Ready after it puts an event on Events (e is that
// event), and Closed once, after it closes Events. Calls come one at a
// time, in the order of the events, on the event log's goroutine and
// possibly under the log's locks: neither method may block, nor call back
// into the subscription (Taken included) or the log.
//
// A slow reader costs the log nothing: Events holds 16 events, the log
// keeps what does not fit until the reader calls Taken, and a reader that
// leaves Events full for the log's slow-consumer limit is dropped: Events
// closes and Err says ErrSlowConsumer.
type Receiver interface {
	Ready(e Event)
	Closed()
}

// ErrSlowConsumer: the subscriber did not keep up and was dropped; it may
// resume from its last cursor.
var ErrSlowConsumer = errors.New("chat: subscriber too slow; resume from your last cursor")

// Subscribe streams my events after the given cursor ("" = from now) to
// Events, and tells r (if not nil) as each one arrives; see Receiver. While
// it is open I count as online. Events delivered to several recipients
// share their payload's pointers (read-only).
//
// Besides my own log it reads the stream of each streamed conversation I
// am in (subscribe_streams.go); then every event carries the composite
// cursor of all of them.
func (s *Service) Subscribe(ctx context.Context, me, after string, r Receiver) (Subscription, error) {
	if r == nil {
		r = noReceiver{}
	}
	cur, legacy, err := parseCursor(after)
	if err != nil {
		return Subscription{}, err
	}
	// The streams I am in, read from now unless the cursor has a
	// position in them, or my own log after the cursor points to them (a
	// pointer replaces a start from now). A cursor of my own log alone
	// (from before I read any stream) is such a cursor: every stream I
	// joined since is pointed to after it.
	convs, err := s.store.StreamedOf(ctx, me)
	if err != nil {
		return Subscription{}, fmt.Errorf("chat: subscribe: %w", err)
	}
	var fresh []string
	for _, id := range convs {
		if _, ok := cur.Streams[id]; !ok {
			fresh = append(fresh, id)
		}
	}
	st, err := s.openStream(ctx, me, cur, fresh, !legacy || len(convs) > 0, r)
	if err != nil {
		return Subscription{}, err
	}
	// Online only once the stream is live: whoever sees me online may
	// send me something and expect it to arrive.
	st.connected(s.online(ctx, me))
	return Subscription{Events: st.out, st: st}, nil
}

// cursorExpired is the error of a cursor whose events are gone.
func cursorExpired() error {
	return &fault.Error{Code: fault.CursorExpired, Message: "the cursor is too old: resync with queries, then subscribe without `after`", Field: "after"}
}

// subscribeError maps a Log.Subscribe error.
func subscribeError(err error) error {
	switch {
	case errors.Is(err, realtime.ErrCursorExpired):
		return cursorExpired()
	case errors.Is(err, realtime.ErrBadCursor):
		return badInput("after", "malformed cursor")
	}
	return fmt.Errorf("chat: subscribe: %w", err)
}

// noReceiver is the Receiver of a reader that blocks on Events.
type noReceiver struct{}

func (noReceiver) Ready(Event) {}
func (noReceiver) Closed()     {}

// connected records my presence handle; if the stream has already ended,
// I go offline again.
func (st *stream) connected(handle string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.handle, st.isOnline = handle, true
	if st.ended {
		st.goOffline()
	}
}

// goOffline ends my presence on a goroutine of its own: presence may call a
// server, and End runs under the log's locks.
func (st *stream) goOffline() {
	h := st.handle
	st.s.goBackground(func() { st.s.offline(st.me, h) })
}
