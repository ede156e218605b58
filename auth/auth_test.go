package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "wrong horse") {
		t.Fatal("password check gives the wrong answer")
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
}

func newTokens(t *testing.T, now func() time.Time) *Tokens {
	tk, err := NewTokens(TokensConfig{Key: []byte(strings.Repeat("k", 32)), TTL: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokensRefuseExpiredForgedAndAlgNone(t *testing.T) {
	clock := time.Now()
	tk := newTokens(t, func() time.Time { return clock })
	tok, _, err := tk.Issue("u1", "s-u1")
	if err != nil {
		t.Fatal(err)
	}
	if id, _, err := tk.Verify("Bearer " + tok); err != nil || id != "u1" {
		t.Fatalf("valid token refused: %v", err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(clock.Add(time.Hour))})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(clock.Add(time.Hour))}).SignedString([]byte(strings.Repeat("k", 32)))
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(clock.Add(time.Hour))}).SignedString([]byte(strings.Repeat("x", 32)))
	for name, bad := range map[string]string{"alg none": noneTok, "HS512": other, "forged": forged, "garbage": "abc.def.ghi", "empty": ""} {
		if _, _, err := tk.Verify(bad); err == nil {
			t.Errorf("%s token accepted", name)
		}
	}
	clock = clock.Add(2 * time.Hour)
	if _, _, err := tk.Verify(tok); err == nil {
		t.Error("expired token accepted")
	}
}
