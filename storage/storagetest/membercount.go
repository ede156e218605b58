package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"messenger/storage"
)

func wantMemberCount(t *testing.T, s storage.Store, conversationID string, want int) {
	t.Helper()
	got, err := s.MemberCount(context.Background(), conversationID)
	if err != nil || got != want {
		t.Fatalf("MemberCount = %d, %v; want %d", got, err, want)
	}
	ids, err := s.MemberIDs(context.Background(), conversationID)
	if err != nil || len(ids) != want {
		t.Fatalf("MemberIDs has %d, %v; the count says %d", len(ids), err, want)
	}
}

func testMemberCountFollowsJoinsAndRemovals(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if n, err := s.MemberCount(ctx, id()); err != nil || n != 0 {
		t.Fatalf("MemberCount of an unknown conversation = %d, %v; want 0", n, err)
	}
	owner, b, c := id(), id(), id()
	conv := mustGroup(t, s, owner, b, c, b) // b twice: one member
	wantMemberCount(t, s, conv.ID, 3)
	d, e := id(), id()
	added, err := s.AddMembers(ctx, conv.ID, []storage.Member{{UserID: b}, {UserID: d}, {UserID: d}, {UserID: e}}, now())
	if err != nil || len(added) != 2 {
		t.Fatalf("AddMembers = %v, %v; want d and e added", added, err)
	}
	wantMemberCount(t, s, conv.ID, 5)
	if added, err := s.AddMembers(ctx, conv.ID, []storage.Member{{UserID: d}}, now()); err != nil || len(added) != 0 {
		t.Fatalf("adding a member again = %v, %v; want nothing added", added, err)
	}
	wantMemberCount(t, s, conv.ID, 5)
	if err := s.RemoveMember(ctx, conv.ID, e, now()); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, conv.ID, e, now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("removing a former member: %v; want ErrNotFound", err)
	}
	wantMemberCount(t, s, conv.ID, 4)
	if _, err := s.AddMembers(ctx, conv.ID, []storage.Member{{UserID: e}}, now()); err != nil {
		t.Fatal(err)
	}
	wantMemberCount(t, s, conv.ID, 5)
	for _, u := range []string{owner, b, c, d, e} {
		if err := s.RemoveMember(ctx, conv.ID, u, now()); err != nil {
			t.Fatal(err)
		}
	}
	wantMemberCount(t, s, conv.ID, 0)
}

func testMemberCountOfALargeCreation(t *testing.T, s storage.Store) {
	others := make([]string, 249)
	for i := range others {
		others[i] = id()
	}
	conv := mustGroup(t, s, id(), others...)
	wantMemberCount(t, s, conv.ID, 250)
}

// Joins and removals racing on one conversation, as from several
// instances: the count ends where the member list does.
func testMemberCountIsExactUnderConcurrentChanges(t *testing.T, s storage.Store) {
	ctx := context.Background()
	initial := make([]string, 6)
	for i := range initial {
		initial[i] = id()
	}
	conv := mustGroup(t, s, id(), initial...)
	pool := make([]string, 10)
	for i := range pool {
		pool[i] = id()
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(2)
		go func() { // overlapping joins: pool[w .. w+4]
			defer wg.Done()
			var ms []storage.Member
			for _, u := range pool[w : w+5] {
				ms = append(ms, storage.Member{UserID: u, Role: storage.RoleMember})
			}
			if _, err := s.AddMembers(ctx, conv.ID, ms, now()); err != nil {
				t.Error(fmt.Errorf("join %d: %w", w, err))
			}
		}()
		go func() { // removals of the initial members, each one twice
			defer wg.Done()
			err := s.RemoveMember(ctx, conv.ID, initial[w/2*2], now())
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				t.Error(fmt.Errorf("removal %d: %w", w, err))
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// 1 owner + 6 initial - 3 removed + 10 joined.
	wantMemberCount(t, s, conv.ID, 14)
}
