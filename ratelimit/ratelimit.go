// Package ratelimit is token buckets keyed by name: in memory for one
// process, or in Redis (a Lua script) so that every API instance draws from
// the same bucket.
package ratelimit

import (
	"context"
	"time"
)

// Rule is a token bucket: Burst tokens at most, refilled at Rate per second.
// One request takes one token.
type Rule struct {
	Rate  float64
	Burst int
}

// Limiter takes tokens from buckets.
type Limiter interface {
	// AllowN takes n tokens (n >= 1) from the bucket key under rule r, all
	// or none: when fewer than n are left it takes nothing and returns
	// false and how long until n will be (n > r.Burst never fits: false
	// with the time to refill the whole bucket). It never blocks waiting
	// for tokens. An error means the limiter could not decide (callers
	// should let the request through: a broken limiter must not take the
	// API down).
	AllowN(ctx context.Context, key string, r Rule, n int) (ok bool, retryAfter time.Duration, err error)
}

// Allow takes one token from the bucket key of l under rule r (see
// Limiter.AllowN).
func Allow(ctx context.Context, l Limiter, key string, r Rule) (bool, time.Duration, error) {
	return l.AllowN(ctx, key, r, 1)
}

// Wait is the time until the bucket holds n tokens again (at most a whole
// bucket's refill).
func Wait(tokens float64, r Rule, n int) time.Duration {
	if r.Rate <= 0 {
		return time.Hour
	}
	need := float64(min(n, r.Burst)) - tokens
	if need < 0 {
		need = 0
	}
	return time.Duration(need / r.Rate * float64(time.Second))
}
