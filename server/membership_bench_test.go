package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/ids"
	"messenger/server"
	"messenger/storage"
)

// Counted like the reads in harness_test.go: the per-member state reads.

// MemberState implements storage.Store, counted.
func (s *countingStore) MemberState(ctx context.Context, conversationID, userID string) (storage.MemberState, error) {
	s.count("MemberState")
	return s.Store.MemberState(ctx, conversationID, userID)
}

// MemberStates implements storage.Store, counted.
func (s *countingStore) MemberStates(ctx context.Context, userID string) (map[string]storage.MemberState, error) {
	s.count("MemberStates")
	return s.Store.MemberStates(ctx, userID)
}

// Drafts implements storage.Store, counted.
func (s *countingStore) Drafts(ctx context.Context, userID string) (map[string]storage.Draft, error) {
	s.count("Drafts")
	return s.Store.Drafts(ctx, userID)
}

// BenchmarkConversationListOf5000 pages the filtered conversation list of
// a user in 5,000 conversations (5 pinned, 100 archived) through the HTTP
// handler on the embedded store, and reports the store reads per page.
func BenchmarkConversationListOf5000(b *testing.B) {
	store := &countingStore{Store: embeddedStore(b)}
	e := newEmbedded(b, apiOptions{store: store})
	_, url := e.serve(b, server.Config{})
	me := (&testAPI{URL: url}).signUp(b, "me")
	other := (&testAPI{URL: url}).signUp(b, "other")
	ctx := context.Background()
	meID, _ := ids.DecodeAs(ids.User, me.UserID)
	otherID, _ := ids.DecodeAs(ids.User, other.UserID)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var ids []string
	for i := 0; i < 5000; i++ {
		at := now.Add(time.Duration(i) * time.Millisecond)
		c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Group, Title: fmt.Sprintf("g%d", i), CreatedBy: meID, CreatedAt: at, LastActivityAt: at}
		members := []storage.Member{{UserID: meID, Role: storage.RoleOwner, JoinedAt: at}, {UserID: otherID, Role: storage.RoleMember, JoinedAt: at}}
		if _, _, err := store.CreateConversation(ctx, c, members); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	for i, id := range ids[:105] {
		st := storage.MemberState{ConversationID: id, Archived: i >= 5}
		if i < 5 {
			st.PinnedAt = now
		}
		if err := store.SetMemberState(ctx, meID, st); err != nil {
			b.Fatal(err)
		}
	}
	const q = `query($f: ConversationFilter) { conversations(filter: $f, first: 20) { edges { node { id title unreadCount membership { pinned archived muted } draft { body } } } } }`
	vars := map[string]any{"f": map[string]any{"archived": false}}
	var out listed
	me.Must(b, q, vars, &out)
	if len(out.Conversations.Edges) != 20 || !out.Conversations.Edges[0].Node.Membership.Pinned {
		b.Fatalf("first page = %+v", out.Conversations.Edges)
	}
	store.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		me.Must(b, q, vars, nil)
	}
	b.StopTimer()
	counts := store.Counts()
	var total int64
	for _, c := range counts {
		total += c
	}
	b.ReportMetric(float64(total)/float64(b.N), "reads/page")
	b.Logf("reads per page: %s", summary(counts, b.N))
}
