// Package presence tracks which users have a live subscription. The
// in-process tracker (presence/mempresence) serves one API process; the
// Redis tracker (presence/redispresence) is shared by every instance of a
// fleet, so a user connected to instance A is online when asked through
// instance B. Both pass presence/presencetest.
package presence

import (
	"context"
	"time"
)

// Tracker counts live subscriptions per user. Calls are safe for concurrent
// use and may block on I/O (bounded by the implementation's timeouts).
type Tracker interface {
	// Connect records one live subscription of userID and returns its
	// handle; first reports that the user had none before (came online).
	Connect(ctx context.Context, userID string) (handle string, first bool, err error)
	// Disconnect ends the subscription with handle; last reports that the
	// user now has none (went offline), and then at is their last-seen time.
	// Disconnecting an unknown handle is a no-op.
	Disconnect(ctx context.Context, userID, handle string, at time.Time) (last bool, err error)
	// State reports whether userID is online now and, when offline, when
	// they were last seen (nil if never).
	State(ctx context.Context, userID string) (online bool, lastSeen *time.Time, err error)
	// Close releases the tracker.
	Close() error
}

// Handle spells the n-th subscription handle of a tracker compactly (base
// 36), for the trackers to build their handles from.
func Handle(n uint64) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 36 {
		b = append([]byte{digits[n%36]}, b...)
	}
	return string(b)
}
