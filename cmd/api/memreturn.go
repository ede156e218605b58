package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Quiet hand-back: after a burst (sign-ups, thousands of sockets opening and
// closing, a large group's delivery) the heap the 400 % GC target let grow
// stays resident, because nothing triggers a collection while the process
// is quiet and the runtime's scavenger keeps memory up to the last heap
// goal. Measured (docs/BENCHMARKS.md, issue #24): 411 MiB RSS stayed after
// 15,000 sockets had come and gone, over a live heap of a few MiB.
const (
	// quietCheckEvery is how often the allocation rate is looked at. This
	// is the only hand-back to the OS after a burst of password checks
	// (auth.HashGate only collects, so that no busy one-core server is
	// held by a scavenge of hundreds of MiB, issue #24): once a second
	// brings a burst's RSS down within ≈ 2 s of its end.
	quietCheckEvery = time.Second
	// quietAllocBytes: below this many bytes allocated since the last
	// check, the process counts as quiet (an idle API allocates well under
	// 1 MiB/s: keep-alive pings and timers; a message costs ≈ 60 KB).
	quietAllocBytes = 2 << 20
	// quietSlackBytes: hand back only when the heap the runtime keeps
	// exceeds the live heap by more than this, or by more than an eighth
	// of the live heap (quietSlackShift) when that is larger. A fixed
	// 64 MiB left 15,000 idle sockets (≈ 100 MiB live) at ≈ 10 KiB of RSS
	// each; a slack relative to the live heap keeps RSS ≈ live × 1.125.
	quietSlackBytes = 16 << 20
	// quietSlackShift: the relative slack is live >> quietSlackShift.
	quietSlackShift = 3
)

// heapSample is what the hand-back decides on, read from runtime/metrics
// (no stop-the-world, unlike runtime.ReadMemStats).
type heapSample struct {
	allocs   uint64 // cumulative bytes allocated
	retained uint64 // heap memory the runtime holds from the OS (objects, free, unused)
	live     uint64 // live heap at the end of the last GC
}

var heapMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/unused:bytes",
	"/gc/heap/live:bytes",
}

func readHeap() heapSample {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, n := range heapMetrics {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return heapSample{allocs: v(0), retained: v(1) + v(2) + v(3), live: v(4)}
}

// shouldHandBack says whether, between prev and cur, the process was quiet
// while holding much more heap than it uses.
func shouldHandBack(prev, cur heapSample) bool {
	slack := max(uint64(quietSlackBytes), cur.live>>quietSlackShift)
	return cur.allocs-prev.allocs < quietAllocBytes && cur.retained > cur.live+slack
}

// returnMemoryWhenQuiet collects and hands free memory back to the OS
// (debug.FreeOSMemory) whenever a check finds the process quiet with a
// heap well above its live data, until ctx ends. A hand-back is one full
// collection of the live heap (a few ms for tens of MiB), and only runs
// when there is nothing else to do.
func returnMemoryWhenQuiet(ctx context.Context, every time.Duration, read func() heapSample, release func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	prev := read()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := read()
		if shouldHandBack(prev, cur) {
			release()
			cur = read()
		}
		prev = cur
	}
}

// startMemoryReturn runs returnMemoryWhenQuiet for the process until ctx ends.
func startMemoryReturn(ctx context.Context) {
	go returnMemoryWhenQuiet(ctx, quietCheckEvery, readHeap, debug.FreeOSMemory)
}
