// Package mempresence is the in-process presence.Tracker: one API
// process's live subscriptions, in memory.
package mempresence

import (
	"context"
	"sync"
	"time"

	"messenger/presence"
)

var _ presence.Tracker = (*Memory)(nil)

// Memory is the in-process presence.Tracker.
type Memory struct {
	mu       sync.Mutex
	next     uint64
	live     map[string]map[string]struct{}
	lastSeen map[string]time.Time
}

// New returns an empty in-process tracker.
func New() *Memory {
	return &Memory{live: map[string]map[string]struct{}{}, lastSeen: map[string]time.Time{}}
}

// Connect implements presence.Tracker.
func (m *Memory) Connect(_ context.Context, userID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	h := presence.Handle(m.next)
	conns := m.live[userID]
	if conns == nil {
		conns = map[string]struct{}{}
		m.live[userID] = conns
	}
	conns[h] = struct{}{}
	return h, len(conns) == 1, nil
}

// Disconnect implements presence.Tracker.
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

// State implements presence.Tracker.
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

// Close implements presence.Tracker.
func (m *Memory) Close() error { return nil }
