package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"messenger/search/bleve"
	"messenger/search/indexer"
	"messenger/storage"
	"messenger/storage/pebble"
)

// TestReadyzSaysSearchIsRebuildingUntilItIsDone: /readyz's report on
// search names the rebuild of an index that was never in sync (here a new
// one over a store that already holds a conversation) while its work is
// queued, and nothing once it is written.
func TestReadyzSaysSearchIsRebuildingUntilItIsDone(t *testing.T) {
	ctx := context.Background()
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	u := storage.User{ID: "u1", Username: "ann", UsernameKey: "ann", DisplayName: "Ann", CreatedAt: now}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := storage.Conversation{ID: "c1", Kind: storage.Group, CreatedBy: u.ID, CreatedAt: now, LastActivityAt: now}
	if _, _, err := store.CreateConversation(ctx, c, []storage.Member{{UserID: u.ID, Role: storage.RoleOwner}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: u.ID, ClientMessageID: "k", Body: "hello", SentAt: now}); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	idx, err := bleve.Open(bleve.Config{Dir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	ix, err := indexer.New(indexer.Config{Index: idx, Source: store, Logger: quiet, FlushDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	status := searchDegraded(ix)
	if err := ix.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got := status(); len(got) != 1 || got[0] != "search: rebuilding the index from the store; results may be incomplete" {
		t.Fatalf("while the rebuild is queued: %q", got)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); len(status()) > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still %q after 10 s", status())
		}
	}
}
