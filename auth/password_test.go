package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

var cheap = Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

// legacyHash is a hash as HashPassword made it before passwords were
// normalised: of the password's bytes as given.
func legacyHash(t *testing.T, password string) string {
	t.Helper()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte(password), salt, cheap.Time, cheap.MemoryKiB, cheap.Threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, cheap.MemoryKiB, cheap.Time, cheap.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestPasswordsMatchWhateverTheUnicodeForm(t *testing.T) {
	const nfc, nfd = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e", "cafe\u0301 cre\u0300me bru\u0302le\u0301e"
	for _, tc := range []struct {
		name, signUp, logIn string
		want                bool
	}{
		{"NFC then NFD", nfc, nfd, true},
		{"NFD then NFC", nfd, nfc, true},
		{"NFD then NFD", nfd, nfd, true},
		{"ASCII", "correct horse", "correct horse", true},
		{"another accent", nfc, "cafe\u0300 cre\u0300me bru\u0302le\u0301e", false},
		{"no accent", nfc, "cafe creme brulee", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := HashPasswordWith(tc.signUp, cheap)
			if err != nil {
				t.Fatal(err)
			}
			if got := CheckPassword(h, tc.logIn); got != tc.want {
				t.Fatalf("signed up with %+q, logged in with %+q: match %v, want %v", tc.signUp, tc.logIn, got, tc.want)
			}
		})
	}
}

func TestHashesOfUnnormalisedPasswordsKeepWorking(t *testing.T) {
	const nfd = "cafe\u0301 au lait"
	h := legacyHash(t, nfd)
	if !CheckPassword(h, nfd) {
		t.Fatal("a password hashed as given before normalisation no longer matches")
	}
	if CheckPassword(h, "cafe au lait") {
		t.Fatal("a wrong password matches a legacy hash")
	}
}
