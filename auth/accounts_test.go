package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// accountList is Accounts over a set of ids, counting lookups.
type accountList struct {
	mu      sync.Mutex
	ids     map[string]bool
	down    bool
	lookups int
}

func (a *accountList) AccountExists(_ context.Context, id string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lookups++
	if a.down {
		return false, errors.New("store unavailable")
	}
	return a.ids[id], nil
}

func TestTokensOfUsersWithoutAnAccountAreRefused(t *testing.T) {
	tk := newTokens(t, time.Now)
	ghost, _, _ := tk.Issue("ghost", "s-ghost")
	alice, _, _ := tk.Issue("alice", "s-alice")
	if _, _, err := tk.Verify(ghost); err != nil {
		t.Fatalf("before RequireAccounts, signatures alone decide: %v", err)
	}
	accounts := &accountList{ids: map[string]bool{"alice": true}}
	tk.RequireAccounts(accounts)
	if _, _, err := tk.Verify(ghost); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of a user who never existed: %v, want ErrInvalidToken", err)
	}
	if _, _, err := tk.Verify(ghost); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("absence is not cached: second try %v", err)
	}
	for range 3 {
		if id, _, err := tk.Verify(alice); err != nil || id != "alice" {
			t.Fatalf("alice's token: %q %v", id, err)
		}
	}
	if accounts.lookups != 3 {
		t.Fatalf("%d lookups for two ghost checks and three of alice; want alice looked up once", accounts.lookups)
	}

	delete(accounts.ids, "alice") // the account is deleted
	tk.Forget("alice")
	if _, _, err := tk.Verify(alice); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of a deleted account: %v, want ErrInvalidToken", err)
	}
}

func TestTokensAreRefusedWhenAccountsCannotBeChecked(t *testing.T) {
	tk := newTokens(t, time.Now)
	tk.RequireAccounts(&accountList{ids: map[string]bool{"bob": true}, down: true})
	bob, _, _ := tk.Issue("bob", "s-bob")
	if _, _, err := tk.VerifyContext(context.Background(), bob); !errors.Is(err, ErrAccountsUnavailable) {
		t.Fatalf("lookup failed: %v, want ErrAccountsUnavailable", err)
	}
}

func TestKnownAccountsAreBoundedAndExpire(t *testing.T) {
	k := newKnownAccounts()
	k.max = 4
	now := time.Now()
	for i := range 100 {
		k.add(string(rune('a'+i%26))+string(rune('0'+i/26)), now)
	}
	if n := len(k.cur) + len(k.prev); n > 2*k.max {
		t.Fatalf("%d ids kept; the bound is %d", n, 2*k.max)
	}
	k.add("x", now)
	if !k.has("x", now) || k.has("x", now.Add(k.ttl)) {
		t.Fatal("a known id must be known until its ttl and not after")
	}
}
