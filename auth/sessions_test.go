package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// openSessions is Sessions over a set of session ids, counting lookups.
type openSessions struct {
	mu      sync.Mutex
	ids     map[string]bool
	lookups int
}

func (o *openSessions) SessionOpen(_ context.Context, _, id string) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lookups++
	return o.ids[id], nil
}

func TestTokensWithoutASessionAreRefused(t *testing.T) {
	clock := time.Now()
	tk := newTokens(t, func() time.Time { return clock })
	old, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(clock.Add(time.Hour))}).
		SignedString([]byte(strings.Repeat("k", 32)))
	if _, _, err := tk.Verify(old); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a token from before sessions: %v, want ErrInvalidToken", err)
	}
}

func TestRefreshAndAccessTokensAreNotInterchangeable(t *testing.T) {
	tk := newTokens(t, time.Now)
	access, _, _ := tk.Issue("u1", "s1")
	refresh, exp, _ := tk.IssueRefresh("u1", "s1", 3)
	if _, _, err := tk.Verify(refresh); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a refresh token used as an access token: %v", err)
	}
	if _, err := tk.VerifyRefresh(access); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("an access token used as a refresh token: %v", err)
	}
	r, err := tk.VerifyRefresh(refresh)
	if err != nil || r.UserID != "u1" || r.SessionID != "s1" || r.Gen != 3 || !r.Expires.Equal(exp.Truncate(time.Second)) {
		t.Fatalf("VerifyRefresh = %+v, %v", r, err)
	}
}

func TestRefreshTokensExpireAfterRefreshTTL(t *testing.T) {
	clock := time.Now()
	tk, err := NewTokens(TokensConfig{Key: []byte(strings.Repeat("k", 32)), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	access, aexp, _ := tk.Issue("u1", "s1")
	refresh, rexp, _ := tk.IssueRefresh("u1", "s1", 0)
	if aexp.Sub(clock) != DefaultTTL || rexp.Sub(clock) != DefaultRefreshTTL {
		t.Fatalf("default lifetimes: access %v, refresh %v", aexp.Sub(clock), rexp.Sub(clock))
	}
	clock = clock.Add(DefaultTTL + time.Second)
	if _, _, err := tk.Verify(access); err == nil {
		t.Fatal("an access token outlived its TTL")
	}
	if _, err := tk.VerifyRefresh(refresh); err != nil {
		t.Fatalf("the refresh token should still work: %v", err)
	}
	clock = clock.Add(DefaultRefreshTTL)
	if _, err := tk.VerifyRefresh(refresh); err == nil {
		t.Fatal("a refresh token outlived its TTL")
	}
}

func TestARevokedSessionIsRefusedWithoutAStoreRead(t *testing.T) {
	tk := newTokens(t, time.Now)
	sessions := &openSessions{ids: map[string]bool{"s1": true, "s2": true}}
	tk.RequireSessions(sessions)
	s1, _, _ := tk.Issue("u1", "s1")
	s2, _, _ := tk.Issue("u1", "s2")
	for range 3 {
		id, err := tk.VerifyIdentity(context.Background(), s1)
		if err != nil || id.SessionID != "s1" || id.UserID != "u1" {
			t.Fatalf("open session: %+v %v", id, err)
		}
	}
	if sessions.lookups != 1 {
		t.Fatalf("%d lookups for three checks; an open session is read once a minute", sessions.lookups)
	}
	tk.Revoke("s1") // the store still says open: the broadcast alone decides
	if _, _, err := tk.Verify(s1); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("revoked session: %v, want ErrInvalidToken", err)
	}
	if _, _, err := tk.Verify(s2); err != nil {
		t.Fatalf("another session of the same user: %v", err)
	}
	delete(sessions.ids, "s3")
	s3, _, _ := tk.Issue("u1", "s3") // never opened, or ended before this instance looked
	if _, _, err := tk.Verify(s3); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a session the store does not have: %v", err)
	}
}

func TestSessionIDComesFromTheIdentity(t *testing.T) {
	ctx := WithIdentity(context.Background(), Identity{UserID: "u1", SessionID: "s1"})
	if SessionID(ctx) != "s1" || SessionID(context.Background()) != "" {
		t.Fatal("SessionID does not read the identity")
	}
}
