package textrules

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

var seeds = []string{
	"", "a", "Alice", "👍", "👍🏽", "❤️", "👩‍💻", "🇬🇧", "#️⃣", "\u202Eevil", "\u200B", "\u3164",
	"\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "😀\u0301", "a\uFE0F",
	"admin", "Adm1n", "r00t", "admın", "\xff\xfe", "line\nbreak",
}

// FuzzEmoji: an accepted reaction is one grapheme of emoji, whatever bytes
// come in, and checking never panics.
func FuzzEmoji(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Emoji(s) != nil {
			return
		}
		if !utf8.ValidString(s) || uniseg.GraphemeClusterCount(s) != 1 {
			t.Fatalf("%+q accepted but is not one grapheme of UTF-8", s)
		}
		flag := strings.HasPrefix(s, "\U0001F3F4")
		for _, r := range s {
			switch {
			case unicode.Is(unicode.Mn, r) && r != vs15 && r != vs16,
				unicode.Is(unicode.Me, r) && r != keycapMark,
				tag(r) && !flag,
				unicode.IsControl(r), Bidi(r), unicode.IsSpace(r),
				r >= 0xE0100 && r <= 0xE01EF:
				t.Fatalf("%+q accepted with %U", s, r)
			}
		}
	})
}

// FuzzNamesAndBodies: an accepted display name or body shows something, and
// an accepted display name hides no control or bidi character.
func FuzzNamesAndBodies(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Body(s) == nil && (!utf8.ValidString(s) || !HasVisible(s)) {
			t.Fatalf("body %+q accepted", s)
		}
		if DisplayName(s) != nil {
			return
		}
		if !HasVisible(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || Bidi(r) }) {
			t.Fatalf("display name %+q accepted", s)
		}
	})
}

// FuzzUsername: an ASCII name reserved in one case is reserved in every
// case (other scripts change letters when cased: "ı" upper-cases to "I"),
// and an accepted username is in the ASCII alphabet and not reserved.
func FuzzUsername(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ascii := !strings.ContainsFunc(s, func(r rune) bool { return r > unicode.MaxASCII })
		if ascii && (Reserved(s) != Reserved(strings.ToUpper(s)) || Reserved(s) != Reserved(strings.ToLower(s))) {
			t.Fatalf("%+q: reserved depends on case", s)
		}
		if Username(s) == nil && (Reserved(s) || !usernameRE.MatchString(s)) {
			t.Fatalf("%+q accepted", s)
		}
	})
}
