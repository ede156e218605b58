package pebble_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"messenger/storage"
	"messenger/storage/pebble"
	"messenger/storage/storagetest"
)

// BenchmarkUnreadPage: a conversation list page of 50 conversations costs
// the same with 10,000 unread messages in each as with none. "read" has the
// same 10,000 messages already read, so it and "unread" write the same data
// (a fresh LSM still compacting costs reads the same in both).
func BenchmarkUnreadPage(b *testing.B) {
	for _, tc := range []struct {
		name       string
		sent, read int
	}{{"empty", 0, 0}, {"read=10000", 10_000, 10_000}, {"unread=10-after-10000-read", 10_010, 10_000}, {"unread=10", 10, 0}, {"unread=10000", 10_000, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := pebble.Open(pebble.Config{Dir: b.TempDir(), NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			convs := make([]string, 50)
			for i := range convs {
				convs[i] = fmt.Sprintf("c%d", i)
				c := storage.Conversation{ID: convs[i], Kind: storage.Group, CreatedAt: time.Now()}
				if _, _, err := s.CreateConversation(ctx, c, []storage.Member{{UserID: "sender", Role: storage.RoleOwner}, {UserID: "reader", Role: storage.RoleMember}}); err != nil {
					b.Fatal(err)
				}
				for j := range tc.sent {
					if _, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: convs[i], SenderID: "sender", ClientMessageID: fmt.Sprint(j), Body: "hello", SentAt: time.Now()}); err != nil {
						b.Fatal(err)
					}
				}
				if tc.read > 0 {
					if _, err := s.AdvanceCursor(ctx, convs[i], "reader", storage.Read, int64(tc.read), time.Now()); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := pebble.Compact(s); err != nil {
				b.Fatal(err)
			}
			storagetest.BenchUnreadPage(b, s, "reader", convs, tc.sent-tc.read)
		})
	}
}
