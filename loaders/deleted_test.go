package loaders

import (
	"context"
	"errors"
	"testing"
	"time"

	"messenger/storage"
	"messenger/storage/pebble"
	"messenger/textrules"
)

func TestAMissingUserLoadsAsDeletedOnlyWhenReferredTo(t *testing.T) {
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	alice := storage.User{ID: "u-alice", Username: "alice", UsernameKey: "alice", DisplayName: "Alice", CreatedAt: time.Now().UTC()}
	if err := store.CreateUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	l := New(store, Options{Immediate: true})
	if u, err := l.UserOrDeleted(ctx, "u-alice"); err != nil || u.DisplayName != "Alice" {
		t.Fatalf("an existing user: %+v %v", u, err)
	}
	if u, err := l.UserOrDeleted(ctx, "u-gone"); err != nil || u != DeletedUser("u-gone") || u.DisplayName != "Deleted account" {
		t.Fatalf("a missing user: %+v %v", u, err)
	}
	if _, err := l.User(ctx, "u-gone"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("looking a missing user up by id: %v, want ErrNotFound", err)
	}
	if !textrules.Reserved(DeletedUsername) {
		t.Fatalf("%q can be registered, so a real account could pass for the placeholder", DeletedUsername)
	}
}
