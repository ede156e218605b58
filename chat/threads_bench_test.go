package chat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/realtime/memlog"
	"messenger/storage"
	"messenger/storage/pebble"
)

// benchDomain is the domain on Pebble (fsync off) and the in-process log,
// with n users created directly in the store.
func benchDomain(b *testing.B, n int) (*chat.Service, storage.Store, []string) {
	b.Helper()
	st, err := pebble.Open(pebble.Config{Dir: b.TempDir(), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	log := memlog.New(memlog.Config{})
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := chat.New(chat.Config{Store: st, Log: log, Tokens: tokens, FanOutSweep: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close(); _ = log.Close(); _ = st.Close() })
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-user-%d", i)
		name := fmt.Sprintf("bu%d", i)
		if err := st.CreateUser(context.Background(), storage.User{ID: ids[i], Username: name, UsernameKey: name, CreatedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	return svc, st, ids
}

// benchSend sends b.N messages with refs to a group of 51 members.
func benchSend(b *testing.B, refs func(root string, users []string) chat.SendRefs) {
	ctx := context.Background()
	svc, _, u := benchDomain(b, 51)
	g, err := svc.CreateGroup(ctx, u[0], "bench", u[1:])
	if err != nil {
		b.Fatal(err)
	}
	root, err := svc.Send(ctx, u[0], g.ID, "root", "root")
	if err != nil {
		b.Fatal(err)
	}
	r := refs(root.ID, u[1:])
	b.ResetTimer()
	for i := range b.N {
		if _, err := svc.SendWith(ctx, u[0], g.ID, fmt.Sprintf("c%d", i), "hello", r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSendPlain(b *testing.B) {
	benchSend(b, func(string, []string) chat.SendRefs { return chat.SendRefs{} })
}

func BenchmarkSendWith50Mentions(b *testing.B) {
	benchSend(b, func(_ string, users []string) chat.SendRefs { return chat.SendRefs{Mentions: users[:50]} })
}

func BenchmarkSendToThread(b *testing.B) {
	benchSend(b, func(root string, _ []string) chat.SendRefs { return chat.SendRefs{ThreadRootID: root, ReplyToID: root} })
}

// BenchmarkUnreadMentionCounts1000 counts a user's unread mentions over
// 1,000 conversations, 100 of which have unread mentions.
func BenchmarkUnreadMentionCounts1000(b *testing.B) {
	ctx := context.Background()
	svc, _, u := benchDomain(b, 2)
	for i := range 1000 {
		g, err := svc.CreateGroup(ctx, u[0], "g", []string{u[1]})
		if err != nil {
			b.Fatal(err)
		}
		refs := chat.SendRefs{}
		if i%10 == 0 {
			refs.Mentions = []string{u[1]}
		}
		if _, err := svc.SendWith(ctx, u[0], g.ID, "m", "hello", refs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		n, err := svc.TotalUnreadMentions(ctx, u[1])
		if err != nil || n != 100 {
			b.Fatalf("total = %d, %v", n, err)
		}
	}
}

// BenchmarkThreadSummariesOfAPage summarises the threads of a page of 50
// roots, each with 20 replies.
func BenchmarkThreadSummariesOfAPage(b *testing.B) {
	ctx := context.Background()
	svc, _, u := benchDomain(b, 3)
	g, err := svc.CreateGroup(ctx, u[0], "g", u[1:])
	if err != nil {
		b.Fatal(err)
	}
	var roots []int64
	for i := range 50 {
		root, err := svc.Send(ctx, u[0], g.ID, fmt.Sprintf("r%d", i), "root")
		if err != nil {
			b.Fatal(err)
		}
		roots = append(roots, root.Seq)
		for j := range 20 {
			if _, err := svc.SendWith(ctx, u[1+j%2], g.ID, fmt.Sprintf("r%d-%d", i, j), "reply", chat.SendRefs{ThreadRootID: root.ID}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		sums, err := svc.ThreadSummaries(ctx, u[0], g.ID, roots)
		if err != nil || len(sums) != 50 {
			b.Fatalf("%d summaries, %v", len(sums), err)
		}
	}
}
