package auth

import (
	"strings"
	"sync"
	"time"
)

// verifiedCap bounds the access tokens whose checked claims are kept: two
// generations of at most verifiedCap/2 each (≈ 0.5 KiB a token).
const verifiedCap = 8192

// verifiedTokens remembers the claims of access tokens whose signature,
// algorithm and claims were checked, keyed by the token's exact bytes, so
// a client's next request with the same token skips the HMAC and the JSON
// decoding. Only the parse is cached: expiry is re-checked on every hit
// against the claims, and the session's revocation, the account and the
// session lookups (VerifyIdentity) run on every request as before. A
// forged or altered token has other bytes, so it misses and is parsed.
// Bounded: when the current generation is full the older one is dropped.
type verifiedTokens struct {
	mu        sync.Mutex
	cur, prev map[string]claims
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{cur: make(map[string]claims)}
}

// get returns the claims of token if it was verified and has not expired
// at now.
func (v *verifiedTokens) get(token string, now time.Time) (claims, bool) {
	v.mu.Lock()
	c, ok := v.cur[token]
	if !ok {
		if c, ok = v.prev[token]; ok {
			v.putLocked(token, c) // still in use: keep it in the newer generation
		}
	}
	v.mu.Unlock()
	if !ok || c.ExpiresAt == nil || !now.Before(c.ExpiresAt.Time) {
		return claims{}, false
	}
	return c, true
}

// put remembers the verified claims of token.
func (v *verifiedTokens) put(token string, c claims) {
	v.mu.Lock()
	v.putLocked(token, c)
	v.mu.Unlock()
}

func (v *verifiedTokens) putLocked(token string, c claims) {
	if len(v.cur) >= verifiedCap/2 {
		v.prev, v.cur = v.cur, make(map[string]claims, verifiedCap/2)
	}
	v.cur[strings.Clone(token)] = c
}

// parseAccess is parse for access tokens, through the cache of verified
// tokens.
func (t *Tokens) parseAccess(token string) (claims, error) {
	now := t.now()
	if c, ok := t.verified.get(token, now); ok {
		return c, nil
	}
	c, err := t.parse(token)
	if err != nil {
		return claims{}, err
	}
	t.verified.put(token, c)
	return c, nil
}
