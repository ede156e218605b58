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
// has expired, or names a user without an account.
var ErrInvalidToken = errors.New("auth: invalid or expired token")

// Tokens issues and verifies session tokens: JWTs signed with HMAC-SHA256.
// The algorithm is pinned: tokens with any other "alg", including "none",
// are refused.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
	// accounts, once set, is asked whether a token's user exists; known
	// remembers the answers that said yes.
	accounts atomic.Pointer[Accounts]
	known    *knownAccounts
}

// TokensConfig configures Tokens.
type TokensConfig struct {
	// Key is the HMAC key (at least 32 bytes). Required.
	Key []byte
	// TTL is how long a token is valid (default 7 days).
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewTokens returns a token issuer and verifier.
func NewTokens(cfg TokensConfig) (*Tokens, error) {
	if len(cfg.Key) < 32 {
		return nil, errNoKey
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Tokens{key: cfg.Key, ttl: cfg.TTL, now: cfg.Now, known: newKnownAccounts()}, nil
}

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

// Issue returns a token for userID and its expiry.
func (t *Tokens) Issue(userID string) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	})
	s, err := tok.SignedString(t.key)
	return s, exp, err
}

// Verify checks a token (with or without a "Bearer " prefix) and returns its
// user id and expiry; see VerifyContext. The account lookup, when one is
// needed, is bounded by a timeout of its own: prefer VerifyContext where a
// request's context is at hand.
func (t *Tokens) Verify(token string) (userID string, expires time.Time, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), accountCheckTimeout)
	defer cancel()
	return t.VerifyContext(ctx, token)
}

// VerifyContext checks a token (with or without a "Bearer " prefix): its
// signature, algorithm and expiry, and (after RequireAccounts) that its
// user has an account, which costs one lookup per user per minute. It
// returns the user id and expiry, or ErrInvalidToken, or
// ErrAccountsUnavailable when the account could not be looked up.
func (t *Tokens) VerifyContext(ctx context.Context, token string) (userID string, expires time.Time, err error) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	var claims jwt.RegisteredClaims
	_, err = jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || claims.Subject == "" {
		return "", time.Time{}, ErrInvalidToken
	}
	if err := t.checkAccount(ctx, claims.Subject); err != nil {
		return "", time.Time{}, err
	}
	return claims.Subject, claims.ExpiresAt.Time, nil
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

// Identity is the authenticated caller.
type Identity struct {
	UserID  string
	Expires time.Time
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
