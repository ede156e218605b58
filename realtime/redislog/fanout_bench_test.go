package redislog

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
)

// BenchmarkOneKeyManySubscribers: one key (a large conversation's stream)
// with 5,000 subscribers on this instance; each iteration appends one event
// and the run ends when every subscriber has every event. shared=false is
// the reader before the shared tail (one XRANGE per subscriber per notice).
//
//	go test -run '^$' -bench OneKeyMany -benchtime 50x ./realtime/redislog/      (paced: rate=10/s)
//	go test -run '^$' -bench OneKeyMany/.*/flat -benchtime 1000x ./realtime/redislog/
func BenchmarkOneKeyManySubscribers(b *testing.B) {
	if os.Getenv("MESSENGER_REDIS_ADDRS") == "" {
		b.Skip("MESSENGER_REDIS_ADDRS is not set")
	}
	subs := 5000
	if v, err := strconv.Atoi(os.Getenv("FANOUT_SUBS")); err == nil && v > 0 {
		subs = v
	}
	for _, shared := range []bool{false, true} {
		for _, rate := range []string{"10", "flat"} {
			b.Run(fmt.Sprintf("shared=%v/rate=%s", shared, rate), func(b *testing.B) {
				old := shareReads
				shareReads = shared
				defer func() { shareReads = old }()
				benchFanout(b, subs, rate == "10")
			})
		}
	}
}

// countSink counts deliveries; the n-th event it takes bumps got[n].
type countSink struct {
	n   int
	fan *fanState
}

type fanState struct {
	subs int64
	got  []atomic.Int64
	last []atomic.Int64 // unix ns when the last subscriber took event n

	ended  atomic.Int64
	endErr atomic.Pointer[error]
}

func (s *countSink) Offer(realtime.Event) bool {
	if s.n < len(s.fan.got) && s.fan.got[s.n].Add(1) == s.fan.subs {
		s.fan.last[s.n].Store(time.Now().UnixNano())
	}
	s.n++
	return true
}

func (s *countSink) End(err error) {
	s.fan.ended.Add(1)
	if err != nil {
		s.fan.endErr.CompareAndSwap(nil, &err)
	}
}

func benchFanout(b *testing.B, subs int, paced bool) {
	cfg := singleConfig(b)
	xranges := &xrangeHook{}
	cfg.Hooks = []redis.Hook{xranges}
	l := open(b, cfg)
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Addrs[0]})
	defer rdb.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := "conv-" + randomHex(6)
	const maxN = 100000 // events per run at most
	fan := &fanState{subs: int64(subs), got: make([]atomic.Int64, maxN), last: make([]atomic.Int64, maxN)}

	runtime.GC()
	heap0, rss0 := heapInuse(), rss()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for range subs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := l.Subscribe(ctx, key, "", &countSink{fan: fan}); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	heap1, rss1 := heapInuse(), rss()

	redisPID := redisPid(b, rdb)
	xr0 := xranges.n.Load()
	rcpu0, cpu0 := procCPU(redisPID), procCPU(os.Getpid())
	starts := make([]int64, 0, b.N)
	t0 := time.Now()
	b.ResetTimer()
	for i := 0; b.Loop() && i < maxN; i++ {
		if paced {
			time.Sleep(time.Until(t0.Add(time.Duration(i) * 100 * time.Millisecond)))
		}
		starts = append(starts, time.Now().UnixNano())
		if err := l.Append(ctx, []string{key}, benchEvent); err != nil {
			b.Fatal(err)
		}
	}
	n := len(starts)
	deadline := time.Now().Add(5 * time.Minute)
	for fan.last[n-1].Load() == 0 {
		if e := fan.endErr.Load(); e != nil {
			b.Fatalf("%d subscriptions ended, one with %v", fan.ended.Load(), *e)
		}
		if time.Now().After(deadline) {
			b.Fatalf("event %d reached %d of %d subscribers", n-1, fan.got[n-1].Load(), subs)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	cpu, rcpu := procCPU(os.Getpid())-cpu0, procCPU(redisPID)-rcpu0
	xr := xranges.n.Load() - xr0

	lat := make([]time.Duration, n)
	for i := range n {
		lat[i] = time.Duration(fan.last[i].Load() - starts[i])
	}
	slices.Sort(lat)
	b.ReportMetric(float64(subs*n)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(lat[(n-1)*99/100].Microseconds())/1000, "p99-last-ms")
	b.ReportMetric(float64(lat[(n-1)/2].Microseconds())/1000, "p50-last-ms")
	b.ReportMetric(cpu.Seconds()*1e3/float64(n), "api-cpu-ms/append")
	b.ReportMetric(rcpu.Seconds()*1e3/float64(n), "redis-cpu-ms/append")
	b.ReportMetric(float64(xr)/float64(n), "xrange/append")
	b.ReportMetric(float64(heap1-heap0)/float64(subs), "heap-B/sub")
	b.ReportMetric(float64(rss1-rss0)/float64(subs), "rss-B/sub")
}

func heapInuse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse) + int64(m.StackInuse)
}

func rss() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func redisPid(b *testing.B, rdb *redis.Client) int {
	info, err := rdb.Info(context.Background(), "server").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ := strconv.Atoi(v)
			return pid
		}
	}
	return 0
}

// xrangeHook counts the XRANGEs this log sends (the server is shared, so
// its own command stats count other clients too).
type xrangeHook struct{ n atomic.Int64 }

func (h *xrangeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *xrangeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.count([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (h *xrangeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.count(cmds)
		return next(ctx, cmds)
	}
}

func (h *xrangeHook) count(cmds []redis.Cmder) {
	for _, c := range cmds {
		if c.Name() == "xrange" {
			h.n.Add(1)
		}
	}
}

// procCPU is user+system CPU time of pid from /proc/<pid>/stat (0 if
// unreadable: Redis on another machine).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}
