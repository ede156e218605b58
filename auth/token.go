package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken: the token is malformed, forged, uses another algorithm,
// has expired, has no session, names a session that ended, or names a user
// without an account (or a banned or deleted one).
var ErrInvalidToken = errors.New("auth: invalid or expired token")

// Tokens issues and verifies access tokens and refresh tokens: JWTs signed
// with HMAC-SHA256. The algorithm is pinned: tokens with any other "alg",
// including "none", are refused. An access token carries its user ("sub")
// and session ("sid"); a refresh token ("typ": "refresh") also carries
// its generation ("gen"), and is never accepted as an access token.
type Tokens struct {
	key        []byte
	ttl        time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	// accounts, once set, is asked whether a token's user exists; known
	// remembers the answers that said yes.
	accounts atomic.Pointer[Accounts]
	known    *knownAccounts
	// sessions, once set, is asked whether a token's session is open;
	// open remembers the answers that said yes, and revoked the sessions
	// this instance heard had ended (see sessions.go).
	sessions atomic.Pointer[Sessions]
	open     *knownAccounts
	revoked  *revokedSessions
	// verified caches parsed access tokens (see verifiedTokens).
	verified *verifiedTokens
}

// TokensConfig configures Tokens.
type TokensConfig struct {
	// Key is the HMAC key (at least 32 bytes). Required.
	Key []byte
	// TTL is how long an access token is valid (default 15 minutes): also
	// the longest a revoked session's token could be presented, so how
	// long this instance remembers a revocation.
	TTL time.Duration
	// RefreshTTL is how long a refresh token is valid (default 720 h);
	// each refresh issues a new one, so a session used at least this often
	// never expires.
	RefreshTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultTTL and DefaultRefreshTTL are the token lifetimes when none is
// configured.
const (
	DefaultTTL        = 15 * time.Minute
	DefaultRefreshTTL = 720 * time.Hour
)

// NewTokens returns a token issuer and verifier.
func NewTokens(cfg TokensConfig) (*Tokens, error) {
	if len(cfg.Key) < 32 {
		return nil, errNoKey
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Tokens{key: cfg.Key, ttl: cfg.TTL, refreshTTL: cfg.RefreshTTL, now: cfg.Now,
		known: newKnownAccounts(), open: newKnownAccounts(), revoked: newRevokedSessions(cfg.TTL), verified: newVerifiedTokens()}, nil
}

// TTL is how long an access token is valid.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// RefreshTTL is how long a refresh token is valid.
func (t *Tokens) RefreshTTL() time.Duration { return t.refreshTTL }

// RequireAccounts makes Verify refuse a validly signed token whose user a
// says has no account. The domain calls it when it starts (chat.New), so
// every server built on it checks; until then Verify checks signatures only.
func (t *Tokens) RequireAccounts(a Accounts) { t.accounts.Store(&a) }

// Forget makes the next Verify of userID's tokens ask Accounts again: call
// it when an account is deleted. Other instances notice within a minute.
func (t *Tokens) Forget(userID string) { t.known.forget(userID) }

// accountCheckTimeout bounds the account lookup of a Verify called without
// a context.
const accountCheckTimeout = 5 * time.Second

// claims are a token's JWT claims: the registered ones, the session, and
// for refresh tokens their type and generation.
type claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid,omitempty"`
	Type      string `json:"typ,omitempty"`
	Gen       int64  `json:"gen,omitempty"`
}

const refreshType = "refresh"

// Issue returns an access token for userID's session sessionID, and its
// expiry.
func (t *Tokens) Issue(userID, sessionID string) (string, time.Time, error) {
	return t.sign(claims{SessionID: sessionID}, userID, t.ttl)
}

func (t *Tokens) sign(c claims, userID string, ttl time.Duration) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(ttl)
	c.RegisteredClaims = jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	return s, exp, err
}

// parse checks a token's signature, algorithm and expiry.
func (t *Tokens) parse(token string) (claims, error) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || c.Subject == "" || c.SessionID == "" {
		return claims{}, ErrInvalidToken
	}
	return c, nil
}

// Verify checks an access token (with or without a "Bearer " prefix) and
// returns its user id and expiry; see VerifyIdentity. The lookups, when
// needed, are bounded by a timeout of their own: prefer VerifyIdentity
// where a request's context is at hand.
func (t *Tokens) Verify(token string) (userID string, expires time.Time, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), accountCheckTimeout)
	defer cancel()
	id, err := t.VerifyIdentity(ctx, token)
	return id.UserID, id.Expires, err
}

// VerifyContext is VerifyIdentity returning the user id and expiry only.
func (t *Tokens) VerifyContext(ctx context.Context, token string) (userID string, expires time.Time, err error) {
	id, err := t.VerifyIdentity(ctx, token)
	return id.UserID, id.Expires, err
}

// VerifyIdentity checks an access token (with or without a "Bearer "
// prefix): its signature, algorithm and expiry; that it names a session
// (tokens issued before sessions existed have none, and are refused); that
// this instance has not heard the session end; and (after RequireAccounts
// and RequireSessions) that its user has a usable account and its session
// is open, which costs one lookup of each per minute. It returns the
// caller's identity, or ErrInvalidToken, or ErrAccountsUnavailable when a
// lookup failed.
func (t *Tokens) VerifyIdentity(ctx context.Context, token string) (Identity, error) {
	c, err := t.parseAccess(token)
	if err != nil || c.Type == refreshType {
		return Identity{}, ErrInvalidToken
	}
	if t.revoked.has(c.SessionID, t.now()) {
		return Identity{}, ErrInvalidToken
	}
	if err := t.checkAccount(ctx, c.Subject); err != nil {
		return Identity{}, err
	}
	if err := t.checkSession(ctx, c.Subject, c.SessionID); err != nil {
		return Identity{}, err
	}
	return Identity{UserID: c.Subject, SessionID: c.SessionID, Expires: c.ExpiresAt.Time}, nil
}

// checkAccount refuses a user without an account (or whose account cannot
// be looked up now) once RequireAccounts was called.
func (t *Tokens) checkAccount(ctx context.Context, userID string) error {
	a := t.accounts.Load()
	if a == nil || t.known.has(userID, t.now()) {
		return nil
	}
	ok, err := (*a).AccountExists(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAccountsUnavailable, err)
	}
	if !ok {
		return ErrInvalidToken
	}
	t.known.add(userID, t.now())
	return nil
}

// LoadOrCreateKey reads the signing key from path, creating a random one
// (mode 0600) on first use: the embedded default keeps tokens valid across
// restarts without any configuration.
func LoadOrCreateKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auth: create key dir: %w", err)
	}
	if err := writeDurably(path, key); err != nil {
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	return key, nil
}

// writeDurably writes data to path so that a crash at any moment leaves
// either no file or the whole file: a temp file is written and synced,
// renamed over path, and the directory synced. A key file cut short by a
// crash would otherwise be replaced at the next start, signing everyone out.
func writeDurably(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // a no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer func() { _ = dir.Close() }()
	return dir.Sync()
}

type ctxKey struct{}

// Identity is the authenticated caller: the user, the session their
// token belongs to, and when the token expires.
type Identity struct {
	UserID    string
	SessionID string
	Expires   time.Time
}

// WithIdentity returns ctx carrying the caller's identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the caller's identity, if the request carried a valid token.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok && id.UserID != ""
}
