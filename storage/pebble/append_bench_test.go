package pebble_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"messenger/storage"
	"messenger/storage/pebble"
)

// BenchmarkAppendOneBusyConversation: 16 senders append to one
// conversation, every commit synced (the default). A send holds the
// conversation's lock while it takes a seq and applies its batch, not
// while the WAL syncs, so the conversation is not limited to one message
// per sync interval (2 ms: 500 a second).
func BenchmarkAppendOneBusyConversation(b *testing.B) {
	s, err := pebble.Open(pebble.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	c := storage.Conversation{ID: "busy", Kind: storage.Group, CreatedAt: time.Now()}
	if _, _, err := s.CreateConversation(ctx, c, []storage.Member{{UserID: "sender", Role: storage.RoleOwner}}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(8) // 16 senders on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprint(n.Add(1))
			if _, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: "busy", SenderID: "sender", ClientMessageID: id, Body: "hello", SentAt: time.Now()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
