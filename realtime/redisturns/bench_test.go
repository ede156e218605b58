package redisturns_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/realtime"
	"messenger/realtime/redisturns"
	"messenger/redistest"
)

// BenchmarkHandoffAcrossInstances: two instances take turns on one key
// (numbers alternate between them), the worst case of one conversation
// whose consecutive sends go through different instances. One op is one
// handoff: a Done in one instance until the other's Wait returns.
func BenchmarkHandoffAcrossInstances(b *testing.B) {
	prefix := "bench-turns-" + uuid.NewString() + ":"
	open := func() realtime.Turns {
		turns, err := redisturns.New(redisturns.Config{Client: redistest.Client(b), KeyPrefix: prefix})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = turns.Close() })
		return turns
	}
	a, c := open(), open()
	ctx := context.Background()
	k := "bench-" + uuid.NewString()
	a.Done(ctx, k, 0)
	for {
		if _, err := c.Wait(ctx, k, 1, 0); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	n := int64(b.N)
	b.ResetTimer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		take(b, c, k, 2, n)
	}()
	take(b, a, k, 1, n)
	<-done
}

// take waits for and marks done every other number from first to n.
func take(b *testing.B, turns realtime.Turns, k string, first, n int64) {
	for i := first; i <= n; i += 2 {
		if done, err := turns.Wait(context.Background(), k, i, time.Minute); err != nil || done != i-1 {
			b.Errorf("Wait(%d) = %d, %v", i, done, err)
			return
		}
		turns.Done(context.Background(), k, i)
	}
}
