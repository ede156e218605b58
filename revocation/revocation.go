// Package revocation carries the news that sessions ended to every API
// instance, so each refuses their tokens and closes their websockets
// within seconds. Embedded: revocation/memrevocation (one process); a
// fleet: revocation/redisrevocation (Redis pub/sub). The contract suite is
// revocation/revocationtest.
package revocation

import "context"

// Ended says that sessions of one user ended (logged out, revoked, ended
// by a password change, by a refresh token's reuse, or all at once on a
// ban or a deletion).
type Ended struct {
	UserID     string   `json:"u"`
	SessionIDs []string `json:"s"`
}

// Bus delivers Ended notices to every subscriber of every instance sharing
// it, the publishing instance included.
//
// Delivery is at most once and not durable: an instance that is not
// connected when a notice is published never sees it. That is why it is
// only the fast path: a revoked session is deleted from the store first,
// and an instance that missed the notice refuses the session at its next
// store read (within a minute, see auth.Sessions).
type Bus interface {
	// Publish sends e. It returns once e is handed to the bus (the local
	// subscribers of an in-process bus have been called); an error means
	// other instances may not hear of it.
	Publish(ctx context.Context, e Ended) error
	// Subscribe calls fn for each notice published after it returns, one
	// at a time, in publishing order per publisher. fn must not block for
	// long: it holds up the notices after it. stop ends the subscription.
	Subscribe(fn func(Ended)) (stop func())
	// Close releases the bus; subscribers hear nothing more.
	Close() error
}
