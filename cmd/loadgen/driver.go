package main

import (
	"context"
	"sync"
	"time"
)

// openLoop runs rate*dur jobs, job i scheduled at start + i/rate, on
// `workers` goroutines. It is open loop: the schedule never waits for the
// server, a job that cannot start on time waits in a queue, and each job
// gets its intended time, so latency measured from it includes any
// queueing a slow server caused (no coordinated omission). It returns the
// number of jobs scheduled and the time from the first intended start until
// the last job finished.
func openLoop(ctx context.Context, rate float64, dur time.Duration, workers int, job func(ctx context.Context, i int64, intended time.Time)) (int64, time.Duration) {
	total := int64(rate * dur.Seconds())
	if total <= 0 {
		return 0, 0
	}
	type slot struct {
		i  int64
		at time.Time
	}
	buf := total
	if buf > 1<<20 {
		buf = 1 << 20
	}
	queue := make(chan slot, buf)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range queue {
				job(ctx, s.i, s.at)
			}
		}()
	}
	start := time.Now().Add(5 * time.Millisecond)
	interval := float64(time.Second) / rate
	var next int64
	for next < total && ctx.Err() == nil {
		due := int64(float64(time.Since(start))/interval) + 1
		if due > total {
			due = total
		}
		for ; next < due; next++ {
			queue <- slot{next, start.Add(time.Duration(float64(next) * interval))}
		}
		if next < total {
			wait := time.Until(start.Add(time.Duration(float64(next) * interval)))
			if wait > 0 {
				time.Sleep(wait)
			}
		}
	}
	close(queue)
	wg.Wait()
	return next, time.Since(start)
}
