package cassandra

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// testMemberCountOfAnOlderConversation: a conversation from before
// migration 019 has no count (null): MemberCount counts it once and stores
// it, and a join or removal on a null count sets it exactly.
func testMemberCountOfAnOlderConversation(t *testing.T, s *Store) {
	ctx := context.Background()
	c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Group, CreatedAt: time.Now()}
	ms := []storage.Member{{UserID: "a", Role: storage.RoleOwner}, {UserID: "b"}, {UserID: "c"}}
	if _, _, err := s.CreateConversation(ctx, c, ms); err != nil {
		t.Fatal(err)
	}
	forgetCount := func() {
		t.Helper()
		if err := s.lwt(ctx, "UPDATE members SET member_count = null WHERE conversation_id = ? IF EXISTS", c.ID).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	forgetCount()
	if n, err := s.MemberCount(ctx, c.ID); err != nil || n != 3 {
		t.Fatalf("MemberCount = %d, %v; want 3 counted", n, err)
	}
	if _, stored, err := s.readMemberCount(ctx, c.ID); err != nil || !stored {
		t.Fatalf("the counted count was not stored: %v %v", stored, err)
	}
	forgetCount()
	if _, err := s.AddMembers(ctx, c.ID, []storage.Member{{UserID: "d"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	forgetCount()
	if err := s.RemoveMember(ctx, c.ID, "a", time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, stored, err := s.readMemberCount(ctx, c.ID); err != nil || !stored || n != 3 {
		t.Fatalf("count after a join and a removal on null counts = %d (stored %v), %v; want 3", n, stored, err)
	}
}
