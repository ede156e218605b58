package realtimetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/realtime"
)

// TurnsFactory returns two handles on one set of turns for one test, as two
// API instances would have (the same value twice for an in-process
// implementation); closing them is the factory's job (t.Cleanup).
type TurnsFactory func(t *testing.T) (a, b realtime.Turns)

// RunTurns runs the realtime.Turns contract suite.
func RunTurns(t *testing.T, newTurns TurnsFactory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b realtime.Turns)
	}{
		{"UnknownKeyIsReportedUntilDone", testTurnsUnknown},
		{"WaitReturnsWhenThePreviousNumberIsDone", testTurnsWait},
		{"WaitGivesUpAfterPatienceWithoutProgress", testTurnsPatience},
		{"DoneNeverMovesBackwards", testTurnsMonotonic},
		{"KeysAreIndependent", testTurnsKeys},
		{"EndOfContextEndsTheWait", testTurnsContext},
		{"ConcurrentWritersGetTheirTurnsInOrder", testTurnsOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newTurns(t)
			tc.fn(t, a, b)
		})
	}
}

// forever is a patience no test reaches: a Wait that returns with it
// returned because its turn came.
const forever = time.Minute

func key() string { return "conv-" + uuid.NewString() }

// eventually retries cond (another instance may learn a Done a moment
// later) and fails t if it never holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

// known waits until turns has learnt that key is done up to n.
func known(t *testing.T, turns realtime.Turns, k string, n int64) {
	t.Helper()
	eventually(t, "the other instance learns the watermark", func() bool {
		done, err := turns.Wait(context.Background(), k, n+1, 0)
		return err == nil && done >= n
	})
}

func testTurnsUnknown(t *testing.T, a, b realtime.Turns) {
	ctx := context.Background()
	k := key()
	if _, err := a.Wait(ctx, k, 1, forever); !errors.Is(err, realtime.ErrUnknownKey) {
		t.Fatalf("Wait on a new key = %v, want ErrUnknownKey", err)
	}
	a.Done(ctx, k, 0)
	if done, err := a.Wait(ctx, k, 1, forever); err != nil || done != 0 {
		t.Fatalf("Wait(1) after Done(0) = %d, %v; want 0", done, err)
	}
	known(t, b, k, 0)
}

func testTurnsWait(t *testing.T, a, b realtime.Turns) {
	ctx := context.Background()
	k := key()
	a.Done(ctx, k, 1)
	known(t, b, k, 1)
	got := make(chan int64, 1)
	go func() {
		done, err := b.Wait(ctx, k, 4, forever)
		if err != nil {
			t.Error(err)
		}
		got <- done
	}()
	a.Done(ctx, k, 2)
	a.Done(ctx, k, 3)
	select {
	case done := <-got:
		if done != 3 {
			t.Fatalf("Wait(4) returned %d, want 3 (the turn of 4)", done)
		}
	case <-time.After(wait):
		t.Fatal("Wait(4) did not return after 3 was done")
	}
}

func testTurnsPatience(t *testing.T, a, b realtime.Turns) {
	ctx := context.Background()
	k := key()
	a.Done(ctx, k, 2) // 3's writer never finishes
	known(t, b, k, 2)
	done, err := b.Wait(ctx, k, 5, 50*time.Millisecond)
	if err != nil || done != 2 {
		t.Fatalf("Wait(5) with 3 never done = %d, %v; want 2 after the patience", done, err)
	}
	if done, err := b.Wait(ctx, k, 5, 0); err != nil || done != 2 {
		t.Fatalf("Wait(5) with no patience = %d, %v; want 2 at once", done, err)
	}
}

func testTurnsMonotonic(t *testing.T, a, b realtime.Turns) {
	ctx := context.Background()
	k := key()
	a.Done(ctx, k, 5)
	b.Done(ctx, k, 3)
	a.Done(ctx, k, 4)
	for _, turns := range []realtime.Turns{a, b} {
		eventually(t, "both instances see 5", func() bool {
			done, err := turns.Wait(ctx, k, 6, 0)
			return err == nil && done == 5
		})
	}
}

func testTurnsKeys(t *testing.T, a, b realtime.Turns) {
	ctx := context.Background()
	k1, k2 := key(), key()
	a.Done(ctx, k1, 7)
	a.Done(ctx, k2, 1)
	if done, err := a.Wait(ctx, k2, 8, 0); err != nil || done != 1 {
		t.Fatalf("Wait on the second key = %d, %v; want its own 1", done, err)
	}
}

func testTurnsContext(t *testing.T, a, b realtime.Turns) {
	k := key()
	a.Done(context.Background(), k, 1)
	known(t, b, k, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Wait(ctx, k, 10, forever)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(wait):
		t.Fatal("Wait did not end with its context")
	}
}

// Writers of numbers 1..n start in random order, half through each handle;
// each waits for its turn, records it and marks it done. The records are
// in number order: nobody went before their turn.
func testTurnsOrder(t *testing.T, a, b realtime.Turns) {
	ctx := context.Background()
	k := key()
	a.Done(ctx, k, 0)
	known(t, b, k, 0)
	const n = 60
	var mu sync.Mutex
	var order []int64
	var wg sync.WaitGroup
	for _, i := range rand.Perm(n) {
		num := int64(i + 1)
		turns := a
		if i%2 == 1 {
			turns = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := turns.Wait(ctx, k, num, forever)
			if err != nil || done != num-1 {
				t.Errorf("Wait(%d) = %d, %v; want %d", num, done, err, num-1)
			}
			mu.Lock()
			order = append(order, num)
			mu.Unlock()
			turns.Done(ctx, k, num)
		}()
	}
	wg.Wait()
	for i, num := range order {
		if num != int64(i+1) {
			t.Fatalf("turns were taken in the order %v", order)
		}
	}
}
