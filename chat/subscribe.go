package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

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
func (s *Service) Subscribe(ctx context.Context, me, after string, r Receiver) (Subscription, error) {
	if r == nil {
		r = noReceiver{}
	}
	st := &stream{s: s, me: me, out: make(chan Event, subscriptionBuffer), r: r}
	resume, err := s.log.Subscribe(ctx, me, after, st)
	switch {
	case errors.Is(err, realtime.ErrCursorExpired):
		return Subscription{}, &fault.Error{Code: fault.CursorExpired, Message: "the cursor is too old: resync with queries, then subscribe without `after`", Field: "after"}
	case errors.Is(err, realtime.ErrBadCursor):
		return Subscription{}, badInput("after", "malformed cursor")
	case err != nil:
		return Subscription{}, fmt.Errorf("chat: subscribe: %w", err)
	}
	st.resume = resume
	// Online only once the stream is live: whoever sees me online may
	// send me something and expect it to arrive.
	st.connected(s.online(ctx, me))
	return Subscription{Events: st.out, st: st}, nil
}

// noReceiver is the Receiver of a reader that blocks on Events.
type noReceiver struct{}

func (noReceiver) Ready(Event) {}
func (noReceiver) Closed()     {}

// stream is a subscription's realtime.Sink: it turns log events into chat
// events on a buffered channel.
type stream struct {
	s  *Service
	me string
	// presence: the handle of my connection, once online; the stream may
	// end before that (its ctx ended at once), and then goes offline then.
	mu       sync.Mutex
	handle   string
	isOnline bool
	ended    bool

	out    chan Event
	r      Receiver
	resume func()
	// refused is set when the log's offer found out full: the next read
	// resumes the log (realtime.TrySend).
	refused atomic.Bool
	final   error // set before out is closed
}

var _ realtime.Sink = (*stream)(nil)

func (st *stream) Offer(ev realtime.Event) bool {
	e := st.s.decoded.decode(ev)
	if e == nil {
		st.s.cfg.Logger.Error("undecodable event skipped", "type", ev.Type)
		return true
	}
	mine := withCursor(e, ev.Cursor)
	if !realtime.TrySend(st.out, mine, &st.refused) {
		return false
	}
	st.r.Ready(mine)
	return true
}

func (st *stream) End(err error) {
	switch {
	case errors.Is(err, realtime.ErrSlowConsumer):
		st.final = ErrSlowConsumer
	case errors.Is(err, realtime.ErrCursorExpired):
		st.final = &fault.Error{Code: fault.CursorExpired, Message: "events were lost while you were behind: resync with queries"}
	case err != nil:
		st.final = &fault.Error{Code: fault.Unavailable, Message: "the event stream is unavailable; resume from your last cursor"}
	}
	close(st.out)
	st.r.Closed()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.ended = true
	if st.isOnline {
		st.goOffline()
	}
}

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

func (st *stream) taken() {
	if st.refused.CompareAndSwap(true, false) {
		st.resume()
	}
}
