package persisted_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"messenger/persisted"
	"messenger/redistest"
)

func TestRedisCacheIsSharedByInstances(t *testing.T) {
	c := redistest.Client(t)
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
