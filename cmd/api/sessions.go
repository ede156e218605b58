package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"messenger/revocation"
	"messenger/revocation/memrevocation"
	"messenger/revocation/redisrevocation"
)

// openRevocations tells every instance of the fleet that sessions ended,
// through Redis pub/sub when Redis is configured, and within this process
// otherwise.
func openRevocations(ctx context.Context, cfg config, hooks ...redis.Hook) (revocation.Bus, error) {
	if len(cfg.RedisAddrs) == 0 {
		return memrevocation.New(), nil
	}
	b, err := redisrevocation.New(ctx, redisrevocation.Config{Addrs: cfg.RedisAddrs, Cluster: cfg.RedisCluster, Hooks: hooks})
	if err != nil {
		return nil, fmt.Errorf("redis %v (session revocations): %w", cfg.RedisAddrs, err)
	}
	return b, nil
}
