// Package auth hashes passwords, issues and checks session tokens, and
// carries the authenticated user through a request's context.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Argon2Params are argon2id's cost parameters. A hash records the
// parameters it was made with, so CheckPassword verifies hashes of any cost.
type Argon2Params struct {
	// Time is the number of passes over the memory.
	Time uint32
	// MemoryKiB is the memory used, in KiB.
	MemoryKiB uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultArgon2 is RFC 9106's second recommended option, with 64 MiB. Lower
// costs exist for tests that create thousands of accounts; production keeps
// this one.
var DefaultArgon2 = Argon2Params{Time: 1, MemoryKiB: 64 * 1024, Threads: 2}

const argonKeyLen = 32

// HashPassword returns an encoded argon2id hash with a random salt, in the
// PHC string format, at the default cost. The password is hashed in Unicode
// normal form C, so "é" typed as one code point on one keyboard and as "e"
// plus a combining accent on another is the same password.
func HashPassword(password string) (string, error) {
	return HashPasswordWith(password, DefaultArgon2)
}

// HashPasswordWith is HashPassword at the given cost; a zero p means
// DefaultArgon2.
func HashPasswordWith(password string, p Argon2Params) (string, error) {
	if p == (Argon2Params{}) {
		p = DefaultArgon2
	}
	p.Time, p.Threads = max(p.Time, 1), max(p.Threads, 1)
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(norm.NFC.String(password)), salt, p.Time, p.MemoryKiB, p.Threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches an encoded hash made by
// HashPassword, in constant time. The password's normal form C is tried
// first; if it differs from the password as given, the password as given is
// tried too, so hashes made before passwords were normalised keep working
// (a second hash, for the few passwords whose forms differ).
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	matches := func(pw string) bool {
		got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
		return subtle.ConstantTimeCompare(got, want) == 1
	}
	nfc := norm.NFC.String(password)
	return matches(nfc) || (nfc != password && matches(password))
}

// dummyHash is checked against when a username does not exist, so a wrong
// username takes as long as a wrong password. It is made on first use, not
// when the package loads: every program importing auth would otherwise
// spend 64 MiB at start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not-a-real-password")
	return h
})

// CheckNoUser spends the time of one password check and returns false.
func CheckNoUser(password string) bool {
	CheckPassword(dummyHash(), password)
	return false
}

var errNoKey = errors.New("auth: signing key must be at least 32 bytes")
