package cassandra

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// BenchmarkAppendWithRefs measures sends that also write index entries:
// 50 named mentions, a thread reply, and a plain send beside them for
// comparison (one conversation, one sender: latency).
func BenchmarkAppendWithRefs(b *testing.B) {
	s := openTestStore(b, testConfig(b), true)
	u := uuid.NewString()
	warmUp(b, s, u)
	mentions := make([]string, storage.MaxMentions)
	for i := range mentions {
		mentions[i] = fmt.Sprintf("user-%d", i)
	}
	for _, c := range []struct {
		name string
		refs func(root int64) storage.MessageRefs
	}{
		{"Plain", func(int64) storage.MessageRefs { return storage.MessageRefs{} }},
		{"Mentions50", func(int64) storage.MessageRefs { return storage.MessageRefs{Mentions: mentions} }},
		{"ThreadReply", func(root int64) storage.MessageRefs { return storage.MessageRefs{ThreadRootSeq: root} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			conv := newGroup(b, s, u)
			var l latencies
			refs := c.refs(1)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, _, err := s.AppendMessage(context.Background(), storage.Message{ConversationID: conv.ID, SenderID: u,
					ClientMessageID: uuid.NewString(), Body: "benchmark message body of a typical length", SentAt: time.Now(), MessageRefs: refs}); err != nil {
					b.Fatal(err)
				}
				l.add(time.Since(start))
			}
			b.StopTimer()
			l.report(b)
		})
	}
}

// BenchmarkCountUnreadMentions1000 counts one user's unread mentions over
// 1,000 conversations: 100 with a named mention, 10 with an @all, all with
// unread messages.
func BenchmarkCountUnreadMentions1000(b *testing.B) {
	s := openTestStore(b, testConfig(b), true)
	ctx := context.Background()
	u, reader := uuid.NewString(), uuid.NewString()
	ranges := make([]storage.MentionRange, 1000)
	for i := range ranges {
		conv := newGroup(b, s, u)
		refs := storage.MessageRefs{}
		if i%10 == 0 {
			refs.Mentions = []string{reader}
		}
		if i%100 == 0 {
			refs.MentionAll = true
		}
		m, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: conv.ID, SenderID: u, ClientMessageID: "m", Body: "b", SentAt: time.Now(), MessageRefs: refs})
		if err != nil {
			b.Fatal(err)
		}
		ranges[i] = storage.MentionRange{ConversationID: conv.ID, AfterSeq: 0, LastSeq: m.Seq}
	}
	var l latencies
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		counts, err := s.CountUnreadMentions(ctx, reader, ranges)
		if err != nil || len(counts) != 100 {
			b.Fatalf("%d conversations with mentions, %v", len(counts), err)
		}
		l.add(time.Since(start))
	}
	b.StopTimer()
	l.report(b)
}
