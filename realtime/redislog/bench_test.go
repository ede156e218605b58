package redislog

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"messenger/realtime"
)

// go test -run '^$' -bench . -benchtime 2s ./realtime/redislog/
// (with the env of scripts/services.sh up redis redis-cluster)

func benchModes(b *testing.B, fn func(b *testing.B, cfg Config)) {
	modes := []struct {
		name string
		env  string
		cfg  func(testing.TB) Config
	}{
		{"single", "MESSENGER_REDIS_ADDRS", singleConfig},
		{"cluster", "MESSENGER_REDIS_CLUSTER_ADDRS", clusterConfig},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			if os.Getenv(m.env) == "" {
				b.Skipf("%s is not set", m.env)
			}
			fn(b, m.cfg(b))
		})
	}
}

var benchEvent = realtime.Event{Type: "MessageAdded", Data: []byte(`{"conversationId":"c-1","seq":42,"text":"hello there, a message of typical size"}`)}

func BenchmarkAppend1(b *testing.B) {
	benchModes(b, func(b *testing.B, cfg Config) {
		l := open(b, cfg)
		u := users(1)
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			if err := l.Append(ctx, u, benchEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppend1000(b *testing.B) {
	benchModes(b, func(b *testing.B, cfg Config) {
		l := open(b, cfg)
		u := users(1000)
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			if err := l.Append(ctx, u, benchEvent); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/recipient")
	})
}

// BenchmarkAppendToReceive: one event at a time, from Append through one
// instance to the subscriber's channel on another (notice, wake, read).
func BenchmarkAppendToReceive(b *testing.B) {
	benchModes(b, func(b *testing.B, cfg Config) {
		writer := open(b, cfg)
		rcfg := writer.cfg
		reader, err := New(context.Background(), rcfg)
		if err != nil {
			b.Fatal(err)
		}
		defer reader.Close()
		u := users(1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, _, err := realtime.Chan(ctx, reader, u[0], "")
		if err != nil {
			b.Fatal(err)
		}
		lat := make([]time.Duration, 0, 1024)
		b.ResetTimer()
		for b.Loop() {
			start := time.Now()
			if err := writer.Append(ctx, u, benchEvent); err != nil {
				b.Fatal(err)
			}
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				b.Fatal("event not received")
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
		b.ReportMetric(q(0.50), "p50-µs")
		b.ReportMetric(q(0.99), "p99-µs")
		b.ReportMetric(q(0.999), "p99.9-µs")
	})
}
