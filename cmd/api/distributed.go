package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"messenger/cql"
	"messenger/presence"
	"messenger/presence/mempresence"
	"messenger/presence/redispresence"
	"messenger/realtime"
	"messenger/realtime/memturns"
	"messenger/realtime/redislog"
	"messenger/realtime/redisturns"
	"messenger/storage"
	"messenger/storage/cassandra"
)

// cassandraConn is how to reach Cassandra, from the MESSENGER_CASSANDRA_*
// settings: the chat store and the media store both connect with it.
func (c config) cassandraConn() cql.Config {
	return cql.Config{
		Hosts:             c.CassandraHosts,
		Keyspace:          c.CassandraKeyspace,
		Consistency:       c.CassandraConsist,
		Username:          c.CassandraUser,
		Password:          c.CassandraPassword,
		ReplicationFactor: c.CassandraRF,
		DataCenters:       c.CassandraDCs,
		LocalDC:           c.CassandraLocalDC,
		TLS:               cql.TLSConfig{Enabled: c.CassandraTLSCA != "", CAFile: c.CassandraTLSCA},
	}
}

// openCassandra switches durable data to Cassandra. A cluster that cannot
// be reached fails the start after the store's bounded retry.
func openCassandra(ctx context.Context, cfg config) (storage.Store, error) {
	s, err := cassandra.Open(ctx, cfg.cassandraConn())
	if err != nil {
		return nil, fmt.Errorf("cassandra %v: %w", cfg.CassandraHosts, err)
	}
	return s, nil
}

// openRedis switches realtime events to Redis Streams; hooks see every
// Redis command (metrics).
func openRedis(ctx context.Context, cfg config, hooks ...redis.Hook) (realtime.Log, error) {
	l, err := redislog.New(ctx, redislog.Config{Addrs: cfg.RedisAddrs, Cluster: cfg.RedisCluster, Hooks: hooks,
		MaxLen: int64(cfg.EventsMaxLen), MaxAge: cfg.EventsMaxAge})
	if err != nil {
		return nil, fmt.Errorf("redis %v: %w", cfg.RedisAddrs, err)
	}
	return l, nil
}

// openPresence shares who is online through Redis when Redis is configured
// (the first address, or the cluster), and keeps it in this process
// otherwise.
func openPresence(ctx context.Context, cfg config, hooks ...redis.Hook) (presence.Tracker, error) {
	if len(cfg.RedisAddrs) == 0 {
		return mempresence.New(), nil
	}
	return redispresence.New(ctx, redispresence.Config{Addrs: cfg.RedisAddrs, Cluster: cfg.RedisCluster, Hooks: hooks})
}

// openTurns orders each conversation's fan-outs across the fleet through
// Redis when Redis is configured (the first address, or the cluster), and
// within this process otherwise. The close func flushes what is queued.
func openTurns(ctx context.Context, cfg config, hooks ...redis.Hook) (realtime.Turns, func(), error) {
	if len(cfg.RedisAddrs) == 0 {
		return memturns.New(memturns.Config{}), func() {}, nil
	}
	var rdb redis.UniversalClient
	if cfg.RedisCluster {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.RedisAddrs})
	} else {
		rdb = redis.NewClient(&redis.Options{Addr: cfg.RedisAddrs[0]})
	}
	for _, h := range hooks {
		rdb.AddHook(h)
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("redis %v (fan-out turns): %w", cfg.RedisAddrs, err)
	}
	turns, err := redisturns.New(redisturns.Config{Client: rdb})
	if err != nil {
		_ = rdb.Close()
		return nil, nil, err
	}
	return turns, func() { _ = turns.Close(); _ = rdb.Close() }, nil
}
