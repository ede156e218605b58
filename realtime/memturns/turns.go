// Package memturns is the in-process realtime.Turns: the watermark of each
// key in a map, waiters woken by a channel when it moves. It orders the
// writers of one process; a fleet needs realtime/redisturns, which uses it
// for what one instance knows.
package memturns

import (
	"context"
	"sync"
	"time"

	"messenger/realtime"
)

var _ realtime.Turns = (*Turns)(nil)

// Config configures Turns. Zero values are the documented defaults.
type Config struct {
	// IdleAfter is how long a key may go without Wait or Done before it may
	// be forgotten (default 10 min; it is gone after at most twice that).
	// A forgotten key answers ErrUnknownKey again. It bounds memory to the
	// keys in use; it must be far longer than any append takes.
	IdleAfter time.Duration
}

// Turns keeps the watermarks of this process. It is safe for concurrent
// use.
type Turns struct {
	idle time.Duration

	mu       sync.Mutex
	cur, old map[string]*turn // keys used in this generation, and in the last
	rotated  time.Time
}

// turn is one key's watermark.
type turn struct {
	done    int64
	waiters int           // Waits blocked on moved; such a turn is never forgotten
	moved   chan struct{} // closed when done moves, if a waiter made it
}

// New returns empty Turns.
func New(cfg Config) *Turns {
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = 10 * time.Minute
	}
	return &Turns{idle: cfg.IdleAfter, cur: map[string]*turn{}, old: map[string]*turn{}, rotated: time.Now()}
}

// get returns key's turn, nil when unknown; t.mu is held.
func (t *Turns) get(key string) *turn {
	if now := time.Now(); now.Sub(t.rotated) >= t.idle {
		for k, tn := range t.old { // keys idle for a whole generation go
			if tn.waiters > 0 {
				t.cur[k] = tn
			}
		}
		t.old, t.cur, t.rotated = t.cur, make(map[string]*turn, len(t.cur)), now
	}
	if tn := t.cur[key]; tn != nil {
		return tn
	}
	if tn := t.old[key]; tn != nil {
		delete(t.old, key)
		t.cur[key] = tn
		return tn
	}
	return nil
}

// Wait implements realtime.Turns.
func (t *Turns) Wait(ctx context.Context, key string, n int64, patience time.Duration) (int64, error) {
	t.mu.Lock()
	tn := t.get(key)
	if tn == nil {
		t.mu.Unlock()
		return 0, realtime.ErrUnknownKey
	}
	if tn.done >= n-1 || patience <= 0 {
		done := tn.done
		t.mu.Unlock()
		return done, nil
	}
	tn.waiters++
	defer func() {
		tn.waiters--
		t.mu.Unlock()
	}()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	for tn.done < n-1 {
		if tn.moved == nil {
			tn.moved = make(chan struct{})
		}
		moved := tn.moved
		t.mu.Unlock()
		select {
		case <-moved:
			timer.Reset(patience) // progress: the writers ahead are alive
		case <-timer.C:
			t.mu.Lock()
			return tn.done, nil
		case <-ctx.Done():
			t.mu.Lock()
			return tn.done, ctx.Err()
		}
		t.mu.Lock()
	}
	return tn.done, nil
}

// Done implements realtime.Turns.
func (t *Turns) Done(_ context.Context, key string, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tn := t.get(key)
	if tn == nil {
		t.cur[key] = &turn{done: n}
		return
	}
	if n <= tn.done {
		return
	}
	tn.done = n
	if tn.moved != nil {
		close(tn.moved)
		tn.moved = nil
	}
}
