package memturns

import (
	"context"
	"errors"
	"testing"
	"time"

	"messenger/realtime"
)

// A key untouched for two generations is forgotten (it answers
// ErrUnknownKey again), but never one somebody is waiting on: that waiter
// still gets its turn.
func TestIdleKeysAreForgottenButNotThoseWithWaiters(t *testing.T) {
	ctx := context.Background()
	turns := New(Config{IdleAfter: 10 * time.Millisecond})
	turns.Done(ctx, "idle", 3)
	turns.Done(ctx, "waited", 1)
	got := make(chan int64, 1)
	go func() {
		done, _ := turns.Wait(ctx, "waited", 3, time.Minute)
		got <- done
	}()
	for waiting := false; !waiting; time.Sleep(time.Millisecond) {
		turns.mu.Lock()
		tn := turns.cur["waited"]
		waiting = tn != nil && tn.waiters == 1
		turns.mu.Unlock()
	}
	for range 3 { // generations go by, moved along by another key
		time.Sleep(15 * time.Millisecond)
		turns.Done(ctx, "other", 1)
	}
	if _, err := turns.Wait(ctx, "idle", 4, 0); !errors.Is(err, realtime.ErrUnknownKey) {
		t.Fatalf("Wait on a key idle for generations = %v, want ErrUnknownKey", err)
	}
	turns.Done(ctx, "waited", 2)
	select {
	case done := <-got:
		if done != 2 {
			t.Fatalf("the waiter got %d, want its turn after 2", done)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter's key was forgotten under it: it never got its turn")
	}
}
