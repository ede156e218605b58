package persisted_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/persisted"
	"messenger/persisted/memcache"
	"messenger/persisted/rediscache"
	"messenger/redistest"
)

// apqCache is what every APQ cache offers: gqlgen's Get and Add, and the
// bytes it holds.
type apqCache interface {
	Get(ctx context.Context, key string) (string, bool)
	Add(ctx context.Context, key, value string)
	Size(ctx context.Context) (int64, error)
}

// runCache is the contract every APQ cache meets, for a cache made with a
// budget of max bytes.
func runCache(t *testing.T, max int64, newCache func(t *testing.T) apqCache) {
	ctx := context.Background()
	doc := func(i int) string { return fmt.Sprintf("query Q%d { me { id } } # %s", i, strings.Repeat("x", 1000)) }

	t.Run("BoundedInBytes", func(t *testing.T) {
		c := newCache(t)
		for i := 0; i < 100; i++ {
			c.Add(ctx, persisted.Hash(doc(i)), doc(i))
			if n, err := c.Size(ctx); err != nil || n > max {
				t.Fatalf("after %d documents of 1 KiB: %d bytes held, budget %d (%v)", i+1, n, max, err)
			}
		}
		if got, ok := c.Get(ctx, persisted.Hash(doc(99))); !ok || got != doc(99) {
			t.Fatal("the newest document was evicted")
		}
		if _, ok := c.Get(ctx, persisted.Hash(doc(0))); ok {
			t.Fatal("100 KiB of documents kept in a budget of 10 KiB")
		}
	})
	t.Run("RecentlyUsedSurvive", func(t *testing.T) {
		c := newCache(t)
		c.Add(ctx, persisted.Hash(doc(0)), doc(0))
		c.Add(ctx, persisted.Hash(doc(1)), doc(1))
		for i := 2; i < 30; i++ {
			if _, ok := c.Get(ctx, persisted.Hash(doc(0))); !ok { // in use all along
				t.Fatalf("a document in use was evicted after %d additions", i)
			}
			c.Add(ctx, persisted.Hash(doc(i)), doc(i))
		}
		if _, ok := c.Get(ctx, persisted.Hash(doc(1))); ok {
			t.Fatal("an unused document outlived 28 newer ones in a budget of about 9")
		}
	})
	t.Run("ADocumentOverTheBudgetIsNotKept", func(t *testing.T) {
		c := newCache(t)
		c.Add(ctx, persisted.Hash(doc(1)), doc(1))
		big := strings.Repeat("y", int(max)+1)
		c.Add(ctx, persisted.Hash(big), big)
		if _, ok := c.Get(ctx, persisted.Hash(big)); ok {
			t.Fatal("a document larger than the whole cache was kept")
		}
		if _, ok := c.Get(ctx, persisted.Hash(doc(1))); !ok {
			t.Fatal("a refused document evicted the others")
		}
	})
	t.Run("ConcurrentAddsStayWithinBudget", func(t *testing.T) {
		c := newCache(t)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					d := doc(w*100 + i)
					c.Add(ctx, persisted.Hash(d), d)
					c.Get(ctx, persisted.Hash(doc(i)))
				}
			}()
		}
		wg.Wait()
		if n, err := c.Size(ctx); err != nil || n > max || n <= 0 {
			t.Fatalf("%d bytes held after concurrent adds, budget %d (%v)", n, max, err)
		}
	})
}

func TestMemoryCache(t *testing.T) {
	const max = 10 << 10
	runCache(t, max, func(t *testing.T) apqCache {
		return memcache.New(memcache.Config[string]{MaxBytes: max})
	})
}

func TestRedisCache(t *testing.T) {
	const max = 10 << 10
	client := redistest.Client(t)
	runCache(t, max, func(t *testing.T) apqCache {
		return &rediscache.Cache{Client: client, Prefix: fmt.Sprintf("test:%d:", rand.Int64()), MaxBytes: max}
	})
}

func TestRedisCacheIsSharedByInstances(t *testing.T) {
	c := redistest.Client(t)
	prefix := fmt.Sprintf("test:%d:", rand.Int64())
	one, two := &rediscache.Cache{Client: c, Prefix: prefix}, &rediscache.Cache{Client: c, Prefix: prefix}
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

func TestRedisCacheForgetsDocumentsUnusedForItsTTL(t *testing.T) {
	client := redistest.Client(t)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := &rediscache.Cache{Client: client, Prefix: fmt.Sprintf("test:%d:", rand.Int64()), TTL: time.Hour, Now: clock}
	ctx := context.Background()
	a, b := "{ me { id } }", "{ me { username } }"
	c.Add(ctx, persisted.Hash(a), a)
	c.Add(ctx, persisted.Hash(b), b)
	advance(50 * time.Minute)
	if _, ok := c.Get(ctx, persisted.Hash(a)); !ok { // renews a
		t.Fatal("a document 50 minutes old is gone with a TTL of 1 h")
	}
	advance(20 * time.Minute)
	if _, ok := c.Get(ctx, persisted.Hash(a)); !ok {
		t.Fatal("a document used 20 minutes ago is gone")
	}
	if _, ok := c.Get(ctx, persisted.Hash(b)); ok {
		t.Fatal("a document unused for 70 minutes is still served with a TTL of 1 h")
	}
	if n, _ := c.Size(ctx); n != int64(len(persisted.Hash(a))+len(a)) {
		t.Fatalf("the expired document still counts: size %d", n)
	}
}
