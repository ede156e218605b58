package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrAccountsUnavailable: a token's signature was good but whether its user
// has an account could not be looked up (the store failed or timed out).
// The token is refused, as it must be when no one can vouch for it; a
// server may answer UNAVAILABLE rather than UNAUTHENTICATED for it, so
// clients retry instead of dropping their token.
var ErrAccountsUnavailable = errors.New("auth: cannot look up the token's account")

// Accounts tells Tokens whether a token's user has an account. A token is
// only as good as its signature: one signed with a leaked or shared key (a
// key shared between environments, or restored from a backup) may name a
// user who never existed here, or whose account is gone.
type Accounts interface {
	// AccountExists reports whether userID names an account. An error
	// means it could not tell, and the token is refused.
	AccountExists(ctx context.Context, userID string) (bool, error)
}

// knownAccounts remembers user ids Accounts confirmed, so a request costs
// no lookup: at most max ids, each for ttl. Only existence is cached, never
// absence, so an account created on another instance works at once.
//
// Staleness: an account deleted elsewhere stays known here for up to ttl
// (Forget drops it at once on the instance that deletes it).
type knownAccounts struct {
	mu        sync.RWMutex
	cur, prev map[string]time.Time // id -> expiry; prev is the older half
	max       int
	ttl       time.Duration
}

// knownAccountsMax bounds the cache: 2 × 32,768 ids of about 100 bytes
// each (the id, its expiry, the map's share) is under 7 MB.
const knownAccountsMax = 32768

// knownAccountsTTL is how long a confirmed account stays known.
const knownAccountsTTL = time.Minute

func newKnownAccounts() *knownAccounts {
	return &knownAccounts{cur: map[string]time.Time{}, prev: map[string]time.Time{}, max: knownAccountsMax, ttl: knownAccountsTTL}
}

// has reports whether id was confirmed less than ttl ago.
func (k *knownAccounts) has(id string, now time.Time) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	exp, ok := k.cur[id]
	if !ok {
		exp, ok = k.prev[id]
	}
	return ok && now.Before(exp)
}

// add remembers id until now+ttl. When the newer half is full it becomes
// the older half and the oldest ids are dropped: a bounded cache without a
// list to keep in order.
func (k *knownAccounts) add(id string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cur) >= k.max {
		k.prev, k.cur = k.cur, make(map[string]time.Time, k.max)
	}
	k.cur[id] = now.Add(k.ttl)
}

// forget drops id.
func (k *knownAccounts) forget(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.cur, id)
	delete(k.prev, id)
}
