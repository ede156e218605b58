package persisted_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"messenger/persisted"
)

func TestRedisCacheIsSharedByInstances(t *testing.T) {
	addrs := os.Getenv("MESSENGER_REDIS_ADDRS")
	if addrs == "" {
		t.Skip("MESSENGER_REDIS_ADDRS not set")
	}
	first, _, _ := strings.Cut(addrs, ",")
	var c redis.UniversalClient = redis.NewClient(&redis.Options{Addr: first})
	if os.Getenv("MESSENGER_REDIS_CLUSTER") == "true" {
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	}
	defer c.Close()
	prefix := fmt.Sprintf("test:%d:", rand.Int64())
	one, two := &persisted.RedisCache{Client: c, Prefix: prefix}, &persisted.RedisCache{Client: c, Prefix: prefix}
	ctx := context.Background()
	q := "{ me { id } }"
	if _, ok := two.Get(ctx, persisted.Hash(q)); ok {
		t.Fatal("hit before any Add")
	}
	one.Add(ctx, persisted.Hash(q), q)
	if got, ok := two.Get(ctx, persisted.Hash(q)); !ok || got != q {
		t.Fatalf("second instance got %q %v", got, ok)
	}
}
