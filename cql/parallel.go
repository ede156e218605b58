package cql

import (
	"context"
	"sync"
)

// Parallel runs fn(ctx, 0..n-1) with at most 16 in flight and returns the
// first error (which cancels the ctx the others run with), or ctx's error
// when it ended before every call was started. n == 0 is no work and no
// error. Fan-outs of single-partition reads are how Cassandra wants
// multi-key lookups (rather than IN across partitions): each goes straight
// to a replica that owns its key.
func Parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	switch n {
	case 0:
		return nil
	case 1:
		return fn(ctx, 0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, 16)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
