package pebble_test

import (
	"context"
	"time"

	"testing"

	"messenger/storage"
	"messenger/storage/pebble"
	"messenger/storage/storagetest"
)

// newStore is the contract suite's factory: a fresh store in a test
// directory, synced or not.
func newStore(noSync bool) storagetest.Factory {
	return func(t *testing.T) storage.Store {
		s, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestContract(t *testing.T) { storagetest.Run(t, newStore(true)) }

// TestContractSynced runs the contract with every commit synced, the
// default a user gets: a send's batch is applied under its conversation's
// lock and synced after it (AppendMessage), which NoSync does not exercise.
func TestContractSynced(t *testing.T) {
	if testing.Short() {
		t.Skip("synced commits: a few seconds more")
	}
	storagetest.Run(t, newStore(false))
}

func TestDataSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := pebble.Open(pebble.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := storage.Conversation{ID: "c1", Kind: storage.Group, CreatedAt: time.Now()}
	if _, _, err := s.CreateConversation(ctx, c, []storage.Member{{UserID: "u1", Role: storage.RoleOwner}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: "c1", SenderID: "u1", ClientMessageID: "k", Body: "kept", SentAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = pebble.Open(pebble.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.MessageByID(ctx, storage.MessageID("c1", 1))
	if err != nil || m.Body != "kept" {
		t.Fatalf("after reopen: %+v, %v", m, err)
	}
}
