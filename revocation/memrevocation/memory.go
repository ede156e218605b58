// Package memrevocation is the in-process revocation.Bus: the embedded
// default, where one process is the whole fleet.
package memrevocation

import (
	"context"
	"sync"

	"messenger/revocation"
)

var _ revocation.Bus = (*Bus)(nil)

// Bus calls its subscribers synchronously from Publish.
type Bus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(revocation.Ended)
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: map[int]func(revocation.Ended){}} }

// Publish implements revocation.Bus: every subscriber has been called when
// it returns. Calls are serialised, so subscribers see one order.
func (b *Bus) Publish(_ context.Context, e revocation.Ended) error {
	b.mu.Lock() // not RLock: one notice at a time, as the contract says
	defer b.mu.Unlock()
	for _, fn := range b.subs {
		fn(revocation.Ended{UserID: e.UserID, SessionIDs: append([]string(nil), e.SessionIDs...)})
	}
	return nil
}

// Subscribe implements revocation.Bus.
func (b *Bus) Subscribe(fn func(revocation.Ended)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	id := b.next
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// Close implements revocation.Bus.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.subs)
	return nil
}
