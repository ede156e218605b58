package ratelimit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"messenger/ratelimit"
	"messenger/ratelimit/memlimit"
	"messenger/ratelimit/redislimit"
	"messenger/redistest"
)

// run is the contract every Limiter meets.
func run(t *testing.T, l ratelimit.Limiter) {
	t.Run("OneAtATime", func(t *testing.T) { oneAtATime(t, l) })
	t.Run("SeveralTokensAllOrNone", func(t *testing.T) { allOrNone(t, l) })
}

func oneAtATime(t *testing.T, l ratelimit.Limiter) {
	ctx := context.Background()
	key := fmt.Sprintf("test:%d", rand.Int64())
	r := ratelimit.Rule{Rate: 1, Burst: 3}
	for i := 0; i < 3; i++ {
		if ok, _, err := ratelimit.Allow(ctx, l, key, r); !ok || err != nil {
			t.Fatalf("token %d of the burst refused: %v", i, err)
		}
	}
	ok, wait, err := ratelimit.Allow(ctx, l, key, r)
	if ok || err != nil || wait <= 0 || wait > time.Second {
		t.Fatalf("fourth: ok=%v wait=%v err=%v", ok, wait, err)
	}
	if ok, _, _ := ratelimit.Allow(ctx, l, key+":other", r); !ok {
		t.Fatal("another key shares the bucket")
	}
	time.Sleep(wait + 50*time.Millisecond)
	if ok, _, _ := ratelimit.Allow(ctx, l, key, r); !ok {
		t.Fatal("the bucket did not refill")
	}
}

// allOrNone: a request holding several checks takes one token per check,
// and a request needing more than are left takes none, so it cannot drain
// the bucket for a later smaller request.
func allOrNone(t *testing.T, l ratelimit.Limiter) {
	ctx := context.Background()
	key := fmt.Sprintf("test:%d", rand.Int64())
	r := ratelimit.Rule{Rate: 0.001, Burst: 5}
	if ok, _, err := l.AllowN(ctx, key, r, 3); !ok || err != nil {
		t.Fatalf("3 of 5: ok=%v err=%v", ok, err)
	}
	if ok, wait, err := l.AllowN(ctx, key, r, 3); ok || err != nil || wait <= 0 {
		t.Fatalf("3 more with 2 left: ok=%v wait=%v err=%v", ok, wait, err)
	}
	if ok, _, err := l.AllowN(ctx, key, r, 2); !ok || err != nil {
		t.Fatalf("the refused request took tokens: 2 with 2 left: ok=%v err=%v", ok, err)
	}
	if ok, _, _ := ratelimit.Allow(ctx, l, key, r); ok {
		t.Fatal("a sixth token in a bucket of 5")
	}
	if ok, _, _ := l.AllowN(ctx, key+":big", r, 6); ok {
		t.Fatal("6 tokens from a fresh bucket of 5")
	}
	if ok, _, _ := l.AllowN(ctx, key+":big", r, 5); !ok {
		t.Fatal("the refused request of 6 took tokens from the fresh bucket")
	}
}

func TestMemoryLimiter(t *testing.T) { run(t, memlimit.New()) }

func TestRedisLimiter(t *testing.T) {
	run(t, &redislimit.Redis{Client: redistest.Client(t)})
}
