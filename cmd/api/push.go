package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"messenger/auth"
	"messenger/chat"
	"messenger/push"
	"messenger/storage"
)

// chatPorts gives the push service what it reads from the chat domain
// (presence, unread counts, blocks, the event log), which is made after it: the
// domain needs the push service as its Notifier. Set Service before
// push.Service.Start.
type chatPorts struct{ *chat.Service }

// openPush makes the push service: a Redis Streams queue shared by the
// fleet when MESSENGER_REDIS_ADDRS is set, else a Pebble queue in
// <data>/push; the providers whose MESSENGER_APNS_*, MESSENGER_FCM_* and
// MESSENGER_VAPID_* variables are set (none: push is off, and says so).
// The close func stops the workers and closes the queue.
func openPush(ctx context.Context, cfg config, store storage.Store, ports *chatPorts, reg prometheus.Registerer, logger *slog.Logger) (*push.Service, func(), error) {
	providers, err := push.ProvidersFromEnv(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	workers := 0
	if v := os.Getenv("MESSENGER_PUSH_WORKERS"); v != "" {
		if workers, err = strconv.Atoi(v); err != nil || workers < 0 {
			return nil, nil, fmt.Errorf("MESSENGER_PUSH_WORKERS: want a number, got %q", v)
		}
	}
	var queue push.Queue
	closeQueue := func() {}
	if len(cfg.RedisAddrs) > 0 {
		var rdb redis.UniversalClient
		if cfg.RedisCluster {
			rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.RedisAddrs})
		} else {
			rdb = redis.NewClient(&redis.Options{Addr: cfg.RedisAddrs[0]})
		}
		q, err := push.NewRedisQueue(ctx, push.RedisQueueConfig{Client: rdb})
		if err != nil {
			_ = rdb.Close()
			return nil, nil, fmt.Errorf("redis %v (push queue): %w", cfg.RedisAddrs, err)
		}
		queue, closeQueue = q, func() { _ = rdb.Close() }
	} else {
		q, err := push.OpenPebbleQueue(push.PebbleQueueConfig{Dir: filepath.Join(cfg.DataDir, "push")})
		if err != nil {
			return nil, nil, err
		}
		queue, closeQueue = q, func() { _ = q.Close() }
	}
	svc, err := push.New(push.Config{
		Store: store, Queue: queue, Providers: providers, Presence: ports, Unread: ports, Events: ports, Blocks: ports,
		Mentions: chat.MentionsUser, SessionOf: auth.SessionID,
		Workers: workers, Metrics: push.NewMetrics(reg), Logger: logger,
	})
	if err != nil {
		closeQueue()
		return nil, nil, err
	}
	return svc, func() { svc.Close(); closeQueue() }, nil
}
