package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken: the token is malformed, forged, uses another algorithm,
// or has expired.
var ErrInvalidToken = errors.New("auth: invalid or expired token")

// Tokens issues and verifies session tokens: JWTs signed with HMAC-SHA256.
// The algorithm is pinned: tokens with any other "alg", including "none",
// are refused.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
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
	return &Tokens{key: cfg.Key, ttl: cfg.TTL, now: cfg.Now}, nil
}

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
// user id and expiry.
func (t *Tokens) Verify(token string) (userID string, expires time.Time, err error) {
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
	return claims.Subject, claims.ExpiresAt.Time, nil
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
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	return key, nil
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
