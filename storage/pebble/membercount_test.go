package pebble

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/pebblekv"
	"messenger/storage"
)

// A conversation from before member counts were kept has no count: it is
// counted once, stored, and moved by the next change.
func TestMemberCountOfAnOlderConversation(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Group, CreatedAt: time.Now()}
	ms := []storage.Member{{UserID: "a", Role: storage.RoleOwner}, {UserID: "b"}, {UserID: "c"}}
	if _, _, err := s.CreateConversation(ctx, c, ms); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Delete(pebblekv.Key("memcount", c.ID), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MemberCount(ctx, c.ID); err != nil || n != 3 {
		t.Fatalf("MemberCount = %d, %v; want 3 counted", n, err)
	}
	if _, ok, err := s.storedMemberCount(c.ID); err != nil || !ok {
		t.Fatalf("the counted count was not stored: %v %v", ok, err)
	}
	if err := s.db.Delete(pebblekv.Key("memcount", c.ID), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMembers(ctx, c.ID, []storage.Member{{UserID: "d"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MemberCount(ctx, c.ID); err != nil || n != 4 {
		t.Fatalf("MemberCount after a join = %d, %v; want 4", n, err)
	}
}
