// Package redislimit is the ratelimit.Limiter a fleet shares, in Redis.
package redislimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/ratelimit"
)

// Redis is a ratelimit.Limiter shared by every instance using the same Redis: each
// bucket is one hash, updated atomically by a Lua script on Redis's clock.
type Redis struct {
	Client redis.UniversalClient
	// Prefix namespaces the keys (default "messenger:rl:").
	Prefix string
}

var _ ratelimit.Limiter = (*Redis)(nil)

// tokenBucket: KEYS[1] the bucket; ARGV rate, burst, n. Takes n tokens or
// none. Returns {allowed, milliseconds until n tokens (at most a full
// bucket)}. The bucket expires once it would be full.
var tokenBucket = redis.NewScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local waitms = 0
if n <= burst and tokens >= n then
  tokens = tokens - n
  allowed = 1
else
  waitms = math.ceil(math.max(0, math.min(n, burst) - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, waitms}
`)

// AllowN implements Limiter.
func (l *Redis) AllowN(ctx context.Context, key string, r ratelimit.Rule, n int) (bool, time.Duration, error) {
	p := l.Prefix
	if p == "" {
		p = "messenger:rl:"
	}
	if n < 1 {
		n = 1
	}
	if r.Rate <= 0 || r.Burst <= 0 {
		return false, time.Hour, nil
	}
	res, err := tokenBucket.Run(ctx, l.Client, []string{p + key}, strconv.FormatFloat(r.Rate, 'f', -1, 64), r.Burst, n).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: redis %s: %w", key, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("ratelimit: redis %s: unexpected reply %v", key, res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}
