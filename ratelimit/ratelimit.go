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
	// Allow takes one token from the bucket key under rule r. When none is
	// left it returns false and how long until one will be; it never
	// blocks waiting for one. An error means the limiter could not decide
	// (callers should let the request through: a broken limiter must not
	// take the API down).
	Allow(ctx context.Context, key string, r Rule) (ok bool, retryAfter time.Duration, err error)
}

// wait is the time until the bucket holds one token again.
func wait(tokens float64, r Rule) time.Duration {
	if r.Rate <= 0 {
		return time.Hour
	}
	return time.Duration((1 - tokens) / r.Rate * float64(time.Second))
}
