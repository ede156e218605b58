package textrules

import (
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

const (
	zwj        = 0x200D  // zero-width joiner: glues emoji into one (👩‍💻)
	vs15       = 0xFE0E  // variation selector 15: text presentation
	vs16       = 0xFE0F  // variation selector 16: emoji presentation
	keycapMark = 0x20E3  // combining enclosing keycap (1️⃣)
	blackFlag  = 0x1F3F4 // the base of a subdivision flag's tag sequence
	cancelTag  = 0xE007F // ends a tag sequence
)

// subdivisionFlags are the tag sequences Unicode recommends for general
// interchange (RGI): the flags of England, Scotland and Wales. Other tag
// sequences are well formed but show as a plain black flag on most
// systems while carrying hidden text, so they are refused.
var subdivisionFlags = map[string]bool{"gbeng": true, "gbsct": true, "gbwls": true}

// Emoji checks a reaction: exactly one emoji, as a person would pick it
// from a keyboard. That is one grapheme cluster made of emoji elements
// joined by U+200D, where an element is an emoji code point optionally
// followed by one presentation selector (U+FE0E or U+FE0F) or one skin-tone
// modifier; a keycap (0-9, # or * with an optional U+FE0F and U+20E3); a
// flag (two regional indicators); or the flag of England, Scotland or Wales
// (a black flag and its tag sequence). Combining marks, other variation
// selectors, tag characters anywhere else, a lone regional indicator and
// anything not an emoji are refused.
func Emoji(s string) error {
	const refused = Refusal("must be exactly one emoji")
	if s == "" || len(s) > 64 || !utf8.ValidString(s) || uniseg.GraphemeClusterCount(s) != 1 {
		return refused
	}
	r := []rune(s)
	for i := 0; ; i++ { // i steps over the joiner between elements
		n := emojiElement(r[i:])
		if n == 0 {
			return refused
		}
		if i += n; i == len(r) {
			return nil
		}
		if r[i] != zwj {
			return refused
		}
	}
}

// emojiElement returns the length of the emoji element r starts with, or
// 0 if it does not start with one.
func emojiElement(r []rune) int {
	if len(r) == 0 {
		return 0
	}
	switch first := r[0]; {
	case first == '#' || first == '*' || (first >= '0' && first <= '9'):
		i := 1
		if i < len(r) && r[i] == vs16 {
			i++
		}
		if i < len(r) && r[i] == keycapMark {
			return i + 1
		}
		return 0
	case regionalIndicator(first):
		if len(r) >= 2 && regionalIndicator(r[1]) {
			return 2
		}
		return 0
	case first == blackFlag && len(r) > 1 && tag(r[1]):
		i := 1
		for i < len(r) && tag(r[i]) && r[i] != cancelTag {
			i++
		}
		if i < len(r) && r[i] == cancelTag && subdivisionFlags[tagText(r[1:i])] {
			return i + 1
		}
		return 0
	case emojiBase(first):
		if len(r) > 1 && (r[1] == vs15 || r[1] == vs16 || skinTone(r[1])) {
			return 2
		}
		return 1
	}
	return 0
}

// emojiBase reports whether r is a code point that is (or whose emoji
// presentation is) an emoji on its own.
func emojiBase(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF && !regionalIndicator(r):
		return true // pictographs, emoticons, transport, symbols; skin tones alone are swatches
	case r >= 0x2190 && r <= 0x21FF, r >= 0x2300 && r <= 0x23FF, r >= 0x2600 && r <= 0x27BF,
		r >= 0x2B00 && r <= 0x2BFF, r >= 0x25FB && r <= 0x25FE:
		return true // arrows, technical, miscellaneous symbols, dingbats
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x25AA, 0x25AB,
		0x25B6, 0x25C0, 0x2934, 0x2935, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}

func regionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

func skinTone(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

// tag reports whether r is a tag character (U+E0020-U+E007F).
func tag(r rune) bool { return r >= 0xE0020 && r <= 0xE007F }

// tagText turns tag characters into the ASCII they mirror.
func tagText(r []rune) string {
	b := make([]byte, len(r))
	for i, t := range r {
		b[i] = byte(t - 0xE0000)
	}
	return string(b)
}
