package memlog_test

import (
	"context"
	"fmt"
	"testing"

	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/realtime/realtimetest"
)

func TestMemoryContract(t *testing.T) {
	realtimetest.Run(t, func(t *testing.T, o realtimetest.Options) realtime.Log {
		l := memlog.New(memlog.Config{MaxEvents: o.MaxEvents, SlowAfter: o.SlowAfter})
		t.Cleanup(func() { l.Close() })
		return l
	})
}

func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			l := memlog.New(memlog.Config{})
			defer l.Close()
			users := make([]string, n)
			for i := range users {
				users[i] = fmt.Sprint("u", i)
			}
			ev := realtime.Event{Type: "MessageAdded", Data: []byte(`{"message":{"body":"hello"}}`)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := l.Append(context.Background(), users, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
