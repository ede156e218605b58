package ratelimit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"messenger/ratelimit"
	"messenger/redistest"
)

// run is the contract every Limiter meets.
func run(t *testing.T, l ratelimit.Limiter) {
	ctx := context.Background()
	key := fmt.Sprintf("test:%d", rand.Int64())
	r := ratelimit.Rule{Rate: 1, Burst: 3}
	for i := 0; i < 3; i++ {
		if ok, _, err := l.Allow(ctx, key, r); !ok || err != nil {
			t.Fatalf("token %d of the burst refused: %v", i, err)
		}
	}
	ok, wait, err := l.Allow(ctx, key, r)
	if ok || err != nil || wait <= 0 || wait > time.Second {
		t.Fatalf("fourth: ok=%v wait=%v err=%v", ok, wait, err)
	}
	if ok, _, _ := l.Allow(ctx, key+":other", r); !ok {
		t.Fatal("another key shares the bucket")
	}
	time.Sleep(wait + 50*time.Millisecond)
	if ok, _, _ := l.Allow(ctx, key, r); !ok {
		t.Fatal("the bucket did not refill")
	}
}

func TestMemoryLimiter(t *testing.T) { run(t, ratelimit.NewMemory()) }

func TestRedisLimiter(t *testing.T) {
	run(t, &ratelimit.Redis{Client: redistest.Client(t)})
}
