package textrules

import (
	"strings"
	"testing"
)

// check runs one table of a rule: every accepted text passes, every refused
// one fails with a Refusal.
func check(t *testing.T, rule func(string) error, accepted, refused []string) {
	t.Helper()
	for _, s := range accepted {
		if err := rule(s); err != nil {
			t.Errorf("%+q refused: %v", s, err)
		}
	}
	for _, s := range refused {
		err := rule(s)
		if _, ok := err.(Refusal); !ok {
			t.Errorf("%+q accepted (err %v)", s, err)
		}
	}
}

func TestDisplayNamesMustShowSomethingAndNotReorderText(t *testing.T) {
	check(t, DisplayName,
		[]string{"Alice", "Zoë", "李小龙", "محمد علي", "Ali Baba", "🙂", "क्\u200dष", "ZWJ\u200Dinside", "a\u200Fb"},
		[]string{
			"", " ", "\u00A0\u3000", // blank
			"\u200B", "\u200B\u200C\u200D\uFEFF\u2060", "\u00AD", "\u200E\u200F", // zero-width and invisible only
			"\u3164", "\u3164\u3164", "\u115F\u1160", "\uFFA0", "\u2800", // blank letters and symbols
			"\u0301", "\uFE0F", "\U000E0041\U000E0042", "\U000F0000", // marks, selectors, tags, private use alone
			"\u202Eevil", "a\u202Ab", "a\u202Bb", "a\u202Cb", "a\u202Db", "a\u2066b", "a\u2067b", "a\u2068b", "a\u2069b", // bidi
			"a\nb", "a\tb", "\x00a", "a\x1b[2J", "a\u0085b", "a\u2028b", "a\u2029b", "a\x7f", // controls and line breaks
			"\xffAlice", // not UTF-8
		})
}

func TestBodiesMustShowSomething(t *testing.T) {
	check(t, Body,
		[]string{"hi", "  hi\n", "line one\nline two\ttabbed", "\u202Bمرحبا\u202C and hello", "👍", "a\u200Bb", "\u200Bx"},
		[]string{"", "   ", "\n\t\r", "\u200B", "\u200B\u2060\uFEFF\u200C\u200D", "\u3164\u3164", "\u2800 \u2800", "\U000E0020\U000E007F", "\xff"})
}

func TestClientMessageIDsCountCharactersNotBytes(t *testing.T) {
	check(t, ClientMessageID,
		[]string{"c1", strings.Repeat("a", 128), strings.Repeat("é", 128), strings.Repeat("😀", 128)},
		[]string{"", strings.Repeat("a", 129), strings.Repeat("é", 129), "\xff"})
}

func TestReactionsAreExactlyOneEmoji(t *testing.T) {
	england := "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"
	scotland := "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"
	wales := "\U0001F3F4\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F"
	check(t, Emoji,
		[]string{
			"👍", "👍🏽", "❤️", "❤", "❤︎", "😀", "🫠", "🏴", england, scotland, wales,
			"👩‍💻", "🧑🏽‍💻", "👨‍👩‍👧‍👦", "🫱🏻‍🫲🏿", "🏳️‍🌈", "🏳️‍⚧️", "❤️‍🔥", "🏃‍♀️", "👁️‍🗨️",
			"🇬🇧", "🇯🇵", "#️⃣", "*️⃣", "1⃣", "7️⃣", "™️", "©", "Ⓜ️", "▶️", "⬆️", "⤴️", "〰️", "㊗️",
		},
		[]string{
			"", "a", "A\uFE0F", "1", "#", ":)", "👍👍", "👍 ", " 👍", "🇬", "\xff", strings.Repeat("👨‍", 20) + "👨",
			"👍\u0301", "😀\u0301\u0301\u0301", "😀\u20DD", "1\u20DD", "😀\u0489", // combining marks
			"😀\U000E0041", "\U000E0067", "🏴\U000E0067\U000E0062\U000E0078\U000E0078\U000E007F", // tags out of place, an unknown subdivision
			"🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067", "🏴\U000E007F", "😀\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",
			"😀\uFE00", "❤\U000E0100", "❤\uFE0F\uFE0F", "❤\uFE0E\uFE0F", "👍🏽\uFE0F\U0001F3FB", // variation selectors out of place
			"👩\u200D", "\u200D👩", "👩\u200D\u200D💻", "😀\u200B", "😀\u200C", // joiners
			"\u202E👍", "👍\u202C", // bidi
		})
}

func TestReservedUsernamesCannotBeTaken(t *testing.T) {
	check(t, Username,
		[]string{"alice", "Bob_99", "helpful", "rooted", "admin2", "supporter", "systems.engineer", "everyone1x", "modern"},
		[]string{
			"admin", "ADMIN", "Admin", "administrator", "root", "system", "support", "moderator", "api", "help",
			"security", "official", "messenger", "null", "undefined", "everyone", "here", "deleted",
			"a.d.m.i.n", "ad_min", "-admin-", "Adm1n", "adm|n", "ADMlN", "adrnin", "r00t", "5upport", "n.u.l.l", "sy5tem", "h3lp", "0fficial",
			"ab", "al ice", "ålice", "admın", strings.Repeat("a", 33), // not the username alphabet
		})
}

func TestReservedIgnoresCase(t *testing.T) {
	for _, r := range reserved {
		if !Reserved(r) || !Reserved(strings.ToUpper(r)) {
			t.Errorf("%q is not reserved in every case", r)
		}
	}
}
