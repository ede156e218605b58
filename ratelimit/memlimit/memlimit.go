// Package memlimit is the in-process ratelimit.Limiter: one API process's
// token buckets, in memory.
package memlimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"messenger/ratelimit"
)

// Memory is an in-process ratelimit.Limiter. Buckets that have refilled completely
// are forgotten, so memory follows the number of recently active keys.
type Memory struct {
	// Now is the clock (default time.Now).
	Now    func() time.Time
	seed   maphash.Seed
	once   sync.Once
	shards [32]memShard
}

type memShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	ops     int
}

type bucket struct {
	tokens float64
	at     time.Time
	full   time.Duration // time to refill from empty, for eviction
}

var _ ratelimit.Limiter = (*Memory)(nil)

// New returns an empty in-memory limiter.
func New() *Memory { return &Memory{} }

// AllowN implements Limiter.
func (m *Memory) AllowN(_ context.Context, key string, r ratelimit.Rule, n int) (bool, time.Duration, error) {
	if n < 1 {
		n = 1
	}
	m.once.Do(func() { m.seed = maphash.MakeSeed() })
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	s := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = map[string]*bucket{}
	}
	if s.ops++; s.ops >= 1024 {
		s.ops = 0
		for k, b := range s.buckets {
			if now.Sub(b.at) > b.full {
				delete(s.buckets, k)
			}
		}
	}
	b := s.buckets[key]
	if b == nil {
		full := time.Hour
		if r.Rate > 0 {
			full = time.Duration(float64(r.Burst) / r.Rate * float64(time.Second))
		}
		b = &bucket{tokens: float64(r.Burst), at: now, full: full}
		s.buckets[key] = b
	}
	b.tokens += now.Sub(b.at).Seconds() * r.Rate
	if b.tokens > float64(r.Burst) {
		b.tokens = float64(r.Burst)
	}
	b.at = now
	if n > r.Burst || b.tokens < float64(n) {
		return false, ratelimit.Wait(b.tokens, r, n), nil
	}
	b.tokens -= float64(n)
	return true, 0, nil
}
