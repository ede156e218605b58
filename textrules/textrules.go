// Package textrules decides which user-supplied text the messenger accepts:
// usernames, display names, message bodies, client message ids and
// reactions. Every function is pure (no I/O, no state), so the rules live in
// one place, are tested by tables and fuzzing here, and are applied by the
// domain (package chat), which adds the field name.
//
// The rules keep text honest on screen: nothing that reorders what is shown
// around it (bidirectional overrides), nothing that is not shown at all (a
// name or a message made only of zero-width characters), and a reaction that
// is exactly one emoji.
package textrules

import (
	"unicode"
	"unicode/utf8"
)

// Refusal says why a text was refused, in words safe to show a user. It
// completes a sentence that starts with the field's name: "displayName" +
// " " + Refusal.
type Refusal string

func (r Refusal) Error() string { return string(r) }

// Bidi reports whether r is a bidirectional embedding, override or isolate
// (U+202A-U+202E, U+2066-U+2069): characters that reorder the text around
// them, so "gnp.exe" can show as "exe.png" and a name can appear to say
// something else next to the text it sits beside.
func Bidi(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// Visible reports whether r draws something: a letter, digit, mark-free
// symbol or punctuation. Spaces, controls, format characters (zero-width
// space and joiners, bidi marks, tags, the byte-order mark), combining marks
// and variation selectors on their own, unassigned and private-use code
// points, and the characters that are letters or symbols by category but
// draw nothing (Hangul fillers, the blank Braille pattern) are not.
func Visible(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, // Hangul fillers
		0x2800, // Braille pattern blank
		0x180E: // Mongolian vowel separator (once a space)
		return false
	}
	return unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.IsMark(r)
}

// HasVisible reports whether s has at least one visible character.
func HasVisible(s string) bool {
	for _, r := range s {
		if Visible(r) {
			return true
		}
	}
	return false
}

// Body checks a message body's characters: valid UTF-8 with at least one
// visible character. Line breaks, tabs and bidirectional controls are
// allowed: messages mix scripts and lines. Its length is the caller's rule.
func Body(s string) error {
	switch {
	case !utf8.ValidString(s):
		return Refusal("must be valid UTF-8")
	case !HasVisible(s):
		return Refusal("must contain a visible character, not only spaces or invisible ones")
	}
	return nil
}

// MaxClientMessageID is the longest client message id, in characters.
const MaxClientMessageID = 128

// ClientMessageID checks the id a client gives a message to make its send
// idempotent: 1 to MaxClientMessageID characters (runes, not bytes: an id
// of 128 non-ASCII characters is as long as one of 128 ASCII ones).
func ClientMessageID(s string) error {
	if n := utf8.RuneCountInString(s); n == 0 || n > MaxClientMessageID || !utf8.ValidString(s) {
		return Refusal("must be 1-128 characters")
	}
	return nil
}
