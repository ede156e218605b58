package auth

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Sessions tells Tokens whether a token's session is still open. A session
// ends by log-out, revocation, a password change or a refresh token's
// reuse; its access tokens must stop working although their signatures
// stay good until they expire.
type Sessions interface {
	// SessionOpen reports whether sessionID is an open session of userID.
	// An error means it could not tell, and the token is refused.
	SessionOpen(ctx context.Context, userID, sessionID string) (bool, error)
}

// How revocation is checked on the hot path, without a store read per
// request:
//
//   - revoked: the sessions this instance heard had ended (Revoke, called
//     by the domain for its own revocations and for those every other
//     instance broadcasts), each kept for one access-token lifetime, after
//     which any token of it has expired anyway. A map lookup.
//   - open: the sessions Sessions confirmed open in the last minute. A
//     map lookup; a miss costs one store read, so each session is read at
//     most once a minute per instance.
//
// Both are bounded. An instance that missed a broadcast (it was
// disconnected from Redis) still refuses a revoked session's tokens within
// a minute, when its confirmation expires and the store says no.

// RequireSessions makes Verify refuse a token whose session s says is not
// open. The domain calls it when it starts (chat.New).
func (t *Tokens) RequireSessions(s Sessions) { t.sessions.Store(&s) }

// Revoke makes this instance refuse sessionID's access tokens at once,
// for as long as any of them could still be unexpired.
func (t *Tokens) Revoke(sessionID string) {
	t.open.forget(sessionID)
	t.revoked.add(sessionID, t.now())
}

// checkSession refuses a session that is not open (or cannot be looked up
// now) once RequireSessions was called.
func (t *Tokens) checkSession(ctx context.Context, userID, sessionID string) error {
	s := t.sessions.Load()
	if s == nil || t.open.has(sessionID, t.now()) {
		return nil
	}
	ok, err := (*s).SessionOpen(ctx, userID, sessionID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAccountsUnavailable, err)
	}
	if !ok {
		return ErrInvalidToken
	}
	// A revocation heard while the store was read wins over its answer.
	if t.revoked.has(sessionID, t.now()) {
		return ErrInvalidToken
	}
	t.open.add(sessionID, t.now())
	return nil
}

// Refresh is what a valid refresh token says: whose session, and which
// generation of its refresh token it is.
type Refresh struct {
	UserID    string
	SessionID string
	Gen       int64
	Expires   time.Time
}

// IssueRefresh returns the refresh token of generation gen of a session,
// and its expiry (RefreshTTL from now).
func (t *Tokens) IssueRefresh(userID, sessionID string, gen int64) (string, time.Time, error) {
	return t.sign(claims{SessionID: sessionID, Type: refreshType, Gen: gen}, userID, t.refreshTTL)
}

// VerifyRefresh checks a refresh token's signature, algorithm, type and
// expiry; whether its session is open and its generation current is the
// domain's to check. It returns ErrInvalidToken for anything else,
// including an access token.
func (t *Tokens) VerifyRefresh(token string) (Refresh, error) {
	c, err := t.parse(token)
	if err != nil || c.Type != refreshType {
		return Refresh{}, ErrInvalidToken
	}
	return Refresh{UserID: c.Subject, SessionID: c.SessionID, Gen: c.Gen, Expires: c.ExpiresAt.Time}, nil
}

// SessionID returns the session of the caller's access token, or "" for an
// anonymous request.
func SessionID(ctx context.Context) string {
	id, _ := FromContext(ctx)
	return id.SessionID
}

type clientIPKey struct{}

// WithClientIP returns ctx carrying the client's address, which a new
// session records.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the client's address put by WithClientIP, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// revokedSessions remembers ended sessions for ttl (the access-token
// lifetime), at most max of them in each of two halves, as knownAccounts
// does. Forgetting one early (more than 2 × max revocations within ttl)
// only means a store read decides, as it would on a fresh instance.
type revokedSessions struct {
	mu        sync.RWMutex
	cur, prev map[string]time.Time
	max       int
	ttl       time.Duration
}

// revokedSessionsMax bounds the set: 2 × 65,536 ids is under 15 MB.
const revokedSessionsMax = 65536

func newRevokedSessions(ttl time.Duration) *revokedSessions {
	return &revokedSessions{cur: map[string]time.Time{}, prev: map[string]time.Time{}, max: revokedSessionsMax, ttl: ttl}
}

func (r *revokedSessions) has(id string, now time.Time) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	exp, ok := r.cur[id]
	if !ok {
		exp, ok = r.prev[id]
	}
	return ok && now.Before(exp)
}

func (r *revokedSessions) add(id string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cur) >= r.max {
		r.prev, r.cur = r.cur, make(map[string]time.Time, r.max)
	}
	r.cur[id] = now.Add(r.ttl)
}
