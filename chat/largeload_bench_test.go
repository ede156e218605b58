package chat_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/auth"
	"messenger/chat"
	"messenger/realtime/redislog"
	"messenger/redistest"
	"messenger/storage"
	"messenger/storage/pebble"
)

// BenchmarkLargeGroupOnRedis is issue #25's load: a group of
// MESSENGER_BENCH_MEMBERS members (default 100,000), MESSENGER_BENCH_ONLINE
// of them subscribed (default 5,000), MESSENGER_BENCH_RATE messages a
// second (default 10) for MESSENGER_BENCH_SECONDS (default 30), one API
// instance on Redis Streams (the run's real Redis) and an embedded store.
// It reports deliveries/s, the p99 of send → receipt by the last online
// member, the API's and Redis's CPU per message and the API's memory.
// Run it alone: go test -run '^$' -bench LargeGroupOnRedis -benchtime 1x ./chat/
func BenchmarkLargeGroupOnRedis(b *testing.B) {
	members, online := envInt("MESSENGER_BENCH_MEMBERS", 100000), envInt("MESSENGER_BENCH_ONLINE", 5000)
	rate, seconds := envInt("MESSENGER_BENCH_RATE", 10), envInt("MESSENGER_BENCH_SECONDS", 30)
	online = min(online, members)
	ctx := context.Background()
	svc, store, rdb := largeBenchService(b, members)
	users := make([]string, members)
	for i := range users {
		users[i] = fmt.Sprintf("lg-%07d-%x", i, rand.Uint32())
		u := storage.User{ID: users[i], Username: users[i], UsernameKey: users[i], DisplayName: "u", CreatedAt: time.Now().UTC()}
		if err := store.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	conv, err := svc.CreateGroup(ctx, users[0], "large", users[1:])
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("group of %d created in %v", members, time.Since(start).Round(time.Millisecond))

	heapBefore, rssBefore := memNow()
	got := make([][]time.Duration, rate*seconds) // per message: each online member's latency
	var mu sync.Mutex
	var wg sync.WaitGroup
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, u := range users[:online] {
		sub, err := svc.Subscribe(subCtx, u, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range sub.Events {
				sub.Taken()
				if m, ok := ev.(*chat.MessageAdded); ok && m.Message != nil {
					i, sent, ok := parseBenchBody(m.Message.Body)
					if ok && i < len(got) {
						d := time.Since(sent)
						mu.Lock()
						got[i] = append(got[i], d)
						mu.Unlock()
					}
				}
			}
		}()
	}
	heapSubs, rssSubs := memNow()

	b.ResetTimer()
	cpu0, redis0 := cpuNow(), redisCPU(ctx, rdb)
	t0 := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := range got {
		<-tick.C
		body := strconv.Itoa(i) + " " + strconv.FormatInt(time.Now().UnixNano(), 10)
		if _, err := svc.Send(ctx, users[1+i%(members-1)], conv.ID, fmt.Sprintf("m%d", i), body); err != nil {
			b.Fatal(err)
		}
	}
	tick.Stop()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && delivered(&mu, got) < len(got)*online {
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(t0)
	cpu1, redis1 := cpuNow(), redisCPU(ctx, rdb)
	b.StopTimer()
	heapAfter, rssAfter := memNow()
	cancel()
	wg.Wait()

	n := delivered(&mu, got)
	var last, all []time.Duration
	for _, ds := range got {
		all = append(all, ds...)
		if len(ds) > 0 {
			last = append(last, slices.Max(ds))
		}
	}
	msgs := float64(len(got))
	b.ReportMetric(float64(n)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(n)/(msgs*float64(online)), "delivered_fraction")
	b.ReportMetric(pct(all, 0.99), "p99_ms")
	b.ReportMetric(pct(last, 0.99), "p99_last_member_ms")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/msgs, "api_cpu_us/msg")
	b.ReportMetric(float64((redis1-redis0).Microseconds())/msgs, "redis_cpu_us/msg")
	b.Logf("members=%d online=%d rate=%d/s seconds=%d: %d of %d deliveries; heap %d → %d (subscribed) → %d MiB after; RSS %d → %d → %d MiB; load %s",
		members, online, rate, seconds, n, len(got)*online, heapBefore>>20, heapSubs>>20, heapAfter>>20, rssBefore>>20, rssSubs>>20, rssAfter>>20, loadAvg())
}

// largeBenchService is one API instance on a fresh embedded store and the
// run's real Redis (Streams log and turns under a key prefix of this run).
func largeBenchService(b *testing.B, members int) (*chat.Service, storage.Store, redis.UniversalClient) {
	addrs := redistest.Addrs(b)
	rdb := redistest.Client(b)
	store, err := pebble.Open(pebble.Config{Dir: b.TempDir(), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	prefix := fmt.Sprintf("bench-large-%x:", rand.Uint64())
	log, turns := redisLogTurns(b, redislog.Config{Addrs: strings.Split(addrs, ",")}, prefix)
	b.Cleanup(func() { dropKeys(rdb, prefix) })
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := chat.New(chat.Config{Store: store, Log: log, Turns: turns, Tokens: tokens, FanOutSweep: -1, MaxGroupMembers: max(members, 2)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Close)
	return svc, store, rdb
}

func parseBenchBody(body string) (int, time.Time, bool) {
	a, c, ok := strings.Cut(body, " ")
	i, err1 := strconv.Atoi(a)
	ns, err2 := strconv.ParseInt(c, 10, 64)
	return i, time.Unix(0, ns), ok && err1 == nil && err2 == nil
}

func delivered(mu *sync.Mutex, got [][]time.Duration) int {
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, ds := range got {
		n += len(ds)
	}
	return n
}

func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Microseconds()) / 1000
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the CPU time the Redis server has used (INFO cpu), summed
// over the servers the client reaches.
func redisCPU(ctx context.Context, rdb redis.UniversalClient) time.Duration {
	var total time.Duration
	add := func(info string) {
		for _, line := range strings.Split(info, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
				f, _ := strconv.ParseFloat(v, 64)
				total += time.Duration(f * float64(time.Second))
			}
		}
	}
	if c, ok := rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		_ = c.ForEachShard(ctx, func(ctx context.Context, s *redis.Client) error {
			info, err := s.Info(ctx, "cpu").Result()
			mu.Lock()
			add(info)
			mu.Unlock()
			return err
		})
		return total
	}
	info, _ := rdb.Info(ctx, "cpu").Result()
	add(info)
	return total
}

// memNow is the Go heap in use and the process's RSS, in bytes.
func memNow() (heap, rss uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			rss = kb << 10
		}
	}
	return ms.HeapInuse, rss
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// dropKeys deletes the run's keys: a 100,000-member run leaves 100,000
// streams on the shared Redis otherwise.
func dropKeys(rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	drop := func(c *redis.Client) {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var batch []string
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 500 {
				for _, k := range batch {
					c.Unlink(ctx, k)
				}
				batch = batch[:0]
			}
		}
		for _, k := range batch {
			c.Unlink(ctx, k)
		}
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		_ = c.ForEachMaster(ctx, func(ctx context.Context, s *redis.Client) error { drop(s); return nil })
	case *redis.Client:
		drop(c)
	}
}
