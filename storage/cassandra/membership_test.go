package cassandra

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// TestOwnershipTransfersRaceFreeAcrossTwoInstances: two stores (two API
// instances) transfer one group's ownership from the same owner to two
// different members at once, round after round: the conditional batch
// lets exactly one win, and the group always has exactly one owner.
func TestOwnershipTransfersRaceFreeAcrossTwoInstances(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	users := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Group, Title: "g", CreatedBy: users[0], CreatedAt: now, LastActivityAt: now}
	members := []storage.Member{{UserID: users[0], Role: storage.RoleOwner, JoinedAt: now}, {UserID: users[1], Role: storage.RoleMember, JoinedAt: now}, {UserID: users[2], Role: storage.RoleMember, JoinedAt: now}}
	if _, _, err := a.CreateConversation(ctx, c, members); err != nil {
		t.Fatal(err)
	}
	owner := users[0]
	for round := 0; round < 5; round++ {
		var others []string
		for _, u := range users {
			if u != owner {
				others = append(others, u)
			}
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, s := range []*Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.TransferOwnership(ctx, c.ID, owner, others[i])
			}()
		}
		wg.Wait()
		winner := ""
		for i, err := range errs {
			switch {
			case err == nil:
				if winner != "" {
					t.Fatalf("round %d: both transfers won", round)
				}
				winner = others[i]
			case !errors.Is(err, storage.ErrConflict):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if winner == "" {
			t.Fatalf("round %d: no transfer won: %v", round, errs)
		}
		ms, err := b.Members(ctx, c.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		owners := 0
		for _, m := range ms {
			if m.Role == storage.RoleOwner {
				owners++
				if m.UserID != winner {
					t.Fatalf("round %d: owner %s, winner %s", round, m.UserID, winner)
				}
			}
		}
		if owners != 1 {
			t.Fatalf("round %d: %d owners", round, owners)
		}
		owner = winner
	}
}
