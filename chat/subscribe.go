package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"messenger/realtime"
)

// subscriptionBuffer is how many events wait for one subscriber before the
// log is asked to hold the rest.
const subscriptionBuffer = 16

// Subscription is a live stream of my events.
type Subscription struct {
	// Events is closed when the subscription ends; then Err says why.
	Events <-chan Event
	// Err is nil after the caller's context ended, or the reason it failed
	// (CURSOR_EXPIRED, slow consumer, backend unavailable). Call it only
	// after Events is closed.
	Err func() error
	// Taken must be called after each event read from Events: the stream
	// refills Events only then. A reader that leaves Events full for the
	// log's slow-consumer limit is dropped (ErrSlowConsumer).
	Taken func()
}

// ErrSlowConsumer: the subscriber did not keep up and was dropped; it may
// resume from its last cursor.
var ErrSlowConsumer = errors.New("chat: subscriber too slow; resume from your last cursor")

// Subscribe streams my events after the given cursor ("" = from now). While
// it is open I count as online.
//
// No goroutine waits for an idle subscription: the event log puts events on
// Events as they are appended, and calls ready (if not nil) after each one
// and after closing Events (with nil), so a reader can read only when a
// read will not block. ready gets the event as every recipient on this
// instance shares it (the value on Events is a copy with this
// subscriber's cursor): readers may use it as a key for work they share.
// ready runs on the log's goroutine, possibly under its locks: it must not
// block.
func (s *Service) Subscribe(ctx context.Context, me, after string, ready func(shared Event, cursor string)) (Subscription, error) {
	if ready == nil {
		ready = func(Event, string) {}
	}
	st := &stream{s: s, me: me, out: make(chan Event, subscriptionBuffer), ready: ready}
	resume, err := s.log.Subscribe(ctx, me, after, st)
	switch {
	case errors.Is(err, realtime.ErrCursorExpired):
		return Subscription{}, &Error{Code: CursorExpired, Message: "the cursor is too old: resync with queries, then subscribe without `after`", Field: "after"}
	case errors.Is(err, realtime.ErrBadCursor):
		return Subscription{}, badInput("after", "malformed cursor")
	case err != nil:
		return Subscription{}, fmt.Errorf("chat: subscribe: %w", err)
	}
	st.resume = resume
	// Online only once the stream is live: whoever sees me online may
	// send me something and expect it to arrive.
	st.connected(s.online(ctx, me))
	return Subscription{Events: st.out, Err: st.err, Taken: st.taken}, nil
}

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
	ready  func(shared Event, cursor string)
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
	if !realtime.TrySend(st.out, withCursor(e, ev.Cursor), &st.refused) {
		return false
	}
	st.ready(e, ev.Cursor)
	return true
}

func (st *stream) End(err error) {
	switch {
	case errors.Is(err, realtime.ErrSlowConsumer):
		st.final = ErrSlowConsumer
	case errors.Is(err, realtime.ErrCursorExpired):
		st.final = &Error{Code: CursorExpired, Message: "events were lost while you were behind: resync with queries"}
	case err != nil:
		st.final = &Error{Code: Unavailable, Message: "the event stream is unavailable; resume from your last cursor"}
	}
	close(st.out)
	st.ready(nil, "")
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

func (st *stream) err() error { return st.final }
