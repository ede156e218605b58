package cql

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestParallelRunsAtMost16AtOnceAndStopsAtTheFirstError(t *testing.T) {
	var running, most, ran atomic.Int32
	boom := errors.New("boom")
	err := Parallel(context.Background(), 200, func(ctx context.Context, i int) error {
		ran.Add(1)
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if i == 15 {
			return boom // the 16th call fails while the first 15 wait
		}
		<-ctx.Done() // the others wait until the failure cancels them
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Parallel = %v, want the first error", err)
	}
	if most.Load() > 16 {
		t.Fatalf("%d calls ran at once, want at most 16", most.Load())
	}
	if ran.Load() == 200 {
		t.Fatalf("every call ran after the failure")
	}
}

func TestParallelOfNothingIsNoError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Parallel(ctx, 0, func(context.Context, int) error { return errors.New("called") }); err != nil {
		t.Fatalf("Parallel(0) = %v", err)
	}
}
