package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestHandBackOnlyWhenQuietAndHoldingMuchMoreThanLive(t *testing.T) {
	const mib = 1 << 20
	prev := heapSample{allocs: 1000 * mib}
	for _, c := range []struct {
		name string
		cur  heapSample
		want bool
	}{
		{"quiet, 400 MiB held over 10 MiB live", heapSample{allocs: 1001 * mib, retained: 400 * mib, live: 10 * mib}, true},
		{"busy (100 MiB allocated since)", heapSample{allocs: 1100 * mib, retained: 400 * mib, live: 10 * mib}, false},
		{"quiet, heap close to live", heapSample{allocs: 1001 * mib, retained: 24 * mib, live: 10 * mib}, false},
		{"quiet, 15,000 idle sockets: 150 MiB held over 100 MiB live", heapSample{allocs: 1001 * mib, retained: 150 * mib, live: 100 * mib}, true},
		{"quiet, within an eighth of a large live heap", heapSample{allocs: 1001 * mib, retained: 310 * mib, live: 280 * mib}, false},
		{"quiet, large live heap all in use", heapSample{allocs: 1000 * mib, retained: 500 * mib, live: 480 * mib}, false},
	} {
		if got := shouldHandBack(prev, c.cur); got != c.want {
			t.Errorf("%s: shouldHandBack = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestReturnMemoryWhenQuietReleasesAndStopsWithItsContext(t *testing.T) {
	var releases atomic.Int64
	read := func() heapSample {
		if releases.Load() > 0 {
			return heapSample{retained: 20 << 20, live: 10 << 20}
		}
		return heapSample{retained: 400 << 20, live: 10 << 20}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		returnMemoryWhenQuiet(ctx, time.Millisecond, read, func() { releases.Add(1) })
	}()
	for deadline := time.Now().Add(30 * time.Second); releases.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a quiet process holding 400 MiB over 10 MiB live never handed memory back")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("returnMemoryWhenQuiet did not return after its context ended")
	}
	if n := releases.Load(); n != 1 {
		t.Fatalf("released %d times; once the heap is back near live there is nothing to hand back", n)
	}
}

func TestReadHeapSeesTheLiveHeap(t *testing.T) {
	s := readHeap()
	if s.allocs == 0 || s.retained == 0 {
		t.Fatalf("readHeap = %+v: the runtime metrics were not read", s)
	}
}
