// Package rediscache is the cache of persisted queries a fleet shares, in
// Redis, bounded in bytes.
package rediscache

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

// Cache is an APQ cache in Redis, shared by every API instance and
// bounded in bytes: documents live in one hash, their last use in a sorted
// set, their total size in a counter (three keys with one hash tag, so
// Redis Cluster keeps them on one node and a script can change them
// together). Adding beyond MaxBytes evicts documents unused for TTL, then
// the least recently used. A Redis failure reads as a miss (the client then
// sends the query again) and is logged.
type Cache struct {
	Client redis.UniversalClient
	// Prefix namespaces the keys (default "messenger:apq:"): the cache is
	// <prefix>{apq}:docs, <prefix>{apq}:used and <prefix>{apq}:bytes.
	Prefix string
	// TTL is how long an unused document is kept (default 24 h; each hit
	// renews it).
	TTL time.Duration
	// MaxBytes bounds the documents and their hashes (default 16 MiB).
	MaxBytes int64
	// Logger receives Redis errors (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

var _ graphql.Cache[string] = (*Cache)(nil)

func (c *Cache) keys() []string {
	p := c.Prefix
	if p == "" {
		p = "messenger:apq:"
	}
	return []string{p + "{apq}:docs", p + "{apq}:used", p + "{apq}:bytes"}
}

func (c *Cache) ttl() time.Duration {
	if c.TTL <= 0 {
		return 24 * time.Hour
	}
	return c.TTL
}

func (c *Cache) maxBytes() int64 {
	if c.MaxBytes <= 0 {
		return 16 << 20
	}
	return c.MaxBytes
}

func (c *Cache) now() int64 {
	if c.Now != nil {
		return c.Now().UnixMilli()
	}
	return time.Now().UnixMilli()
}

func (c *Cache) log() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// drop (shared by both scripts) removes one document and returns the bytes
// still used.
const redisDrop = `
local function drop(h)
  local d = redis.call('HGET', KEYS[1], h)
  redis.call('ZREM', KEYS[2], h)
  if d then
    redis.call('HDEL', KEYS[1], h)
    return redis.call('DECRBY', KEYS[3], #h + #d)
  end
  return tonumber(redis.call('GET', KEYS[3]) or '0')
end
`

// redisGet: ARGV hash, now (ms), ttl (ms). The document, touched, or nil
// (an expired one is dropped).
var redisGet = redis.NewScript(redisDrop + `
local doc = redis.call('HGET', KEYS[1], ARGV[1])
if not doc then return false end
local at = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]) or '0')
if at < tonumber(ARGV[2]) - tonumber(ARGV[3]) then
  drop(ARGV[1])
  return false
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return doc
`)

// redisAdd: ARGV hash, doc, now (ms), ttl (ms), max bytes. Stores the
// document, then drops expired documents and the least recently used until
// the total is within max bytes. A counter that drifted (keys removed by
// hand or by Redis's eviction) is reset once the set is empty.
var redisAdd = redis.NewScript(redisDrop + `
local hash, doc = ARGV[1], ARGV[2]
local now, ttl, maxb = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('HEXISTS', KEYS[1], hash) == 1 then
  redis.call('ZADD', KEYS[2], now, hash)
  return 0
end
if #hash + #doc > maxb then return 0 end
redis.call('HSET', KEYS[1], hash, doc)
redis.call('ZADD', KEYS[2], now, hash)
local used = redis.call('INCRBY', KEYS[3], #hash + #doc)
for _, h in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl, 'LIMIT', 0, 100)) do
  used = drop(h)
end
while used > maxb do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then
    redis.call('DEL', KEYS[1])
    redis.call('SET', KEYS[3], 0)
    break
  end
  used = drop(oldest[1])
end
return 1
`)

// Get returns the document stored under hash and renews it.
func (c *Cache) Get(ctx context.Context, hash string) (string, bool) {
	v, err := redisGet.Run(ctx, c.Client, c.keys(), hash, c.now(), c.ttl().Milliseconds()).Text()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			c.log().Warn("apq cache: redis get", "err", err)
		}
		return "", false
	}
	return v, true
}

// Add stores a document under its hash.
func (c *Cache) Add(ctx context.Context, hash, doc string) {
	if err := redisAdd.Run(ctx, c.Client, c.keys(), hash, doc, c.now(), c.ttl().Milliseconds(), c.maxBytes()).Err(); err != nil {
		c.log().Warn("apq cache: redis add", "err", err)
	}
}

// Size is the bytes of the documents and hashes the cache holds.
func (c *Cache) Size(ctx context.Context) (int64, error) {
	n, err := c.Client.Get(ctx, c.keys()[2]).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}
