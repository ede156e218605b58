package memlog

import (
	"context"
	"testing"

	"messenger/realtime"
)

type countSink struct{ n int }

func (s *countSink) Offer(realtime.Event) bool { s.n++; return true }
func (s *countSink) End(error)                 {}

// BenchmarkAppendOneKey5000: an append to a key with 5,000 subscribers
// offers the event to each under the key's lock; ns/op is how long that
// lock is held per append (with sinks that only count).
//
//	go test -run '^$' -bench AppendOneKey ./realtime/memlog/
func BenchmarkAppendOneKey5000(b *testing.B) {
	l := New(Config{})
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const subs = 5000
	for range subs {
		if _, err := l.Subscribe(ctx, "conv", "", &countSink{}); err != nil {
			b.Fatal(err)
		}
	}
	e := realtime.Event{Type: "MessageAdded", Data: []byte(`{"seq":1}`)}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(ctx, []string{"conv"}, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/subs, "ns/subscriber")
}
