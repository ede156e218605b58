// Package presence tracks which users have a live subscription. The
// in-process Memory tracker serves one API process; the Redis tracker is
// shared by every instance of a fleet, so a user connected to instance A is
// online when asked through instance B.
package presence

import (
	"context"
	"sync"
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

var _ Tracker = (*Memory)(nil)

// Memory is the in-process Tracker.
type Memory struct {
	mu       sync.Mutex
	next     uint64
	live     map[string]map[string]struct{}
	lastSeen map[string]time.Time
}

// NewMemory returns an empty in-process tracker.
func NewMemory() *Memory {
	return &Memory{live: map[string]map[string]struct{}{}, lastSeen: map[string]time.Time{}}
}

// Connect implements Tracker.
func (m *Memory) Connect(_ context.Context, userID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	h := handle(m.next)
	conns := m.live[userID]
	if conns == nil {
		conns = map[string]struct{}{}
		m.live[userID] = conns
	}
	conns[h] = struct{}{}
	return h, len(conns) == 1, nil
}

// Disconnect implements Tracker.
func (m *Memory) Disconnect(_ context.Context, userID, h string, at time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	conns, ok := m.live[userID]
	if !ok {
		return false, nil
	}
	if _, ok := conns[h]; !ok {
		return false, nil
	}
	delete(conns, h)
	if len(conns) > 0 {
		return false, nil
	}
	delete(m.live, userID)
	m.lastSeen[userID] = at
	return true, nil
}

// State implements Tracker.
func (m *Memory) State(_ context.Context, userID string) (bool, *time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.live[userID]) > 0 {
		return true, nil, nil
	}
	if t, ok := m.lastSeen[userID]; ok {
		return false, &t, nil
	}
	return false, nil, nil
}

// Close implements Tracker.
func (m *Memory) Close() error { return nil }

func handle(n uint64) string {
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
