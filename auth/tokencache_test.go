package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestACachedTokenStillExpiresAndEndsWithItsSession(t *testing.T) {
	clock := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	tk, err := NewTokens(TokensConfig{Key: []byte(strings.Repeat("k", 32)), TTL: time.Minute,
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := tk.Issue("u1", "s1")
	for range 3 { // the second and third are cache hits
		if _, err := tk.VerifyIdentity(context.Background(), "Bearer "+tok); err != nil {
			t.Fatal(err)
		}
	}
	// The same bytes with one signature character changed are parsed, and refused.
	swap := byte('A')
	if tok[len(tok)-2] == 'A' {
		swap = 'B'
	}
	forged := tok[:len(tok)-2] + string(swap) + tok[len(tok)-1:]
	if _, err := tk.VerifyIdentity(context.Background(), forged); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("altered token: %v, want ErrInvalidToken", err)
	}
	tk.Revoke("s1")
	if _, err := tk.VerifyIdentity(context.Background(), "Bearer "+tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("cached token of an ended session: %v, want ErrInvalidToken", err)
	}
	tok2, _, _ := tk.Issue("u1", "s2")
	if _, err := tk.VerifyIdentity(context.Background(), tok2); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	if _, err := tk.VerifyIdentity(context.Background(), tok2); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("cached token past its expiry: %v, want ErrInvalidToken", err)
	}
}

func TestTheVerifiedTokenCacheIsBounded(t *testing.T) {
	v := newVerifiedTokens()
	for i := range 3 * verifiedCap {
		v.put(fmt.Sprint("token-", i), claims{})
	}
	if n := len(v.cur) + len(v.prev); n > verifiedCap {
		t.Fatalf("%d tokens cached; the bound is %d", n, verifiedCap)
	}
}
