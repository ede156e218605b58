package main

import (
	"context"
	"errors"
	"fmt"

	"messenger/realtime"
	"messenger/realtime/redislog"
	"messenger/storage"
)

// openCassandra is wired when the Cassandra backend lands.
func openCassandra(ctx context.Context, cfg config) (storage.Store, error) {
	return nil, errors.New("MESSENGER_CASSANDRA_HOSTS is set but this build has no Cassandra backend yet")
}

// openRedis switches realtime events to Redis Streams.
func openRedis(ctx context.Context, cfg config) (realtime.Log, error) {
	l, err := redislog.New(ctx, redislog.Config{Addrs: cfg.RedisAddrs, Cluster: cfg.RedisCluster})
	if err != nil {
		return nil, fmt.Errorf("redis %v: %w", cfg.RedisAddrs, err)
	}
	return l, nil
}
