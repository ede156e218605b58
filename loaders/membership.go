package loaders

import (
	"context"
	"sync"

	"messenger/storage"
)

// MembershipSource reads one user's per-member states and drafts, each in
// one read whatever the number of conversations (storage.MemberStates).
type MembershipSource interface {
	MemberStates(ctx context.Context, userID string) (map[string]storage.MemberState, error)
	Drafts(ctx context.Context, userID string) (map[string]storage.Draft, error)
}

// membershipLoads are a request's reads of per-member state: the first
// field that needs a user's states (or drafts) reads them all, and every
// other conversation of the page takes its own from that one read.
type membershipLoads struct {
	mu     sync.Mutex
	states map[string]*once[map[string]storage.MemberState]
	drafts map[string]*once[map[string]storage.Draft]
}

type once[V any] struct {
	once sync.Once
	v    V
	err  error
}

func memo[V any](mu *sync.Mutex, m *map[string]*once[V], key string, load func() (V, error)) (V, error) {
	mu.Lock()
	if *m == nil {
		*m = map[string]*once[V]{}
	}
	o, ok := (*m)[key]
	if !ok {
		o = &once[V]{}
		(*m)[key] = o
	}
	mu.Unlock()
	o.once.Do(func() { o.v, o.err = load() })
	return o.v, o.err
}

// MemberStates returns userID's per-member states, read once per request
// (not at all with NoCache: then every call reads).
func (l *Loaders) MemberStates(ctx context.Context, src MembershipSource, userID string) (map[string]storage.MemberState, error) {
	if l.opts.NoCache {
		return src.MemberStates(ctx, userID)
	}
	return memo(&l.membershipLoads.mu, &l.membershipLoads.states, userID, func() (map[string]storage.MemberState, error) {
		return src.MemberStates(ctx, userID)
	})
}

// Drafts returns userID's drafts, read once per request like MemberStates.
func (l *Loaders) Drafts(ctx context.Context, src MembershipSource, userID string) (map[string]storage.Draft, error) {
	if l.opts.NoCache {
		return src.Drafts(ctx, userID)
	}
	return memo(&l.membershipLoads.mu, &l.membershipLoads.drafts, userID, func() (map[string]storage.Draft, error) {
		return src.Drafts(ctx, userID)
	})
}
