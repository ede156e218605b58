package pebble_test

import (
	"context"
	"testing"
	"time"

	"messenger/storage"
	"messenger/storage/pebble"
)

// A data directory written before the unread exception keys existed gets
// them at Open: its own sends and recalls stop counting as unread.
func TestUnreadKeysAreBackfilledAtOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := pebble.Open(pebble.Config{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := storage.Conversation{ID: "c1", Kind: storage.Group, CreatedAt: time.Now()}
	if _, _, err := s.CreateConversation(ctx, c, []storage.Member{{UserID: "a", Role: storage.RoleOwner}, {UserID: "b"}}); err != nil {
		t.Fatal(err)
	}
	var sent []storage.Message
	for _, from := range []string{"a", "b", "a", "a"} {
		m, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: "c1", SenderID: from, Body: "x", SentAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	del := time.Now()
	sent[2].DeletedAt = &del
	if err := s.UpdateMessage(ctx, sent[2]); err != nil {
		t.Fatal(err)
	}
	if err := pebble.ForgetUnreadIndex(s); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountUnread(ctx, "c1", "b", 0); n != 4 {
		t.Fatalf("without the keys b counts %d; the test needs the old layout (4)", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second Open finds the marker and writes nothing
		s, err = pebble.Open(pebble.Config{Dir: dir, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.CountUnread(ctx, "c1", "b", 0); err != nil || n != 2 {
			t.Fatalf("after the backfill b counts %d, %v; want 2", n, err)
		}
		if n, err := s.CountUnread(ctx, "c1", "a", 0); err != nil || n != 1 {
			t.Fatalf("after the backfill a counts %d, %v; want 1", n, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
