package persisted

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

// RedisCache is an APQ cache in Redis, shared by every API instance. A
// Redis failure reads as a miss (the client then sends the query again) and
// is logged.
type RedisCache struct {
	Client redis.UniversalClient
	// Prefix namespaces the keys (default "messenger:apq:").
	Prefix string
	// TTL is how long an unused document is kept (default 24 h; each hit
	// renews it).
	TTL time.Duration
	// Logger receives Redis errors (default slog.Default()).
	Logger *slog.Logger
}

var _ graphql.Cache[string] = (*RedisCache)(nil)

func (c *RedisCache) key(hash string) string {
	if c.Prefix == "" {
		return "messenger:apq:" + hash
	}
	return c.Prefix + hash
}

func (c *RedisCache) ttl() time.Duration {
	if c.TTL <= 0 {
		return 24 * time.Hour
	}
	return c.TTL
}

func (c *RedisCache) log() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Get returns the document stored under hash.
func (c *RedisCache) Get(ctx context.Context, hash string) (string, bool) {
	v, err := c.Client.GetEx(ctx, c.key(hash), c.ttl()).Result()
	if err != nil {
		if err != redis.Nil {
			c.log().Warn("apq cache: redis get", "err", err)
		}
		return "", false
	}
	return v, true
}

// Add stores a document under its hash.
func (c *RedisCache) Add(ctx context.Context, hash, doc string) {
	if err := c.Client.Set(ctx, c.key(hash), doc, c.ttl()).Err(); err != nil {
		c.log().Warn("apq cache: redis set", "err", err)
	}
}
