// Package realtime is the per-user event log that drives subscriptions.
//
// Every user has one ordered log. Writers append an event to the logs of all
// the users it concerns (fan-out on write); a subscriber reads its own user's
// log from a cursor, so a client that reconnects with its last cursor gets
// every event it missed, in order, none twice. Ephemeral signals (typing,
// presence) bypass the log: they reach whoever is subscribed right now, at
// most once, and carry no cursor.
//
// The embedded backend (NewMemory) keeps the logs in this process; the
// distributed backend keeps them in Redis Streams.
package realtime

import (
	"context"
	"errors"
	"time"
)

// Errors of every Log implementation; test them with errors.Is.
var (
	// ErrBadCursor: the cursor was not made by this log.
	ErrBadCursor = errors.New("realtime: malformed cursor")
	// ErrCursorExpired: events after the cursor are no longer retained (or the
	// log was reset), so resuming from it would leave a gap. The client must
	// resync with queries and subscribe without a cursor.
	ErrCursorExpired = errors.New("realtime: cursor expired")
	// ErrSlowConsumer: the subscriber fell too far behind and was dropped; it
	// may resume from the last cursor it received.
	ErrSlowConsumer = errors.New("realtime: subscriber too slow")
	// ErrUnavailable: the backend cannot be reached; retry later.
	ErrUnavailable = errors.New("realtime: unavailable")
)

// Event is one entry of a user's log, or one ephemeral signal.
type Event struct {
	// Cursor is the event's position in the receiving user's log, set by the
	// log; empty for signals.
	Cursor string
	// ID, when set, names the event across retries of its fan-out, so
	// AppendOnce can tell whether a user's log already has it. Logs keep it
	// with the event and return it to subscribers. Empty for signals and
	// for events that are never replayed.
	ID string
	// Type names the payload ("MessageAdded", "TypingUpdated", ...).
	Type string
	// Data is the payload, encoded by the writer. Logs never modify it, so
	// one slice may be shared by every recipient.
	Data []byte
	// Value is the payload as the writer had it before encoding, or nil.
	// A log that keeps events in this process may hand it to subscribers
	// with the event (so they need not decode Data); one that stores
	// events elsewhere drops it. Readers must treat it as read-only: it is
	// shared by every recipient.
	Value any
}

// Log is a set of per-user ordered event logs.
type Log interface {
	// Append adds e to the log of every user in userIDs and returns once the
	// event is retained in all of them. Appends to one user's log are
	// totally ordered; a subscriber sees them in that order. Append never
	// waits for subscribers.
	Append(ctx context.Context, userIDs []string, e Event) error

	// AppendAt is Append to one user's log that also returns the event's
	// cursor there: the Cursor its subscribers see it with, so resuming
	// after it starts with the next event.
	AppendAt(ctx context.Context, userID string, e Event) (cursor string, err error)

	// AppendOnce is Append for replaying a fan-out that may have partly
	// happened (an outbox): it adds e to the log of every user in userIDs
	// unless that log already holds an event with e.ID appended at or after
	// since (the time the event was first produced, minus any clock skew).
	// The check and the append are atomic per user, so concurrent replays of
	// one event add it once. e.ID must be set. If a log has already trimmed
	// every event since then, the check cannot see the earlier copy and the
	// event is added again: a duplicate is preferred to a loss.
	AppendOnce(ctx context.Context, userIDs []string, e Event, since time.Time) error

	// Subscribe streams userID's events to sink, without a goroutine of its
	// own while the subscriber is idle (where the backend can). With
	// after == "" it starts with the next event appended; otherwise with
	// the first event after that cursor (ErrBadCursor for a cursor this log
	// did not make, ErrCursorExpired when events after it are gone).
	// Signals for userID are interleaved as they arrive. The subscription
	// ends when ctx ends or it fails; sink.End then says why.
	//
	// Backpressure: when sink.Offer refuses an event, the log keeps that
	// event and those after it and offers them again after the subscriber
	// calls the returned resume. A subscriber that leaves an event refused
	// for longer than the log's slow-consumer limit is ended with
	// ErrSlowConsumer. Signals refused are dropped (they are at most once).
	Subscribe(ctx context.Context, userID, after string, sink Sink) (resume func(), err error)

	// Signal delivers e, without a cursor, to the current subscribers of
	// each user in userIDs: at most once, never stored, never blocking on a
	// slow subscriber (it may be dropped for that subscriber).
	Signal(ctx context.Context, userIDs []string, e Event) error

	// Close releases the log; open subscriptions end.
	Close() error
}

// Placer is what a Sink may also implement to learn where a subscription
// from now (after == "") starts: Placed is called once, before any Offer,
// with a cursor of that start (the position after the log's newest
// event), so the subscriber has a position to resume from before its
// first event arrives. Subscribing with that cursor later gets every
// event appended after the subscription started. Every Log of this
// module calls it; the rules of Sink apply.
type Placer interface {
	Placed(cursor string)
}

// Sink receives one subscription's events. A Log calls its methods one at a
// time, never concurrently, in log order; possibly while holding locks of
// its own, so neither may block or call back into the log (resume
// included).
type Sink interface {
	// Offer hands over the next event. It returns false when the
	// subscriber has no room for it now (see Log.Subscribe).
	Offer(e Event) bool
	// End is the last call: the subscription is over. err is nil after
	// the subscriber's ctx ended, else ErrSlowConsumer, ErrCursorExpired or
	// ErrUnavailable.
	End(err error)
}
