package memturns_test

import (
	"context"
	"testing"

	"messenger/realtime/memturns"
)

// BenchmarkTurnOfOneSender is what ordering adds to a send whose
// predecessor is done (a direct conversation, one sender at a time): one
// Wait that finds its turn, one Done.
func BenchmarkTurnOfOneSender(b *testing.B) {
	ctx := context.Background()
	turns := memturns.New(memturns.Config{})
	turns.Done(ctx, "conv", 0)
	for i := range int64(b.N) {
		if done, err := turns.Wait(ctx, "conv", i+1, 0); err != nil || done != i {
			b.Fatal(done, err)
		}
		turns.Done(ctx, "conv", i+1)
	}
}
