package textrules

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,32}$`)

// Username checks a new username: 3-32 ASCII letters, digits, '_', '.' or
// '-' (so no look-alike letters from other scripts), and not a reserved name
// or a look-alike of one (see Reserved).
func Username(s string) error {
	switch {
	case !usernameRE.MatchString(s):
		return Refusal("must be 3-32 letters, digits, '_', '.' or '-'")
	case Reserved(s):
		return Refusal("is reserved")
	}
	return nil
}

// reserved are names people would take for the service speaking, or that
// clients give a meaning (mentions such as @everyone, JavaScript's null),
// or that the API shows itself (the placeholder of a deleted account).
var reserved = []string{
	"abuse", "admin", "administrator", "all", "anonymous", "api", "bot",
	"channel", "deleted", "deletedaccount", "everyone", "help", "helpdesk",
	"here", "hostmaster", "info", "messenger", "mod", "moderator", "mods",
	"nil", "nobody", "none", "noreply", "null", "official", "operator",
	"owner", "postmaster", "privacy", "root", "security", "server", "staff",
	"superuser", "support", "sysadmin", "system", "team", "undefined",
	"webmaster",
}

var reservedSkeletons = func() map[string]bool {
	m := make(map[string]bool, len(reserved))
	for _, r := range reserved {
		m[skeleton(r)] = true
	}
	return m
}()

// Reserved reports whether a username is reserved: one of a fixed list
// (admin, root, system, support, moderator, null, everyone, ...), compared
// by skeleton: case, the separators '_', '.' and '-', and the look-alikes
// that a username's ASCII alphabet allows (0 for o; 1, l and I for i; 3
// for e; 4 for a; 5 for s; 7 for t; "rn" for m; "vv" for w) are ignored, so
// "Adm1n", "a.d.m.i.n" and "r00t" are reserved too. Only whole names are
// compared: "helpful" and "rooted" are free.
func Reserved(s string) bool { return reservedSkeletons[skeleton(s)] }

var lookAlikes = strings.NewReplacer("0", "o", "1", "i", "l", "i", "3", "e", "4", "a", "5", "s", "7", "t", "rn", "m", "vv", "w")

// skeleton folds a username to the form Reserved compares.
func skeleton(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '_' || r == '.' || r == '-' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	return lookAlikes.Replace(s)
}

// DisplayName checks a display name's characters (its length is the
// caller's rule): valid UTF-8, no control characters or line breaks, no
// bidirectional embeddings, overrides or isolates, and at least one visible
// character (a name of only zero-width or blank characters shows as
// nobody).
func DisplayName(s string) error {
	if !utf8.ValidString(s) {
		return Refusal("must be valid UTF-8")
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			return Refusal("must not contain control characters or line breaks")
		case Bidi(r):
			return Refusal("must not contain bidirectional override or isolate characters (U+202A-U+202E, U+2066-U+2069)")
		}
	}
	if !HasVisible(s) {
		return Refusal("must contain a visible character, not only spaces or invisible ones")
	}
	return nil
}
