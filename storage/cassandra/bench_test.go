package cassandra

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// latencies collects per-call durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	pct := func(p float64) float64 {
		return float64(l.d[min(len(l.d)-1, int(p*float64(len(l.d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// cpuMeter reports CPU time per operation of this process and, when
// MESSENGER_CASSANDRA_PID names the server's process, of Cassandra too, so
// the benchmarks show the server's share of the work.
type cpuMeter struct{ self, server time.Duration }

func cpuNow() cpuMeter {
	var m cpuMeter
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pid := os.Getenv("MESSENGER_CASSANDRA_PID"); pid != "" {
		if stat, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
			// Fields after the command's closing parenthesis; utime and
			// stime are fields 14 and 15 of the line, in clock ticks (100/s).
			f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
			if len(f) > 12 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				m.server = time.Duration(u+st) * 10 * time.Millisecond
			}
		}
	}
	return m
}

func (start cpuMeter) report(b *testing.B) {
	end := cpuNow()
	b.ReportMetric(float64((end.self-start.self).Microseconds())/float64(b.N), "client-cpu-us/op")
	if os.Getenv("MESSENGER_CASSANDRA_PID") != "" {
		b.ReportMetric(float64((end.server-start.server).Microseconds())/float64(b.N), "cassandra-cpu-us/op")
	}
}

// warmUp sends a few hundred messages and lets the server settle, so the
// schema changes of a fresh keyspace (flushes and compactions of Cassandra's
// schema tables) and a cold JIT do not land in the measurements.
func warmUp(b *testing.B, s *Store, u string) {
	c := newGroup(b, s, u)
	var l latencies
	for i := 0; i < 300; i++ {
		benchSend(b, s, c.ID, u, &l)
	}
	time.Sleep(3 * time.Second)
}

func benchSend(b *testing.B, s *Store, conv, sender string, l *latencies) {
	start := time.Now()
	_, _, err := s.AppendMessage(context.Background(), storage.Message{
		ConversationID: conv, SenderID: sender, ClientMessageID: uuid.NewString(), Body: "benchmark message body of a typical length", SentAt: time.Now(),
	})
	if err != nil {
		b.Fatal(err)
	}
	l.add(time.Since(start))
}

// BenchmarkAppendMessage measures sends: one sender on one conversation
// (latency), many conversations at once (throughput of one store), and two
// stores on one conversation (Paxos contention between processes).
func BenchmarkAppendMessage(b *testing.B) {
	cfg := testConfig(b)
	s := openTestStore(b, cfg, true)
	u := uuid.NewString()
	warmUp(b, s, u)

	b.Run("OneConversation", func(b *testing.B) {
		c := newGroup(b, s, u)
		var l latencies
		b.ResetTimer()
		cpu := cpuNow()
		for i := 0; i < b.N; i++ {
			benchSend(b, s, c.ID, u, &l)
		}
		b.StopTimer()
		cpu.report(b)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		l.report(b)
	})

	b.Run("ManyConversations", func(b *testing.B) {
		var l latencies
		var next atomic.Int64
		convs := make([]string, 64)
		for i := range convs {
			convs[i] = newGroup(b, s, u).ID
		}
		b.SetParallelism(8) // 8 x GOMAXPROCS senders
		b.ResetTimer()
		cpu := cpuNow()
		writes := s.writes.Load()
		b.RunParallel(func(pb *testing.PB) {
			conv := convs[int(next.Add(1))%len(convs)]
			for pb.Next() {
				benchSend(b, s, conv, u, &l)
			}
		})
		b.StopTimer()
		cpu.report(b)
		// Mutations sent per message (the Paxos transaction included): does
		// not depend on the machine's load.
		b.ReportMetric(float64(s.writes.Load()-writes)/float64(b.N), "writes/op")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		l.report(b)
	})

	// Two stores on one conversation, 2 and 32 senders per core: with many
	// senders a store's sends queue and share Paxos rounds (group commit).
	for _, par := range []int{2, 32} {
		b.Run(fmt.Sprintf("OneConversationTwoStores/senders=%dxGOMAXPROCS", par), func(b *testing.B) {
			benchTwoStores(b, s, cfg, u, par)
		})
	}
}

// benchTwoStores sends into one conversation through s and a second store
// of the same keyspace, from par x GOMAXPROCS goroutines.
func benchTwoStores(b *testing.B, s *Store, cfg Config, u string, par int) {
	{
		other := openTestStore(b, cfg, false)
		c := newGroup(b, s, u)
		var l latencies
		var next atomic.Int64
		b.SetParallelism(par)
		b.ResetTimer()
		cpu := cpuNow()
		b.RunParallel(func(pb *testing.PB) {
			store := []*Store{s, other}[next.Add(1)%2]
			for pb.Next() {
				benchSend(b, store, c.ID, u, &l)
			}
		})
		b.StopTimer()
		cpu.report(b)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		l.report(b)
	}
}

// BenchmarkListMessages50 measures a history page of 50, newest first, at
// random points of a conversation that spans two buckets, and the first
// page (no cursor) the way a freshly opened chat asks for it.
func BenchmarkListMessages50(b *testing.B) {
	s := openTestStore(b, testConfig(b), true)
	u := uuid.NewString()
	c := newGroup(b, s, u)
	const total = bucketSize + bucketSize/2
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l latencies
			for i := 0; i < total/8; i++ {
				benchSend(b, s, c.ID, u, &l)
			}
		}()
	}
	wg.Wait()
	time.Sleep(3 * time.Second)
	run := func(b *testing.B, before func() int64) {
		var l latencies
		b.ResetTimer()
		cpu := cpuNow()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			page, err := s.ListMessages(context.Background(), c.ID, u, 0, before(), 50, true)
			if err != nil || len(page) != 50 {
				b.Fatalf("page of %d, %v", len(page), err)
			}
			l.add(time.Since(start))
		}
		b.StopTimer()
		cpu.report(b)
		l.report(b)
	}
	b.Run("Newest", func(b *testing.B) { run(b, func() int64 { return 0 }) })
	b.Run("RandomCursor", func(b *testing.B) { run(b, func() int64 { return 51 + rand.Int64N(total-51) }) })
}
