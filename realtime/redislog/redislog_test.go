package redislog

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
	"messenger/realtime/realtimetest"
)

// Tests run against real servers named by the environment, as
// scripts/services.sh prints them:
//
//	eval "$(scripts/services.sh up redis redis-cluster)"
//	go test ./realtime/redislog/
//
// Each log gets its own random key prefix, so runs share the servers.

func addrsFrom(t testing.TB, env string) []string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("%s is not set: no Redis to test against (eval \"$(scripts/services.sh up redis redis-cluster)\")", env)
	}
	return strings.Split(v, ",")
}

func singleConfig(t testing.TB) Config {
	return Config{Addrs: addrsFrom(t, "MESSENGER_REDIS_ADDRS")}
}

func clusterConfig(t testing.TB) Config {
	return Config{Addrs: addrsFrom(t, "MESSENGER_REDIS_CLUSTER_ADDRS"), Cluster: true}
}

// shardedConfig is two shards: the two first addresses, or, with only one
// server, two databases of it (keys are apart; pub/sub is server-wide, which
// the per-user channels do not mind).
func shardedConfig(t testing.TB) Config {
	addrs := addrsFrom(t, "MESSENGER_REDIS_ADDRS")
	if len(addrs) >= 2 {
		return Config{Addrs: addrs[:2]}
	}
	return Config{Addrs: []string{"redis://" + addrs[0] + "/1", "redis://" + addrs[0] + "/2"}}
}

// open starts a log on cfg with a fresh key prefix, closed (and its keys
// deleted) when the test ends.
func open(t testing.TB, cfg Config) *Log {
	t.Helper()
	cfg.KeyPrefix = "test-" + randomHex(6) + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		_ = l.Close()
		deleteKeys(t, cfg)
	})
	return l
}

// deleteKeys removes every key under cfg.KeyPrefix, on every node.
func deleteKeys(t testing.TB, cfg Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clean := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, cfg.KeyPrefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		return iter.Err()
	}
	if cfg.Cluster {
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.Addrs, Password: cfg.Password})
		defer cc.Close()
		if err := cc.ForEachMaster(ctx, clean); err != nil {
			t.Logf("cleaning up %s*: %v", cfg.KeyPrefix, err)
		}
		return
	}
	for _, addr := range cfg.Addrs {
		opt, err := cfg.nodeOptions(addr, "cleanup")
		if err != nil {
			continue
		}
		c := redis.NewClient(opt)
		if err := clean(ctx, c); err != nil {
			t.Logf("cleaning up %s* on %s: %v", cfg.KeyPrefix, addr, err)
		}
		c.Close()
	}
}

func factory(base Config) realtimetest.Factory {
	return func(t *testing.T, opts realtimetest.Options) realtime.Log {
		cfg := base
		cfg.MaxLen = int64(opts.MaxEvents)
		cfg.SlowAfter = opts.SlowAfter
		return open(t, cfg)
	}
}

func TestContract(t *testing.T) {
	realtimetest.Run(t, factory(singleConfig(t)))
}

func TestClusterContract(t *testing.T) {
	realtimetest.Run(t, factory(clusterConfig(t)))
}

func TestShardedContract(t *testing.T) {
	realtimetest.Run(t, factory(shardedConfig(t)))
}
